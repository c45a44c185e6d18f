"""The last clean-up of a rendered text part, per recipient."""

from __future__ import annotations

import re

_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n){2,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_SPACE_BREAK, _TAB_BREAK, _THREE_BREAKS = re.compile(" \n"), re.compile("\t\n"), re.compile("\n\n\n")


def tidy_text(text: str) -> str:
    """Collapse the blank lines and trailing spaces left by layout markup."""
    # Runs per recipient, and almost always finds nothing to do: the searches
    # for fixed strings are cheaper than the rewriting regexes (and than ``in``
    # on text with non-ASCII names, which Python scans more slowly).
    if _SPACE_BREAK.search(text) or _TAB_BREAK.search(text):
        text = _TRAILING_SPACE.sub("\n", text)
    if _THREE_BREAKS.search(text):
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip() + "\n"
