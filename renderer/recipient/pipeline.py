"""Per-recipient work: validate inputs, build the token context, render.

Nothing here compiles MJML or inlines CSS; everything here runs once per
recipient, so it is kept lean (see benchmarks/bench_render.py).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import quote

from renderer.audience.experiments import assign, forced_problems
from renderer.audience.personas import Persona, Personas
from renderer.audience.predictive import Prediction, Predictive
from renderer.audience.segments import RuleSet
from renderer.audience.triggers import consent_skip
from renderer.base.errors import (
    InvalidInput,
    Problem,
    RenderAborted,
    RendererError,
    RequiredTokenEmpty,
    TemplateError,
)
from renderer.base.limits import DEFAULT_LIMITS, Limits
from renderer.base.models import (
    BlockTrace,
    Event,
    OrderItem,
    Product,
    Profile,
    RenderedEmail,
    RuleTrace,
    Trace,
    VariantTrace,
    in_time_range,
    parse_request,
)
from renderer.compile.pipeline import CompiledTemplate
from renderer.recipient.failure import render_failure
from renderer.recipient.headers import email_headers
from renderer.recipient.sanitize import SAFE_URLS, Cleaner, clip, header_text
from renderer.recipient.tidy import tidy_text
from renderer.sandbox.environments import BLOCK_FLAGS, GLOBALS, VARIANTS, render_fast
from renderer.sandbox.formatting import country_name, long_date, money, text_direction

_EMPTY: tuple[Any, ...] = (None, "", [], {})
"""What counts as an empty token: for a template's ``requires:``, and where a default fills in."""


@dataclass
class Prepared:
    """What one recipient's render needs, before the template runs."""

    profile: Profile
    context: dict[str, Any]
    segments: list[str]
    shown: list[str]
    trace: Trace
    warnings: list[str] = field(default_factory=list)
    limits: Limits = DEFAULT_LIMITS
    variants: dict[str, str] = field(default_factory=dict)
    """Experiment -> the recipient's variant or ``holdout`` (see ``audience/experiments.py``)."""
    variant_label: str = ""
    """The variants as the variant header names them (``hero_test=B``); empty without experiments."""


def _product_view(product: Product, locale: str, clean: Cleaner, tokens: tuple[str, ...]) -> dict[str, Any]:
    """One product as templates see it: formatted prices, safe URLs, capped texts."""
    on_sale = product.original_price is not None and product.original_price > product.price
    url, image, name, category = product.url, product.image_url, product.name, product.category
    if url not in SAFE_URLS:
        url = clean.url(url, tokens, f"{tokens[0]} url", product.id)
    if image not in SAFE_URLS:  # None too: "None" would print as a relative link
        image = clean.url(image, tokens, f"{tokens[0]} image_url", product.id)
    limit = clean.limits.text
    if len(name) > limit or not name.isprintable():
        name = clean.text(name, limit, tokens, f"{tokens[0]} name", product.id)
    if category is not None and (len(category) > limit or not category.isprintable()):
        category = clean.text(category, limit, tokens, f"{tokens[0]} category", product.id)
    return {
        "id": product.id,
        "name": name,
        "url": url,
        "image_url": image,
        "price": money(product.price, product.currency, locale),
        "original_price": money(product.original_price, product.currency, locale) if on_sale else None,
        "on_sale": on_sale,
        "category": category,
        "currency": product.currency,
    }


def _unique_in_stock(products: Iterable[Product], exclude: set[str], limit: int) -> tuple[list[Product], bool]:
    """The first ``limit`` in-stock products not excluded, and whether more were left out."""
    seen: set[str] = set(exclude)
    kept: list[Product] = []
    for product in products:
        if product.in_stock and product.id not in seen:
            if len(kept) == limit:
                return kept, True
            seen.add(product.id)
            kept.append(product)
    return kept, False


