"""Reading JSON content files with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from renderer.base.errors import InvalidInput, Problem
from renderer.base.models import Product, parse_products


def read_json(path: str | Path) -> Any:
    """Read a JSON file; bad UTF-8, a syntax error or too deep nesting names the file (and line and column).

    Raises:
        InvalidInput: the file is not UTF-8, not JSON, or nested too deeply to read.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InvalidInput(str(path), [Problem(f"line {line} column {column}",
                                               f"not UTF-8 (byte 0x{data[error.start]:02x})", "utf8_invalid")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(str(path), [Problem(f"line {error.lineno} column {error.colno}", error.msg,
                                               "json_invalid")]) from None
    except RecursionError:
        raise InvalidInput(str(path), [Problem("", "not readable JSON: arrays or objects nested too deeply",
                                               "json_too_deep")]) from None


def read_products(path: str | Path) -> list[Product]:
    """A JSON list of products, validated."""
    return parse_products(read_json(path), what=str(path))
