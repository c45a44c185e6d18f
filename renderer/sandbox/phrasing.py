"""Phrase boundaries of Japanese and Chinese text (BudouX), shared by compile time and the ``phrases`` filter.

``phrase_markup`` is what both the blocks' copy (once per template,
``renderer.compile.phrases``) and product names (per recipient, the
``phrases`` filter) become: one ``keep-all`` span with ``<wbr>`` between
phrases (and ``white-space:nowrap`` around a phrase with a "%" or a comma
inside, which ``keep-all`` does not hold together). BudouX's parsers load their model (a JSON file of a few hundred
kilobytes) on first use, once per process; results are cached per text, so
a product name costs its first recipient about 0.1 ms and the rest a
dictionary lookup.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from markupsafe import Markup, escape as escape_html

CJK_LANGUAGES = frozenset({"ja", "zh"})
"""Languages whose copy is phrased (BudouX has models for Japanese and Chinese)."""

CJK_TEXT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
"""Kana or Han: text with no spaces to break at."""

_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")

KEEP_ALL = '<span style="word-break:keep-all;overflow-wrap:anywhere">'
NOWRAP = '<span style="white-space:nowrap">'


def _unbreakable(phrase: str) -> bool:
    """Whether a phrase holds a break that ``keep-all`` leaves open: a sign or punctuation before its end.

    ``keep-all`` keeps letters, kana, ideographs and digits together, not
    "%" or "," (a browser still broke "15%オフ" after the "%"); such a phrase
    gets ``white-space:nowrap`` of its own.
    """
    return any(not char.isalnum() and not char.isspace() for char in phrase[:-1])


@functools.lru_cache(maxsize=4)
def _parser(language: str) -> Any:
    import budoux

    if language == "zh":
        return budoux.load_default_simplified_chinese_parser()
    return budoux.load_default_japanese_parser()


@functools.lru_cache(maxsize=8192)
def split_phrases(text: str, language: str | None = None) -> tuple[str, ...]:
    """BudouX's phrases of ``text``; without a language, Japanese when it has kana, else Chinese."""
    if language is None:
        language = "ja" if _KANA.search(text) else "zh"
    return tuple(_parser(language).parse(text))


@functools.lru_cache(maxsize=8192)
def phrase_markup(text: str, language: str, escape: bool = True) -> str:
    """``text`` as a keep-all span with ``<wbr>`` between its phrases (HTML).

    ``escape``: whether ``text`` is plain text (escaped here) or already HTML
    without tags (the blocks' source text, with its entities kept out).
    """
    phrases = split_phrases(text, language)
    marked = (str(escape_html(p)) if escape else p for p in phrases)
    join = (f"{NOWRAP}{m}</span>" if _unbreakable(p) else m for p, m in zip(phrases, marked))
    return f"{KEEP_ALL}{'<wbr>'.join(join)}</span>"


def phrases_filter(value: Any, language: str = "ja") -> Any:
    """A product name phrased for a Japanese or Chinese email (HTML); other text escaped as usual."""
    if value is None or not isinstance(value, str) or not CJK_TEXT.search(value):
        return value
    return Markup(phrase_markup(value, language))


def plain_phrases_filter(value: Any, language: str = "ja") -> Any:
    """The text part's ``phrases``: the name as it is (the text wrapper breaks between phrases itself)."""
    return value
