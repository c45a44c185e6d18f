"""Input and output models: profiles, products, events and the rendered email.

Inputs are pydantic v2 models and may be given as dicts; :func:`parse` turns a
validation failure into :class:`~renderer.base.errors.InvalidInput` listing every
bad field by its path (``orders.0.total: Input should be a valid number``).
"""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from renderer.base.errors import InvalidInput, Problem
from renderer.base.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from email.headerregistry import Address
    from email.message import EmailMessage


EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)
"""Every timestamp (and a render's ``now``) lies in [EARLIEST, LATEST): date arithmetic never overflows."""
MAX_QUANTITY = 10_000
"""The largest quantity of an order or cart item."""
MAX_COUNT = 10**9
"""The largest engagement count (emails received, opens, clicks)."""


def in_time_range(value: datetime) -> datetime:
    """``value`` as an aware datetime (naive means UTC), if it lies within EARLIEST and LATEST.

    Raises:
        ValueError: it does not.
    """
    # Naive timestamps are taken as UTC so that feature arithmetic never mixes
    # naive and aware values.
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


# The range is checked in pydantic's core (naive values compared as UTC, the same verdicts as
# in_time_range); only a naive value's zone is set in Python: about 0.7 us less per timestamp,
# of which a profile has several per order and browsed product.
Timestamp = Annotated[datetime, Field(ge=EARLIEST, lt=LATEST), AfterValidator(_as_utc)]
# pydantic rejects NaN and infinities for Decimal by default.
Money = Annotated[Decimal, Field(ge=0, lt=10**12)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s.\x00-\x1f\x7f]+(\.[^@\s.\x00-\x1f\x7f]+)+$")


def _email(value: str) -> str:
    # A syntactic check, not deliverability: email-validator costs ~20 µs per
    # recipient, a third of the fast path, for checks a sending service redoes.
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


EmailAddress = Annotated[str, AfterValidator(_email),
                         WithJsonSchema({"type": "string", "format": "email", "maxLength": 254})]


# One spelling per text: "José" typed with a combining accent and with a
# precomposed é compare, measure and render alike. A C callable, because it
# runs for every name of every recipient (about 40 ns; a Python function
# costs three times that). pydantic hands it a plain str, never a subclass
# such as markupsafe.Markup that would skip HTML escaping. Control
# characters are removed where text is shown (sanitize.Cleaner).
_nfc = functools.partial(unicodedata.normalize, "NFC")


Text = Annotated[str, AfterValidator(_nfc)]
"""Text shown to the recipient: NFC-normalized at validation."""
LocaleCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# What parse() notes on a Profile or Event it cut (the cuts in words, the orders not read) is kept
# in the instance's __pydantic_private__, the dict pydantic pickles, copies and compares with the
# fields. Not as declared private attributes: with any, pydantic runs a Python function after
# validating every instance to fill in their defaults (about 2 us a profile).
def _noted(model: BaseModel) -> dict[str, Any]:
    return model.__pydantic_private__ or {}


def _note(model: BaseModel, **values: Any) -> None:
    object.__setattr__(model, "__pydantic_private__", {**_noted(model), **values})


class Location(_Model):
    city: Text | None = None
    region: Text | None = None
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$"), AfterValidator(str.upper)] | None = None


class Consent(_Model):
    email_marketing: bool = True


class OrderItem(_Model):
    product_id: str
    name: Text
    price: Money
    quantity: Quantity = 1
    url: Url | None = None
    image_url: Url | None = None


class Order(_Model):
    id: str
    placed_at: Timestamp
    total: Money
    currency: CurrencyCode = "USD"
    items: list[OrderItem] = Field(default_factory=list)


class Engagement(_Model):
    emails_received: Count = 0
    opens: Count = 0
    clicks: Count = 0
    last_open_at: Timestamp | None = None
    last_click_at: Timestamp | None = None


class Product(_Model):
    """A product as recommended, browsed or carted."""

    id: str
    # The length check before NFC keeps it in pydantic's core (after a Python
    # validator it would run in Python).
    name: Annotated[str, Field(min_length=1), AfterValidator(_nfc)]
    url: Url
    image_url: Url | None = None
    price: Money
    currency: CurrencyCode = "USD"
    original_price: Money | None = None
    category: Text | None = None
    in_stock: bool = True


class BrowsedProduct(_Model):
    product: Product
    viewed_at: Timestamp


