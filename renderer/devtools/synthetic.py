"""Realistic synthetic customer profiles for benchmarks, demos and segment tests.

Profiles are JSON-ready dicts valid as :class:`~renderer.base.models.Profile`, fixed by the arguments (and the
installed Faker's name lists). Each draws from its own ``Random`` seeded by ``(seed, index)``; names come
from per-locale pools drawn from Faker once per seed, as Faker per profile (~80 µs for en_US) would dominate.
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from renderer.base.errors import ConfigError
from renderer.base.extras import needs_extra

with needs_extra("fixtures", "synthetic profiles"):
    from faker import Faker


ARCHETYPES: tuple[str, ...] = (
    "new_customer", "frequent_high_spender", "occasional_browser", "at_risk",
    "engaged_non_buyer", "one_time_buyer", "inactive_subscriber",
)
DEFAULT_WEIGHTS: dict[str, float] = {
    "new_customer": 0.12, "frequent_high_spender": 0.08, "occasional_browser": 0.22, "at_risk": 0.12,
    "engaged_non_buyer": 0.14, "one_time_buyer": 0.18, "inactive_subscriber": 0.14,
}

# (Faker locale, profile locale, country, currency, weight). Faker has no
# Egyptian person provider, so Egypt uses the generic Arabic one.
_LOCALES: tuple[tuple[str, str, str, str, float], ...] = (
    ("en_US", "en-US", "US", "USD", 0.62), ("de_DE", "de-DE", "DE", "EUR", 0.07),
    ("fr_FR", "fr-FR", "FR", "EUR", 0.06), ("es_ES", "es-ES", "ES", "EUR", 0.05),
    ("ja_JP", "ja-JP", "JP", "JPY", 0.05), ("ar_AA", "ar-EG", "EG", "EGP", 0.05),
    ("pt_BR", "pt-BR", "BR", "BRL", 0.05), ("it_IT", "it-IT", "IT", "EUR", 0.05),
)
# (local units per USD, minor-unit digits): roughly the inverse of
# features.FeatureConfig.rates, so converted spend scores like the USD amount.
_FX: dict[str, tuple[float, int]] = {
    "USD": (1.0, 2), "EUR": (0.93, 2), "JPY": (150.0, 0), "BRL": (5.5, 2), "EGP": (48.0, 2),
}
# Real places: Faker's en_US cities are invented and ar_AA has no addresses.
_CITIES: dict[str, list[list[str]]] = {country: [c.split(":") for c in spec.split(",")] for country, spec in {
    "US": "Portland:OR,Austin:TX,Minneapolis:MN,Asheville:NC,Denver:CO,Seattle:WA,Chicago:IL,Boston:MA,Atlanta:GA",
    "DE": "Berlin:Berlin,Hamburg:Hamburg,München:Bayern,Köln:Nordrhein-Westfalen,Leipzig:Sachsen,Bremen:Bremen",
    "FR": "Paris:Île-de-France,Lyon:Auvergne-Rhône-Alpes,Bordeaux:Nouvelle-Aquitaine,Lille:Hauts-de-France",
    "ES": "Madrid:Comunidad de Madrid,Barcelona:Cataluña,Sevilla:Andalucía,Bilbao:País Vasco,Zaragoza:Aragón",
    "JP": "Tokyo:Tokyo,Osaka:Osaka,Yokohama:Kanagawa,Kyoto:Kyoto,Sapporo:Hokkaido,Fukuoka:Fukuoka,Nagoya:Aichi",
    "EG": "Cairo:Cairo,Alexandria:Alexandria,Giza:Giza,Mansoura:Dakahlia,Tanta:Gharbia,Luxor:Luxor,Aswan:Aswan",
    "BR": "São Paulo:SP,Rio de Janeiro:RJ,Belo Horizonte:MG,Curitiba:PR,Porto Alegre:RS,Salvador:BA,Recife:PE",
    "IT": "Roma:Lazio,Milano:Lombardia,Torino:Piemonte,Bologna:Emilia-Romagna,Firenze:Toscana,Napoli:Campania",
}.items()}
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# Egyptian-style romanisation of consonants and long vowels. Short vowels are
# not written in Arabic, so handles come out as skeletons ("mhmd", "aly").
_ARABIC = str.maketrans({pair[0]: pair[1:] for pair in (
    "اa أa إe آa بb تt ثth جg حh خkh دd ذz رr زz سs شsh صs ضd "
    "طt ظz عa غgh فf قk كk لl مm نn هh وo يy ىa ةa ء ئy ؤo").split(" ")})
_DOMAINS = ("example.com", "example.com", "example.org", "example.net")
_TIERS = ((300_00, "Bronze"), (1000_00, "Silver"), (2500_00, "Gold"))  # lifetime spend in US cents
_POOL_DRAWS = 400


def _ascii(name: str, faker_locale: str) -> str:
    """Lower-case ASCII letters and digits of a name, for an email local part."""
    if faker_locale == "de_DE":
        name = name.lower().translate(_GERMAN)
    name = unicodedata.normalize("NFKD", name.translate(_ARABIC)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", name.lower())


@lru_cache(maxsize=4)
def _name_pools(seed: int) -> dict[str, tuple[list[tuple[str, str]], ...]]:
    """(display, ascii) first- and last-name pools per Faker locale for one seed.

    Deduplicated by ASCII form, and a surname belongs only to the first locale
    that draws it, so distinct (locale, first, last) triples never share an email.
    """
    pools, claimed = {}, set()
    for index, (faker_locale, *_rest) in enumerate(_LOCALES):
        fake = Faker(faker_locale)
        fake.seed_instance(seed * 100 + index)
        # Japanese names come as (kanji, kana, romaji); the romaji makes the email.
        draws = ((fake.first_name_pair, fake.last_name_pair) if faker_locale == "ja_JP" else
                 (lambda: (fake.first_name(),) * 3, lambda: (fake.last_name(),) * 3))
        unique: list[dict[str, str]] = [{}, {}]
        for slot, draw in enumerate(draws):
            for display, _kana, latin in (draw() for _ in range(_POOL_DRAWS)):
                key = _ascii(latin, faker_locale)
                if key and key not in unique[slot] and not (slot and key in claimed):
                    unique[slot][key] = display
        claimed.update(unique[1])
        pools[faker_locale] = tuple([(display, key) for key, display in names.items()] for names in unique)
    return pools


def _load_catalog(catalog: list[dict] | None) -> list[dict]:
    if catalog is None:
        from renderer.content.layout import default_content_root  # the engine is heavy; only the default needs it
        catalog = json.loads((default_content_root() / "fixtures" / "catalog.json").read_text(encoding="utf-8"))
    required = {"id", "name", "url", "price"}
    if not isinstance(catalog, list) or not catalog or not all(isinstance(p, dict) and required <= p.keys()
                                                               for p in catalog):
        raise ConfigError("catalog must be a non-empty list of product dicts with id, name, url and price")
    return catalog


def _money(minor: int, currency: str) -> float:
    return round(minor / 10 ** _FX[currency][1], 2)


def _priced(catalog: list[dict], currency: str) -> list[tuple[int, dict]]:
    """(price in minor units, product dict) per catalog entry, converted from USD."""
    rate, digits = _FX[currency]
    rows = []
    for p in catalog:
        price = round(float(p["price"]) * rate * 10**digits)
        original = p.get("original_price")
        original = None if original is None else _money(round(float(original) * rate * 10**digits), currency)
        rows.append((price, {"id": p["id"], "name": p["name"], "url": p["url"], "image_url": p.get("image_url"),
                             "price": _money(price, currency), "currency": currency, "original_price": original,
                             "category": p.get("category"), "in_stock": p.get("in_stock", True)}))
    return rows


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _days(rng: random.Random, low: float, high: float) -> float:
    return rng.uniform(low, max(low, high))


def _plan(rng: random.Random, archetype: str) -> tuple[float, list[float], dict[str, Any]]:
    """Signup age and order ages (days before now), and the engagement and browsing shape.

    Bands are disjoint where segment rules tell archetypes apart, and stop
    short (13.9 for "within 14 days") so that ``(now - ts).days`` stays inside.
    """
    if archetype == "new_customer":
        signup = _days(rng, 0.05, 13.9)
        orders = [_days(rng, 0, signup)] if rng.random() < 0.45 else []
        return signup, orders, dict(week=(1.5, 3), rate=(0.3, 1), click=(0, 0.6), seen=(0, 14), browse=(0, 3, 0, 14))
    if archetype == "frequent_high_spender":
        latest = _days(rng, 0, 29.9)
        orders = [latest] + [_days(rng, latest, 364.9) for _ in range(rng.randint(5, 14))]
        orders += [_days(rng, 366, 1000) for _ in range(rng.choice((0, 0, 1, 2, 3)))]
        return max(orders) + _days(rng, 1, 700), orders, dict(
            week=(0.8, 1.5), rate=(0.55, 0.9), click=(0.2, 0.5), seen=(0, 7), browse=(0, 4, 0, 21))
    if archetype == "occasional_browser":
        orders = [_days(rng, 90, 299.9)]
        if rng.random() < 0.4:
            orders.append(orders[0] + _days(rng, 20, 300))
        return max(orders) + _days(rng, 1, 500), orders, dict(
            week=(0.5, 1.2), rate=(0, 0.12), click=(0, 0.25), seen=(20, 200), browse=(3, 6, 0, 13.9))
    if archetype == "at_risk":
        latest = _days(rng, 181, 300)
        orders = [latest] + [latest + _days(rng, 10, 700) for _ in range(rng.randint(2, 7))]
        return max(orders) + _days(rng, 1, 400), orders, dict(
            week=(0.6, 1.2), rate=(0.1, 0.3), click=(0.05, 0.3), seen=(60, 199.9), browse=(0, 1, 60, 200), opens=1)
    if archetype == "engaged_non_buyer":
        return _days(rng, 30, 399.9), [], dict(
            week=(0.8, 1.5), rate=(0.45, 0.9), click=(0.1, 0.4), seen=(0, 13.9), browse=(1, 5, 0, 30), clicks=1)
    if archetype == "one_time_buyer":
        orders = [_days(rng, 20, 199.9)]
        return orders[0] + _days(rng, 0.01, 600), orders, dict(
            week=(0.6, 1.2), rate=(0.2, 0.4), click=(0.1, 0.4), seen=(2, 45), browse=(0, 2, 15, 90))
    signup = _days(rng, 181, 1500)
    return signup, [], dict(week=(0.4, 1.0), rate=(0, 0), click=(0, 0), seen=(120, signup), browse=(0, 0, 0, 0),
                            opens=int(rng.random() < 0.4))


def _engagement(rng: random.Random, now: datetime, signup: float, shape: dict[str, Any]) -> dict[str, Any]:
    """Counts with opens <= received and clicks <= opens; the last click never follows the last open."""
    low, high = shape["rate"]
    per_week = _days(rng, *shape["week"])
    received = rng.randint(1, 4) if signup < 7 else max(1 if signup < 14 else 5, min(400, round(signup / 7 * per_week)))
    # Clamped to the archetype's open-rate band so that small counts cannot round out of it.
    opens = min(max(round(received * _days(rng, low, high)), math.ceil(received * low - 1e-9)),
                math.floor(received * high + 1e-9))
    opens = max(opens, shape.get("opens", 0))
    clicks = min(opens, max(round(opens * _days(rng, *shape["click"])), shape.get("clicks", 0)))
    last_open = _days(rng, min(shape["seen"][0], signup), min(shape["seen"][1], signup)) if opens else None
    last_click = _days(rng, last_open, min(signup, last_open + 45)) if clicks else None
    return {"emails_received": received, "opens": opens, "clicks": clicks,
            "last_open_at": None if last_open is None else _iso(now - timedelta(days=last_open)),
            "last_click_at": None if last_click is None else _iso(now - timedelta(days=last_click))}


def _orders(rng: random.Random, now: datetime, number: int, ages: list[float], priced: list[tuple[int, dict]],
            usd: list[int], high_spender: bool) -> tuple[list[dict], int]:
    """Orders newest first, and the lifetime spend in US cents."""
    currency = priced[0][1]["currency"]
    weights = usd if high_spender else None  # high spenders lean towards the pricier products
    baskets = []
    for _ in ages:
        picks = dict.fromkeys(rng.choices(range(len(priced)), weights, k=rng.randint(1, 4 if high_spender else 3)))
        baskets.append({i: rng.choices((1, 2, 3), (75, 20, 5))[0] for i in picks})
    this_year = [basket for basket, age in zip(baskets, ages) if age < 365]
    # At least 1,000 USD within the year; 1,100 leaves room for exchange rates.
    while high_spender and sum(usd[i] * q for b in this_year for i, q in b.items()) < 1100_00:
        item = rng.choices(range(len(priced)), weights)[0]
        basket = rng.choice(this_year)
        basket[item] = basket.get(item, 0) + 1
    result = []
    for j, (age, basket) in enumerate(sorted(zip(ages, baskets), key=lambda pair: pair[0]), start=1):
        placed = now - timedelta(days=age)
        items = [{"product_id": p["id"], "name": p["name"], "price": p["price"], "quantity": q, "url": p["url"],
                  "image_url": p["image_url"]} for p, q in ((priced[i][1], q) for i, q in basket.items())]
        result.append({"id": f"ord_{placed:%Y%m%d}_{number:06d}_{j:02d}", "placed_at": _iso(placed),
                       "total": _money(sum(priced[i][0] * q for i, q in basket.items()), currency),
                       "currency": currency, "items": items})
    return result, sum(usd[i] * q for basket in baskets for i, q in basket.items())


class _Identities:
    """Names and emails, unique by construction in constant memory.

    Each locale walks a seeded permutation of its (first, last) pairs; later rounds append "2", "3", ...
    """

    def __init__(self, seed: int) -> None:
        self.pools = _name_pools(seed)
        self.walks: dict[str, list[int]] = {}  # locale -> [pairs, step, offset, issued]
        for faker_locale, (firsts, lasts) in self.pools.items():
            size, chooser = len(firsts) * len(lasts), random.Random(f"{seed}/{faker_locale}")
            step = chooser.randrange(1, 1 << 30)
            while math.gcd(step, size) != 1:
                step += 1
            self.walks[faker_locale] = [size, step, chooser.randrange(size), 0]
        self.recent: deque[tuple] = deque(maxlen=64)

    def draw(self, rng: random.Random) -> tuple[tuple, tuple[str, str], tuple[str, str], str]:
        """(locale entry, (first, ascii), (last, ascii), email) for the next profile."""
        if self.recent and rng.random() < 1 / 200:
            return rng.choice(self.recent)  # a data-quality duplicate: the same person signed up again
        entry = rng.choices(_LOCALES, [e[4] for e in _LOCALES])[0]
        firsts, lasts = self.pools[entry[0]]
        walk = self.walks[entry[0]]
        size, step, offset, issued = walk
        walk[3] += 1
        pair = (issued * step + offset) % size
        first, last, repeat = firsts[pair // len(lasts)], lasts[pair % len(lasts)], issued // size
        email = f"{first[1]}{rng.choice('..._-')}{last[1]}{repeat + 1 if repeat else ''}@{rng.choice(_DOMAINS)}"
        self.recent.append((entry, first, last, email))
        return entry, first, last, email


def generate_profiles(count: int, *, seed: int = 0, now: datetime, catalog: list[dict] | None = None,
                      weights: dict[str, float] | None = None) -> Iterator[dict]:
    """Lazily yield ``count`` synthetic profiles, deterministic for the same arguments.

    ``weights`` maps archetype names to relative weights (archetypes left out
    get none). ``catalog`` holds product dicts priced in USD, by default the
    bundled ``fixtures/catalog.json``. Arguments are checked on the call, not
    at the first ``next()``.

    Raises:
        ValueError: for a negative ``count``, bad ``weights`` or a malformed ``catalog``.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ConfigError(f"count must be a non-negative integer, got {count!r}")
    weights = DEFAULT_WEIGHTS if weights is None else weights
    unknown = set(weights) - set(ARCHETYPES)
    if unknown:
        raise ConfigError(f"weights has unknown archetypes {sorted(unknown)}; known: {', '.join(ARCHETYPES)}")
    values = list(weights.values())
    if not all(isinstance(w, (int, float)) and math.isfinite(w) and w >= 0 for w in values) or not sum(values) > 0:
        raise ConfigError(f"weights must be finite and non-negative, and not all zero; got {weights!r}")
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    return _generate(count, seed, now.replace(microsecond=0), _load_catalog(catalog),
                     [weights.get(name, 0) for name in ARCHETYPES])


