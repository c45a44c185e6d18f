"""Plain-word names for persona centroids ("Frequent High-Spenders", "Lapsed Regulars").

Names come from a persona's centre in original units (days, orders, USD,
engagement score), by a short list of rules read top to bottom; the first that
fits names the persona. They are a starting point: a marketer may rename a
persona in the file, and the segment follows the new name.
"""

from __future__ import annotations

from renderer.audience.personas import RECENCY_CAP_DAYS

# Where a word starts to fit, in the features' own units.
NEW_TENURE_DAYS = 45
RECENT_DAYS = 60
ACTIVE_DAYS = 180
FREQUENT_ORDERS = 5
REGULAR_ORDERS = 3
HIGH_SPEND_USD = 1000
ENGAGED_SCORE = 30

_QUALIFIERS: dict[str, tuple[str, str]] = {
    "monetary_usd": ("lower spend", "higher spend"),
    "frequency": ("fewer orders", "more orders"),
    "order_count": ("fewer orders ever", "more orders ever"),
    "engagement_score": ("less engaged", "more engaged"),
    "recency_days": ("more recent", "less recent"),
    "tenure_days": ("newer", "longer-standing"),
}


def base_name(centre: dict[str, float]) -> str:
    """The plain-word name for one centre (feature name -> value in original units)."""
    recency = centre.get("recency_days", RECENCY_CAP_DAYS)
    frequency = centre.get("frequency", 0.0)
    orders = centre.get("order_count", frequency)
    spend = centre.get("monetary_usd", 0.0)
    engagement = centre.get("engagement_score", 0.0)
    tenure = centre.get("tenure_days", float("inf"))
    if tenure <= NEW_TENURE_DAYS:
        return "New Customers"
    # A typical member without orders: the capped recency says "never bought".
    if orders < 0.5 or recency >= 0.8 * RECENCY_CAP_DAYS:
        return "Engaged Non-Buyers" if engagement >= ENGAGED_SCORE else "Inactive Subscribers"
    if recency > ACTIVE_DAYS:
        return "Lapsed Regulars" if orders >= REGULAR_ORDERS else "Lapsed Customers"
    if frequency >= FREQUENT_ORDERS and recency <= RECENT_DAYS:
        return "Frequent High-Spenders" if spend >= HIGH_SPEND_USD else "Frequent Buyers"
    if spend >= HIGH_SPEND_USD:
        return "Big Spenders"
    if recency > 90:
        return "Occasional Browsers" if engagement < ENGAGED_SCORE else "Occasional Buyers"
    return "Recent Repeat Buyers" if orders >= 2 else "Recent First-Time Buyers"


def name_personas(centres: list[dict[str, float]], standardized: list[list[float]],
                  features: list[str]) -> list[str]:
    """A unique plain-word name per centre.

    Personas that share a base name are told apart by the feature on which
    their standardized centroids differ most ("Occasional Browsers, more
    engaged"); three or more are numbered in the order of that feature.
    """
    names = [base_name(centre) for centre in centres]
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        groups.setdefault(name, []).append(index)
    for name, members in groups.items():
        if len(members) < 2:
            continue
        spreads = [max(standardized[i][j] for i in members) - min(standardized[i][j] for i in members)
                   for j in range(len(features))]
        column = spreads.index(max(spreads))
        low, high = _QUALIFIERS.get(features[column], (f"lower {features[column]}", f"higher {features[column]}"))
        ranked = sorted(members, key=lambda i: (standardized[i][column], i))
        for rank, index in enumerate(ranked):
            if len(ranked) == 2:
                names[index] = f"{name}, {low if rank == 0 else high}"
            else:
                names[index] = f"{name} {rank + 1}"
    return names
