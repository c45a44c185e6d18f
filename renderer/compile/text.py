"""Derive the plain-text part from the inlined HTML, once per template.

The input still carries placeholders instead of Jinja tags, so the result is
a text *template*: restored by the compiler and rendered per recipient.

MJML's output is layout tables; the text keeps only what a reader needs.
Each leaf of the layout (an ``mj-text``, a button, an image link) becomes a
paragraph, wrapped to 78 columns here rather than per recipient. Links read
``label (url)`` inside a sentence and ``label: url`` on a line of their own;
image-only links vanish. Blocks steer the text with CSS classes (``css-class``
in MJML):

- ``text-h1`` / ``text-h2`` on an ``mj-text``: a heading, underlined with ``=`` / ``-``;
- ``text-card`` on an ``mj-column``: one item (a product) whose lines stay
  together, and whose URL is given once, at its last link;
- ``text-skip`` on anything: left out of the text (a navigation bar);
- ``data-text="(was {})"`` on an inline element: how the text writes it,
  ``{}`` standing for its content (a struck-through price reads as words).

A ``<bdi>`` (a price or a name, ``renderer.compile.isolate``) is plain text,
or FSI ... PDI in a right-to-left email (LRI ... PDI for ``dir="ltr"``); a ``<wbr>`` (a Japanese phrase
boundary, ``renderer.compile.phrases``) adds nothing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Union

from renderer.compile.isolate import FSI, LRI, PDI
from renderer.compile.text_wrap import WIDTH, wrap_line
from renderer.sandbox.text_width import display_width, underline

if TYPE_CHECKING:
    import lxml.html

_PLACEHOLDER = re.compile(r"jjph(\d{5})z")
_SPACE = re.compile(r"[ \t\r\n\f]+")
_CONTAINERS = frozenset({"table", "tbody", "thead", "tfoot", "tr", "td", "th"})
_BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "center"})
_SEPARATORS = frozenset("·|•-–—")
_ARROWS = " \xa0→←»›«‹"
_SPACE_RUNS = re.compile(r"(?<=\S) {2,}")


@dataclass
class _Link:
    label: str
    url: str
    key: str
    """The URL with placeholders replaced by their tags: equal keys, equal links."""
    bare: bool = False
    """Shown as its label only (the same URL follows in the same card)."""


Segment = Union[str, _Link]


@dataclass
class _Paragraph:
    lines: list[list[Segment]]
    card: int | None = None
    level: int = 0


@dataclass
class _Loose:
    """Placeholders between layout rows: the loops and conditions around paragraphs."""

    text: str


@dataclass
class _Inline:
    """Collects one layout leaf as paragraphs of lines of segments."""

    tags: tuple[str, ...]
    paragraphs: list[list[list[Segment]]] = field(default_factory=lambda: [[[]]])
    isolate: bool = False
    """Write each ``<bdi>`` as FSI ... PDI (right-to-left emails)."""

    def text(self, value: str | None) -> None:
        if value:
            line = self.paragraphs[-1][-1]
            value = _SPACE.sub(" ", value)
            if line and isinstance(line[-1], str):
                line[-1] += value
            else:
                line.append(value)

    def link(self, element: lxml.html.HtmlElement) -> None:
        label = _SPACE.sub(" ", element.text_content()).strip().rstrip(_ARROWS)
        url = (element.get("href") or "").strip()
        key = _PLACEHOLDER.sub(lambda m: self.tags[int(m.group(1))] if int(m.group(1)) < len(self.tags)
                               else m.group(0), url)
        self.paragraphs[-1][-1].append(_Link(label, url, key))

    def line_break(self) -> None:
        self.paragraphs[-1].append([])

    def paragraph_break(self) -> None:
        if any(_content(line) for line in self.paragraphs[-1]):
            self.paragraphs.append([[]])


def _content(line: list[Segment]) -> bool:
    return any(isinstance(s, _Link) and s.label or isinstance(s, str) and s.strip() for s in line)


def _classes(element: lxml.html.HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


def _hidden(element: lxml.html.HtmlElement) -> bool:
    return "display:none" in (element.get("style") or "").replace(" ", "") or "text-skip" in _classes(element)


def _is_container(element: lxml.html.HtmlElement) -> bool:
    # Anything wrapping a table is layout too (the body, MJML's section and column divs).
    return element.tag in _CONTAINERS or next(element.iter("table"), None) is not None


def _inline(element: lxml.html.HtmlElement, out: _Inline) -> None:
    """Text, links and line breaks of one layout leaf, in order."""
    tag = element.tag
    if not isinstance(tag, str) or _hidden(element):
        return
    if tag == "br":
        out.line_break()
    elif tag == "a":
        out.link(element)
    elif tag == "img":
        pass
    elif tag == "bdi" and out.isolate:
        out.text(LRI if element.get("dir") == "ltr" else FSI)
        out.text(element.text)
        for child in element:
            _inline(child, out)
            out.text(child.tail)
        out.text(PDI)
    elif element.get("data-text") and "{}" in element.get("data-text", ""):
        # A text pattern around the element's own content: "(was {})".
        before, _, after = element.get("data-text").partition("{}")
        out.text(before)
        out.text(element.text)
        for child in element:
            _inline(child, out)
            out.text(child.tail)
        out.text(after)
    else:
        block = tag in _BLOCKS
        if block:
            out.paragraph_break()
        if tag == "li":
            out.text("- ")
        out.text(element.text)
        for child in element:
            _inline(child, out)
            out.text(child.tail)
        if block:
            out.paragraph_break()


_CARD_NUMBERS = itertools.count()
"""A number per text-card column met while walking, to tell cards apart."""


def _walk(element: lxml.html.HtmlElement, tags: tuple[str, ...], items: list[_Paragraph | _Loose],
          card: int | None = None, level: int = 0, isolate: bool = False) -> None:
    if not isinstance(element.tag, str) or _hidden(element):
        return
    classes = _classes(element)
    if "text-card" in classes:
        # Not id(element): lxml makes a new proxy object per access and frees it
        # after, so two cards in different sections could get the same id.
        card = next(_CARD_NUMBERS)
    level = 1 if "text-h1" in classes else 2 if "text-h2" in classes else level
    if not _is_container(element):
        leaf = _Inline(tags, isolate=isolate)
        _inline(element, leaf)
        items.extend(_Paragraph(lines, card, level) for lines in leaf.paragraphs
                     if any(_content(line) for line in lines))
        return
    for text in (element.text, *((child, child.tail) for child in element)):
        if isinstance(text, tuple):
            child, text = text
            _walk(child, tags, items, card, level, isolate)
        if text and text.strip():
            _loose(text.strip(), tags, items, card)


def _loose(text: str, tags: tuple[str, ...], items: list[_Paragraph | _Loose], card: int | None) -> None:
    controls_only = all(
        int(m.group(1)) < len(tags) and tags[int(m.group(1))].startswith("{%")
        for m in _PLACEHOLDER.finditer(text)
    ) and not _PLACEHOLDER.sub("", text).strip()
    items.append(_Loose(text) if controls_only else _Paragraph([[text]], card))


def _dedupe_card_links(items: list[_Paragraph | _Loose]) -> None:
    """In a card, only the last link to a URL shows it; earlier ones keep their label."""
    last: dict[tuple[int, str], _Link] = {}
    for item in items:
        if isinstance(item, _Paragraph) and item.card is not None:
            for line in item.lines:
                for segment in line:
                    if isinstance(segment, _Link) and segment.label:
                        previous = last.get((item.card, segment.key))
                        if previous is not None:
                            previous.bare = True
                        last[(item.card, segment.key)] = segment


def _format_link(link: _Link, alone: bool) -> str:
    if not link.label:
        return ""
    if link.bare or link.url in (link.label, f"mailto:{link.label}"):
        return link.label
    return f"{link.label}: {link.url}" if alone else f"{link.label} ({link.url})"


def _format_line(line: list[Segment]) -> str:
    words = [s for s in line if isinstance(s, _Link) or s.strip()]
    links = [s for s in words if isinstance(s, _Link)]
    if links and all(isinstance(s, _Link) or set(s.replace("\xa0", " ").strip()) <= _SEPARATORS | {" "}
                     for s in words):
        # Only links, perhaps between separators (a footer row): one per line.
        return "\n".join(filter(None, (_format_link(link, True) for link in links)))
    return "".join(s if isinstance(s, str) else _format_link(s, False) for s in line).strip()


def _placeholder_width(tags: tuple[str, ...]) -> Callable[[str], int]:
    """How wide a placeholder's value usually is: a URL is long, a control tag prints nothing."""

    def width(placeholder: str) -> int:
        tag = tags[int(placeholder[4:9])] if int(placeholder[4:9]) < len(tags) else ""
        if tag.startswith("{%"):
            return 0
        lowered = tag.lower()
        return 50 if "url" in lowered else 22 if "name" in lowered else 16 if "date" in lowered else 10
    return width


