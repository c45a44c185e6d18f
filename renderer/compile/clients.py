"""What MRML and premailer leave for email clients to trip on, put right.

Four steps, run by the MJML and inline stages (so the per-recipient
reference path gets them too):

- :func:`normalize_paddings`, on the MJML source: MRML 1.4.2 ignores a whole
  padding shorthand that has a unitless ``0`` in it (``padding="12px 24px 0"``)
  when it works out the width left for a section's or column's children, so the
  Outlook ghost tables come out wider than the email. ``0px`` is read
  correctly, so every unitless zero in a padding attribute becomes ``0px``.
- :func:`prepare_for_inlining`, on MRML's HTML: the preheader gets
  ``mso-hide:all`` and a filler that keeps clients from pulling body text into
  the inbox preview; ``vertical-align="..."`` (an attribute MRML writes on
  button cells, not HTML) becomes ``valign``; and Outlook's
  ``mso-table-lspace/rspace`` reset moves into a ``<style>`` that premailer
  leaves alone, instead of being copied onto every table and cell.
- :func:`ascii_references`, on the inlined HTML: every character outside
  ASCII (``→``, ``©``, the preheader filler's ``&#847;&zwnj;&nbsp;``, copy in
  German or Japanese) is written as a numeric character reference, as the
  MJML source often spells it before the compilers decode it. Clients show
  the same characters whatever charset a gateway or forward assumes, and the
  compiled template is ASCII, so a recipient whose data is ASCII gets an
  ASCII email: a one-byte Python string, which orjson encodes and marshal
  copies two to three times faster than the two-byte one a single ``→``
  makes of it (and Jinja renders about 5% faster).
  ``<style>`` and ``<script>`` keep their text (character references are not
  decoded there). Where that would leave a line too long for
  :func:`break_long_lines` to mend (a paragraph of Japanese, Arabic or Hebrew
  grows about threefold: text is never broken), the HTML stays UTF-8.
- :func:`break_long_lines`, on that HTML: RFC 5322 caps a line at 998
  octets, and the HTML is otherwise one line of tens of KB. A line break goes
  where it changes no document: before an attribute (``<td style=...`` ->
  ``<td`` newline ``style=...``), filling lines to about 400 characters.
  The tags in Outlook's conditional comments are broken before their first
  attribute (their text is MRML's, equal for every recipient); text, ``<pre>``
  content and other comments are never touched.

The known differences between MRML and MJML are listed in docs/outlook.md.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_LINE_OCTETS = 998
"""RFC 5322 section 2.1.1: a line is at most 998 octets, CRLF excluded."""

_MJ_TAG = re.compile(r"<mj-[a-z-]+\b[^>]*>")
_PADDING_ATTRIBUTE = re.compile(r'(\s(?:inner-)?padding(?:-(?:top|right|bottom|left))?=")([^"]*)(")')
_UNITLESS_ZERO = re.compile(r"(?<![\w.%-])0(?![\w.%])")


def _zero_px(match: re.Match[str]) -> str:
    return match.group(1) + _UNITLESS_ZERO.sub("0px", match.group(2)) + match.group(3)


def normalize_paddings(mjml: str) -> str:
    """``padding="0 12px"`` -> ``padding="0px 12px"`` on every ``mj-*`` tag (and ``padding-*``, ``inner-padding``)."""
    return _MJ_TAG.sub(lambda tag: _PADDING_ATTRIBUTE.sub(_zero_px, tag.group(0)), mjml)


_FILLER_UNIT = "&#847;&zwnj;&nbsp;"
"""Invisible characters after the preheader, 60 of them: the inbox preview runs out
of text before it reaches the email's first words (the navigation, usually)."""

# MRML's <mj-preview>: the first hidden div of the body.
_PREVIEW = re.compile(r'(<div style="display:none;[^"]*?)(;?)(">)(.*?)(</div>)', re.S)
_VERTICAL_ALIGN = re.compile(r'(<td\b[^>]*?)\svertical-align="([^"]*)"')
_MSO_TABLE_SPACING = re.compile(r"\s*mso-table-[lr]space:\s*0pt;?")
OUTLOOK_TABLE_STYLE = ('<style type="text/css" data-premailer="ignore">'
                       "table, td { mso-table-lspace:0pt; mso-table-rspace:0pt; }</style>")
"""Outlook's table-spacing reset, once in ``<head>`` rather than inlined on thousands of cells."""


def _preview(match: re.Match[str]) -> str:
    # The filler gets hidden divs of its own, so that no line grows long: written as character
    # references (ascii_references), the whole of it is 1,080 characters of text, which
    # break_long_lines cannot break; half of it fits a line.
    style, _, close, text, end = match.groups()
    hidden = f"{style};mso-hide:all;{close}"
    half = _FILLER_UNIT * 30
    return f"{hidden}{text}{end}{hidden}{half}{end}{hidden}{half}{end}"


