"""Per-recipient work: validate inputs, build the token context, render.

Nothing here compiles MJML or inlines CSS; everything here runs once per
recipient, so it is kept lean (see benchmarks/bench_render.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Iterable
from urllib.parse import quote

from .compiler import CompiledTemplate
from .environments import BLOCK_FLAGS, GLOBALS, render_fast
from .errors import InvalidInput, Problem, TemplateError
from .formatting import country_name, long_date, money, text_direction
from .headers import email_headers
from .models import BlockTrace, Event, Product, Profile, RenderedEmail, RuleTrace, Trace, parse, parse_products
from .personas import Persona, Personas
from .segments import RuleSet
from .stages.text import tidy_text

ENGINE_DEFAULTS: dict[str, Any] = {"FirstName": "there"}
"""Fallbacks every template gets; a template's ``defaults:`` override them."""

_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass
class Prepared:
    """What one recipient's render needs, before the template runs."""

    profile: Profile
    context: dict[str, Any]
    segments: list[str]
    shown: list[str]
    trace: Trace
    warnings: list[str] = field(default_factory=list)


def _product_view(product: Product, locale: str) -> dict[str, Any]:
    on_sale = product.original_price is not None and product.original_price > product.price
    return {
        "id": product.id,
        "name": product.name,
        "url": product.url,
        "image_url": product.image_url,
        "price": money(product.price, product.currency, locale),
        "original_price": money(product.original_price, product.currency, locale) if on_sale else None,
        "on_sale": on_sale,
        "category": product.category,
        "currency": product.currency,
    }


def _unique_in_stock(products: Iterable[Product], exclude: set[str] = frozenset()) -> list[Product]:  # type: ignore[assignment]
    seen: set[str] = set(exclude)
    kept = []
    for product in products:
        if product.in_stock and product.id not in seen:
            seen.add(product.id)
            kept.append(product)
    return kept


def _recipient_url(pattern: str | None, profile: Profile, quoted_id: str) -> str | None:
    if not pattern:
        return None
    email = quote(profile.email, safe="") if "{email}" in pattern else ""
    return pattern.format(id=quoted_id, email=email)


def header_text(value: str) -> str:
    """One line, safe for a mail header: control characters become spaces."""
    return " ".join(_HEADER_UNSAFE.sub(" ", value).split())


def build_context(profile: Profile, products: list[Product], event: Event | None, *,
                  now: datetime, segments: list[str], defaults: dict[str, Any],
                  brand: dict[str, Any], features: Any = None,
                  persona: Persona | None = None) -> dict[str, Any]:
    """The token context (``FirstName``, ``RecommendedProducts``, ...) for one recipient."""
    locale = profile.locale
    last_order = max(profile.orders, key=lambda order: order.placed_at, default=None)
    last_item = last_order.items[0] if last_order and last_order.items else None
    cart = event.cart if event else None
    # Never recommend what is in the cart or was bought before.
    exclude = {item.product.id for item in cart.items} if cart else set()
    exclude.update(item.product_id for order in profile.orders for item in order.items)
    if event is not None and event.products:
        viewed = list(event.products)
    else:
        browsing = sorted(profile.browsing, key=lambda entry: entry.viewed_at, reverse=True)
        viewed = [entry.product for entry in browsing]
    first = profile.first_name or None
    quoted_id = quote(profile.id, safe="")
    context: dict[str, Any] = {
        **GLOBALS,
        "FirstName": first,
        "LastName": profile.last_name or None,
        "FullName": " ".join(n for n in (profile.first_name, profile.last_name) if n) or None,
        "Email": str(profile.email),
        "CustomerCity": profile.location.city,
        "CustomerCountry": country_name(profile.location.country, locale) if profile.location.country else None,
        "LastPurchaseProduct": {
            "name": last_item.name,
            "url": last_item.url,
            "image_url": last_item.image_url,
            "price": money(last_item.price, last_order.currency, locale),
        } if last_item else None,
        "LastPurchaseDate": long_date(last_order.placed_at, locale) if last_order else None,
        "RecommendedProducts": [_product_view(p, locale) for p in _unique_in_stock(products, exclude)],
        "CartItems": [
            dict(_product_view(item.product, locale), quantity=item.quantity,
                 line_total=money(item.product.price * item.quantity, item.product.currency, locale))
            for item in cart.items
        ] if cart else [],
        "CartTotal": money(sum((i.product.price * i.quantity for i in cart.items), Decimal(0)),
                           cart.currency, locale) if cart and cart.items else None,
        "CartUrl": cart.url if cart else None,
        "ViewedProducts": [_product_view(p, locale) for p in _unique_in_stock(viewed)],
        "Segments": segments,
        "PrimarySegment": segments[0] if segments else None,
        "Features": features,
        "Persona": persona,
        "UnsubscribeUrl": _recipient_url(brand.get("unsubscribe_url"), profile, quoted_id),
        "PreferencesUrl": _recipient_url(brand.get("preferences_url"), profile, quoted_id),
        "UnsubscribeMailto": _recipient_url(brand.get("unsubscribe_mailto"), profile, quoted_id),
        "Attributes": profile.attributes,
        "Locale": locale,
        "Lang": locale,
        "Dir": text_direction(locale),
        "Year": now.year,
    }
    for name, value in defaults.items():
        if context.get(name) in (None, "", [], {}):
            context[name] = value
    return context


