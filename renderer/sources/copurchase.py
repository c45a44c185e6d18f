"""An embedded recommendation source: products bought together, from a plain JSON model file.

A brand without a recommendation service can still send personal products:
``renderer recommend fit`` (:mod:`renderer.audience.fit.copurchase`) counts, over
the audience's order histories (and browsing, with less weight), which products
the same customers bought, and keeps for each product its nearest neighbours
by implicit-feedback cosine with a shrinkage that damps pairs seen only a
few times. This source reads that file and, per recipient, adds up the
neighbours of the last ten distinct products they bought (and viewed); what
they already bought and what is out of stock is left out, and the rest is
filled from the bestsellers of their usual category (of those ten), then from
the overall bestsellers.

Per recipient it is a sort of their orders and at most ten products' neighbour
lists (tens of microseconds, see docs/predictive.md); the object holds only plain values and pydantic
products, so it pickles for batch workers.

Example:
    >>> source = CoPurchaseRecommendations.load("recs.json")         # doctest: +SKIP
    >>> engine = Engine(recommendations=source)                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from renderer.base.errors import ModelFileError
from renderer.base.model_files import read_model_json, validate_model
from renderer.base.models import Product, Profile

FORMAT = "renderer-copurchase"
VERSION = 1
ALL = "_all"
"""The key of the overall bestsellers in the file's ``bestsellers``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Score = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class CoPurchaseFile(_Strict):
    """The JSON model file, as validated on load."""

    format: Literal["renderer-copurchase"]
    version: Literal[1]
    view_weight: Annotated[float, Field(ge=0, le=1)]
    products: Annotated[list[Product], Field(min_length=1)]
    neighbours: dict[str, list[tuple[str, Score]]]
    bestsellers: dict[str, list[str]]
    fit: dict[str, Any] = {}
    validation: dict[str, Any] = {}

    @model_validator(mode="after")
    def _consistent(self) -> CoPurchaseFile:
        ids = [p.id for p in self.products]
        if len(set(ids)) != len(ids):
            raise ValueError("products: an id is listed twice")
        known = set(ids)
        for key, listed in self.bestsellers.items():
            if unknown := [pid for pid in listed if pid not in known]:
                raise ValueError(f"bestsellers.{key}: unknown products {unknown[:3]}")
        if ALL not in self.bestsellers:
            raise ValueError(f"bestsellers needs the overall list {ALL!r}")
        for pid, pairs in self.neighbours.items():
            if unknown := [other for other, _ in pairs if other not in known]:
                raise ValueError(f"neighbours.{pid}: unknown products {unknown[:3]}")
        return self


class CoPurchaseRecommendations:
    """Item-to-item recommendations from a co-purchase model file (a :class:`RecommendationSource`)."""

    def __init__(self, spec: CoPurchaseFile, path: str = "<copurchase>") -> None:
        self.spec = spec
        self.path = path
        self.view_weight = spec.view_weight
        self._products = {p.id: p for p in spec.products}
        self._category = {p.id: p.category for p in spec.products}
        self._neighbours = {pid: tuple(pairs) for pid, pairs in spec.neighbours.items()}
        self._bestsellers = {key: tuple(pid for pid in ids if self._products[pid].in_stock)
                             for key, ids in spec.bestsellers.items()}

    @classmethod
    def load(cls, path: str | Path) -> CoPurchaseRecommendations:
        """Read and validate a model file; never unpickles anything.

        Raises:
            ModelFileError: missing file, bad JSON (with line) or an invalid model.
        """
        data = read_model_json(path, "recommendation model", ModelFileError)
        return cls.parse(data, str(path))

    @classmethod
    def parse(cls, data: Any, path: str = "<copurchase>") -> CoPurchaseRecommendations:
        """Validate a decoded model file.

        Raises:
            ModelFileError: naming every problem (``neighbours.PL-1000: ...``).
        """
        spec = validate_model(data, CoPurchaseFile, kind="recommendation model", format=FORMAT, version=VERSION,
                              error=ModelFileError, path=path)
        return cls(spec, path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.spec, self.path))

    def recommend(self, bought: set[str] | frozenset[str], seeds: list[str], viewed: list[str],
                  usual: str | None, limit: int) -> list[str]:
        """Product ids: neighbours of ``seeds`` (and, with less weight, ``viewed``) by summed
        similarity, never one of ``bought``; then the bestsellers of ``usual``, then overall, to fill."""
        scores: dict[str, float] = {}
        neighbours = self._neighbours
        for pid in seeds:
            for other, similarity in neighbours.get(pid, ()):
                scores[other] = scores.get(other, 0.0) + similarity
        weight = self.view_weight
        if weight:
            for pid in viewed:
                for other, similarity in neighbours.get(pid, ()):
                    scores[other] = scores.get(other, 0.0) + weight * similarity
        products = self._products
        ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
        chosen = [pid for pid, _ in ranked if pid not in bought and products[pid].in_stock][:limit]
        if len(chosen) < limit:
            taken = set(chosen)
            for key in (usual, ALL):
                for pid in self._bestsellers.get(key, ()) if key is not None else ():
                    if pid not in bought and pid not in taken:
                        chosen.append(pid)
                        taken.add(pid)
                        if len(chosen) == limit:
                            return chosen
        return chosen

    def usual_category(self, seeds: list[str]) -> str | None:
        """The category most of ``seeds`` belong to (ties: the one of the earliest seed, the most recent)."""
        counts: dict[str, int] = {}
        category = self._category
        for pid in seeds:
            name = category.get(pid)
            if name:
                counts[name] = counts.get(name, 0) + 1
        return max(counts, key=counts.__getitem__) if counts else None

    def fetch(self, profile: Profile, limit: int) -> list[Product]:
        orders = sorted(profile.orders, key=_placed_at, reverse=True)
        bought = {item.product_id for order in orders for item in order.items}
        seeds = recent_distinct((item.product_id for order in orders for item in order.items), MAX_SEEDS)
        viewed = recent_distinct((entry.product.id for entry in sorted(profile.browsing, key=_viewed_at,
                                                                        reverse=True)), MAX_SEEDS)
        ids = self.recommend(bought, seeds, viewed, self.usual_category(seeds), limit)
        return [self._products[pid] for pid in ids]


MAX_SEEDS = 10
"""The most recent distinct products bought (and viewed) that recommendations start from: recent
interest says more, and a customer with hundreds of orders costs no more than one with ten."""

_placed_at = attrgetter("placed_at")
_viewed_at = attrgetter("viewed_at")


def recent_distinct(ids: Iterable[str], limit: int) -> list[str]:
    """The first ``limit`` distinct ids, in order (newest first when ``ids`` is)."""
    seen: dict[str, None] = {}
    for pid in ids:
        if pid not in seen:
            seen[pid] = None
            if len(seen) == limit:
                break
    return list(seen)
