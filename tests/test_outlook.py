"""Safe to send: Outlook widths, valid attributes, line length, preheader, dark mode.

The MRML tests pin a behaviour of mjml-python 1.4.2 that the compile stage works
around (docs/outlook.md lists each difference from MJML with its test here):
when an upgrade changes it, they fail, and the workaround can go.
"""

from __future__ import annotations

import re

import lxml.html
import mjml
import pytest
from conftest import PAIRS, PROJECT_ROOT, fixture_request
from PIL import Image

from renderer.compile.clients import (
    MAX_LINE_OCTETS,
    ascii_references,
    break_long_lines,
    longest_line,
    normalize_paddings,
)
from renderer.compile.inline import inline_css
from renderer.compile.mjml import compile_mjml
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.check_rules import (
    ERROR,
    check_email,
    check_images,
    check_line_length,
    check_outlook_widths,
)

GRID = """<mjml><mj-body width="600px"><mj-section padding="{section}">
<mj-column padding="{column}"><mj-image padding="0px" alt="a" src="https://cdn.example/a.png" /></mj-column>
<mj-column padding="{column}"><mj-image padding="0px" alt="b" src="https://cdn.example/b.png" /></mj-column>
</mj-section></mj-body></mjml>"""


def _image_widths(html: str) -> list[str]:
    return [img.get("width") for img in lxml.html.document_fromstring(html).iter("img")]


def _ghost_widths(html: str) -> list[str]:
    return re.findall(r"<!--\[if mso \| IE\]><td[^>]*width:([\d.]+)px", html)


# --- MRML's padding bug, and the stage that works around it -----------------

def test_mrml_ignores_a_padding_shorthand_with_a_unitless_zero():
    unitless = mjml.mjml2html(GRID.format(section="12px 24px 0", column="0 12px"), fonts={})
    with_px = mjml.mjml2html(GRID.format(section="12px 24px 0px", column="0px 12px"), fonts={})
    # MJML (JavaScript) gives 276 px columns and 252 px images for both.
    assert _ghost_widths(with_px) == ["276", "276"] and _image_widths(with_px) == ["252", "252"]
    assert _ghost_widths(unitless) == ["300", "300"] and _image_widths(unitless) == ["300", "300"]


def test_compile_writes_unitless_zero_paddings_as_px():
    html = compile_mjml(GRID.format(section="12px 24px 0", column="0 12px"))
    assert _ghost_widths(html) == ["276", "276"] and _image_widths(html) == ["252", "252"]



def test_mrml_narrows_a_padded_column_in_a_group_for_outlook():
    # The product grid's columns (276 px, 12 px padding each side) in an
    # mj-group: MJML (JavaScript) gives Outlook 276 px cells, MRML 252 px,
    # with the 12 px padding still inside them, so the 252 px image has
    # 228 px of room. The grid therefore uses plain columns (two-up class).
    grouped = GRID.replace('<mj-section padding="{section}">', '<mj-section padding="{section}"><mj-group>')
    grouped = grouped.replace("</mj-section>", "</mj-group></mj-section>")
    html = mjml.mjml2html(grouped.format(section="12px 24px 0px", column="0px 12px"), fonts={})
    assert _image_widths(html) == ["252", "252"]
    assert _ghost_widths(html)[1:] == ["252", "252"]  # after the group's own 552 px cell

@pytest.mark.parametrize("before,after", [
    ('<mj-section padding="0">', '<mj-section padding="0px">'),
    ('<mj-text padding="12px 24px 0" align="left">', '<mj-text padding="12px 24px 0px" align="left">'),
    ('<mj-button inner-padding="0 10px" padding-left="0">', '<mj-button inner-padding="0px 10px" padding-left="0px">'),
    ('<mj-text padding="10px 0.5px 20px">', '<mj-text padding="10px 0.5px 20px">'),
    ('<mj-text padding="jjph00012z">', '<mj-text padding="jjph00012z">'),
    ('<mj-text>padding="0 4px" in copy</mj-text>', '<mj-text>padding="0 4px" in copy</mj-text>'),
    ('<mj-image width="0" padding="0 0">', '<mj-image width="0" padding="0px 0px">'),
])
def test_normalize_paddings_touches_only_unitless_zeros_in_padding_attributes(before, after):
    assert normalize_paddings(before) == after


