"""Fit the co-purchase recommender from order histories, and measure it against bestsellers.

Plain Python (dictionaries of counts), no numpy. Steps, in order:

1. :func:`read_histories` streams JSON Lines profiles into compact histories:
   the products of each order (oldest first) and the products browsed;
2. :func:`fit_copurchase` weighs each customer's products (1 for bought, the
   ``view_weight`` for browsed only), and for every pair of products computes
   the implicit-feedback cosine ``sum_u w_ui w_uj / (|i| |j|)`` damped by
   ``n_ij / (n_ij + shrinkage)`` (``n_ij``: customers with both), so a pair seen
   twice does not outrank one seen two hundred times; it keeps each product's
   ``top_k`` neighbours that are in the catalog, and the bestsellers per category
   (customers who bought them);
3. :func:`evaluate` holds out each repeat customer's last order, fits on the
   rest, and counts how often 4 recommendations (from purchases before it)
   contain a product of that order new to the customer, for this model (from the
   last ten distinct products bought before it, as per recipient) and for the
   bestsellers.

Ties are broken by product id, so the same histories give the same file.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Callable, Iterable

from renderer.base.errors import ModelFitError
from renderer.base.jsonl import InvalidLines, LineError, read_profiles
from renderer.base.models import Product, parse_products
from renderer.sources.copurchase import (
    ALL,
    FORMAT,
    MAX_SEEDS,
    VERSION,
    CoPurchaseFile,
    CoPurchaseRecommendations,
    recent_distinct,
)

DEFAULT_TOP_K = 20
DEFAULT_SHRINKAGE = 10.0
DEFAULT_VIEW_WEIGHT = 0.5
BESTSELLERS_KEPT = 20
HIT_AT = 4


@dataclass
class Histories:
    """Each valid profile's orders (product ids, oldest first) and browsed products."""

    orders: list[tuple[tuple[str, ...], ...]] = field(default_factory=list)
    viewed: list[tuple[str, ...]] = field(default_factory=list)
    invalid_count: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)

    @property
    def profiles(self) -> int:
        return len(self.orders)


def read_histories(lines: Iterable[str | LineError], *,
                   on_progress: Callable[[int], None] | None = None) -> Histories:
    """Compact purchase and browsing histories of every valid profile line."""
    histories = Histories()
    invalid = InvalidLines()
    for _, profile in read_profiles(lines, invalid, on_progress=on_progress):
        orders = sorted(profile.orders, key=lambda order: order.placed_at)
        histories.orders.append(tuple(tuple(dict.fromkeys(i.product_id for i in o.items)) for o in orders))
        histories.viewed.append(tuple(dict.fromkeys(entry.product.id for entry in profile.browsing)))
    histories.invalid_count, histories.invalid = invalid.count, invalid.listed
    return histories