def _products(products: list[Product], exclude: set[str], locale: str, clean: Cleaner,
              token: str) -> list[dict[str, Any]]:
    kept, more = _unique_in_stock(products, exclude, clean.limits.products)
    if more:
        clean.note((token,), f"{token} capped at {len(kept)} products", f"{len(products):,} given")
    return [_product_view(p, locale, clean, (token,)) for p in kept]


def _recipient_url(pattern: str | None, profile: Profile, quoted_id: str) -> str | None:
    if not pattern:
        return None
    email = quote(profile.email, safe="") if "{email}" in pattern else ""
    return pattern.format(id=quoted_id, email=email)


def build_context(profile: Profile, products: list[Product], event: Event | None, *,
                  now: datetime, segments: list[str], defaults: dict[str, Any],
                  brand: dict[str, Any], features: Any = None,
                  persona: Persona | None = None, limits: Limits = DEFAULT_LIMITS,
                  warnings: list[str] | None = None, tokens: frozenset[str] | None = None,
                  language: str | None = None, prediction: Prediction | None = None) -> dict[str, Any]:
    """The token context (``FirstName``, ``RecommendedProducts``, ...) for one recipient.

    Data is made safe for its place on the way in: URL-valued tokens that are
    not ``http(s)://`` or ``mailto:`` become the brand's ``site_url`` (images:
    its ``placeholder_image``), as do missing ones, and
    names, product texts and lists are cut to ``limits``. Each kind of change
    adds a line to ``warnings`` when it touches one of ``tokens`` (the tokens
    the template uses; all when ``None``).
    """
    clean = Cleaner(limits, brand)
    locale = profile.locale
    # The email's language: the recipient's locale when the template was compiled
    # in their language, else the language it was compiled in (untranslated).
    lang = locale if language is None or _language_of(locale) == language else language
    last_order = max(profile.orders, key=lambda order: order.placed_at, default=None)
    last_item = last_order.items[0] if last_order and last_order.items else None
    cart = event.cart if event else None
    # Product lists are the costly part of a context: build only those the template reads.
    def used(token: str) -> bool:
        return tokens is None or token in tokens

    recommended: list[dict[str, Any]] = []
    if used("RecommendedProducts"):
        # Never recommend what is in the cart or was bought before.
        exclude = {item.product.id for item in cart.items} if cart else set()
        exclude.update(item.product_id for order in profile.orders for item in order.items)
        recommended = _products(products, exclude, locale, clean, "RecommendedProducts")
    viewed: list[dict[str, Any]] = []
    if used("ViewedProducts"):
        if event is not None and event.products:
            seen = list(event.products)
        else:
            browsing = sorted(profile.browsing, key=lambda entry: entry.viewed_at, reverse=True)
            seen = [entry.product for entry in browsing]
        viewed = _products(seen, set(), locale, clean, "ViewedProducts")
    first, last, city = profile.first_name or None, profile.last_name or None, profile.location.city
    if first is not None and (len(first) > limits.name or not first.isprintable()):
        first = clean.text(first, limits.name, ("FirstName", "FullName"), "profile.first_name") or None
    if last is not None and (len(last) > limits.name or not last.isprintable()):
        last = clean.text(last, limits.name, ("LastName", "FullName"), "profile.last_name") or None
    if city is not None and (len(city) > limits.name or not city.isprintable()):
        city = clean.text(city, limits.name, ("CustomerCity",), "profile.location.city") or None
    quoted_id = profile.id if _URL_SAFE(profile.id) else quote(profile.id, safe="")
    cart_items = cart.items if cart else []
    listed = cart_items[:limits.cart_items]
    if len(cart_items) > len(listed):
        clean.note(("CartItems",), f"CartItems capped at {len(listed)} items",
                   f"{len(cart_items):,} in the cart; CartItemsMore = {len(cart_items) - len(listed):,}")
    cart_url = cart.url if cart else None
    if cart and cart_url not in SAFE_URLS:
        cart_url = clean.url(cart_url, ("CartUrl",), "cart url")
    context: dict[str, Any] = {
        **GLOBALS,
        "FirstName": first,
        "LastName": last,
        "FullName": " ".join(n for n in (first, last) if n) or None,
        "Email": str(profile.email),
        "CustomerCity": city,
        "CustomerCountry": country_name(profile.location.country, locale) if profile.location.country else None,
        "LastPurchaseProduct": _last_purchase(last_item, last_order.currency, locale, clean)
        if last_item and last_order else None,
        "LastPurchaseDate": long_date(last_order.placed_at, locale) if last_order else None,
        "RecommendedProducts": recommended,
        "CartItems": [
            dict(_product_view(item.product, locale, clean, ("CartItems",)), quantity=item.quantity,
                 line_total=money(item.product.price * item.quantity, item.product.currency, locale))
            for item in listed
        ] if used("CartItems") else [],
        "CartItemsMore": len(cart_items) - len(listed),
        "CartTotal": money(sum((i.product.price * i.quantity for i in cart_items), Decimal(0)),
                           cart.currency, locale) if cart and cart_items else None,
        "CartUrl": cart_url,
        "ViewedProducts": viewed,
        "Segments": segments,
        "PrimarySegment": segments[0] if segments else None,
        "Features": features,
        "Persona": persona,
        "PredictedChurn": _predicted_churn(prediction),
        "PredictedValue": _predicted_value(prediction, locale) if used("PredictedValue") else None,
        "UnsubscribeUrl": _recipient_url(brand.get("unsubscribe_url"), profile, quoted_id),
        "PreferencesUrl": _recipient_url(brand.get("preferences_url"), profile, quoted_id),
        "UnsubscribeMailto": _recipient_url(brand.get("unsubscribe_mailto"), profile, quoted_id),
        "Attributes": profile.attributes,
        "Locale": locale,
        "Lang": lang,
        "Dir": text_direction(lang),
        "Year": now.year,
    }
    for name, value in defaults.items():
        if context.get(name) in _EMPTY:
            context[name] = value
    if warnings is not None:
        warnings += clean.warnings(tokens)
        if language is not None and _language_of(locale) != language:
            warnings.append(f"untranslated: no messages file for {_language_of(locale)!r} (locale {locale}), "
                            f"so this email is in {language!r}; add locales/{_language_of(locale)}.yaml")
        mixed = _currencies(cart if cart_items else None, context)
        if len(mixed) > 1:
            warnings.append("mixed currencies: this email shows prices in " +
                            ", ".join(f"{code} ({', '.join(where)})" for code, where in mixed.items()) +
                            "; one email should use one currency, the recipient's")
    return context


