"""Reading JSON content files with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from renderer.base.errors import InvalidInput, Problem
from renderer.base.models import Product, parse_products


def read_json(path: str | Path) -> Any:
    """Read a JSON file; a syntax error names the file, line and column."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidInput(str(path), [Problem(f"line {error.lineno} column {error.colno}", error.msg,
                                               "json_invalid")]) from None


def read_products(path: str | Path) -> list[Product]:
    """A JSON list of products, validated."""
    return parse_products(read_json(path), what=str(path))
