"""Evaluate many Jinja expressions against one context: segment rules and ``show_if`` conditions.

They run for every recipient, so they are made into plain Python once, at
load: the expressions that use only comparisons, ``and`` / ``or`` /
``not``, names, constants, lists, ``x.key`` and ``x['key']`` on plain dicts,
and the ``length`` filter and ``is`` tests of their environment become one
Python function that gives all verdicts in one call (about a fifth of the
cost of rendering them). The translation does what Jinja's compiled code
does with the same values; whenever it cannot be sure (a value that is not
a plain dict, a missing key, an error), it steps aside: the expressions it
does not cover, and all of them for a recipient whose data made the
function raise, are evaluated by Jinja as before: one joined template that
prints a 1 or 0 per expression, and, only when that render raises (e.g.
``None < 30`` for missing data), each expression alone to tell which one
failed. So every verdict, and every error, is Jinja's.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jinja2
from jinja2 import nodes
from jinja2.parser import Parser
from jinja2.utils import _PassArg

from renderer.sandbox.environments import render_fast

_OPERATORS = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<=", "in": "in",
              "notin": "not in"}
_CONSTANTS = (bool, int, float, str, type(None))


class _NotPlain(Exception):
    """A value the translation does not read (not a plain dict, a key it lacks): Jinja decides."""


class _Untranslatable(Exception):
    """An expression that uses more than the translation covers."""


def _key(value: Any, key: Any) -> Any:
    """``value.key`` / ``value[key]`` where ``value`` is a plain dict that has ``key``; else Jinja's turn."""
    if type(value) is dict and key in value:
        return value[key]
    raise _NotPlain


class _Translation:
    """Expressions' Jinja syntax trees as Python source, with the callables they need by name."""

    def __init__(self, environment: jinja2.Environment) -> None:
        self.environment = environment
        self.names: dict[str, Any] = {"_key": _key}

    def _callable(self, kind: str, name: str, table: dict[str, Any]) -> str:
        function = table.get(name)
        if function is None or _PassArg.from_obj(function) is not None:
            raise _Untranslatable(f"{kind} {name}")
        alias = f"_{kind}_{name}"
        self.names[alias] = function
        return alias

    def source(self, node: nodes.Node) -> str:
        if isinstance(node, nodes.Const) and type(node.value) in _CONSTANTS:
            return repr(node.value)
        if isinstance(node, nodes.Name) and node.ctx == "load":
            return f"_key(v, {node.name!r})"
        if isinstance(node, nodes.Getattr) and not hasattr(dict, node.attr):
            # A key that is also a dict method (``x.items``) is read differently by the two sandboxes.
            return f"_key({self.source(node.node)}, {node.attr!r})"
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and type(node.arg.value) in (str, int):
            return f"_key({self.source(node.node)}, {node.arg.value!r})"
        if isinstance(node, nodes.Compare):
            parts = [self.source(node.expr)]
            for operand in node.ops:
                parts += [_OPERATORS[operand.op], self.source(operand.expr)]
            return "(" + " ".join(parts) + ")"
        if isinstance(node, nodes.And):
            return f"({self.source(node.left)} and {self.source(node.right)})"
        if isinstance(node, nodes.Or):
            return f"({self.source(node.left)} or {self.source(node.right)})"
        if isinstance(node, nodes.Not):
            return f"(not {self.source(node.node)})"
        if isinstance(node, (nodes.List, nodes.Tuple)):
            items = ", ".join(self.source(item) for item in node.items)
            return f"[{items}]" if isinstance(node, nodes.List) else f"({items},)"
        if isinstance(node, (nodes.Filter, nodes.Test)) and node.node is not None and not (
                node.args or node.kwargs or node.dyn_args or node.dyn_kwargs):
            if isinstance(node, nodes.Filter) and node.name in ("length", "count"):
                return f"{self._callable('filter', node.name, self.environment.filters)}({self.source(node.node)})"
            if isinstance(node, nodes.Test):
                return f"{self._callable('test', node.name, self.environment.tests)}({self.source(node.node)})"
        raise _Untranslatable(type(node).__name__)