def test_mrml_lets_an_element_css_class_replace_the_one_from_mj_class():
    # The blocks rely on it: an element with its own css-class writes its
    # dark-mode class too (css-class="text-h2 dm-heading").
    html = mjml.mjml2html(
        '<mjml><mj-head><mj-attributes><mj-class name="h" css-class="from-class" />'
        '<mj-text css-class="from-default" /></mj-attributes></mj-head><mj-body><mj-section><mj-column>'
        '<mj-text mj-class="h" css-class="own">a</mj-text><mj-text mj-class="h">b</mj-text><mj-text>c</mj-text>'
        '</mj-column></mj-section></mj-body></mjml>', fonts={})
    assert re.findall(r'class="(own|from-class|from-default)"', html) == ["own", "from-class", "from-default"]


# --- the renderer check's Outlook rules -------------------------------------

OLD_STYLE = """<!doctype html><html lang="en"><body><div>
<!--[if mso | IE]><table width="600" style="width:600px;"><tr><td><![endif]-->
<div style="max-width:600px"><table width="100%"><tbody><tr><td style="padding:12px 24px 0">
<!--[if mso | IE]><table role="presentation"><tr><td style="vertical-align:top;width:324px;"><![endif]-->
<div><img src="https://cdn.example/a.png" alt="a" width="100%" height="auto"></div>
<!--[if mso | IE]></td><td style="vertical-align:top;width:324px;"><![endif]-->
<div><table><tr><td style="padding:0 40px">
<!--[if mso | IE]><table width="600px" style="border-top:solid 1px #E6DED0;width:600px;"><tr><td></td></tr></table><![endif]-->
</td></tr></table></div>
<!--[if mso | IE]></td></tr></table><![endif]-->
</td></tr></tbody></table></div>
<!--[if mso | IE]></td></tr></table><![endif]-->
</div></body></html>"""


def test_outlook_check_flags_rows_and_tables_wider_than_their_room():
    issues = check_outlook_widths(OLD_STYLE)
    messages = [i.message for i in issues if i.severity == ERROR]
    assert any("324 + 324 px" in m and "648 px wide in 552 px" in m for m in messages), messages
    assert any("table 600 px wide sits in 244 px" in m for m in messages), messages
    assert {i.rule for i in issues} == {"outlook-width"}


def test_outlook_check_flags_an_image_without_a_pixel_width():
    issues = check_images(lxml.html.document_fromstring(OLD_STYLE))
    assert [(i.rule, i.severity) for i in issues] == [("image-width", ERROR)]
    assert "width='100%'" in issues[0].message


def test_outlook_check_flags_what_mrml_and_premailer_made_of_the_product_grid():
    # The old pipeline: MRML without the padding fix, premailer copying widths.
    from premailer import Premailer

    html = Premailer(mjml.mjml2html(GRID.format(section="12px 24px 0", column="0 12px"), fonts={}),
                     allow_network=False, disable_validation=True).transform()
    assert any(i.severity == ERROR for i in check_outlook_widths(html))
    assert any(i.severity == ERROR for i in check_images(lxml.html.document_fromstring(html)))
    fixed = inline_css(compile_mjml(GRID.format(section="12px 24px 0", column="0 12px")))
    assert check_outlook_widths(fixed) == [] and check_images(lxml.html.document_fromstring(fixed)) == []


def test_outlook_check_reports_fractional_widths_as_warnings():
    html = OLD_STYLE.replace("324px", "145.6px")
    assert any(i.severity == "warning" and "145.6 px" in i.message for i in check_outlook_widths(html))


def test_line_length_rule_flags_a_line_over_998_octets():
    assert check_line_length("<p>\n" + "é" * 497 + "</p>\n") == []  # 998 octets
    issues = check_line_length("<p>\n" + "é" * 497 + "x</p>\n")
    assert [i.rule for i in issues] == ["line-length"] and "999 octets" in issues[0].message


# --- line breaks that change no document ------------------------------------

