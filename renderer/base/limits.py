"""How much of a recipient's data is read and shown (caps against oversized input).

Beyond a cap the data is cut, never the email: a 200-item cart lists the
first items and says "and 190 more items", a 10,000-character name ends in
an ellipsis, and the RenderedEmail carries a warning for each cut. The
defaults keep every bundled template under Gmail's 102 KB clipping limit.

Two caps act before validation, so that no list can make one recipient
expensive: ``history`` (orders and browsing events, the newest end of the
list kept) and ``input_items`` (every other list, and the keys of
``attributes`` and ``last_sent``). A profile with 10,000 orders costs what
one with 50 does.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from renderer.base.errors import InvalidInput, Problem


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Caps applied per recipient; pass ``Engine(limits=Limits(cart_items=5))`` to change them.

    Attributes:
        subject: characters of the subject line (after clean-up), ellipsis included.
        preheader: characters of the preheader.
        name: characters of ``FirstName``, ``LastName`` (so ``FullName``) and ``CustomerCity``.
        text: characters of a product's name and category.
        cart_items: items listed in ``CartItems``; the others are counted in ``CartItemsMore``.
        products: products kept in ``RecommendedProducts`` and in ``ViewedProducts``.
        history: orders and browsing events read per profile, before validation. A
            history is taken as in date order (oldest or newest first, judged by its
            first and last dates) and its newest end is kept, so features over a
            window (frequency, spend) count these only; ``order_count`` still counts
            every order given.
        input_items: items read per list before validation (items of an order, of a cart,
            an event's products, a recommendations payload, ``segments``) and keys read of
            ``attributes`` and ``last_sent``; the first are kept.

    Raises:
        InvalidInput: a cap is not a positive whole number.
    """

    subject: int = 150
    preheader: int = 200
    name: int = 100
    text: int = 200
    cart_items: int = 10
    products: int = 24
    history: int = 50
    input_items: int = 1000

    def __post_init__(self) -> None:
        problems = [Problem(f.name, f"must be a positive whole number, got {getattr(self, f.name)!r}")
                    for f in fields(self)
                    if type(getattr(self, f.name)) is not int or getattr(self, f.name) < 1]
        if problems:
            raise InvalidInput("limits", problems)


DEFAULT_LIMITS = Limits()
