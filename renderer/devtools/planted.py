"""Synthetic customers with planted behaviour, for testing predictive models and recommenders.

:mod:`renderer.devtools.synthetic` draws profiles as snapshots of archetypes;
nothing in them says what a customer does next. Here each customer lives a
simulated life up to ``now``, and two signals are planted on purpose:

- **churn**: about half the customers stop buying at a random moment (some of
  them after ``now``, unseen). In the 180 days before they stop, their order
  rate fades linearly to zero (falling frequency), and their email open and
  click rates are lower (falling engagement). ``attributes.planted_churn``
  says whether a customer stopped before ``now + 90 days``.
- **co-purchase pairs**: products come in partner pairs (``PL-1000`` and
  ``PL-1001``, ...), and an order that follows one with a product holds its
  partner with probability :data:`PARTNER_PROBABILITY`.

Order sizes depend on a per-customer spend level, so past spend predicts
future spend. The profiles validate as :class:`~renderer.base.models.Profile`,
need no optional library, and are fixed by ``(count, seed, now, catalog)``:
each customer draws from its own ``Random`` seeded by ``(seed, index)``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from renderer.base.errors import ConfigError

CATEGORIES: tuple[str, ...] = ("Kitchen", "Home", "Bath", "Outdoor")
PARTNER_PROBABILITY = 0.6
"""How often an order after one holding a product holds that product's partner."""
FADE_DAYS = 180.0
"""How long a churner's order rate takes to fade to nothing."""
_FX = {"USD": (1.0, "US", "en-US"), "EUR": (0.93, "DE", "de-DE")}


