"""The work budget of one render: loop iterations, text built and output written.

The compile-time guard (``guard.py``) refuses what the source spells out;
what arrives through a variable, a macro or a built-in is only known while
rendering. So every render carries a budget on its Jinja context, and the
sandbox (``environments.BoundedSandbox``) charges it:

* loop iterations and macro calls: :data:`MAX_LOOP_ITERATIONS` per render,
  for every ``for`` loop, inside macros and recursive loops too (the code
  generator wraps each loop's iterable in :func:`loop_items`), and each call
  of a macro (macros calling macros multiply without any loop);
* items walked by the filters that go through a whole sequence (``sum``,
  ``join``, ``sort``, ...) and sequences built by calls (``range()``):
  :data:`MAX_ITEMS` per render;
* text built along the way (``{% set %}`` blocks, macro bodies, ``~``, the
  results of calls and of the sizing filters): :data:`MAX_TEXT` characters;
* output: :data:`MAX_OUTPUT` characters per render.

Widths and counts (``center``, ``indent``, format widths, ``lipsum``,
``batch``, ``slice``, ``str.center`` and friends) are checked by value before
the work is done, against :data:`MAX_WIDTH`. Every refusal is a
:class:`BudgetExceeded`, a Jinja ``SecurityError``.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Any, Iterable

from jinja2 import nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import MAX_RANGE, SandboxedEscapeFormatter, SandboxedFormatter
from markupsafe import Markup

MAX_LOOP_ITERATIONS = 100_000
"""Loop iterations (and macro calls) one render may run, all loops together."""

MAX_ITEMS = 1_000_000
"""Items one render's filters may walk and its calls may build, all together."""

MAX_TEXT = 2_000_000
"""Characters one render may build besides its output (set blocks, macros, ``~``, filter results)."""

MAX_OUTPUT = 2_000_000
"""Characters one render may write."""

MAX_WIDTH = MAX_RANGE
"""The largest width or count a template may pass to a sizing filter or method (100,000)."""


class BudgetExceeded(SecurityError):
    """A render went past its budget, or asked for a width or count beyond :data:`MAX_WIDTH`."""


class BudgetContext(Context):
    """A Jinja context that carries what is left of its render's budget.

    The budgets are class attributes, so a render that never loops or builds
    text pays nothing; the first charge gives the instance its own counters.
    """

    loops_left: int = MAX_LOOP_ITERATIONS
    items_left: int = MAX_ITEMS
    text_left: int = MAX_TEXT


_SIZED = frozenset({list, tuple, range, dict, str, Markup, set, frozenset})


def loop_items(context: BudgetContext, iterable: Any) -> Any:
    """The iterable of a ``for`` loop, charged to the render's loop budget.

    A list, range or other sized value is charged its length up front, so the
    common loop costs one subtraction; anything else (a generator from
    ``batch`` or ``map``) is read into a list first, at most one item past
    what the budget has left.
    """
    if type(iterable) not in _SIZED:
        iterable = list(islice(iterable, context.loops_left + 1))
    left = context.loops_left - len(iterable)
    if left < 0:
        raise _loops_exceeded()
    context.loops_left = left
    return iterable


def count_call(context: BudgetContext) -> None:
    """Charge one macro call to the loop budget."""
    left = context.loops_left - 1
    if left < 0:
        raise _loops_exceeded()
    context.loops_left = left


def _loops_exceeded() -> BudgetExceeded:
    return BudgetExceeded(f"the loops and macro calls ran more than {MAX_LOOP_ITERATIONS:,} times in one "
                          "render (the loop budget, docs/security.md)")


def charge_items(context: BudgetContext, count: int) -> None:
    """Charge ``count`` items walked or built to the render's item budget."""
    left = context.items_left - count
    if left < 0:
        raise BudgetExceeded(f"the render walked or built more than {MAX_ITEMS:,} items "
                             "(the item budget, docs/security.md)")
    context.items_left = left


def charge_text(context: BudgetContext, size: int) -> None:
    """Charge ``size`` characters built to the render's text budget."""
    left = context.text_left - size
    if left < 0:
        raise BudgetExceeded(f"the render built more than {MAX_TEXT:,} characters of text "
                             "(the text budget, docs/security.md)")
    context.text_left = left


def built(context: BudgetContext, value: Any) -> Any:
    """``value`` (a string just built by ``~``), charged to the text budget."""
    if type(value) is str or type(value) is Markup:
        charge_text(context, len(value))
    return value


class TextBuffer(list):  # type: ignore[type-arg]
    """The buffer of a macro, ``{% set %}`` block or ``{% call %}``: each write is charged."""

    __slots__ = ("context",)

    def __init__(self, context: BudgetContext) -> None:  # list.__new__ made it empty already
        self.context = context

    def append(self, part: Any) -> None:
        context = self.context
        left = context.text_left - len(part)
        if left < 0:
            charge_text(context, len(part))  # raises, with the message
        context.text_left = left
        list.append(self, part)

    def extend(self, parts: Iterable[Any]) -> None:
        if type(parts) is not tuple:  # the generated code passes tuples
            parts = tuple(parts)
        context = self.context
        size = sum(map(len, parts))
        left = context.text_left - size
        if left < 0:
            charge_text(context, size)  # raises, with the message
        context.text_left = left
        list.extend(self, parts)


