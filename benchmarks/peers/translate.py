"""The compiled HTML template's Jinja tags rewritten as Liquid and as Handlebars.

``benchmarks/bench_peers.py`` renders the same finished email HTML with
python-liquid and with Handlebars: the template's text is kept as it is and
only its tags change language. The tags are read from Jinja's own parse tree
(nothing is guessed from the text), and each node is written in the other
language. The subset is what the compiled templates use: names, attributes and
constant indexes, ``if``/``elif``/``else``, ``for`` over a list, a slice of
it or its ``batch``, ``==`` with a constant, ``~`` and the ``utm``,
``phrases``, ``plural_form`` and ``batch`` filters. Any other node raises
:class:`Unsupported` naming it, rather than being approximated; the benchmark
also checks every recipient's output against Jinja's.

- Liquid: the filters are registered under the same names with the project's
  own functions (``bench_peers.liquid_environment``); a filter inside a test
  becomes an ``assign`` before the ``if`` (Liquid has no filters in
  conditions); slices of loops become ``limit:``/``offset:``. In Liquid only
  nil and false are false, so a test of a value is written as a Liquid author
  would for the types that value has in the data (:func:`observe_tests`):
  ``x`` for booleans, ``x != empty`` for strings and lists, ``x != 0`` for
  numbers, with ``x and`` in front when it can be nil; a test never reached
  gets all three.
- Handlebars: filters, slices, ``~`` and ``==`` become helpers of the same
  names (``benchmarks/peers/common.js``); loops use block parameters
  (``{{#each list as |p|}}``), and inside a loop a name that is not a loop
  variable is read from ``@root``: Handlebars looks names up in the current
  item only, not in the scopes around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, nodes

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
FILTERS = frozenset({"utm", "phrases", "plural_form", "batch"})


class Unsupported(ValueError):
    """A Jinja construct outside the subset translated here."""


@dataclass
class Translation:
    """One template in the other language, and what the benchmark needs to know about it."""

    source: str
    utm_queries: list[str] = field(default_factory=list)
    """The ``utm`` filters' queries, in order of appearance."""
    phrase_languages: set[str] = field(default_factory=set)
    """The languages given to ``phrases`` filters."""


