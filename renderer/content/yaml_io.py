"""YAML through libyaml's C parser when PyYAML was built with it, else the Python one.

Templates, block headers, locale files and rules are parsed for every
template a language compiles: the C parser does it several times faster.
Errors carry the same marks (line, column) either way.

Every document is also held to an alias budget. An alias is a reference, so
a few hundred bytes of anchors that alias each other nine times over
(a "billion laughs") load at once, as shared lists, and then take minutes to
walk, print or hash. A document whose aliases expand it to more than
:data:`EXPANSION_FACTOR` times its own nodes (at least :data:`MIN_EXPANSION`
nodes), or whose alias refers to its own ancestor, is refused with an
:class:`AliasBudgetError` at the alias that crossed the budget. Its cost: a
document without both ``&`` and ``*`` skips the check; one with them is
walked once, each node counted once (the expansion of an anchor is
memoised), which for the bundled locale files is a few percent of parsing.
"""

from __future__ import annotations

import itertools
from typing import Any, NoReturn

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MIN_EXPANSION = 10_000
"""A document may always expand to this many nodes through its aliases."""
EXPANSION_FACTOR = 10
"""... or to this many times its own nodes, whichever is more."""


class AliasBudgetError(ComposerError):
    """A document's aliases expand it past the budget, or an alias refers to its own ancestor.

    A ``MarkedYAMLError``: ``problem`` says which, ``problem_mark`` is the alias.
    """


def safe_load(text: str) -> Any:
    """``yaml.safe_load``, with the C parser when there is one, within the alias budget.

    Raises:
        yaml.YAMLError: invalid YAML; :class:`AliasBudgetError` for an alias bomb.
    """
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(text, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def compose(text: str) -> yaml.Node | None:
    """``yaml.compose`` (nodes with line marks), with the C parser when there is one, within the alias budget."""
    node = yaml.compose(text, Loader=_LOADER)
    if node is not None:
        _check_aliases(text, node)
    return node


def _check_aliases(text: str, root: yaml.Node) -> None:
    if "&" not in text or "*" not in text:
        return  # no anchor or no alias: nothing expands
    measured = _expansion(root)
    if measured is None:
        _locate(text, None)
    nodes, expanded = measured
    budget = max(MIN_EXPANSION, EXPANSION_FACTOR * nodes)
    if expanded > budget:
        _locate(text, budget)


def _expansion(root: yaml.Node) -> tuple[int, int] | None:
    """(the document's own nodes, the nodes it expands to), or ``None`` when an alias is recursive.

    Iterative (a deeply nested document must not hit Python's recursion limit);
    each collection's expanded size is computed once, however many aliases
    refer to it, and a scalar, the most common node, is never stacked.
    """
    sizes: dict[int, int] = {}  # id of a collection -> the nodes it expands to
    walking: set[int] = set()  # collections whose children are being walked
    own = 0
    stack: list[yaml.Node] = [root] if isinstance(root, _COLLECTIONS) else []
    while stack:
        node = stack[-1]
        key = id(node)
        if key in sizes:
            stack.pop()
            continue
        children = _children(node)
        if key not in walking:
            walking.add(key)
            for child in children:
                if isinstance(child, _COLLECTIONS) and id(child) not in sizes:
                    if id(child) in walking:
                        return None  # an ancestor of this node: the alias is recursive
                    stack.append(child)
            continue
        stack.pop()
        walking.discard(key)
        size = 1
        for child in children:
            if isinstance(child, _COLLECTIONS):
                size += sizes[id(child)]
            else:
                size += 1
                own += 1
        sizes[key] = size
        own += 1
    return (own, sizes[id(root)]) if sizes else (1, 1)


_COLLECTIONS = (yaml.SequenceNode, yaml.MappingNode)


def _children(node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return itertools.chain.from_iterable(node.value)


def _locate(text: str, budget: int | None) -> NoReturn:
    """Raise :class:`AliasBudgetError` at the alias that breaks the budget (``None``: the recursive one).

    Only a refused document comes here: it is composed again by the Python
    composer below, which sees each alias as an event with its mark.
    """
    loader = _CountingLoader(text, budget)
    try:
        loader.get_single_node()
    finally:
        loader.dispose()
    raise AliasBudgetError(None, None, "aliases expand this document past its budget", None)


class _CountingLoader(yaml.SafeLoader):
    """The Python composer, counting the nodes the document expands to as it goes."""

    def __init__(self, text: str, budget: int | None) -> None:
        super().__init__(text)
        self._budget = budget
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:  # else the composer reports the undefined alias
                if id(target) not in self._sizes:
                    raise AliasBudgetError(None, None, f"alias *{event.anchor} refers to a node that contains it",
                                           event.start_mark)
                self._expanded += self._sizes[id(target)]
                if self._budget is not None and self._expanded > self._budget:
                    raise AliasBudgetError(None, None,
                                           f"alias *{event.anchor} expands the document past {self._budget:,} "
                                           "nodes (an alias bomb?)", event.start_mark)
            return super().compose_node(parent, index)
        before = self._expanded
        self._expanded += 1
        node = super().compose_node(parent, index)
        self._sizes[id(node)] = self._expanded - before
        return node