def _currencies(cart: Any, context: dict[str, Any]) -> dict[str, list[str]]:
    """Currency -> the product lists priced in it (``cart``, ``recommendations``, ``viewed products``).

    Runs for every recipient: one set of codes first, and the places only when there are several.
    """
    codes = {cart.currency} if cart is not None else set()
    codes.update(currency for _, currency in _priced(context))
    if len(codes) < 2:
        return dict.fromkeys(codes, [])
    found: dict[str, list[str]] = {}
    if cart is not None:
        found.setdefault(cart.currency, []).append("cart")
    for where, currency in _priced(context):
        places = found.setdefault(currency, [])
        if where not in places:
            places.append(where)
    return found


def _priced(context: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, currency) for every product of the context's priced lists that names a currency."""
    for where, token in _PRICED:
        products = context.get(token)
        if type(products) is list:
            for product in products:
                if type(product) is dict and product.get("currency"):
                    yield where, product["currency"]


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch
"""An id that ``quote`` would give back unchanged (most are): checked in C instead of quoted in Python."""

_PRICED = (("cart", "CartItems"), ("recommendations", "RecommendedProducts"), ("viewed products", "ViewedProducts"))


@functools.lru_cache(maxsize=256)
def _untranslated_warning(language: str, untranslated: tuple[str, ...]) -> str:
    """The warning for a compiled template's English fallbacks: the same for all its recipients, made once."""
    shown_texts = ", ".join(repr(text) if " " in text else text for text in untranslated[:4])
    more = len(untranslated) - 4
    return (f"untranslated: {len(untranslated)} text(s) of this email have no {language!r} translation and "
            f"show in English: {shown_texts}" + (f" and {more} more" if more > 0 else ""))