def _translate(environment: jinja2.Environment, expressions: list[str]) -> tuple[Callable[..., tuple], list[int]]:
    """A function of the context giving the verdicts of the expressions it covers, and their indexes."""
    translation = _Translation(environment)
    covered: list[tuple[int, str]] = []
    for index, expression in enumerate(expressions):
        try:
            tree = Parser(environment, expression, state="variable").parse_expression()
            covered.append((index, translation.source(tree)))
        except (_Untranslatable, jinja2.TemplateSyntaxError, KeyError):
            continue
    body = ", ".join(f"bool({source})" for _, source in covered)
    code = f"def verdicts(v):\n    return ({body}{',' if covered else ''})\n"
    namespace = dict(translation.names)
    exec(compile(code, "<expressions>", "exec"), namespace)  # noqa: S102 - built from the syntax trees above
    return namespace["verdicts"], [index for index, _ in covered]


class _Joined:
    """Expressions evaluated by Jinja: one joined render, and each alone when that render raises.

    Both are compiled when first needed: where the Python translation covers
    every expression, Jinja evaluates them only after an error. Their syntax
    was checked where they were read (the assemble stage, the rules file).
    """

    def __init__(self, environment: jinja2.Environment, expressions: list[str]) -> None:
        self.environment = environment
        self.expressions = expressions

    @functools.cached_property
    def single(self) -> list[Callable[..., Any]]:
        return [self.environment.compile_expression(expression, undefined_to_none=False)
                for expression in self.expressions]

    @functools.cached_property
    def joined(self) -> jinja2.Template:
        source = "".join(f"{{% if ({expression}) %}}1{{% else %}}0{{% endif %}}" for expression in self.expressions)
        return self.environment.from_string(source)

    def evaluate(self, context: dict[str, Any]) -> list[bool | BaseException]:
        try:
            flags = render_fast(self.joined, context)
        except Exception:
            return [self._one(test, context) for test in self.single]
        return [flag == "1" for flag in flags]

    @staticmethod
    def _one(test: Callable[..., Any], context: dict[str, Any]) -> bool | BaseException:
        try:
            return bool(test(**context))
        except Exception as error:  # reported per expression by the caller
            return error


class ExpressionSet:
    """A fixed list of expressions, compiled once, evaluated together."""

    def __init__(self, environment: jinja2.Environment, expressions: list[str]) -> None:
        self.expressions = list(expressions)
        self._all = _Joined(environment, self.expressions)
        self._python, self._covered = _translate(environment, self.expressions)
        covered = set(self._covered)
        uncovered = [e for i, e in enumerate(self.expressions) if i not in covered]
        # What Jinja evaluates even when the Python function gives its verdicts: at every evaluation, so
        # compiled now (before a batch forks its workers, not in each of them).
        self._rest = _Joined(environment, uncovered) if uncovered else None
        if self._rest is not None:
            self._rest.joined  # noqa: B018 - compiles it

    def __len__(self) -> int:
        return len(self.expressions)

    @property
    def translated(self) -> int:
        """How many of the expressions run as plain Python (the others, and all after an error, run in Jinja)."""
        return len(self._covered)

    def evaluate(self, context: dict[str, Any]) -> list[bool | BaseException]:
        """One verdict per expression: ``True``/``False``, or the exception it raised."""
        if not self.expressions:
            return []
        if not self._covered:
            return self._jinja(context)
        try:
            fast = self._python(context)
        except Exception:  # a value the translation does not read, or an error: Jinja decides them all
            return self._jinja(context)
        if self._rest is None:
            return list(fast)
        verdicts = self._rest.evaluate(context)
        for index, verdict in zip(self._covered, fast):  # ascending: each lands at its own place
            verdicts.insert(index, verdict)
        return verdicts

    def _jinja(self, context: dict[str, Any]) -> list[bool | BaseException]:
        """Every verdict from Jinja alone (the reference the Python translation is tested against)."""
        return self._all.evaluate(context)