def _format_paragraph(paragraph: _Paragraph, tags: tuple[str, ...]) -> str:
    lines = [_format_line(line) for line in paragraph.lines]
    # Non-breaking spaces only made room between inline items in the HTML.
    text = _SPACE_RUNS.sub(" ", "\n".join(line for line in lines if line).replace("\xa0", " "))
    if paragraph.level:
        char = "=" if paragraph.level == 1 else "-"
        found = [m for m in _PLACEHOLDER.finditer(text) if int(m.group(1)) < len(tags)]
        if not found:
            return underline(text, char)
        branched = _underlined_branches(text, found, tags, char)
        if branched is not None:
            return branched
        # Its width is known only per recipient.
        return f'{{% filter underline("{char}") %}}{text}{{% endfilter %}}'

    width = _placeholder_width(tags)
    return "\n".join(line if _fits_one_branch_at_a_time(line, tags, width) else wrap_line(line, width, WIDTH)
                      for line in text.split("\n"))


_CONTROL = re.compile(r"\{%-?\s*(if|elif|else|endif)\b")


def _underlined_branches(text: str, found: list[re.Match[str]], tags: tuple[str, ...], char: str) -> str | None:
    """A heading that is one if/elif/else chain of plain texts (an experiment's variants),
    with each branch underlined now; ``None`` for any other heading (a token, nesting, no else).

    Exactly one branch prints, so the words around the chain go into every branch.
    """
    kinds = [m.group(1) if (m := _CONTROL.match(tags[int(f.group(1))])) else None for f in found]
    if not kinds or kinds[0] != "if" or kinds[-1] != "endif" or "else" not in kinds \
            or any(k not in ("elif", "else") for k in kinds[1:-1]) or kinds.index("else") != len(kinds) - 2:
        return None
    before, after = text[: found[0].start()], text[found[-1].end():]
    out = []
    for index, marker in enumerate(found[:-1]):
        branch = text[marker.end(): found[index + 1].start()]
        out.append(marker.group(0) + underline(before + branch + after, char))
    return "".join(out) + found[-1].group(0)