def _predicted_churn(prediction: Prediction | None) -> dict[str, Any] | None:
    if prediction is None:
        return None
    return {"probability": prediction.churn_probability, "percent": round(prediction.churn_probability * 100),
            "decile": prediction.churn_decile}


def _predicted_value(prediction: Prediction | None, locale: str) -> dict[str, Any] | None:
    if prediction is None:
        return None
    amount = Decimal(str(prediction.expected_value))
    return {"amount": prediction.expected_value, "currency": prediction.currency,
            "formatted": money(amount, prediction.currency, locale), "decile": prediction.value_decile}


def _language_of(locale: str) -> str:
    return locale.replace("_", "-").split("-")[0].lower()


def _last_purchase(item: OrderItem, currency: str, locale: str, clean: Cleaner) -> dict[str, Any]:
    url, image, name = item.url, item.image_url, item.name
    tokens = ("LastPurchaseProduct",)
    if url not in SAFE_URLS:
        url = clean.url(url, tokens, "last purchase url", item.product_id)
    if image not in SAFE_URLS:
        image = clean.url(image, tokens, "last purchase image_url", item.product_id)
    if len(name) > clean.limits.text or not name.isprintable():
        name = clean.text(name, clean.limits.text, tokens, "last purchase name", item.product_id)
    return {"name": name, "url": url, "image_url": image, "price": money(item.price, currency, locale)}


