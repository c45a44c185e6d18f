"""Unicode names and products render as typed, NFC-normalized (snapshots: one .html and .txt per case).

A changed snapshot is a changed email: review it (open the .html in a
browser), then ``pytest --snapshot-update``, and say why in the commit.
"""

from __future__ import annotations

import unicodedata

import pytest
from test_snapshots import HTMLSnapshot, TextSnapshot

from renderer.content.fixtures import FIXTURE_NOW


def products(*names: str) -> list[dict]:
    return [{"id": f"U{i}", "name": name, "url": f"https://fernhill.example/p/u{i}",
             "image_url": f"https://cdn.fernhill.example/products/FH-10{i + 1:02d}.png", "price": 24 + 6 * i}
            for i, name in enumerate(names)]


CASES = {
    "emoji": ({"first_name": "Zoë 🌿", "last_name": "Nakamura"},
              products("Mug ☕\ufe0f", "Family blanket 👩\u200d👩\u200d👧", "Plant pot 🪴", "Gift 🎁🏽")),
    "combining_marks": ({"first_name": "Jose\u0301", "location": {"city": "Montre\u0301al"}},
                        products("Cafe\u0301 cups", "Cre\u0300me jug", "A\u030angstro\u0308m lamp", "Ñandu\u0301 rug")),
    "rtl": ({"first_name": "עדי", "last_name": "כהן", "locale": "he-IL"},
            products("ספל קרמיקה", "מנורת שולחן", "שמיכת צמר", "סיר ברזל")),
    "zero_width": ({"first_name": "Mehr\u200cdad", "last_name": "Ma\u200bria"},
                   products("Tea\u200bpot", "Ro\u200dse vase", "\ufeffSoap", "Linen\u2060towel")),
    "mixed_scripts": ({"first_name": "Łukasz 李 Ирина", "last_name": "Ωmega"},
                      products("Ceramic 茶碗", "Лампа table lamp", "Ελιά olive board", "مخدة cushion")),
}


SUBJECTS = {"rtl": "ברוכים הבאים ל-Fernhill, {}"}
"""The welcome subject of cases written in a language other than English."""


def render(engine, case: str):
    profile, recommendations = CASES[case]
    return engine.render("welcome", profile={"id": f"u_{case}", "email": "u@example.com", **profile},
                         recommendations=recommendations, now=FIXTURE_NOW)


@pytest.mark.parametrize("case", CASES)
def test_unicode_html_snapshot(engine, snapshot, case):
    assert render(engine, case).html == snapshot(extension_class=HTMLSnapshot)


@pytest.mark.parametrize("case", CASES)
def test_unicode_text_snapshot(engine, snapshot, case):
    email = render(engine, case)
    header = f"Subject: {email.subject}\nPreheader: {email.preheader}\nWarnings: {email.warnings}\n\n"
    assert header + email.text == snapshot(extension_class=TextSnapshot)


@pytest.mark.parametrize("case", CASES)
def test_names_and_products_render_as_typed_in_nfc(engine, case):
    profile, recommendations = CASES[case]
    email = render(engine, case)
    first = unicodedata.normalize("NFC", profile["first_name"])
    assert email.subject == SUBJECTS.get(case, "Welcome to Fernhill, {}").format(first)
    assert first in email.html and first in email.text
    for item in recommendations:
        name = unicodedata.normalize("NFC", item["name"])
        assert name in email.html and name in email.text
    for part in (email.subject, email.html, email.text):
        assert unicodedata.is_normalized("NFC", part)
    assert not email.warnings


def test_combining_marks_are_composed_and_zero_width_characters_kept(engine):
    composed = render(engine, "combining_marks")
    assert "José" in composed.subject and "Jose\u0301" not in composed.html
    assert "Ångström lamp" in composed.html and "Ñandú rug" in composed.text
    profile, _ = CASES["combining_marks"]
    newsletter = engine.render("recommendations", profile={"id": "u", "email": "u@example.com", **profile},
                               now=FIXTURE_NOW)
    assert "in Montréal" in newsletter.preheader and "Montre\u0301al" not in newsletter.html
    kept = render(engine, "zero_width")
    assert "Mehr\u200cdad" in kept.subject and "Tea\u200bpot" in kept.html


def test_right_to_left_locale_sets_the_direction(engine):
    # Hebrew has a locale file, so the email is written in Hebrew, right to left.
    html = render(engine, "rtl").html
    assert 'lang="he-IL" dir="rtl"' in html and "עדי" in html
    arabic = engine.render("welcome", profile={"id": "a", "email": "a@example.com", "first_name": "ليلى",
                                               "locale": "ar-EG"}).html
    assert 'dir="rtl"' in arabic and 'lang="ar' in arabic


def test_a_right_to_left_name_in_a_left_to_right_email_keeps_its_own_direction(engine):
    # An English email (locale en-US, or Yiddish, which has no locale file) stays left to
    # right, with the Hebrew-script name in it as typed.
    for locale, lang in (("en-US", "en-US"), ("yi", "en")):
        email = engine.render("welcome", profile={"id": "h", "email": "h@example.com", "first_name": "עדי",
                                                  "locale": locale})
        assert f'<html lang="{lang}" dir="ltr"' in email.html, locale
        assert "עדי" in email.html and email.subject == "Welcome to Fernhill, עדי"