def _fits_one_branch_at_a_time(line: str, tags: tuple[str, ...], width: Callable[[str], int]) -> bool:
    """Whether a line with ``{% if %}`` branches fits the width whichever branch prints.

    The wrapper measures all of a line's text, branches included, which is
    safe but breaks short alternatives for nothing (a plural message's forms
    on one line, "و100" / "قطعة أخرى"). A line with ``elif``/``else`` whose
    widest branch fits is left whole; a longer one is wrapped as before.
    """
    if "jjph" not in line:
        return False
    stack: list[list[int]] = []  # per open if: [column where it started, widest branch so far]
    used, position, branched = 0, 0, False
    for match in _PLACEHOLDER.finditer(line):
        used += display_width(line[position:match.start()])
        position = match.end()
        index = int(match.group(1))
        tag = tags[index] if index < len(tags) else ""
        control = _CONTROL.match(tag)
        keyword = control.group(1) if control else None
        if keyword == "if":
            stack.append([used, 0])
        elif keyword in ("elif", "else") and stack:
            branched = True
            stack[-1][1] = max(stack[-1][1], used - stack[-1][0])
            used = stack[-1][0]
        elif keyword == "endif" and stack:
            start, widest = stack.pop()
            used = start + max(widest, used - start)
        elif keyword is None:
            used += width(match.group(0))
    used += display_width(line[position:])
    return branched and used <= WIDTH


def _visible_body(html: str) -> lxml.html.HtmlElement | None:
    import lxml.html  # only when compiling: a process whose templates come from the compile cache never needs it

    root = lxml.html.document_fromstring(html)
    return root.find("body")


def html_to_text(html: str, tags: tuple[str, ...] = (), *, isolate: bool = False) -> str:
    """Readable plain text: underlined headings, wrapped paragraphs, cards, ``label: url`` links.

    ``tags`` are the Jinja tags the placeholders stand for, so that loops and
    conditions between paragraphs add no blank lines, and two links to the
    same ``{{ p.url }}`` are known to be one. With ``isolate`` (a right-to-left
    email) each ``<bdi>`` becomes FSI ... PDI, so that a price or a name keeps
    its own direction in the text as in the HTML (``renderer.compile.isolate``).
    """
    body = _visible_body(html)
    if body is None:
        return ""
    items: list[_Paragraph | _Loose] = []
    _walk(body, tags, items, isolate=isolate)
    _dedupe_card_links(items)
    paragraphs = [i for i in items if isinstance(i, _Paragraph)]
    following = {id(a): b for a, b in zip(paragraphs, paragraphs[1:])}
    parts: list[str] = []
    for item in items:
        if isinstance(item, _Loose):
            parts.append(item.text)
            continue
        text = _format_paragraph(item, tags)
        if not text:
            continue
        after = following.get(id(item))
        together = item.card is not None and after is not None and after.card == item.card
        parts.append(text + ("\n" if together else "\n\n"))
    return "".join(parts).strip() + "\n"


# One or more control tags forming a paragraph of their own.
_LONE_CONTROL_TAG = re.compile(r"(?:(?<=\n\n)|\A)((?:\{%(?:(?!%\})[^\n])*%\})+)\n\n")


def glue_control_tags(template_source: str) -> str:
    """Let a ``{% tag %}`` that stands alone as a paragraph take no blank line of its own.

    Each paragraph of the text template already ends in a blank line; a loop or
    condition between paragraphs would add another per iteration. Removing the
    blank line after such tags once, at compile time, spares the per-recipient
    clean-up its regular expressions.
    """
    return _LONE_CONTROL_TAG.sub(r"\1", template_source)
