"""Compile-time checks that a template stays inside the sandbox (once per template).

The sandbox (``environments.BoundedSandbox``) refuses unsafe attributes,
oversized results and work beyond each render's budget (``budget.py``) at
render time. What can be seen in the source is refused
here instead, so that a broken or hostile template fails once, naming its
file and line, rather than once per recipient:

* attributes and keys that start with ``_`` (``x.__class__``,
  ``x['__globals__']``, ``x|attr('__class__')``), and format strings that
  reach them (``'{0.__class__}'.format``, stored or called);
* ``range()`` longer than the sandbox's ``MAX_RANGE``, and loops nested so
  that their ranges multiply beyond it;
* integer arguments larger than ``MAX_RANGE`` to a filter or a call, and
  format widths larger than it: Jinja folds constant expressions while
  compiling, so ``'x'|center(10000000000)`` would build its string right then;
* a macro that calls itself, directly or through other macros (recursion).
"""

from __future__ import annotations

import re
from string import Formatter
from typing import Iterator

from jinja2 import nodes
from jinja2.sandbox import MAX_RANGE

from renderer.base.errors import TemplateError
from renderer.sandbox.environments import MAX_INT_BITS

_FORMAT_METHODS = frozenset({"format", "format_map"})
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*)(?:\.(\d+))?")


def check_template(tree: nodes.Template, filename: str, first_line: int | None = 1) -> None:
    """Refuse the first construct that would leave the sandbox's limits.

    ``first_line`` is the line of the file where the parsed source starts
    (``None`` when unknown); errors name ``filename`` and the line.

    Raises:
        TemplateError: naming the construct, the file and the line.
    """
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Call)):
        problem = _problem(node)
        if problem:
            raise TemplateError(problem, filename, _line(first_line, node))
    recursive = _recursive_macro(tree)
    if recursive is not None:
        raise TemplateError(f"macro {recursive.name!r} calls itself (directly or through other macros); "
                            "recursion is not allowed in templates", filename, _line(first_line, recursive))
    for node, iterations in _loops(tree, 1):
        if iterations > MAX_RANGE:
            raise TemplateError(f"these nested loops may run {iterations:,} times; templates may loop at most "
                                f"{MAX_RANGE:,} times", filename, _line(first_line, node))


def _line(first_line: int | None, node: nodes.Node) -> int | None:
    return first_line + (node.lineno or 1) - 1 if first_line is not None else None


def _private(name: object) -> str | None:
    if isinstance(name, str) and name.startswith("_"):
        return f"{name!r} is not allowed: names starting with an underscore are Python internals"
    return None