def prepare(compiled: CompiledTemplate, profile: Profile | dict[str, Any], *,
            recommendations: list[Product] | list[dict[str, Any]] | None,
            event: Event | dict[str, Any] | None, now: datetime,
            brand: dict[str, Any], rules: RuleSet | None = None,
            fetch: Callable[[Profile], tuple[list[Product], list[str]]] | None = None,
            personas: Personas | None = None, limits: Limits = DEFAULT_LIMITS,
            transactional: bool = False, predictive: Predictive | None = None,
            force_variants: dict[str, str] | None = None) -> Prepared:
    """Validate one recipient's inputs and compute everything the render needs.

    ``fetch`` is asked for recommendations (and warnings) when none were given
    and the template shows them. ``limits`` caps what the email shows.
    ``predictive`` scores churn and value for the rules and the
    ``PredictedChurn`` / ``PredictedValue`` tokens.
    ``force_variants`` puts the recipient in the given variant (or ``holdout``)
    of an experiment, for QA; the others are chosen by the recipient's hash.

    Raises:
        InvalidInput: every problem in profile, recommendations, event and
            ``force_variants`` (an unknown experiment or variant), by path.
        RenderAborted: the recipient has no marketing consent and the mail is not ``transactional``;
            ``RequiredTokenEmpty`` (code ``required_token_empty``): a token the template
            ``requires:`` (``on_missing`` skip or abort) is empty.
        TemplateError: a ``show_if`` failed for this recipient's data.
    """
    clock: list[Problem] = []
    if not isinstance(now, datetime):
        clock.append(Problem("now", f"Input should be a datetime, not {type(now).__name__}", "datetime_type"))
    else:
        try:
            now = in_time_range(now)  # naive means UTC, as in the models
        except ValueError as error:
            clock.append(Problem("now", str(error), "datetime_range", now.isoformat()))
    experiments = compiled.spec.experiments
    if force_variants is not None:
        clock += forced_problems(experiments, force_variants)
    warnings: list[str] = []
    try:
        recipient, happened, products = parse_request("render request", profile, event, recommendations,
                                                      limits=limits, cuts=warnings)
    except InvalidInput as error:
        raise InvalidInput("render request", clock + error.problems) from None
    if clock:
        raise InvalidInput("render request", clock)
    if not transactional and (refusal := consent_skip(recipient)):
        raise RenderAborted(refusal.code, refusal.message)
    if products is None:
        wanted = fetch is not None and "RecommendedProducts" in compiled.assembled.tokens
        if wanted:
            products, fetched = fetch(recipient)
            warnings += fetched
        else:
            products = []
    assignment = (rules or RuleSet.empty()).assign(
        recipient, now, predict=predictive.predict if predictive is not None else None)
    segment_list, outcomes = assignment.segments, assignment.outcomes
    persona = personas.nearest(assignment.features) if personas is not None else None
    if persona is not None:
        # The persona follows the rule segments, so a rule stays the primary segment.
        segment_list = [s for s in segment_list if s != persona.segment] + [persona.segment]
        outcomes = outcomes + [RuleTrace(persona.segment, True, "nearest persona",
                                         f"distance {persona.distance} in standardized units")]
    context = build_context(recipient, products, happened, now=now, segments=segment_list,
                            defaults=compiled.defaults, brand=brand, features=assignment.features, persona=persona,
                            limits=limits, warnings=warnings, tokens=compiled.assembled.tokens,
                            language=compiled.language, prediction=assignment.prediction)
    for need in compiled.spec.requires:
        if need.on_missing != "hide_block" and context.get(need.token) in _EMPTY:
            raise RequiredTokenEmpty(need.token, compiled.name, need.on_missing)
    if compiled.untranslated:
        warnings.append(_untranslated_warning(compiled.language, compiled.untranslated))
    variants: dict[str, str] = {}
    variant_traces: list[VariantTrace] = []
    variant_label = ""
    if experiments:
        # Before the block conditions: a variant's block is one whose condition reads _variants.
        variants, variant_traces, variant_label = assign(experiments, recipient.id, force_variants)
        context[VARIANTS] = variants
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
    return Prepared(recipient, context, segment_list, shown, Trace(outcomes, block_traces, variant_traces),
                    warnings, limits, variants, variant_label)


def _header(value: str, limit: int, what: str, warnings: list[str]) -> str:
    text = header_text(value)
    if len(text) > limit:
        warnings.append(f"{what} cut to {limit} characters ({len(text):,} characters)")
        return clip(text, limit)
    return text


def render_prepared(compiled: CompiledTemplate, prepared: Prepared) -> RenderedEmail:
    """Run the compiled templates for one prepared recipient (the fast path).

    Raises:
        TemplateError: the template failed for this recipient's data (the
            sandbox refused something, a loop ran too long, ...), naming the file.
    """
    context, limits = prepared.context, prepared.limits
    part = "subject"
    try:
        subject = _header(render_fast(compiled.subject, context), limits.subject, "subject", prepared.warnings)
        part = "preheader"
        preheader = _header(render_fast(compiled.preheader, context), limits.preheader, "preheader",
                            prepared.warnings)
        context["Subject"] = subject
        context["Preheader"] = preheader
        part = "html"
        html = render_fast(compiled.html, context)
        part = "text"
        text = tidy_text(render_fast(compiled.text, context))
    except RendererError:
        raise
    except Exception as error:  # one recipient's failure, told plainly; the batch goes on
        failure = render_failure(compiled, context, part, prepared.profile.id, error)
    else:
        failure = None
    if failure is not None:
        # Raised outside the handler, unchained: the error's message already names
        # the exception, and a chained traceback (as deep as a runaway recursion)
        # would make it unpicklable where tracebacks are pickled too (tblib, in Dask).
        raise failure
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
        headers=email_headers(context, compiled.brand, prepared.variant_label),
        variants=prepared.variants,
    )