class Profile(_Model):
    """One recipient: identity, location, consent, orders, engagement, browsing."""

    id: Annotated[str, Field(min_length=1, max_length=200)]
    email: EmailAddress
    first_name: Text | None = None
    last_name: Text | None = None
    locale: LocaleCode = "en-US"
    location: Location = Field(default_factory=Location)
    signup_date: Timestamp | None = None
    consent: Consent = Field(default_factory=Consent)
    orders: list[Order] = Field(default_factory=list)
    engagement: Engagement = Field(default_factory=Engagement)
    browsing: list[BrowsedProduct] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    last_sent: dict[str, Timestamp] = Field(default_factory=dict)
    """When each trigger (by event type) last emailed this recipient."""

    @property
    def cuts(self) -> list[str]:
        """What was cut from the input before validation (see ``Limits.history``), in words."""
        return _noted(self).get("cuts", [])

    @property
    def order_count(self) -> int:
        """Orders ever: those read and, past ``Limits.history``, the older ones given but not read."""
        return len(self.orders) + _noted(self).get("orders_dropped", 0)


class CartItem(_Model):
    product: Product
    quantity: Quantity = 1


class Cart(_Model):
    items: list[CartItem] = Field(default_factory=list)
    url: Url | None = None
    currency: CurrencyCode = "USD"


EventType = Literal["cart_abandoned", "browse_abandoned", "engaged_no_purchase"]


class Event(_Model):
    """Something a customer did that may trigger an email."""

    type: EventType
    occurred_at: Timestamp
    cart: Cart | None = None
    products: list[Product] = Field(default_factory=list)

    @property
    def cuts(self) -> list[str]:
        """What was cut from the input before validation (see ``Limits.input_items``), in words."""
        return _noted(self).get("cuts", [])


# Traces are named tuples: immutable like a frozen dataclass, and built for
# every rule and block of every recipient at a fifth of the cost.
class RuleTrace(NamedTuple):
    """One segment rule's verdict for one recipient."""

    segment: str
    matched: bool
    when: str
    note: str | None = None


class BlockTrace(NamedTuple):
    """Whether a block was shown, and the ``show_if`` that decided it."""

    block: str
    shown: bool
    show_if: str | None = None


class VariantTrace(NamedTuple):
    """A recipient's outcome in one experiment, and how it was chosen."""

    experiment: str
    variant: str
    position: float | None
    """The recipient's place in [0, 1) that chose the variant; ``None``: forced (``force_variants``)."""


@dataclass(frozen=True, slots=True)
class Trace:
    """Why an email looks as it does: rule verdicts, block decisions and experiment variants."""

    rules: list[RuleTrace] = field(default_factory=list)
    blocks: list[BlockTrace] = field(default_factory=list)
    variants: list[VariantTrace] = field(default_factory=list)

    @property
    def hidden(self) -> list[BlockTrace]:
        return [b for b in self.blocks if not b.shown]


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """A finished email for one recipient."""

    template: str
    profile_id: str
    subject: str
    preheader: str
    html: str
    text: str
    segments: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    trace: Trace = field(default_factory=Trace)
    headers: dict[str, str] = field(default_factory=dict)
    """Mail headers to send with it: ``List-Unsubscribe``, ``List-Unsubscribe-Post`` and, in an
    email with experiments, the variant header (``X-Variant: hero_test=B``)."""
    variants: dict[str, str] = field(default_factory=dict)
    """Experiment -> the recipient's variant (``{"hero_test": "B"}``), or ``holdout``; empty without experiments."""

    def to_dict(self) -> dict[str, Any]:
        """The email as JSON-ready values: what ``renderer render --format json`` prints and a
        batch record carries (without the trace)."""
        return {"template": self.template, "profile_id": self.profile_id, "subject": self.subject,
                "preheader": self.preheader, "segments": self.segments, "blocks": self.blocks,
                "warnings": self.warnings, "headers": self.headers, "variants": self.variants,
                "html": self.html, "text": self.text}

    def to_message(self, *, sender: str | Address, to: str | Address, reply_to: str | Address | None = None,
                   message_id: str | None = None, date: datetime | None = None) -> EmailMessage:
        """The email as a MIME message to hand to a mail server (``smtplib``, an API, a file).

        multipart/alternative with the text and the HTML part, ``From``,
        ``To``, ``Reply-To`` (when given), ``Subject``, ``Date``,
        ``Message-ID``, ``MIME-Version`` and :attr:`headers`
        (``List-Unsubscribe``), on ``email.policy.SMTP``: CRLF line ends,
        headers folded, non-ASCII names and subjects RFC 2047-encoded, the
        HTML quoted-printable so that no line exceeds SMTP's 998 octets.
        See ``renderer/base/mime.py``.

        Args:
            sender: ``From``: ``"Fernhill <hello@fernhill.example>"``, a bare
                address, or an ``email.headerregistry.Address``.
            to: the recipient, likewise (``mime.recipient_address(profile)``
                builds it from a profile).
            reply_to: ``Reply-To``, likewise; left out when ``None``.
            message_id: ``<unique@domain>``; default a new one at the sender's domain.
            date: ``Date``; default now (naive means UTC).

        Raises:
            InvalidInput: every bad argument by name (``sender``, ``to``,
                ``reply_to``, ``message_id``, ``date``): missing, not one
                address, not ASCII, or holding CR or LF; or a bad ``subject``
                or ``headers.<name>``.

        Example:
            >>> message = email.to_message(sender="Fernhill <hello@fernhill.example>",
            ...                            to="Jonas Müller <jonas@example.de>")  # doctest: +SKIP
            >>> smtplib.SMTP("localhost").send_message(message)  # doctest: +SKIP
        """
        from renderer.base.mime import email_message

        return email_message(self, sender=sender, to=to, reply_to=reply_to, message_id=message_id, date=date)

    def plain(self) -> tuple[Any, ...]:
        """Every field as builtin values (traces as tuples), for :func:`email_from_plain`.

        Worker processes send every email to their parent: this form pickles
        five times faster than the dataclass's own state (about 5 us instead
        of 28), and marshal can carry it.
        """
        trace = self.trace
        return (self.template, self.profile_id, self.subject, self.preheader, self.html, self.text,
                self.segments, self.blocks, self.warnings, [tuple(rule) for rule in trace.rules],
                [tuple(block) for block in trace.blocks], self.headers, self.variants,
                [tuple(variant) for variant in trace.variants])

    def __reduce__(self) -> tuple[Any, ...]:
        return (email_from_plain, self.plain())


