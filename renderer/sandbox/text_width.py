"""How wide text is in a monospace column, and the per-recipient ``underline`` filter.

The text part's wrapping (once per template, ``renderer.compile.text_wrap``)
and the underlining of headings that hold a token (per recipient) measure
with the same :func:`display_width`.
"""

from __future__ import annotations

import re

_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
                   r"\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]")
# Invisible format characters: the bidi marks Babel puts around Arabic numbers, joiners.
_FORMAT = re.compile(r"[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                     r"\u2066-\u206f\ufeff]")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospace font: wide (CJK) characters count two, marks none.

    Invisible format characters (the right-to-left marks Babel puts around
    Arabic numbers and dates) take no column.
    """
    if text.isascii():
        return len(text)
    # Two regular-expression scans instead of a Python loop: underline() runs per recipient.
    return len(text) + len(_WIDE.findall(text)) - len(_FORMAT.findall(text))


def underline(text: str, char: str = "=") -> str:
    """``text`` with a line of ``char`` under it, as wide as its widest line (a Jinja filter)."""
    text = text.strip()
    return f"{text}\n{char * max((display_width(line) for line in text.split(chr(10))), default=0)}"
