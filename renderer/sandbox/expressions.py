"""Evaluate many Jinja expressions against one context with a single render.

Each ``compile_expression`` call pays for a fresh template context (about
10 µs); segment rules and ``show_if`` conditions are evaluated for every
recipient, so they are joined into one template that prints a 1 or 0 per
expression. Only when that render raises (e.g. ``None < 30`` for missing
data) are the expressions evaluated one by one to tell which one failed.
"""

from __future__ import annotations

from typing import Any, Callable

import jinja2

from renderer.sandbox.environments import render_fast


class ExpressionSet:
    """A fixed list of expressions, compiled once, evaluated together."""

    def __init__(self, environment: jinja2.Environment, expressions: list[str]) -> None:
        # Compiling each alone first gives a precise syntax error per expression.
        self._single: list[Callable[..., Any]] = [
            environment.compile_expression(expression, undefined_to_none=False) for expression in expressions
        ]
        source = "".join(f"{{% if ({expression}) %}}1{{% else %}}0{{% endif %}}" for expression in expressions)
        self._joined = environment.from_string(source)
        self.expressions = list(expressions)

    def __len__(self) -> int:
        return len(self.expressions)

    def evaluate(self, context: dict[str, Any]) -> list[bool | BaseException]:
        """One verdict per expression: ``True``/``False``, or the exception it raised."""
        if not self.expressions:
            return []
        try:
            flags = render_fast(self._joined, context)
        except Exception:
            return [self._one(test, context) for test in self._single]
        return [flag == "1" for flag in flags]

    @staticmethod
    def _one(test: Callable[..., Any], context: dict[str, Any]) -> bool | BaseException:
        try:
            return bool(test(**context))
        except Exception as error:  # reported per expression by the caller
            return error
