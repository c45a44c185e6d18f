"""Check the assembled MJML against MJML's element table (once per template).

MRML compiles a misspelled tag (``<mj-txet>``) or attribute (``colr=``) into
the email without a word, so before MJML runs, every tag of the assembled
document is looked up in :mod:`renderer.compile.mjml_schema`: the tag must
exist, its attributes must be its own (or ``mj-class`` / ``css-class``), and
it must sit inside a parent that may contain it. Jinja tags are blanked out
first (attribute values may hold ``{{ url }}``); the content of ending tags
(``mj-text``, ``mj-raw``, ``mj-style``, ...) is HTML or CSS and is skipped.

A problem is reported in the file where the tag was written: the assembly
stage records where each block, the theme and the layout landed in the
document (:class:`Origin`), and the offending tag is looked up in that
file's own text, or in the template parameters that were filled into it.

What it costs: one regular-expression pass over the document, about 1.5 ms
for a bundled template (whose compile takes 80 ms or more), once per compile.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from renderer.base.errors import CompileError
from renderer.compile.mjml_schema import ANY_ATTRIBUTE, DEFAULTS_TAGS, ELEMENTS, GLOBAL_ATTRIBUTES

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\[\[.*?\]\]|\[%.*?%\]", re.DOTALL)
_TAG = re.compile(r"<!--.*?-->|<(/?)(mj-[A-Za-z0-9_-]*|mjml)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
                  re.DOTALL)
_ATTRIBUTE = re.compile(r"([^\s=/\"']+)(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_KNOWN_TAGS = sorted(set(ELEMENTS) | DEFAULTS_TAGS)


@dataclass(frozen=True)
class Written:
    """A text as it was written in a content file: a block's body, the theme, a parameter value."""

    filename: str
    source: str
    first_line: int = 1
    """The file line the text's first line is on."""


@dataclass(frozen=True)
class Origin:
    """Where a stretch of the assembled document came from.

    ``start`` and ``end`` are offsets into the document; ``texts`` are the
    files' texts it was filled from, the block's (or theme's) own first, then
    the parameters filled into it.
    """

    start: int
    end: int
    texts: tuple[Written, ...]
    line: int = 1
    """The line of the first text's file that the document's line at ``start`` came from."""


@dataclass(frozen=True)
class Tag:
    name: str
    offset: int
    attributes: tuple[tuple[str, int], ...]
    """Each attribute's name and offset."""
    closing: bool = False
    self_closing: bool = False


@dataclass(frozen=True)
class MjmlProblem:
    """One thing wrong in an MJML text: where, what, and the tag (and attribute) it is about."""

    offset: int
    message: str
    tag: str
    attribute: str | None = None


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def scan(source: str) -> list[Tag]:
    """The MJML tags of a text, Jinja blanked out and the content of ending tags skipped."""
    text = _JINJA.sub(_blank, source)
    tags: list[Tag] = []
    position = 0
    while (match := _TAG.search(text, position)) is not None:
        position = match.end()
        if match.group(2) is None:  # a comment
            continue
        name, inside = match.group(2), match.group(3)
        self_closing = inside.rstrip().endswith("/")
        attributes = tuple((a.group(1), match.start(3) + a.start(1))
                           for a in _ATTRIBUTE.finditer(inside.rstrip().rstrip("/")))
        tags.append(Tag(name, match.start(), attributes, bool(match.group(1)), self_closing))
        element = ELEMENTS.get(name)
        if element is not None and element.ending and not self_closing and not match.group(1):
            end = text.find(f"</{name}", position)
            if end >= 0:
                position = end
    return tags


def _suggest(word: str, choices: list[str] | tuple[str, ...] | set[str] | frozenset[str], shown: str) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {shown.format(close[0])}?)" if close else ""


def problems(source: str) -> list[MjmlProblem]:
    """Every unknown tag, unknown attribute and misplaced tag of an MJML text, in order."""
    found: list[MjmlProblem] = []
    stack: list[str] = []
    for tag in scan(source):
        if tag.closing:
            if tag.name in stack:
                while stack.pop() != tag.name:
                    pass
            continue
        parent = stack[-1] if stack else None
        in_defaults = parent == "mj-attributes"
        element = ELEMENTS.get(tag.name)
        if element is None and not (in_defaults and tag.name in DEFAULTS_TAGS):
            where = "" if tag.name not in DEFAULTS_TAGS else " outside <mj-attributes>"
            found.append(MjmlProblem(tag.offset, f"unknown MJML tag <{tag.name}>{where}"
                                     + ("" if where else _suggest(tag.name, _KNOWN_TAGS, "<{}>")), tag.name))
        else:
            if tag.name in DEFAULTS_TAGS:
                allowed = ANY_ATTRIBUTE | ({"name"} if tag.name == "mj-class" else set())
            else:
                allowed = frozenset(element.attributes if element else ())
            allowed |= GLOBAL_ATTRIBUTES
            for attribute, offset in tag.attributes:
                if attribute not in allowed:
                    found.append(MjmlProblem(
                        offset, f"<{tag.name}> has no attribute {attribute!r}"
                        + _suggest(attribute, allowed, "{!r}"), tag.name, attribute))
            container = ELEMENTS.get(parent) if parent is not None else None
            if container is not None and container.children is not None and tag.name not in container.children:
                homes = [f"<{name}>" for name, e in ELEMENTS.items() if e.children and tag.name in e.children]
                found.append(MjmlProblem(
                    tag.offset, f"<{tag.name}> cannot be used inside <{parent}>"
                    + (f", only inside {', '.join(homes)}" if homes else ""), tag.name))
        if not tag.self_closing and not (element is not None and element.ending):
            stack.append(tag.name)
    return found


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _locate(problem: MjmlProblem, document: str, origins: tuple[Origin, ...],
            fallback: str) -> tuple[str, int | None]:
    """The file and line where the offending tag (or attribute) was written."""
    around = sorted((o for o in origins if o.start <= problem.offset < o.end), key=lambda o: o.end - o.start)
    for origin in around:
        expected = origin.line + _line(document, problem.offset) - _line(document, origin.start)
        for written in origin.texts:
            lines: list[int] = []
            for tag in scan(written.source):
                if tag.name != problem.tag or tag.closing:
                    continue
                if problem.attribute is None:
                    lines.append(_line(written.source, tag.offset))
                else:
                    lines += [_line(written.source, at) for name, at in tag.attributes if name == problem.attribute]
            if lines:
                return written.filename, min((written.first_line + line - 1 for line in lines),
                                             key=lambda line: abs(line - expected))
    return fallback, None


def check_mjml(document: str, origins: tuple[Origin, ...], *, fallback: str) -> None:
    """Fail on the first MJML problem of an assembled document, naming the file and line it was written on.

    ``fallback`` is the file named when no origin holds the problem (the template's).

    Raises:
        CompileError: the unknown tag or attribute, or the misplaced tag, with a suggestion.
    """
    found = problems(document)
    if not found:
        return
    first = found[0]
    filename, line = _locate(first, document, origins, fallback)
    more = len(found) - 1
    suffix = f" (and {more} more MJML problem{'s' if more > 1 else ''})" if more else ""
    if line is None:
        suffix += f" (line {_line(document, first.offset)} of the assembled MJML)"
    raise CompileError(first.message + suffix, filename, line)

