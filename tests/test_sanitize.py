"""URL allow-list, header lines and grapheme-safe cuts (renderer/recipient/sanitize.py)."""

from __future__ import annotations

import pytest

from renderer.recipient.sanitize import clip, excerpt, header_text, is_safe_url


@pytest.mark.parametrize("url,safe", [
    ("https://fernhill.example/p/1?x=1#r", True), ("HTTP://FERNHILL.EXAMPLE", True), ("mailto:a@b.example", True),
    ("javascript:alert(1)", False), ("data:text/html,x", False), ("vbscript:x", False), ("//evil.example", False),
    ("/p/1", False), ("https://", False), ("https:///x", False), ("https://a b", False), ("mailto:", False),
    ("https://a\u00a0b", False), ("https://a\u2028b", False), ("https://a\x7fb", False), ("https://a<b", False),
])
def test_is_safe_url(url, safe):
    assert is_safe_url(url) is safe
    assert is_safe_url(url) is safe, "the memo gives the same answer"


def test_header_text_removes_breaks_controls_and_bidi_overrides():
    assert header_text("Hi\r\n Bcc:\tx\x85y\u2029z\u202e!\u2069", 100) == "Hi Bcc: x y z!"
    assert header_text("שלום, Ana") == "שלום, Ana", "right-to-left text needs no controls"


@pytest.mark.parametrize("text,limit,expected", [
    ("Fernhill", 8, "Fernhill"),
    ("Fernhill", 5, "Fern…"),
    ("a b c d", 4, "a b…"),
    ("Zoë 👩\u200d👩\u200d👧 x", 7, "Zoë…"),           # never half an emoji family
    ("ab👍🏽c", 4, "ab…"),                             # nor a thumb without its skin tone
    ("cafe\u0301s", 5, "caf…"),                        # nor a letter without its accent
    ("☕\ufe0f tea", 2, "…"),
])
def test_clip_never_splits_what_shows_as_one_character(text, limit, expected):
    assert clip(text, limit) == expected
    assert len(clip(text, limit)) <= limit


def test_excerpt_is_short_and_printable():
    assert excerpt("java\nscript:" + "x" * 100) == repr("java\nscript:" + "x" * 48 + "…")