def test_breaks_go_before_attributes_never_into_text_pre_or_plain_comments():
    html = ('<html><head><style>td { color: red }</style></head><body><table><tr><td class="a" style="x:1">'
            '<pre class="p">  two  spaces <b class="q">bold</b></pre><!-- a comment <i class="c"> -->'
            '<!--[if mso | IE]><table role="presentation" width="600"><tr><![endif]--></td></tr></table></body></html>')
    broken = break_long_lines(html, target=1)
    assert len(broken) == len(html)
    assert '<td\nclass="a"\nstyle="x:1">' in broken and '<b\nclass="q">' in broken
    assert "<pre\nclass=\"p\">  two  spaces " in broken and "<!-- a comment <i class=\"c\"> -->" in broken
    assert '<!--[if mso | IE]><table\nrole="presentation" width="600"><tr><![endif]-->' in broken
    assert "td { color: red }" in broken

    def body(text: str) -> str:
        tree = lxml.html.document_fromstring(text)
        for comment in tree.xpath("//comment()"):
            comment.getparent().remove(comment)
        return lxml.html.tostring(tree, encoding="unicode")

    assert body(broken) == body(html)


def test_lines_are_filled_and_conditional_comments_always_broken_the_same_way():
    ghost = '<!--[if mso | IE]><table role="presentation" width="600"><tr><![endif]-->'
    assert break_long_lines("<p>short</p>" + ghost) == "<p>short</p>" + ghost.replace("<table ", "<table\n")
    page = "<table>" + '<tr><td class="cell" style="padding:0 12px">A cell of text</td></tr>' * 400 + "</table>"
    broken = break_long_lines(page)
    assert page.count("\n") == 0 and 50 < broken.count("\n") < 200
    assert longest_line(broken) <= 400


# --- every bundled email ----------------------------------------------------

@pytest.fixture(scope="module")
def emails(engine):
    return {pair: engine.render(pair[0], **fixture_request(engine, *pair)).html for pair in PAIRS}


def _counts(emails: dict, count) -> dict:
    return {pair: n for pair, html in emails.items() if (n := count(lxml.html.document_fromstring(html), html))}


def test_every_image_has_a_pixel_width(emails):
    assert _counts(emails, lambda doc, _: sum(not re.fullmatch(r"\d+", img.get("width", ""))
                                              for img in doc.iter("img"))) == {}


def test_no_invalid_attributes_and_no_per_cell_mso_spacing(emails):
    invalid = "//p[@width] | //td[@vertical-align] | //img[contains(@width, '%')] | //*[contains(@style, 'mso-table-')]"
    assert _counts(emails, lambda doc, _: len(doc.xpath(invalid))) == {}


def test_no_outlook_row_is_wider_than_the_email(emails):
    assert {pair: issues for pair, html in emails.items() if (issues := check_outlook_widths(html))} == {}


def test_every_line_fits_rfc_5322_and_every_email_fits_90_kb(emails):
    assert max(longest_line(html) for html in emails.values()) <= MAX_LINE_OCTETS
    assert max(len(html.encode()) for html in emails.values()) <= 90 * 1024


def test_the_check_rules_find_nothing_on_the_bundled_emails(emails, engine):
    rules = {"image-width", "outlook-width", "line-length", "html-size"}
    found = {}
    for (template, profile), html in emails.items():
        email = engine.render(template, **fixture_request(engine, template, profile))
        if issues := [i for i in check_email(email, None) if i.rule in rules]:
            found[template, profile] = issues
    assert found == {}


def test_preheader_is_hidden_from_outlook_and_followed_by_a_filler(emails):
    for html in emails.values():
        hidden = lxml.html.document_fromstring(html).find("body").findall("div")[:3]
        assert all("mso-hide:all" in (div.get("style") or "") for div in hidden)
        # In two halves: written as character references, the whole filler would be one line too long.
        assert "".join(div.text or "" for div in hidden[1:]) == "\u034f\u200c\xa0" * 60


def test_dark_mode_rules_use_classes_and_cover_every_line(emails):
    line = "#E6DED0"
    for pair, html in emails.items():
        document = lxml.html.document_fromstring(html)
        head = "".join(style.text or "" for style in document.iter("style"))
        assert "[style*=" not in head and "[bgcolor=" not in head
        assert ".dm-line td" in head and "[data-ogsc] .dm-text > div" in head
        for element in document.find("body").iter():
            if isinstance(element.tag, str) and line in (element.get("style") or "").upper():
                classes = {c for e in element.iterancestors() for c in (e.get("class") or "").split()}
                classes |= set((element.get("class") or "").split())
                assert classes & {"dm-line", "dm-code"}, (pair, element.tag, element.get("style"))


