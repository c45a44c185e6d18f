"""Localization: Babel money and dates per locale, translated block strings, RTL."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime, timezone
from decimal import Decimal

import lxml.html
import pytest

from renderer import Engine
from renderer.content.fixtures import FIXTURE_NOW
from renderer.content.locales import available_languages, language_for, load_catalog, plural_categories
from renderer.sandbox.environments import text_environment

from conftest import fixture_request

LOCALES = ["en-US", "de-DE", "fr-FR", "es-ES", "ja-JP", "ar-EG", "he-IL"]
PROFILE = {"id": "c1", "email": "a@example.com", "first_name": "Ana"}


def _render(source: str, locale: str, **values) -> str:
    return text_environment().from_string(source).render(Locale=locale, **values)


@pytest.mark.parametrize("locale,expected", [
    ("en-US", "$1,234.50"),
    ("de-DE", "1.234,50\xa0€"),
    ("fr-FR", "1\u202f234,50\xa0€"),
    ("es-ES", "1.234,50\xa0€"),
    ("ja-JP", "￥1,235"),
    ("ar-EG", "\u200f1,234.50\xa0ج.م.\u200f"),
    ("he-IL", "\u200f1,234.50\xa0\u200f₪"),
])
def test_money_filter_formats_in_the_locale_and_its_currency(locale, expected):
    assert _render("{{ amount | money }}", locale, amount=Decimal("1234.50")) == expected


@pytest.mark.parametrize("locale", LOCALES)
def test_money_filter_takes_a_currency_and_passes_formatted_text(locale):
    assert "48" in _render("{{ 48 | money('USD') }}", locale)
    assert _render("{{ price | money }}", locale, price="$48.00") == "$48.00"
    assert _render("{{ none | money }}", locale, none=None) == "None"


@pytest.mark.parametrize("locale,medium,long", [
    ("en-US", "Nov 3, 2026", "November 3, 2026"),
    ("de-DE", "03.11.2026", "3. November 2026"),
    ("fr-FR", "3 nov. 2026", "3 novembre 2026"),
    ("es-ES", "3 nov 2026", "3 de noviembre de 2026"),
    ("ja-JP", "2026/11/03", "2026年11月3日"),
    ("ar-EG", "03\u200f/11\u200f/2026", "3 نوفمبر 2026"),
    ("he-IL", "3 בנוב׳ 2026", "3 בנובמבר 2026"),
])
def test_date_filter_formats_dates_datetimes_and_iso_strings(locale, medium, long):
    day = date(2026, 11, 3)
    assert _render("{{ d | date }}", locale, d=day) == medium
    assert _render("{{ d | date }}", locale, d=datetime(2026, 11, 3, 9, tzinfo=timezone.utc)) == medium
    assert _render("{{ d | date }}", locale, d="2026-11-03T09:00:00Z") == medium
    assert _render("{{ d | date('long') }}", locale, d=day) == long
    assert _render("{{ d | date }}", locale, d="not a date") == "not a date"


@pytest.mark.parametrize("locale,unsubscribe,cart_heading", [
    ("en-US", "Unsubscribe", "Still in your cart"),
    ("de-DE", "Abmelden", "Noch in deinem Warenkorb"),
    ("fr-FR", "Se désabonner", "Toujours dans votre panier"),
    ("es-ES", "Darse de baja", "Todavía en tu cesta"),
    ("ja-JP", "配信停止", "カートに入っている商品"),
    ("ar-EG", "إلغاء الاشتراك", "ما زال في سلتك"),
    ("he-IL", "הסרה מרשימת התפוצה", "עדיין בעגלה שלך"),
])
def test_block_strings_are_translated(engine, locale, unsubscribe, cart_heading):
    request = fixture_request(engine, "abandoned_cart", "new_customer")
    request["profile"] = dict(request["profile"], locale=locale)
    email = engine.render("abandoned_cart", **request)
    # Japanese copy is phrased in the HTML (keep-all spans and <wbr>); compare the words.
    document = lxml.html.document_fromstring(email.html)
    assert unsubscribe in [a.text_content() for a in document.iter("a")] and f"{unsubscribe}: https://" in email.text
    assert cart_heading in [h.text_content() for h in document.iter("h2")] and cart_heading in email.text
    direction = "rtl" if locale in ("ar-EG", "he-IL") else "ltr"
    assert re.search(rf'<html lang="{locale}" dir="{direction}"', email.html)


def test_an_untranslated_language_falls_back_to_english_and_says_so(engine):
    email = engine.render("welcome", profile=dict(PROFILE, locale="pt-BR"), now=FIXTURE_NOW)
    assert ">Unsubscribe</a>" in email.html
    assert '<html lang="en" dir="ltr"' in email.html


def test_a_missing_message_falls_back_to_english(content_copy):
    de = content_copy / "locales" / "de.yaml"
    de.write_text(de.read_text().replace("  unsubscribe: Abmelden\n", ""))
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    email = engine.render("welcome", profile=dict(PROFILE, locale="de-DE"), now=FIXTURE_NOW)
    assert ">Unsubscribe</a>" in email.html and ">Datenschutz</a>" in email.html


def test_each_language_compiles_once_and_an_edited_locale_file_recompiles(content_copy):
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks",
                    reload_interval=0)
    german = engine.compiled("welcome", "de")
    assert engine.compiled("welcome", "de") is german and engine.compiled("welcome", "en") is not german
    de = content_copy / "locales" / "de.yaml"
    de.write_text(de.read_text().replace("Abmelden", "Abbestellen"))
    os.utime(de, ns=(1, os.stat(de).st_mtime_ns + 10**9))
    email = engine.render("welcome", profile=dict(PROFILE, locale="de-DE"), now=FIXTURE_NOW)
    assert ">Abbestellen</a>" in email.html


@pytest.mark.parametrize("block,typo,template,message", [
    ("footer", ("t('footer.privacy')", "t('footer.privcy')"), "welcome", r"unknown message id 'footer.privcy'"),
    ("cart_items", ("plural('cart_items.more'", "plural('cart_items.mroe'"), "abandoned_cart",
     r"unknown plural message 'cart_items.mroe'.*'other'"),
])
def test_an_unknown_message_names_the_locales_file(content_copy, block, typo, template, message):
    from renderer import TemplateError

    path = content_copy / "blocks" / f"{block}.mjml"
    path.write_text(path.read_text().replace(*typo))
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    with pytest.raises(TemplateError, match=message + r".*en\.yaml"):
        engine.compiled(template)


def test_every_language_defines_only_ids_english_has():
    from conftest import PROJECT_ROOT

    folder = PROJECT_ROOT / "locales"
    english = set(load_catalog(folder, "en").messages)
    assert {"de", "fr", "es", "ja", "ar", "he"} <= available_languages(folder)
    for language in available_languages(folder):
        own = set(load_catalog(folder, language).messages)
        assert own >= english, language  # complete (English fills gaps)
        # No stray ids, except the plural forms English does not need (Arabic's and Hebrew's "two", ...).
        for stray in own - english:
            message, _, category = stray.rpartition(".")
            assert f"{message}.other" in english and category in plural_categories(language), (language, stray)
    assert language_for("de_AT", available_languages(folder)) == "de"


@pytest.mark.parametrize("profile", ["locale_ar", "locale_he"])
def test_rtl_layout_mirrors_alignment_and_padding(engine, fixtures, profile):
    email = engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", profile))
    assert 'dir="rtl"' in email.html and "direction:rtl" in email.html
    assert "direction:ltr" not in email.html.split("<body", 1)[1]
    assert "padding:0 20px 0 0" in email.html and "padding:0 0 0 20px" not in email.html
    english = engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", "new_customer"))
    assert "padding:0 0 0 20px" in english.html and "direction:rtl" not in english.html


def _template_copy() -> set[str]:
    from renderer.content.layout import ContentLayout
    from renderer.content.loader import load_template, template_names

    from conftest import PROJECT_ROOT

    from renderer.content.experiments import Varied

    def each(value):  # a value that differs per experiment variant has one text per variant
        return [text for _, text in value.values] if isinstance(value, Varied) else [value]

    dirs = ContentLayout.at(PROJECT_ROOT)
    texts: set[str] = set()
    for name in template_names(dirs):
        spec = load_template(dirs, name)
        texts |= {*each(spec.subject), *each(spec.preheader),
                  *(v for v in spec.defaults.values() if isinstance(v, str))}
        texts |= {t for use in spec.blocks for v in use.params.values() for t in each(v) if isinstance(t, str)}
    return texts


@pytest.mark.parametrize("language", ["de", "fr", "es", "ja", "ar", "he"])
def test_template_copy_translations_match_the_templates_english(language):
    from conftest import PROJECT_ROOT

    catalog = load_catalog(PROJECT_ROOT / "locales", language)
    stale = set(catalog.copy) - _template_copy()
    assert not stale, f"{language}.yaml translates text no template has (edited since?): {sorted(stale)}"
    for english, translated in catalog.copy.items():
        for token in re.findall(r"\{\{\s*([\w.]+)\s*\}\}", english):
            assert token in translated, (language, english, token)


@pytest.mark.parametrize("locale,subject", [
    ("en-US", "Welcome to Fernhill, Ana"),
    ("de-DE", "Willkommen bei Fernhill, Ana"),
    ("fr-FR", "Bienvenue chez Fernhill, Ana"),
    ("es-ES", "Te damos la bienvenida a Fernhill, Ana"),
    ("ja-JP", "Ana様、Fernhillへようこそ"),
    ("ar-EG", "أهلًا بك في Fernhill يا Ana"),
    ("he-IL", "ברוכים הבאים ל-Fernhill, Ana"),
])
def test_templates_copy_is_translated_and_reads_well_without_a_name(engine, locale, subject):
    email = engine.render("welcome", profile=dict(PROFILE, locale=locale), now=FIXTURE_NOW)
    assert email.subject == subject
    nameless = engine.render("welcome", profile={"id": "c2", "email": "b@example.com", "locale": locale},
                             now=FIXTURE_NOW)
    assert "there" not in nameless.subject and not nameless.subject.endswith((",", "、", " ")), nameless.subject
    assert "Ana" not in nameless.subject and nameless.subject.strip() == nameless.subject


def _cart_of(extra: int, fixtures) -> dict:
    """The bundled cart event with ``extra`` items more than an email lists (Limits.cart_items, 10)."""
    event = fixtures.event("cart_abandoned")
    item = event["cart"]["items"][0]
    items = [dict(item, product=dict(item["product"], id=f"P{i}")) for i in range(10 + extra)]
    return dict(event, cart=dict(event["cart"], items=items))


@pytest.mark.parametrize("locale,extra,line", [
    ("en-US", 1, "and 1 more item"),
    ("en-US", 2, "and 2 more items"),
    ("de-DE", 1, "und 1 weiterer Artikel"),
    ("de-DE", 5, "und 5 weitere Artikel"),
    ("fr-FR", 1, "et 1 autre article"),
    ("fr-FR", 3, "et 3 autres articles"),
    ("es-ES", 1, "y 1 artículo más"),
    ("es-ES", 4, "y 4 artículos más"),
    ("ja-JP", 1, "ほか1点"),
    ("ja-JP", 7, "ほか7点"),
    ("ar-EG", 1, "وقطعة أخرى"),
    ("ar-EG", 2, "وقطعتان أخريان"),
    ("ar-EG", 3, "و3 قطع أخرى"),
    ("ar-EG", 11, "و11 قطعة أخرى"),
    ("ar-EG", 100, "و100 قطعة أخرى"),
    ("he-IL", 1, "ועוד פריט אחד"),
    ("he-IL", 2, "ועוד שני פריטים"),
    ("he-IL", 5, "ועוד 5 פריטים"),
])
def test_the_more_items_line_follows_the_languages_plural_rules(engine, fixtures, locale, extra, line):
    email = engine.render("abandoned_cart", profile=dict(fixtures.profile("minimal"), locale=locale),
                          event=_cart_of(extra, fixtures), now=FIXTURE_NOW)
    # The count is direction-isolated: <bdi> in the HTML, FSI/PDI in a right-to-left text part.
    assert line in [re.sub("[\u2066-\u2069]", "", text) for text in email.text.splitlines()], \
        "one whole line in the text part"
    assert line in [div.text_content() for div in lxml.html.document_fromstring(email.html).iter("div")]


def test_a_languages_plural_forms_never_mix_with_englishs(content_copy):
    de = content_copy / "locales" / "de.yaml"
    # German given only its "other" form: the English "one" must not be borrowed.
    de.write_text(de.read_text().replace('    one: "und {{ CartItemsMore }} weiterer Artikel"\n', ""))
    catalog = load_catalog(content_copy / "locales", "de")
    assert catalog.plural_texts("cart_items.more") == {"other": "und {{ CartItemsMore }} weitere Artikel"}
    assert load_catalog(content_copy / "locales", "en").plural_texts("cart_items.more") == {
        "one": "and {{ CartItemsMore }} more item", "other": "and {{ CartItemsMore }} more items"}


@pytest.mark.parametrize("language,categories", [
    ("en", ("one", "other")), ("ja", ("other",)), ("ar", ("zero", "one", "two", "few", "many", "other")),
    ("he", ("one", "two", "other")),
])
def test_plural_categories_come_from_cldr(language, categories):
    assert plural_categories(language) == categories


def _untranslated(email) -> list[str]:
    return [w for w in email.warnings if w.startswith("untranslated:")]


def test_a_locale_without_a_messages_file_is_said_once(engine):
    email = engine.render("abandoned_cart", **dict(fixture_request(engine, "abandoned_cart", "locale_de"),
                                                   profile=dict(PROFILE, locale="el-GR")))
    warnings = _untranslated(email)
    assert len(warnings) == 1 and "'el'" in warnings[0] and "el-GR" in warnings[0] and "locales/el.yaml" in warnings[0]
    assert '<html lang="en" dir="ltr"' in email.html


def test_a_pasted_el_gr_profile_shows_the_warning_in_the_preview(tmp_path):
    from renderer.devtools.preview.pages import email_page
    from renderer.devtools.preview.project import PreviewProject, Selection

    from preview_support import copy_content

    project = PreviewProject(copy_content(tmp_path), reload_interval=0)
    name = project.custom.add(json.dumps(dict(PROFILE, locale="el-GR")))
    preview = project.render(Selection("welcome", name))
    assert len(_untranslated(preview.email)) == 1
    assert "no messages file for &#39;el&#39;" in email_page(project, preview)


def test_block_copy_falling_back_to_english_is_a_warning(content_copy):
    ja = content_copy / "locales" / "ja.yaml"
    text = ja.read_text(encoding="utf-8")
    text = text.replace('  "Add to cart": "カートに追加"\n', "").replace("  unsubscribe: 配信停止\n", "")
    ja.write_text(text, encoding="utf-8")
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    email = engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", "international"))
    warnings = _untranslated(email)
    assert len(warnings) == 1, email.warnings
    assert "'Add to cart'" in warnings[0] and "footer.unsubscribe" in warnings[0] and "'ja'" in warnings[0]
    assert not _untranslated(engine.render("abandoned_cart", **fixture_request(engine, "abandoned_cart", "locale_de")))