def _generate(count: int, seed: int, now: datetime, catalog: list[dict], weights: list[float]) -> Iterator[dict]:
    identities = _Identities(seed)
    priced = {currency: _priced(catalog, currency) for currency in _FX}
    usd = [cents for cents, _product in priced["USD"]]
    for number in range(1, count + 1):
        rng = random.Random(f"{seed}:{number}")
        archetype = rng.choices(ARCHETYPES, weights)[0]
        (_faker_locale, locale, country, currency, _weight), first, last, email = identities.draw(rng)
        signup, ages, shape = _plan(rng, archetype)
        orders, spent = _orders(rng, now, number, ages, priced[currency], usd, archetype == "frequent_high_spender")
        low, high, newest, oldest = shape["browse"]
        picks = rng.sample(priced[currency], min(rng.randint(low, high), len(catalog)))
        seen = sorted(_days(rng, newest, min(oldest, signup)) for _ in picks)
        city, region = rng.choice(_CITIES[country])
        profile = {
            "id": f"syn_{number:06d}", "email": email, "first_name": first[0], "last_name": last[0],
            "locale": locale, "location": {"city": city, "region": region, "country": country},
            "signup_date": _iso(now - timedelta(days=signup)), "consent": {"email_marketing": rng.random() >= 0.03},
            "orders": orders, "engagement": _engagement(rng, now, signup, shape),
            "browsing": [{"product": dict(product), "viewed_at": _iso(now - timedelta(days=age))}
                         for (_minor, product), age in zip(picks, seen)],
            "attributes": {"archetype": archetype,
                           "loyalty_tier": next((tier for cap, tier in _TIERS if spent < cap), "Platinum")},
        }
        if rng.random() < 1 / 50:
            del profile["first_name"]
        yield profile


def write_jsonl(profiles: Iterable[dict], path: Path) -> int:
    """Write one compact JSON object per line (UTF-8, not ASCII-escaped); return how many."""
    written = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as out:
        for profile in profiles:
            out.write(json.dumps(profile, ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
    return written
