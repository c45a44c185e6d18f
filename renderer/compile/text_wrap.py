"""Wrap plain-text lines to a column width, once per template.

The text template still holds placeholders (``jjph00012z``) for Jinja tags,
so each placeholder counts with the width its value usually has: nothing for
a control tag, more for a URL than for a first name. A URL or any other word
longer than the line is never broken; CJK text, which has no spaces, may
break between any two characters except before closing punctuation.
"""

from __future__ import annotations

import re
from typing import Callable

from renderer.sandbox.text_width import display_width

WIDTH = 78
"""Columns of the plain-text part (RFC 5322 recommends at most 78)."""

_PLACEHOLDER = re.compile(r"jjph\d{5}z")
# Words (with any placeholders glued to them), single wide characters, or spaces.
_TOKENS = re.compile(r"[ ]+|[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
                     r"|[^ \u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]+")
# Japanese and Chinese never start a line with these (kinsoku).
_NO_LINE_START = frozenset("、。，．・：；？！）」』】〕〉》ー〜ぁぃぅぇぉっゃゅょァィゥェォッャュョ")


def wrap_line(line: str, placeholder_width: Callable[[str], int], width: int = WIDTH) -> str:
    """Break one line at spaces (or between CJK characters) so it fits ``width`` columns."""
    if "jjph" not in line and display_width(line) <= width:
        return line

    def measure(token: str) -> int:
        return display_width(_PLACEHOLDER.sub("", token)) + sum(
            placeholder_width(m.group(0)) for m in _PLACEHOLDER.finditer(token))

    lines: list[str] = []
    current, used = "", 0
    for token in _TOKENS.findall(line):
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