def test_product_images_have_transparent_corners():
    for path in sorted((PROJECT_ROOT / "assets" / "products").glob("*.png")):
        image = Image.open(path).convert("RGBA")
        width, height = image.size
        corners = [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]
        assert [image.getpixel(c)[3] for c in corners] == [0, 0, 0, 0], path.name
        assert image.getpixel((width // 2, height // 2))[3] == 255, path.name


# --- character references (compile/clients.ascii_references) ---------------------------------

_MIXED = ('<!doctype html><html><head><title>Café →</title><style>p{font-family:"ヒラギノ"}</style></head>'
          '<body><!--[if mso]><p>Grüße</p><![endif]--><p title="é · ©">x\xa0y \u034f\u200c 😀 أهلًا</p>'
          '<script>var s = "ü";</script><img alt="Küche" src="https://example.com/k%C3%BC.png"></body></html>')


def _document(html: str) -> str:
    return lxml.html.tostring(lxml.html.document_fromstring(html), encoding="unicode")


def test_character_references_leave_the_parsed_document_as_it_was():
    written = ascii_references(_MIXED)
    assert written.isascii() is False  # <style> and <script> keep their text: references are not decoded there
    outside = re.sub(r"<(style|script)\b.*?</\1>", "", written, flags=re.S)
    assert outside.isascii()
    assert '<style>p{font-family:"ヒラギノ"}</style>' in written and '<script>var s = "ü";</script>' in written
    assert "&#8594;" in written and 'title="&#233; &#183; &#169;"' in written and "&#128512;" in written
    # Outlook reads a conditional comment's content as HTML: the references are decoded there too.
    conditional = re.compile(r"<!--\[if mso\]>(.*?)<!\[endif\]-->", re.S)
    assert _document(conditional.search(written).group(1)) == _document(conditional.search(_MIXED).group(1))
    assert _document(conditional.sub("", written)) == _document(conditional.sub("", _MIXED))
    assert ascii_references("<p>plain</p>") == "<p>plain</p>"


def test_every_bundled_template_is_compiled_to_ascii_in_every_language(engine):
    sources = {(name, language): engine.compiled(name, language).html_source
               for name in engine.template_names() for language in engine.languages()}
    assert len(sources) == 6 * 7
    assert [key for key, source in sources.items() if not source.isascii()] == []


def test_an_email_for_a_recipient_with_ascii_data_is_ascii_and_keeps_its_characters(engine):
    email = engine.render("welcome", **fixture_request(engine, "welcome", "frequent_high_spender"))
    assert email.html.isascii()
    text = lxml.html.document_fromstring(email.html).text_content()
    assert "© 2026 Fernhill" in text and "\u034f\u200c\xa0" in text


def test_a_recipients_own_characters_stay_as_given(engine):
    email = engine.render("welcome", **fixture_request(engine, "welcome", "locale_ar"))
    name = fixture_request(engine, "welcome", "locale_ar")["profile"]["first_name"]
    assert not name.isascii() and name in email.html  # the compiled template is ASCII, the data is not re-encoded


def test_a_line_that_references_would_make_too_long_keeps_the_html_utf8():
    paragraph = "日本語の段落です。" * 60  # 540 characters of text: 1,620 octets in UTF-8, 4,320 as references
    html = compile_mjml(f"<mjml><mj-body><mj-section><mj-column><mj-text>{paragraph}</mj-text></mj-column>"
                        "</mj-section></mj-body></mjml>")
    inlined = inline_css(html)
    assert paragraph in inlined and "&#26085;" not in inlined
    short = inline_css(compile_mjml("<mjml><mj-body><mj-section><mj-column><mj-text>日本語</mj-text>"
                                    "</mj-column></mj-section></mj-body></mjml>"))
    assert "&#26085;&#26412;&#35486;" in short and short.isascii()


def test_text_a_template_reads_as_a_value_reaches_jinja_as_written(content_copy):
    from renderer import Engine

    template = content_copy / "templates" / "welcome.yaml"
    template.write_text(template.read_text().replace(
        'headline: "Welcome in{% if FirstName %}, {{ FirstName }}{% endif %}."',
        'headline: "{% filter upper %}Café{% endfilter %} {% set word %}Grüße{% endset %}{{ word|length }}"'))
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks",
                    locales_dir=content_copy / "locales", auto_reload=False)
    html = engine.render("welcome", profile={"id": "c1", "email": "ana@example.com"}, now=FIXTURE_NOW).html
    text = lxml.html.document_fromstring(html).text_content()
    assert "CAFÉ 5" in text  # not "CAFé" (upper of "&#233;") nor 10 (the length of "Gr&#252;&#223;e")
