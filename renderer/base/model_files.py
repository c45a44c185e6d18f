"""Model files (personas, predictive models, co-purchase neighbours): plain JSON, named and versioned.

Each is fitted offline and read at render time, so each is validated on
load and never unpickled: the file names its ``format`` and ``version``, and
its body is checked by a pydantic model. The errors name the file (and the
JSON line), in the error class of the feature that reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from renderer.base.errors import TemplateError
from renderer.base.models import problems_from

M = TypeVar("M", bound=BaseModel)


def read_model_json(path: str | Path, kind: str, error: type[TemplateError]) -> Any:
    """The decoded JSON of a ``kind`` model file.

    Raises:
        error: the file cannot be read, is not UTF-8, or is not JSON (with its line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"cannot read {kind} file: {problem}", str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as problem:
        raise error(f"not valid JSON: {problem.msg} (column {problem.colno})", str(path), problem.lineno) from None


def validate_model(data: Any, schema: type[M], *, kind: str, format: str, version: int,  # noqa: A002
                   error: type[TemplateError], path: str) -> M:
    """``data`` validated as ``schema``, once its ``format`` and ``version`` are the ones this renderer reads.

    Raises:
        error: another format or version ("fit it again"), or every validation problem by field path.
    """
    if not isinstance(data, dict) or data.get("format") != format:
        raise error(f"not a {kind} file (expected \"format\": \"{format}\")", path)
    if data.get("version") != version:
        raise error(f"{kind} file version {data.get('version')!r} is not supported "
                    f"(this renderer reads version {version}); fit it again", path)
    try:
        return schema.model_validate(data)
    except ValidationError as problem:
        problems = "; ".join(str(p) for p in problems_from(problem))
        raise error(f"invalid {kind} file: {problems}", path) from None
