"""YAML through libyaml's C parser when PyYAML was built with it, else the Python one.

Templates, block headers, locale files and rules are parsed for every
template a language compiles: the C parser does it several times faster.
Errors carry the same marks (line, column) either way.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load``, with the C parser when there is one."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)


def compose(text: str) -> yaml.Node | None:
    """``yaml.compose`` (nodes with line marks), with the C parser when there is one."""
    return yaml.compose(text, Loader=_LOADER)
