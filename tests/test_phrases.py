"""Japanese line breaking (renderer/compile/phrases.py, compile/text_wrap.py): words stay whole."""

from __future__ import annotations

import re
from html import unescape

import lxml.html
import pytest
from conftest import fixture_request

from renderer.compile.text_wrap import wrap_line

HELP = "ご質問はこのメールへの返信、またはhello@fernhill.exampleまでお気軽にどうぞ。60日以内の返品は無料です。"


def _phrases(span: lxml.html.HtmlElement) -> list[str]:
    """The runs between a span's <wbr>s (libxml2 takes <wbr> for a container, so split its markup)."""
    inner = lxml.html.tostring(span, encoding=str).split(">", 1)[1].rsplit("</span>", 1)[0]
    return [re.sub(r"<[^>]+>", "", run) for run in re.split(r"</?wbr>", inner) if run]


def _phrased(html: str, words: str) -> list[lxml.html.HtmlElement]:
    body = lxml.html.document_fromstring(html).find("body")
    return [span for span in body.iter("span")
            if "keep-all" in (span.get("style") or "") and span.text_content() == words]


def test_translated_copy_is_kept_together_between_budoux_phrases(engine):
    email = engine.render("welcome", **fixture_request(engine, "welcome", "international"))
    [heading] = _phrased(email.html, "初回のご注文が15%オフ")
    # Breaks only at the <wbr> between phrases: never "15% / オフ" or "ブ / ランケット".
    assert _phrases(heading) == ["初回の", "ご注文が", "15%オフ"]
    assert "overflow-wrap:anywhere" in heading.get("style")
    # keep-all leaves a break after "%": that phrase is also nowrap.
    [sign] = [s for s in heading.iter("span") if s.get("style") == "white-space:nowrap"]
    assert sign.text_content() == "15%オフ"


def test_phrases_are_computed_at_compile_time(engine):
    compiled = engine.compiled("welcome", "ja")
    assert '初回の<wbr>ご注文が<wbr><span style="white-space:nowrap">15%オフ</span>' in unescape(compiled.html_source)


def test_english_emails_are_not_phrased(engine):
    email = engine.render("welcome", **fixture_request(engine, "welcome", "frequent_high_spender"))
    assert "<wbr>" not in email.html and "keep-all" not in email.html


def test_a_japanese_product_name_is_phrased_per_recipient_and_plain_in_the_text(engine, fixtures):
    request = fixture_request(engine, "welcome", "international")
    name = "ウールのブランケット"
    request["recommendations"] = [dict(request["recommendations"][0], name=name)] + request["recommendations"][1:]
    email = engine.render("welcome", **request)
    [phrased] = _phrased(email.html, name)
    assert _phrases(phrased) == ["ウールの", "ブランケット"]
    assert name in email.text and "<wbr>" not in email.text


def test_the_text_part_keeps_numbers_with_their_counters(engine):
    email = engine.render("welcome", **fixture_request(engine, "welcome", "international"))
    lines = email.text.splitlines()
    assert any("60日以内の返品は無料です。" in line for line in lines), email.text
    assert not any(line.endswith("60") for line in lines)


@pytest.mark.parametrize("width", range(20, 79))
def test_a_wrapped_japanese_sentence_never_leaves_su_alone(width):
    lines = wrap_line(HELP, lambda placeholder: 0, width).splitlines()
    assert "す。" not in lines and "日以内の返品は無料です。" not in lines
    assert not any(line.endswith("60") for line in lines), lines