def planted_catalog(size: int = 48) -> list[dict]:
    """``size`` (even) products in :data:`CATEGORIES`, priced in USD; partners share a category.

    Every twelfth product is out of stock, so a recommender's stock filter is exercised.
    """
    if size < 2 or size % 2:
        raise ConfigError(f"size must be an even number of at least 2, got {size}")
    products = []
    for index in range(size):
        category = CATEGORIES[(index // 2) % len(CATEGORIES)]
        pid = f"PL-{1000 + index}"
        products.append({
            "id": pid, "name": f"{category} item {index + 1}", "url": f"https://shop.example/p/{pid.lower()}",
            "image_url": f"https://cdn.shop.example/{pid}.png", "price": float(12 + (index * 37) % 140),
            "currency": "USD", "original_price": None, "category": category, "in_stock": index % 12 != 11,
        })
    return products


def partner_of(product_id: str) -> str:
    """The planted partner of a :func:`planted_catalog` product id (``PL-1000`` <-> ``PL-1001``)."""
    number = int(product_id.split("-")[1]) - 1000
    return f"PL-{1000 + (number ^ 1)}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _order_days(rng: random.Random, start: float, end: float, rate: float, stop: float | None) -> list[float]:
    """Order times (days from signup) of a Poisson process with rate ``rate``, faded before ``stop``.

    Thinning: candidates at the full rate, each kept with the faded rate's share.
    """
    days, t = [], start
    while True:
        t += rng.expovariate(rate)
        if t >= end or (stop is not None and t >= stop):
            return days
        if stop is not None and t > stop - FADE_DAYS and rng.random() > (stop - t) / FADE_DAYS:
            continue
        days.append(t)


def generate_planted_profiles(count: int, *, seed: int = 0, now: datetime,
                              catalog: list[dict] | None = None) -> Iterator[dict]:
    """Lazily yield ``count`` profiles with the planted churn and co-purchase signals.

    ``catalog`` is product dicts in USD whose ids follow :func:`planted_catalog`
    (the default, 48 products), so that partners can be found.

    Raises:
        ConfigError: a negative ``count`` or an empty catalog.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ConfigError(f"count must be a non-negative integer, got {count!r}")
    catalog = planted_catalog() if catalog is None else catalog
    if not catalog:
        raise ConfigError("catalog must not be empty")
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    return _generate(count, seed, now.replace(microsecond=0), catalog)


def _generate(count: int, seed: int, now: datetime, catalog: list[dict]) -> Iterator[dict]:
    by_id = {p["id"]: p for p in catalog}
    by_category: dict[str, list[dict]] = {}
    for product in catalog:
        by_category.setdefault(product.get("category") or "", []).append(product)
    for number in range(1, count + 1):
        rng = random.Random(f"planted:{seed}:{number}")
        yield _customer(rng, number, now, catalog, by_id, by_category)


def _customer(rng: random.Random, number: int, now: datetime, catalog: list[dict],
              by_id: dict[str, dict], by_category: dict[str, list[dict]]) -> dict:
    currency = "USD" if rng.random() < 0.8 else "EUR"
    rate_fx, country, locale = _FX[currency]
    tenure = rng.uniform(400, 1400)  # days from signup to now
    signup = now - timedelta(days=tenure)
    order_rate = math.exp(rng.uniform(math.log(1 / 150), math.log(1 / 20)))  # orders per day
    churns = rng.random() < 0.5
    stop = rng.uniform(60, tenure + 180) if churns else None  # days from signup; may lie after now
    days = _order_days(rng, rng.uniform(0, 60), tenure, order_rate, stop)
    spend_level = math.exp(rng.gauss(0, 0.5))
    favourite = rng.choice(sorted(by_category))
    orders, previous = [], []
    for j, day in enumerate(days, start=1):
        basket: dict[str, int] = {}
        for product_id in previous:
            partner = partner_of(product_id) if product_id.startswith("PL-") else None
            if partner in by_id and rng.random() < PARTNER_PROBABILITY:
                basket[partner] = 1
        while len(basket) < rng.choice((1, 1, 2, 3)):
            pool = by_category[favourite] if rng.random() < 0.6 else catalog
            basket.setdefault(rng.choice(pool)["id"], rng.choice((1, 1, 1, 2)))
        placed = signup + timedelta(days=day)
        items = []
        for product_id, quantity in basket.items():
            product = by_id[product_id]
            price = round(float(product["price"]) * spend_level * rate_fx, 2)
            items.append({"product_id": product_id, "name": product["name"], "price": price, "quantity": quantity,
                          "url": product["url"], "image_url": product.get("image_url")})
        orders.append({"id": f"pl_{number:06d}_{j:03d}", "placed_at": _iso(placed),
                       "total": round(sum(i["price"] * i["quantity"] for i in items), 2),
                       "currency": currency, "items": items})
        previous = list(basket)
    # Engagement is a snapshot at now: churners (gone, or going within 90 days) open and click less.
    fading = stop is not None and stop <= tenure + 90
    open_rate = rng.uniform(0.05, 0.3) if fading else rng.uniform(0.25, 0.7)
    received = max(5, round(tenure / 7 * rng.uniform(0.6, 1.2)))
    opens = round(received * open_rate)
    clicks = round(opens * rng.uniform(0.05, 0.2 if fading else 0.4))
    last_open = rng.uniform(30, 200) if fading else rng.uniform(0, 20)
    viewed = rng.sample(by_category[favourite], min(3, len(by_category[favourite])))
    return {
        "id": f"pl_{number:06d}", "email": f"customer{number}@example.com", "first_name": f"Customer{number}",
        "locale": locale, "location": {"country": country},
        "signup_date": _iso(signup), "consent": {"email_marketing": True},
        "orders": orders[::-1],
        "engagement": {"emails_received": received, "opens": opens, "clicks": clicks,
                       "last_open_at": _iso(now - timedelta(days=last_open)) if opens else None,
                       "last_click_at": _iso(now - timedelta(days=last_open + 1)) if clicks else None},
        "browsing": [{"product": dict(p, price=round(p["price"] * rate_fx, 2), currency=currency),
                      "viewed_at": _iso(now - timedelta(days=rng.uniform(0, 60)))} for p in viewed],
        "attributes": {"planted_churn": fading, "favourite_category": favourite},
    }