def _literal(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise Unsupported(f"constant {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if "'" not in value:
            return f"'{value}'"
        if '"' not in value:
            return f'"{value}"'
    raise Unsupported(f"constant {value!r}")


def _constants(node: nodes.Node) -> list[object]:
    """The values of a constant or of a tuple of constants (a filter's arguments)."""
    if isinstance(node, nodes.Const):
        return [node.value]
    if isinstance(node, nodes.Tuple) and all(isinstance(item, nodes.Const) for item in node.items):
        return [item.value for item in node.items]
    raise Unsupported(f"filter argument {node!r}")


def _filter_arguments(node: nodes.Filter) -> list[object]:
    if node.name not in FILTERS:
        raise Unsupported(f"filter {node.name}")
    if node.kwargs or node.dyn_args or node.dyn_kwargs:
        raise Unsupported(f"keyword arguments of filter {node.name}")
    return [value for argument in node.args for value in _constants(argument)]


def _slice_bounds(node: nodes.Slice) -> tuple[int, int | None]:
    if node.step is not None:
        raise Unsupported("a slice with a step")
    bounds = []
    for bound in (node.start, node.stop):
        if bound is not None and not (isinstance(bound, nodes.Const) and isinstance(bound.value, int)):
            raise Unsupported(f"slice bound {bound!r}")
        bounds.append(None if bound is None else bound.value)
    return bounds[0] or 0, bounds[1]


def _is_plain(node: nodes.Node) -> bool:
    """A constant or a path (``p.url``, ``_blocks[2]``): no filter, slice or operator."""
    while isinstance(node, (nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return False
        node = node.node
    return isinstance(node, (nodes.Const, nodes.Name))


def _check_text(text: str) -> str:
    """Template text as it is, unless Liquid or Handlebars would read part of it as a tag.

    Jinja's lexer already took every ``{{`` and ``{%``; a backslash before a tag
    would make Handlebars print the tag.
    """
    if "{{" in text or "{%" in text or text.endswith("\\"):
        raise Unsupported(f"template text that would read as a tag: {text[:60]!r}")
    return text


def _check_loop(node: nodes.For) -> str:
    if node.else_ or node.test is not None or node.recursive or not isinstance(node.target, nodes.Name):
        raise Unsupported("a for loop with else, a filter, recursion or several targets")
    return node.target.name


def observe_tests(source: str, environment: Environment, contexts: Iterable[dict[str, Any]]) -> list[set[type]]:
    """The types each ``if``/``elif`` test's value has when ``source`` is rendered over ``contexts``.

    One set per test, in the order of ``find_all(nodes.If)`` (an ``elif`` is an
    ``If`` node of its own); rendered by a copy of ``environment`` that is not
    sandboxed, with every test wrapped in a call that notes its value's type.
    """
    tree = environment.parse(source)
    tests = list(tree.find_all(nodes.If))
    seen: list[set[type]] = [set() for _ in tests]
    for index, test in enumerate(tests):
        test.test = nodes.Call(nodes.Name("peer_observe", "load"), [nodes.Const(index), test.test], [], None, None)

    def observe(index: int, value: Any) -> Any:
        seen[index].add(type(value))
        return value

    plain = Environment(autoescape=environment.autoescape, undefined=environment.undefined,
                        keep_trailing_newline=environment.keep_trailing_newline)
    plain.filters.update(environment.filters)
    template = plain.from_string(tree)
    for context in contexts:
        template.render({**context, "peer_observe": observe})
    return seen


class _Writer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.translation = Translation("")
        self.tests: dict[int, int] = {}
        """Each ``If`` node's place in ``find_all(nodes.If)``, for :func:`observe_tests`."""

    def write(self, source: str, environment: Environment) -> Translation:
        tree = environment.parse(source)
        self.tests = {id(node): index for index, node in enumerate(tree.find_all(nodes.If))}
        self.body(tree.body)
        self.translation.source = "".join(self.out)
        return self.translation

    def body(self, body: list[nodes.Node]) -> None:
        for node in body:
            if isinstance(node, nodes.Output):
                for child in node.nodes:
                    if isinstance(child, nodes.TemplateData):
                        self.out.append(_check_text(child.data))
                    else:
                        self.output(child)
            elif isinstance(node, nodes.If):
                self.if_(node)
            elif isinstance(node, nodes.For):
                self.for_(node)
            else:
                raise Unsupported(f"statement {type(node).__name__}")

    def path(self, node: nodes.Node) -> str:
        """A variable's path (``p.url``, ``items.0``), names and keys spelt by :meth:`name` and :meth:`key`."""
        if isinstance(node, nodes.Name):
            return self.name(node.name)
        if isinstance(node, nodes.Getattr):
            return f"{self.path(node.node)}.{node.attr}"
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            key = node.arg.value
            if isinstance(key, str) and IDENTIFIER.match(key):
                return f"{self.path(node.node)}.{key}"
            written = self.key(key)
            if written is not None:
                return f"{self.path(node.node)}{written}"
        raise Unsupported(f"expression {node!r}")

    def name(self, name: str) -> str:
        return name

    def key(self, key: object) -> str | None:
        """A key that is not a plain name, as this syntax writes it after the path; ``None``: it cannot."""
        return None

    def note_filter(self, node: nodes.Filter, arguments: list[object]) -> None:
        if node.name == "utm" and arguments:
            self.translation.utm_queries.append(str(arguments[0]))
        if node.name == "phrases" and arguments:
            self.translation.phrase_languages.add(str(arguments[0]))

    def output(self, node: nodes.Node) -> None:
        raise NotImplementedError

    def if_(self, node: nodes.If) -> None:
        raise NotImplementedError

    def for_(self, node: nodes.For) -> None:
        raise NotImplementedError


class _LiquidWriter(_Writer):
    def __init__(self, test_types: list[set[type]] | None) -> None:
        super().__init__()
        self.temporaries = 0
        self.test_types = test_types

    def temporary(self, expression: str, prelude: list[str]) -> str:
        self.temporaries += 1
        name = f"peer_{self.temporaries}"
        prelude.append(f"{{% assign {name} = {expression} %}}")
        return name

    def key(self, key: object) -> str | None:
        return f"[{_literal(key)}]"

    def value(self, node: nodes.Node) -> str:
        """A Liquid expression with its filters: ``p.url | utm: 'q', 'd'``."""
        if isinstance(node, nodes.Const):
            return _literal(node.value)
        if isinstance(node, nodes.Filter):
            arguments = _filter_arguments(node)
            self.note_filter(node, arguments)
            written = ", ".join(_literal(a) for a in arguments)
            return f"{self.value(node.node)} | {node.name}" + (f": {written}" if written else "")
        if isinstance(node, nodes.Concat):
            first, *rest = node.nodes
            return self.value(first) + "".join(f" | append: {self.value(part)}" for part in rest)
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Slice):
            start, stop = _slice_bounds(node.arg)
            if stop is None:
                raise Unsupported("an open-ended slice outside a loop or a test")
            return f"{self.value(node.node)} | slice: {start}, {stop - start}"
        return self.path(node)

    def output(self, node: nodes.Node) -> None:
        self.out.append(f"{{{{ {self.value(node)} }}}}")

    def truth(self, written: str, types: set[type]) -> str:
        """Jinja's truth of ``written`` in Liquid, for values of these types."""
        nullable = type(None) in types
        types = types - {type(None)}
        if types and types <= {bool}:
            return written
        if types and all(issubclass(t, (str, list, dict, tuple)) for t in types):
            test = f"{written} != empty"
        elif types and all(issubclass(t, (int, float)) and not issubclass(t, bool) for t in types):
            test = f"{written} != 0"
        else:  # never seen, or of several kinds
            return f"{written} and {written} != empty and {written} != 0"
        return f"{written} and {test}" if nullable else test

    def test(self, node: nodes.Node, prelude: list[str], types: set[type]) -> str:
        if isinstance(node, nodes.Compare) and len(node.ops) == 1 and node.ops[0].op in ("eq", "ne"):
            sides = []
            for side in (node.expr, node.ops[0].expr):
                written = self.value(side)
                sides.append(written if _is_plain(side) else self.temporary(written, prelude))
            return f"{sides[0]} {'==' if node.ops[0].op == 'eq' else '!='} {sides[1]}"
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Slice):
            start, stop = _slice_bounds(node.arg)
            if stop is not None:
                raise Unsupported("a test of a bounded slice")
            return f"{self.path(node.node)}.size > {start}"
        written = self.value(node)
        if not _is_plain(node):
            written = self.temporary(written, prelude)
        return self.truth(written, types)

    def if_(self, node: nodes.If) -> None:
        prelude: list[str] = []
        branches = [node, *node.elif_]
        types = [set() if self.test_types is None else self.test_types[self.tests[id(branch)]] for branch in branches]
        tests = [self.test(branch.test, prelude, kinds) for branch, kinds in zip(branches, types)]
        self.out.extend(prelude)
        for index, (branch, test) in enumerate(zip(branches, tests)):
            self.out.append(f"{{% {'if' if index == 0 else 'elsif'} {test} %}}")
            self.body(branch.body)
        if node.else_:
            self.out.append("{% else %}")
            self.body(node.else_)
        self.out.append("{% endif %}")

    def for_(self, node: nodes.For) -> None:
        target = _check_loop(node)
        iterable = node.iter
        if isinstance(iterable, nodes.Getitem) and isinstance(iterable.arg, nodes.Slice):
            start, stop = _slice_bounds(iterable.arg)
            parameters = (f" offset: {start}" if start else "") + (f" limit: {stop - start}" if stop is not None else "")
            self.out.append(f"{{% for {target} in {self.path(iterable.node)}{parameters} %}}")
        else:
            written = self.value(iterable)
            if not _is_plain(iterable):
                prelude: list[str] = []
                written = self.temporary(written, prelude)
                self.out.extend(prelude)
            self.out.append(f"{{% for {target} in {written} %}}")
        self.body(node.body)
        self.out.append("{% endfor %}")


class _HandlebarsWriter(_Writer):
    def __init__(self) -> None:
        super().__init__()
        self.loop_names: list[str] = []

    def name(self, name: str) -> str:
        # Inside a loop, Handlebars reads names from the loop's item: the template's own start at @root.
        return f"@root.{name}" if self.loop_names and name not in self.loop_names else name

    def key(self, key: object) -> str | None:
        return f".[{key}]" if isinstance(key, int) and not isinstance(key, bool) else None

    def value(self, node: nodes.Node) -> str:
        """A Handlebars parameter: a path, a literal or a ``(helper ...)`` subexpression."""
        if isinstance(node, nodes.Const):
            return _literal(node.value)
        if isinstance(node, nodes.Filter):
            arguments = _filter_arguments(node)
            self.note_filter(node, arguments)
            return "(" + " ".join([node.name, self.value(node.node), *(_literal(a) for a in arguments)]) + ")"
        if isinstance(node, nodes.Concat):
            return "(" + " ".join(["concat", *(self.value(part) for part in node.nodes)]) + ")"
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Slice):
            start, stop = _slice_bounds(node.arg)
            bounds = [str(start)] + ([] if stop is None else [str(stop)])
            return "(" + " ".join(["slice", self.value(node.node), *bounds]) + ")"
        if isinstance(node, nodes.Compare) and len(node.ops) == 1 and node.ops[0].op in ("eq", "ne"):
            return f"({node.ops[0].op} {self.value(node.expr)} {self.value(node.ops[0].expr)})"
        return self.path(node)

    def output(self, node: nodes.Node) -> None:
        written = self.value(node)
        if written.startswith("("):  # a helper's call, written without its parentheses
            written = written[1:-1]
        self.out.append(f"{{{{{written}}}}}")

    def if_(self, node: nodes.If) -> None:
        for index, branch in enumerate([node, *node.elif_]):
            self.out.append(f"{{{{{'#if' if index == 0 else 'else if'} {self.value(branch.test)}}}}}")
            self.body(branch.body)
        if node.else_:
            self.out.append("{{else}}")
            self.body(node.else_)
        self.out.append("{{/if}}")

    def for_(self, node: nodes.For) -> None:
        target = _check_loop(node)
        self.out.append(f"{{{{#each {self.value(node.iter)} as |{target}|}}}}")
        self.loop_names.append(target)
        self.body(node.body)
        self.loop_names.pop()
        self.out.append("{{/each}}")


def to_liquid(source: str, environment: Environment, test_types: list[set[type]] | None = None) -> Translation:
    """``source`` (parsed with ``environment``'s syntax) with its tags in Liquid.

    ``test_types``: what :func:`observe_tests` saw; without it every test of a
    value is written for any type.
    """
    return _LiquidWriter(test_types).write(source, environment)


def to_handlebars(source: str, environment: Environment) -> Translation:
    """``source`` (parsed with ``environment``'s syntax) with its tags in Handlebars."""
    return _HandlebarsWriter().write(source, environment)


def product_lists(source: str, environment: Environment) -> list[tuple[str, int | None]]:
    """The lists the template's outermost loops show, with how many of each (``None``: all).

    ``{% for row in RecommendedProducts[:4]|batch(2) %}`` is ``("RecommendedProducts", 4)``:
    the product cards a comparable email of another engine is given.
    """
    found: list[tuple[str, int | None]] = []

    def visit(node: nodes.Node) -> None:
        if isinstance(node, nodes.For):
            iterable = node.iter
            while isinstance(iterable, nodes.Filter):
                iterable = iterable.node
            limit = None
            if isinstance(iterable, nodes.Getitem) and isinstance(iterable.arg, nodes.Slice):
                start, stop = _slice_bounds(iterable.arg)
                limit = None if stop is None else stop - start
                iterable = iterable.node
            if isinstance(iterable, nodes.Name):
                found.append((iterable.name, limit))
            return  # loops inside a loop show the same products
        for child in node.iter_child_nodes():
            visit(child)

    visit(environment.parse(source))
    return found
