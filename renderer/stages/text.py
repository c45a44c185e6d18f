"""Derive the plain-text part from the inlined HTML, once per template.

The input still carries placeholders instead of Jinja tags, so the result is
a text *template*: restored by the compiler and rendered per recipient.
"""

from __future__ import annotations

import re

import html2text
import lxml.html

_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]+)\)")
_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n){2,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def _visible_body(html: str) -> str:
    """The body without hidden elements (the preheader div) or head styles."""
    root = lxml.html.document_fromstring(html)
    body = root.find("body")
    if body is None:
        return html
    for element in body.xpath('.//*[contains(translate(@style, " ", ""), "display:none")]'):
        element.drop_tree()
    return lxml.html.tostring(body, encoding="unicode")


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1).strip(), match.group(2)
    # An image link carries no words; the product name link next to it does.
    return f"{label} ({url})" if label else ""


def html_to_text(html: str) -> str:
    """Readable plain text: headings, paragraphs, lists, ``label (url)`` links."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.single_line_break = False
    converter.unicode_snob = True
    text = converter.handle(_visible_body(html))
    text = _MARKDOWN_LINK.sub(_link, text)
    return tidy_text(text)


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


def tidy_text(text: str) -> str:
    """Collapse the blank lines and trailing spaces left by layout markup."""
    # Runs per recipient: the substring checks are far cheaper than the regexes.
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip() + "\n"