def prepare(compiled: CompiledTemplate, profile: Profile | dict[str, Any], *,
            recommendations: list[Product] | list[dict[str, Any]] | None,
            event: Event | dict[str, Any] | None, now: datetime,
            brand: dict[str, Any], rules: RuleSet | None = None,
            fetch: Callable[[Profile], tuple[list[Product], list[str]]] | None = None,
            personas: Personas | None = None) -> Prepared:
    """Validate one recipient's inputs and compute everything the render needs.

    ``fetch`` is asked for recommendations (and warnings) when none were given
    and the template shows them.

    Raises:
        InvalidInput: every problem in profile, recommendations and event, by path.
        TemplateError: a ``show_if`` failed for this recipient's data.
    """
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for key, model, data in (("profile", Profile, profile), ("event", Event, event)):
        if data is None:
            parsed[key] = None
            continue
        try:
            parsed[key] = parse(model, data, what=key)
        except InvalidInput as error:
            problems += [Problem(f"{key}.{p.loc}", p.message, p.type) for p in error.problems]
    try:
        products = parse_products(recommendations or [])
    except InvalidInput as error:
        problems += [Problem(f"recommendations.{p.loc}", p.message, p.type) for p in error.problems]
    if problems:
        raise InvalidInput("render request", problems)
    recipient: Profile = parsed["profile"]
    warnings: list[str] = []
    if recommendations is None and fetch is not None and "RecommendedProducts" in compiled.assembled.tokens:
        products, warnings = fetch(recipient)
    assignment = (rules or RuleSet.empty()).assign(recipient, now)
    segment_list, outcomes = assignment.segments, assignment.outcomes
    persona = personas.nearest(assignment.features) if personas is not None else None
    if persona is not None:
        # The persona follows the rule segments, so a rule stays the primary segment.
        segment_list = [s for s in segment_list if s != persona.segment] + [persona.segment]
        outcomes = outcomes + [RuleTrace(persona.segment, True, "nearest persona",
                                         f"distance {persona.distance} in standardized units")]
    defaults = {**ENGINE_DEFAULTS, **compiled.spec.defaults}
    context = build_context(recipient, products, parsed["event"], now=now, segments=segment_list,
                            defaults=defaults, brand=brand, features=assignment.features, persona=persona)
    verdicts = iter(compiled.conditions.evaluate(context))
    flags, shown, block_traces = [], [], []
    for block in compiled.assembled.blocks:
        visible: bool | BaseException = True if block.condition is None else next(verdicts)
        if isinstance(visible, BaseException):
            raise TemplateError(
                f"show_if {block.condition!r} of block {block.name!r} failed: {visible}",
                str(compiled.spec.path),
            )
        flags.append(visible)
        if visible:
            shown.append(block.name)
        block_traces.append(BlockTrace(block.name, visible, block.condition))
    context[BLOCK_FLAGS] = flags
    return Prepared(recipient, context, segment_list, shown, Trace(outcomes, block_traces), warnings)


def render_prepared(compiled: CompiledTemplate, prepared: Prepared) -> RenderedEmail:
    """Run the compiled templates for one prepared recipient (the fast path)."""
    context = prepared.context
    subject = header_text(render_fast(compiled.subject, context))
    preheader = header_text(render_fast(compiled.preheader, context))
    context["Subject"] = subject
    context["Preheader"] = preheader
    html = render_fast(compiled.html, context)
    text = tidy_text(render_fast(compiled.text, context))
    return RenderedEmail(
        template=compiled.name,
        profile_id=prepared.profile.id,
        subject=subject,
        preheader=preheader,
        html=html,
        text=text,
        segments=prepared.segments,
        blocks=prepared.shown,
        warnings=prepared.warnings,
        trace=prepared.trace,
        headers=email_headers(context),
    )