def _valign(match: re.Match[str]) -> str:
    tag, value = match.groups()
    return tag if " valign=" in tag else f'{tag} valign="{value}"'


def prepare_for_inlining(html: str) -> str:
    """MRML's HTML, with the preheader, the button cells and the table reset fixed (see the module)."""
    body = html.find("<body")
    if body != -1:
        html = html[:body] + _PREVIEW.sub(_preview, html[body:], count=1)
    html = _VERTICAL_ALIGN.sub(_valign, html)
    head_end = html.find("</head>")
    if head_end != -1 and "mso-table-lspace" in html[:head_end]:
        head = _MSO_TABLE_SPACING.sub("", html[:head_end])
        html = head + OUTLOOK_TABLE_STYLE + html[head_end:]
    return html


LINE_TARGET = 400
"""Lines are filled up to about this many characters before a break is put in."""

_TAG_NAME = re.compile(r"<[A-Za-z][^\s/>]*")
_ATTRIBUTE = re.compile(r"""(\s+)[^\s=>/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?""")
_CONDITIONAL = re.compile(r"\[if [^\]]*\]>(.*)<!\[endif\]\Z", re.S)
_GHOST_TAG = re.compile(r"<[A-Za-z][^>]*>")


def _attribute_gaps(tag: str, offset: int) -> list[int]:
    """The offsets of the whitespace before each attribute of ``tag`` (found at ``offset``)."""
    name = _TAG_NAME.match(tag)
    if name is None:
        return []
    gaps, position = [], name.end()
    while (attribute := _ATTRIBUTE.match(tag, position)) is not None and attribute.end() > position:
        gaps.append(offset + attribute.start(1))
        position = attribute.end()
    return gaps


class _BreakPoints(HTMLParser):
    """Finds where a line break changes nothing: before attributes.

    ``optional`` are the gaps of the document's own start tags; ``fixed`` are
    the first gap of each tag in Outlook's conditional comments. A comment's
    text is part of the document, so it is broken the same way whatever comes
    before it: its tags come from MRML and are equal for every recipient,
    which keeps the fast and reference paths equal.
    """

    def __init__(self, line_starts: list[int]) -> None:
        super().__init__(convert_charrefs=False)
        self.line_starts = line_starts
        self.optional: list[int] = []
        self.fixed: list[int] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.optional += _attribute_gaps(self.get_starttag_text() or "", self._offset())

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        conditional = _CONDITIONAL.match(data)
        if conditional is None:
            return
        inner = self._offset() + len("<!--") + conditional.start(1)
        for tag in _GHOST_TAG.finditer(conditional.group(1)):
            self.fixed += _attribute_gaps(tag.group(0), inner + tag.start())[:1]


_RAW_TEXT = re.compile(r"(<(style|script)\b.*?</\2\s*>)", re.S | re.I)


def ascii_references(html: str) -> str:
    """``html`` with every non-ASCII character outside ``<style>`` and ``<script>`` written as ``&#N;``.

    The parsed document is the same: an HTML parser decodes the references in
    text and attribute values alike (``<title>`` included). A reference takes
    more octets than the UTF-8 it replaces (``&#12354;`` for three), so text
    lines grow (see :func:`longest_line`).
    """
    if html.isascii():
        return html
    parts = _RAW_TEXT.split(html)
    # split() gives text, (element, tag name), text, ...: the raw-text elements are kept as they are.
    return "".join(part if index % 3 else part.encode("ascii", "xmlcharrefreplace").decode("ascii")
                   for index, part in enumerate(parts) if index % 3 != 2)


def break_long_lines(html: str, target: int = LINE_TARGET) -> str:
    """Break lines before attributes, filling each to about ``target`` characters.

    A break replaces the space that was there, so the size stays the same; in
    the document's own tags the parsed document is unchanged, and text is never
    touched. The tags in Outlook's conditional comments are always broken
    before their first attribute.
    """
    line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
    parser = _BreakPoints(line_starts)
    parser.feed(html)
    parser.close()
    fixed = set(parser.fixed)
    candidates = sorted(fixed | set(parser.optional))
    breaks, line_start = [], 0
    for index, gap in enumerate(candidates):
        newline = html.rfind("\n", line_start, gap)
        if newline != -1:
            line_start = newline + 1
        following = candidates[index + 1] if index + 1 < len(candidates) else len(html)
        if gap in fixed or following - line_start > target:
            breaks.append(gap)
            line_start = gap + 1
    if not breaks:
        return html
    chars = list(html)
    for gap in breaks:
        chars[gap] = "\n"
    return "".join(chars)


def longest_line(html: str) -> int:
    """The longest line of ``html``, in UTF-8 octets."""
    return max(len(line.encode()) for line in html.split("\n"))