def email_from_plain(template: str, profile_id: str, subject: str, preheader: str, html: str, text: str,
                     segments: list[str], blocks: list[str], warnings: list[str], rules: list[tuple[Any, ...]],
                     block_traces: list[tuple[Any, ...]], headers: dict[str, str],
                     variants: dict[str, str] | None = None,
                     variant_traces: list[tuple[Any, ...]] = ()) -> RenderedEmail:
    """The :class:`RenderedEmail` whose :meth:`RenderedEmail.plain` form is given."""
    return RenderedEmail(template, profile_id, subject, preheader, html, text, segments, blocks, warnings,
                         Trace([RuleTrace(*rule) for rule in rules], [BlockTrace(*block) for block in block_traces],
                               [VariantTrace(*variant) for variant in variant_traces]),
                         headers, variants if variants is not None else {})


M = TypeVar("M", bound=BaseModel)

_PRODUCTS = TypeAdapter(list[Product])


def _scalar(value: Any) -> Any:
    """A value worth repeating in an error: scalars only, long strings cut (profiles can be huge)."""
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "…"
    return value if isinstance(value, (int, float, bool)) or value is None else None


def problems_from(error: ValidationError, prefix: str = "") -> list[Problem]:
    """pydantic's errors as :class:`Problem` objects: the one flattening of validation errors."""
    problems = []
    for detail in error.errors(include_url=False):
        path = ".".join(str(part) for part in detail["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        message = detail["msg"].removeprefix("Value error, ")
        problems.append(Problem(loc=path, message=message, type=detail["type"], input=_scalar(detail.get("input"))))
    return problems


def _stamp(item: Any, key: str) -> str:
    value = item.get(key) if isinstance(item, dict) else None
    return value.isoformat() if isinstance(value, datetime) else value if isinstance(value, str) else ""


def _cut(data: dict[str, Any], key: str, cap: int, cuts: list[str], *, what: str,
         recent_by: str | None = None) -> int:
    """Cut ``data[key]`` (a list, or a dict's keys) to ``cap`` entries in place; say so in ``cuts``.

    A history (``recent_by`` names its date) keeps its newest end: the list is
    taken as in date order, oldest or newest first, as exports and order
    APIs give it, and which end is newest is judged by its first and last
    dates. That costs the same for 100 entries as for 100,000 (a search for
    the most recent over the whole list would cost more than rendering the
    email). Returns the index in the given list of the first entry kept.
    """
    value = data.get(key)
    if not isinstance(value, (list, dict)) or len(value) <= cap:
        return 0
    start = 0
    said = f"the first {cap:,} read"
    if isinstance(value, dict):
        data[key] = dict(list(value.items())[:cap])
    elif recent_by:
        # ISO 8601 text sorts by time; a date that cannot be read sorts first.
        newest_first = _stamp(value[0], recent_by) > _stamp(value[-1], recent_by)
        start = 0 if newest_first else len(value) - cap
        data[key] = value[start:start + cap]
        said = f"the newest {cap:,} read (the {'first' if newest_first else 'last'} in the list)"
    else:
        data[key] = value[:cap]
    cuts.append(f"{what}{key}: {len(value):,} given, {said} (Limits)")
    return start


class Capped(NamedTuple):
    """Raw input data with its lists cut to the caps of ``Limits``, and what the cuts did."""

    data: Any
    cuts: list[str]
    """What was cut, in words."""
    starts: dict[str, int]
    """For each history cut at its start, the index in the given list of the first entry kept."""
    orders_dropped: int = 0
    """Orders given but not read (the oldest, past ``Limits.history``)."""


def _longer(value: Any, cap: int) -> bool:
    return isinstance(value, (list, dict)) and len(value) > cap


def _long_items(orders: Any, cap: int) -> bool:
    """Whether any order of ``orders`` (a list, up to the history's cap) has more than ``cap`` items."""
    return isinstance(orders, list) and any(isinstance(o, dict) and isinstance(o.get("items"), list)
                                            and len(o["items"]) > cap for o in orders)


_CAPPED_KEYS = ("segments", "attributes", "last_sent")
"""A profile's lists and mappings cut to ``Limits.input_items``."""


def capped_profile(data: Any, limits: Limits = DEFAULT_LIMITS) -> Capped:
    """A profile's raw data with its lists cut to the caps of ``limits`` (a copy; the caller's data is kept)."""
    cuts: list[str] = []
    if not isinstance(data, dict):
        return Capped(data, cuts, {})
    history, items = limits.history, limits.input_items
    given = data.get("orders")
    # Most profiles have nothing to cut: given back as they are, not copied. (The items of a history
    # past its cap are looked at only once it is cut, below.)
    if not (_longer(given, history) or _longer(data.get("browsing"), history)
            or any(_longer(data.get(key), items) for key in _CAPPED_KEYS) or _long_items(given, items)):
        return Capped(data, cuts, {})
    data = dict(data)
    starts = {"orders": _cut(data, "orders", history, cuts, what="", recent_by="placed_at"),
              "browsing": _cut(data, "browsing", history, cuts, what="", recent_by="viewed_at")}
    for key in _CAPPED_KEYS:
        _cut(data, key, items, cuts, what="")
    orders = data.get("orders")
    if _long_items(orders, items):
        data["orders"] = orders = [dict(o) if isinstance(o, dict) else o for o in orders]
        for index, order in enumerate(orders):
            if isinstance(order, dict):
                _cut(order, "items", items, cuts, what=f"orders.{starts['orders'] + index}.")
    dropped = len(given) - history if isinstance(given, list) and len(given) > history else 0
    return Capped(data, cuts, {key: start for key, start in starts.items() if start}, dropped)


def capped_event(data: Any, limits: Limits = DEFAULT_LIMITS) -> Capped:
    """An event's raw data with its product lists cut to ``limits.input_items`` (a copy)."""
    cuts: list[str] = []
    if not isinstance(data, dict):
        return Capped(data, cuts, {})
    data = dict(data)
    _cut(data, "products", limits.input_items, cuts, what="event.")
    if isinstance(data.get("cart"), dict):
        data["cart"] = dict(data["cart"])
        _cut(data["cart"], "items", limits.input_items, cuts, what="event.cart.")
    return Capped(data, cuts, {})


_CAPPERS: dict[type, Any] = {}


def parse(model: type[M], data: Any, *, what: str, limits: Limits = DEFAULT_LIMITS) -> M:
    """Validate ``data`` (a dict or an instance) as ``model``.

    A Profile's or Event's lists are first cut to the caps of ``limits``;
    what was cut is listed in the result's ``cuts``.

    Raises:
        InvalidInput: listing every problem by field path.
    """
    if isinstance(data, model):
        return data
    capper = _CAPPERS.get(model)
    capped = capper(data, limits) if capper is not None else Capped(data, [], {})
    try:
        result = model.model_validate(capped.data)
    except ValidationError as error:
        raise InvalidInput(what, [_in_given_list(p, capped.starts) for p in problems_from(error)]) from None
    if capped.cuts or capped.orders_dropped:
        _note(result, cuts=capped.cuts, orders_dropped=capped.orders_dropped)
    return result


def _in_given_list(problem: Problem, starts: dict[str, int]) -> Problem:
    """A problem in a cut history located by its index in the list as given (``orders.9950.total``)."""
    key, _, rest = problem.loc.partition(".")
    index, _, tail = rest.partition(".")
    if key not in starts or not index.isdigit():
        return problem
    loc = ".".join(part for part in (key, str(int(index) + starts[key]), tail) if part)
    return Problem(loc, problem.message, problem.type, problem.input)


_CAPPERS.update({Profile: capped_profile, Event: capped_event})


class _Payloads:
    """The last recommendation payloads validated, to give again while they are unchanged.

    A campaign renders its recipients with one shared payload (a list of
    dicts), and validating it again for each of them costs more than all the
    rest of the recommendations' work. A payload given a second time (the
    same list object) is remembered with a deep copy of it; from then on it
    is given its products again while it still equals that copy (one C-level
    comparison, about a twentieth of validating it), so a payload changed in
    place between two renders is validated again. A payload seen once (a
    request of its own, as a service gets them) costs nothing more. Products
    are never changed by a render, so one validated list can serve all.
    """

    SIZE = 8

    def __init__(self) -> None:
        self._seen: dict[int, Any] = {}
        self._entries: dict[int, tuple[Any, Any, list[Product]]] = {}

    def get(self, data: Any) -> list[Product] | None:
        entry = self._entries.get(id(data))
        if entry is not None and entry[0] is data and data == entry[1]:
            return entry[2]
        return None

    def put(self, data: Any, products: list[Product]) -> None:
        if self._seen.get(id(data)) is not data:  # the first time: only noted
            _bounded_set(self._seen, id(data), data, self.SIZE)
            return
        _bounded_set(self._entries, id(data), (data, copy.deepcopy(data), products), self.SIZE)


def _bounded_set(table: dict[int, Any], key: int, value: Any, size: int) -> None:
    if key not in table and len(table) >= size:
        table.pop(next(iter(table)))
    table[key] = value


_PAYLOADS = _Payloads()


def parse_products(data: Any, *, what: str = "recommendations", limits: Limits = DEFAULT_LIMITS,
                   cuts: list[str] | None = None) -> list[Product]:
    """Validate a list of products (a recommendations payload); past ``limits.input_items`` they are cut.

    A cut is said in ``cuts`` when a list is given. The same payload given
    again unchanged is not validated again (see :class:`_Payloads`).
    """
    if isinstance(data, list) and all(isinstance(item, Product) for item in data):
        return data
    cut = isinstance(data, list) and len(data) > limits.input_items
    if cut and cuts is not None:
        cuts.append(f"{what}: {len(data):,} products given, the first {limits.input_items:,} read (Limits)")
    known = _PAYLOADS.get(data) if isinstance(data, list) and not cut else None
    if known is not None:
        return known
    try:
        products = _PRODUCTS.validate_python(data[:limits.input_items] if cut else data)
    except ValidationError as error:
        raise InvalidInput(what, problems_from(error)) from None
    if isinstance(data, list) and not cut:
        _PAYLOADS.put(data, products)
    return products


def parse_request(what: str, profile: Any, event: Any = None, recommendations: Any = None, *,
                  limits: Limits = DEFAULT_LIMITS,
                  cuts: list[str] | None = None) -> tuple[Profile, Event | None, list[Product] | None]:
    """Validate a request's profile, event and recommendations together (``None`` stays ``None``).

    Lists past the caps of ``limits`` are cut first; ``cuts`` (when given)
    gets a line for each cut, the profile's and event's included.

    Raises:
        InvalidInput: every problem of all three, located under ``profile.``,
            ``event.`` or ``recommendations.``.
    """
    problems: list[Problem] = []
    parsed: dict[str, Any] = {"event": None, "recommendations": None}
    found: list[str] = []
    parts = (("profile", lambda data: parse(Profile, data, what="profile", limits=limits), profile),
             ("event", lambda data: parse(Event, data, what="event", limits=limits), event),
             ("recommendations", lambda data: parse_products(data, limits=limits, cuts=found), recommendations))
    for key, validate, data in parts:
        if data is None and key != "profile":
            continue
        try:
            parsed[key] = validate(data)
        except InvalidInput as error:
            problems += [p.under(key) for p in error.problems]
    if problems:
        raise InvalidInput(what, problems)
    if cuts is not None:
        cuts += parsed["profile"].cuts + (parsed["event"].cuts if parsed["event"] else []) + found
    return parsed["profile"], parsed["event"], parsed["recommendations"]
