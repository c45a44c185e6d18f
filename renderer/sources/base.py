"""The recommendation source protocol, its error, and the static source."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from renderer.base.errors import InvalidInput, RendererError
from renderer.base.models import Product, Profile, parse_products


class RecommendationUnavailable(RendererError, RuntimeError):
    """A source could not provide recommendations; ``reason`` is safe to log and show."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason,))


@runtime_checkable
class RecommendationSource(Protocol):
    """Anything that can recommend products for a profile."""

    def fetch(self, profile: Profile, limit: int) -> list[Product]:
        """Up to ``limit`` products for ``profile``; raises RecommendationUnavailable."""
        ...


def validate_payload(data: Any, *, origin: str) -> list[Product]:
    """Products from a payload: a list, or an object with a ``products`` list.

    Raises:
        RecommendationUnavailable: the payload has the wrong shape or invalid products.
    """
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list):
        raise RecommendationUnavailable(f"{origin} returned {type(data).__name__}, not a list of products")
    try:
        return parse_products(data, what=f"recommendations from {origin}")
    except InvalidInput as error:
        first = error.problems[0] if error.problems else None
        raise RecommendationUnavailable(
            f"{origin} returned invalid products ({len(error.problems)} problems, e.g. {first})") from None


class StaticSource:
    """The same products for everyone: given directly, or read from a JSON file."""

    def __init__(self, products: list[Product] | list[dict[str, Any]] | str | Path) -> None:
        if isinstance(products, (str, Path)):
            import json

            path = Path(products)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise RecommendationUnavailable(f"cannot read {path.name}: {error}") from None
            self.products = validate_payload(data, origin=path.name)
        else:
            self.products = validate_payload(list(products), origin="static source")

    def fetch(self, profile: Profile, limit: int) -> list[Product]:
        return self.products[:limit]