_BATCH = 256


def bounded_concat(parts: Iterable[str]) -> str:
    """Join a buffer, or a render's output stream while counting it against :data:`MAX_OUTPUT`.

    The stream is joined in batches of :data:`_BATCH` chunks and each batch's
    length is checked (one Python step per batch, not per chunk; an email is
    usually a single batch), so the output is refused a batch after it passed
    the budget.
    """
    if type(parts) is TextBuffer or type(parts) is list:
        return "".join(parts)
    iterator = iter(parts)
    pieces: list[str] = []
    size = 0
    while True:
        batch = list(islice(iterator, _BATCH))
        piece = "".join(batch)
        size += len(piece)
        if size > MAX_OUTPUT:
            raise BudgetExceeded(f"the render wrote more than {MAX_OUTPUT:,} characters "
                                 "(the output budget, docs/security.md)")
        if len(batch) < _BATCH:
            return "".join(pieces) + piece if pieces else piece
        pieces.append(piece)


# -- widths and counts, checked by value -------------------------------------------------

def check_width(what: str, value: Any) -> None:
    """Refuse an integer width or count beyond :data:`MAX_WIDTH`."""
    if isinstance(value, int) and abs(value) > MAX_WIDTH:
        raise BudgetExceeded(f"{what} of {value:,} is above the limit of {MAX_WIDTH:,}")


_SPEC_NUMBER = re.compile(r"\d+")


def check_format_spec(spec: str) -> None:
    """Refuse a ``str.format`` spec (``>99999999``, ``.99999999f``) with a width or precision beyond the limit."""
    for number in _SPEC_NUMBER.findall(spec):
        if len(number) > 6 or int(number) > MAX_WIDTH:
            raise BudgetExceeded(f"the format spec {spec[:40]!r} asks for a width or precision above {MAX_WIDTH:,}")


_PERCENT_SPEC = re.compile(r"%(\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.S)


def check_percent(template: Any, arguments: Any) -> None:
    """Refuse a ``%`` format (``'%*d'``, ``'%99999999s'``) whose width or precision is beyond the limit.

    ``*`` takes the width from the arguments, in order, as Python does.
    """
    if not isinstance(template, str) or "%" not in template:
        return
    positional = list(arguments) if isinstance(arguments, tuple) else [arguments]
    index = 0
    for match in _PERCENT_SPEC.finditer(template):
        if match.group(4) == "%":
            continue
        for group in (match.group(2), match.group(3)):
            if group == "*":
                value = positional[index] if index < len(positional) else None
                index += 1
                check_width("a '*' format width", value)
            elif group:
                check_width("a format width", int(group) if len(group) <= 12 else MAX_WIDTH + 1)
        if match.group(1) is None:
            index += 1


class _BoundedFields:
    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec)
        return super().format_field(value, format_spec)  # type: ignore[misc]


class BoundedFormatter(_BoundedFields, SandboxedFormatter):
    """The sandbox's ``str.format``, with widths and precisions checked."""


class BoundedEscapeFormatter(_BoundedFields, SandboxedEscapeFormatter):
    """The same for ``Markup.format`` (values escaped)."""


# -- the code generator -----------------------------------------------------------------

class BudgetCodeGenerator(CodeGenerator):
    """Jinja's code generator, with loops counted and buffers and ``~`` charged.

    Three small hooks: each ``for`` iterates ``loop_items(context, ...)`` (``environment.loop_items``)
    (Jinja allows no custom node types, so the loop's iterable is recognised
    by identity when it is visited); each buffer is a :class:`TextBuffer`;
    each ``~`` result passes ``environment.built``. And each render function
    escapes what it prints with ``environment.escape_output`` (``escaping.py``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop_iterables: dict[int, nodes.Node] = {}

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        self._loop_iterables[id(node.iter)] = node.iter
        super().visit_For(node, frame)

    def write_commons(self) -> None:
        super().write_commons()
        self.writeline("loop_items = environment.loop_items")
        self.writeline("escape = environment.escape_output")

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if self._loop_iterables.get(id(node)) is node:
            del self._loop_iterables[id(node)]
            self.write("loop_items(context, ")
            super().visit(node, *args, **kwargs)
            self.write(")")
            return None
        return super().visit(node, *args, **kwargs)

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.text_buffer(context)")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.built(context, ")
        super().visit_Concat(node, frame)
        self.write(")")


# -- filters and globals bounded by value ------------------------------------------------

def _sized(value: Any) -> int:
    return len(value) if type(value) in _SIZED else 0


def walking(filter_: Any) -> Any:
    """``filter_`` (a built-in filter that walks its whole input), charging the input's length as items."""
    kind = getattr(filter_, "jinja_pass_arg", None)
    kind = getattr(kind, "name", None)

    @pass_context
    def charged(context: BudgetContext, value: Any, *args: Any, **kwargs: Any) -> Any:
        charge_items(context, _sized(value))
        if kind == "context":
            return filter_(context, value, *args, **kwargs)
        if kind == "eval_context":
            return filter_(context.eval_ctx, value, *args, **kwargs)
        if kind == "environment":
            return filter_(context.environment, value, *args, **kwargs)
        return filter_(value, *args, **kwargs)

    charged.__name__ = getattr(filter_, "__name__", "filter")
    charged.__doc__ = filter_.__doc__
    return charged