def _problem(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        if node.attr in _FORMAT_METHODS and isinstance(node.node, nodes.Const):
            return _format_problem(node.node.value)
        return _private(node.attr)
    if isinstance(node, nodes.Getitem):
        return _private(node.arg.value) if isinstance(node.arg, nodes.Const) else None
    if isinstance(node, nodes.Filter):
        first = node.args[0] if node.args and isinstance(node.args[0], nodes.Const) else None
        if node.name == "attr" and first is not None:
            if first.value in _FORMAT_METHODS and isinstance(node.node, nodes.Const):
                return _format_problem(node.node.value)
            return _private(first.value)
        if node.name == "format" and isinstance(node.node, nodes.Const):
            return _format_problem(node.node.value)
    if isinstance(node, (nodes.Filter, nodes.Call)):
        return _too_large(node)
    return None


def _too_large(node: nodes.Filter | nodes.Call) -> str | None:
    arguments = list(node.args) + [keyword.value for keyword in node.kwargs]
    for argument in arguments:
        value = _constant_int(argument)
        if value is not None and abs(value) > MAX_RANGE:
            if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range":
                return (f"range() of {abs(value):,} items; the sandbox allows at most {MAX_RANGE:,} "
                        "(jinja2.sandbox.MAX_RANGE)")
            return f"the number {value:,} is too large for an argument; templates may use at most {MAX_RANGE:,}"
    return None


def _constant_int(node: nodes.Node) -> int | None:
    """The value of integer arithmetic on literals (``10**9``), else None.

    Never computes an integer beyond the sandbox's :data:`MAX_INT_BITS`; those
    are refused at render time instead.
    """
    if isinstance(node, nodes.Const):
        return node.value if isinstance(node.value, int) and not isinstance(node.value, bool) else None
    if isinstance(node, nodes.Neg):
        inner = _constant_int(node.node)
        return -inner if inner is not None else None
    if not isinstance(node, (nodes.Add, nodes.Sub, nodes.Mul, nodes.Pow)):
        return None
    left, right = _constant_int(node.left), _constant_int(node.right)
    if left is None or right is None:
        return None
    if isinstance(node, nodes.Add):
        return left + right
    if isinstance(node, nodes.Sub):
        return left - right
    if isinstance(node, nodes.Mul):
        return left * right if left.bit_length() + right.bit_length() <= MAX_INT_BITS else None
    if right < 0 or abs(left).bit_length() * right > MAX_INT_BITS:
        return None
    return left**right


def _format_problem(template: object) -> str | None:
    """What is wrong with a constant format string (``str.format`` or ``%`` style), if anything."""
    if not isinstance(template, str):
        return None
    try:
        fields = list(Formatter().parse(template))
    except ValueError:
        fields = []
    for _, field, spec, _ in fields:
        for part in re.split(r"[.\[\]]", field or ""):
            if part.startswith("_"):
                return f"the format string {template[:60]!r} reaches {part!r}, a Python internal; not allowed"
        if any(int(width) > MAX_RANGE for width in re.findall(r"\d+", spec or "")):
            return f"the format string {template[:60]!r} asks for a width above {MAX_RANGE:,}"
    for match in _PERCENT_WIDTH.finditer(template):
        if any(group and int(group) > MAX_RANGE for group in match.groups()):
            return f"the format string {template[:60]!r} asks for a width above {MAX_RANGE:,}"
    return None


def _recursive_macro(tree: nodes.Template) -> nodes.Macro | None:
    """The first macro that can reach a call to itself by name, if any."""
    macros = {macro.name: macro for macro in tree.find_all(nodes.Macro)}
    calls = {name: {call.node.name for call in macro.find_all(nodes.Call)
                    if isinstance(call.node, nodes.Name) and call.node.name in macros}
             for name, macro in macros.items()}
    for name, macro in macros.items():
        seen: set[str] = set()
        pending = list(calls[name])
        while pending:
            callee = pending.pop()
            if callee == name:
                return macro
            if callee not in seen:
                seen.add(callee)
                pending.extend(calls[callee])
    return None


def _iterations(node: nodes.Node) -> int:
    """How many times a loop over ``node`` may run, at most, as far as the source tells.

    A ``range()`` of constants runs its length and any other ``range()`` up to
    ``MAX_RANGE``; a constant slice bounds what it slices. Recipient data
    (products, cart items) counts once: the engine caps those lists
    (``renderer.base.limits.Limits``).
    """
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range":
        bounds = [_constant_int(argument) for argument in node.args]
        if node.kwargs or None in bounds:
            return MAX_RANGE
        try:
            return len(range(*bounds))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return MAX_RANGE
    if isinstance(node, nodes.Filter) and node.node is not None:
        return _iterations(node.node)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Slice):
        inner = _iterations(node.node)
        start = _constant_int(node.arg.start) if node.arg.start is not None else 0
        stop = _constant_int(node.arg.stop) if node.arg.stop is not None else None
        if start is not None and stop is not None and start >= 0 and stop >= 0 and node.arg.step is None:
            return min(inner, max(stop - start, 0)) if inner > 1 else inner
        return inner
    return 1


def _loops(node: nodes.Node, outer: int) -> Iterator[tuple[nodes.For, int]]:
    """Every ``for`` loop under ``node``, with the number of times its body may run in all."""
    if isinstance(node, nodes.For):
        total = outer * max(_iterations(node.iter), 1)
        yield node, total
        for child in node.body:
            yield from _loops(child, total)
        for child in node.else_:
            yield from _loops(child, outer)
        return
    for child in node.iter_child_nodes():
        yield from _loops(child, outer)
