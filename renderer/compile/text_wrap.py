"""Wrap plain-text lines to a column width, once per template.

The text template still holds placeholders (``jjph00012z``) for Jinja tags,
so each placeholder counts with the width its value usually has: nothing for
a control tag, more for a URL than for a first name. A URL or any other word
longer than the line is never broken. Japanese and Chinese text, which has
no spaces, breaks between the phrases BudouX finds (``renderer.sandbox.phrasing``),
so a number stays with its counter ("60日以内の") and a sentence's last
syllables ("す。") never stand alone; never before closing punctuation either.
"""

from __future__ import annotations

import re
from typing import Callable

from renderer.sandbox.phrasing import CJK_TEXT, split_phrases
from renderer.sandbox.text_width import display_width

WIDTH = 78
"""Columns of the plain-text part (RFC 5322 recommends at most 78)."""

_PLACEHOLDER = re.compile(r"jjph\d{5}z")
_MASK = "\ue000"
"""Stands in for a placeholder while BudouX reads a phrase (a private-use character)."""
# Words (with any placeholders glued to them), or spaces.
_WORDS = re.compile(r"[ ]+|[^ ]+")
# Japanese and Chinese never start a line with these (kinsoku).
_NO_LINE_START = frozenset("、。，．・：；？！）」』】〕〉》ー〜ぁぃぅぇぉっゃゅょァィゥェォッャュョ")


def wrap_line(line: str, placeholder_width: Callable[[str], int], width: int = WIDTH) -> str:
    """Break one line at spaces (or between CJK phrases) so it fits ``width`` columns."""
    if "jjph" not in line and display_width(line) <= width:
        return line

    def measure(token: str) -> int:
        return display_width(_PLACEHOLDER.sub("", token)) + sum(
            placeholder_width(m.group(0)) for m in _PLACEHOLDER.finditer(token))

    lines: list[str] = []
    current, used = "", 0
    for token in _tokens(line):
        size = measure(token)
        if token.startswith(" "):
            if current:
                current, used = current + token, used + size
            continue
        if used + size > width and current.strip() and token[0] not in _NO_LINE_START:
            lines.append(current.rstrip(" "))
            current, used = "", 0
        current, used = current + token, used + size
    lines.append(current.rstrip(" "))
    return "\n".join(lines)


def _tokens(line: str) -> list[str]:
    """Spaces, words, and the phrases of CJK words (placeholders stay inside their phrase)."""
    tokens: list[str] = []
    for word in _WORDS.findall(line):
        if word.startswith(" ") or not CJK_TEXT.search(word):
            tokens.append(word)
            continue
        placeholders = iter(_PLACEHOLDER.findall(word))
        for phrase in split_phrases(_PLACEHOLDER.sub(_MASK, word)):
            tokens.append("".join(next(placeholders) if char == _MASK else char for char in phrase)
                          if _MASK in phrase else phrase)
    return tokens
