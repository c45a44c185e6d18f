"""Package names that load their module on first use (PEP 562), so importing a package costs nothing."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_names(namespace: dict[str, Any], exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module name) on first use of ``name``.

    Example, in a package's ``__init__.py``::

        __getattr__ = lazy_names(globals(), {"Engine": "renderer.engine"})
    """
    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups find it without this function
        return value

    return __getattr__