def read_catalog(text: str, origin: str) -> list[Product]:
    """The products that may be recommended: a JSON list of products (or ``{"products": [...]}``).

    Raises:
        ModelFitError: not JSON, or invalid products (with the first problem).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelFitError(f"{origin}: not valid JSON: {error.msg} (line {error.lineno})") from None
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list) or not data:
        raise ModelFitError(f"{origin}: expected a non-empty list of products")
    try:
        return parse_products(data, what=origin)
    except ValueError as error:
        raise ModelFitError(str(error)) from None


def _weights(bought: Iterable[str], viewed: Iterable[str], view_weight: float) -> dict[str, float]:
    weights = dict.fromkeys(viewed, view_weight) if view_weight else {}
    weights.update(dict.fromkeys(bought, 1.0))
    return weights


def fit_copurchase(histories: Histories, catalog: list[Product], *, top_k: int = DEFAULT_TOP_K,
                   shrinkage: float = DEFAULT_SHRINKAGE, view_weight: float = DEFAULT_VIEW_WEIGHT,
                   held_out: bool = False) -> CoPurchaseFile:
    """Neighbours and bestsellers from the histories (``held_out``: each repeat customer's last order left out).

    Raises:
        ModelFitError: bad options, or no product of the catalog was ever bought.
    """
    if top_k < 1 or shrinkage < 0 or not 0 <= view_weight <= 1:
        raise ModelFitError("top_k must be >= 1, shrinkage >= 0 and view_weight between 0 and 1")
    in_catalog = {p.id: p for p in catalog}
    dot: dict[tuple[str, str], float] = defaultdict(float)
    together: Counter[tuple[str, str]] = Counter()
    norm: dict[str, float] = defaultdict(float)
    buyers: Counter[str] = Counter()
    for orders, viewed in zip(histories.orders, histories.viewed):
        if held_out and len(orders) > 1:
            orders, viewed = orders[:-1], ()
        bought = {pid for order in orders for pid in order}
        buyers.update(bought)
        weights = _weights(bought, viewed, view_weight)
        for pid, w in weights.items():
            norm[pid] += w * w
        for a, b in combinations(sorted(weights), 2):
            dot[(a, b)] += weights[a] * weights[b]
            together[(a, b)] += 1
    neighbours: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (a, b), value in dot.items():
        n = together[(a, b)]
        similarity = value / math.sqrt(norm[a] * norm[b]) * (n / (n + shrinkage))
        if b in in_catalog:
            neighbours[a].append((b, similarity))
        if a in in_catalog:
            neighbours[b].append((a, similarity))
    kept = {pid: [(other, round(s, 6)) for other, s in sorted(pairs, key=lambda p: (-p[1], p[0]))[:top_k]]
            for pid, pairs in sorted(neighbours.items())}
    popular = sorted((pid for pid in buyers if pid in in_catalog), key=lambda pid: (-buyers[pid], pid))
    if not popular:
        raise ModelFitError("no product of the catalog was ever bought in these histories")
    bestsellers = {ALL: popular[:BESTSELLERS_KEPT]}
    for category in sorted({p.category for p in catalog if p.category}):
        bestsellers[category] = [pid for pid in popular if in_catalog[pid].category == category][:BESTSELLERS_KEPT]
    return CoPurchaseFile(
        format=FORMAT, version=VERSION, view_weight=view_weight, products=catalog, neighbours=kept,
        bestsellers=bestsellers,
        fit={"profiles": histories.profiles, "invalid_lines": histories.invalid_count, "top_k": top_k,
             "shrinkage": shrinkage, "pairs": len(dot), "products_bought": len(buyers)},
    )


def evaluate(histories: Histories, catalog: list[Product], **options: Any) -> dict[str, Any]:
    """Hit rate at 4 on each repeat customer's held-out last order, for the model and for bestsellers.

    A customer counts when their last order holds a catalog product they had
    not bought before (a recommendation never repeats a purchase); a hit is
    one such product among the 4. Seeds are the purchases before it only
    (browsing is a snapshot of today and could show the held-out order).
    """
    source = CoPurchaseRecommendations(fit_copurchase(histories, catalog, held_out=True, **options))
    known = {p.id for p in catalog}
    customers = model_hits = bestseller_hits = 0
    top = source._bestsellers[ALL]
    for orders in histories.orders:
        if len(orders) < 2:
            continue
        bought = {pid for order in orders[:-1] for pid in order}
        new = {pid for pid in orders[-1] if pid not in bought and pid in known}
        if not new:
            continue
        customers += 1
        seeds = recent_distinct((pid for order in reversed(orders[:-1]) for pid in order), MAX_SEEDS)
        picks = source.recommend(bought, seeds, [], source.usual_category(seeds), HIT_AT)
        model_hits += bool(new & set(picks))
        bestseller_hits += bool(new & set([pid for pid in top if pid not in bought][:HIT_AT]))
    return {"held_out_customers": customers, "k": HIT_AT,
            "hit_rate": round(model_hits / customers, 4) if customers else None,
            "hit_rate_bestsellers": round(bestseller_hits / customers, 4) if customers else None}


def dump_copurchase(spec: CoPurchaseFile) -> str:
    """The file's text: one line per product's neighbours; the same model gives the same bytes."""
    data = spec.model_dump(mode="json", exclude_none=True)
    lines = ["{"]
    items = list(data.items())
    for index, (key, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        if key in ("neighbours", "bestsellers", "products") and value:
            inner = [f"    {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
                     for k, v in value.items()] if isinstance(value, dict) else \
                [f"    {json.dumps(v, ensure_ascii=False)}" for v in value]
            opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
            lines.append(f"  {json.dumps(key)}: {opening}\n" + ",\n".join(inner) + f"\n  {closing}{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    return "\n".join(lines) + "\n}\n"
