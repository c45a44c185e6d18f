"""Japanese and Chinese copy broken between phrases, not inside words (BudouX), once per template.

Japanese and Chinese have no spaces, so a browser may break a line between
any two characters: "ブ / ランケット", a lone "す。" on the last line. BudouX
(a small pure-Python model from Google) finds the phrase boundaries; each
run of CJK text in a block becomes

    <span style="word-break:keep-all;overflow-wrap:anywhere">初回の<wbr>ご注文が<wbr>15%オフ</span>

``keep-all`` forbids breaks inside the run, ``<wbr>`` allows them between
phrases, and ``overflow-wrap:anywhere`` still lets a phrase wider than the
column break rather than overflow it. A client that ignores the style (or
drops ``<wbr>``) breaks as before, so nothing gets worse. The style is
inline because clients keep inline styles more often than ``<style>`` rules.

The copy is known at compile time, so this runs once per template and
language; product names are data and are phrased per recipient by the
``phrases`` filter (``renderer.sandbox.filters``), cached per name.
"""

from __future__ import annotations

import re

from renderer.compile.isolate import pieces
from renderer.sandbox.phrasing import CJK_LANGUAGES, CJK_TEXT, phrase_markup

_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);")
_SKIPPED_ELEMENTS = re.compile(r"<(/?)(mj-raw|mj-style|mj-attributes|mj-title|mj-preview|style|title)\b", re.I)
_PRODUCT_NAME = re.compile(r"\{\{-?\s*(?P<path>[A-Za-z_][\w]*\.name)\s*(?P<rest>(?:\|[^}]*?)?)\s*-?\}\}")


def _phrase_text(text: str, language: str) -> str:
    # Entities (&nbsp;) stay whole: only the runs between them are phrased.
    out: list[str] = []
    position = 0
    for match in _ENTITY.finditer(text):
        out.append(_phrase_run(text[position:match.start()], language))
        out.append(match.group(0))
        position = match.end()
    out.append(_phrase_run(text[position:], language))
    return "".join(out)


def _phrase_run(run: str, language: str) -> str:
    if not CJK_TEXT.search(run):
        return run
    # The run is already HTML-escaped source text: phrase it as it is.
    return phrase_markup(run, language, escape=False)


def phrase_copy(source: str, language: str) -> str:
    """``source`` (a block's MJML) with its CJK text phrased, and product names phrased per recipient.

    Only the text between tags is touched, never attributes, Jinja tags, or
    the head's styles, title and preview text. Other languages pass through.
    """
    if language not in CJK_LANGUAGES:
        return source
    out: list[str] = []
    skipped = 0
    for kind, text in pieces(source):
        if kind == "tag":
            element = _SKIPPED_ELEMENTS.match(text)
            if element is not None and not text.endswith("/>"):
                skipped = max(0, skipped + (-1 if element.group(1) else 1))
        elif kind == "text" and not skipped:
            text = _phrase_text(text, language)
        elif kind == "jinja" and not skipped:
            text = _PRODUCT_NAME.sub(lambda m: f"{{{{ {m.group('path')}{m.group('rest')}|phrases({language!r}) }}}}",
                                     text)
        out.append(text)
    return "".join(out)
