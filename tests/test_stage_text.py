from __future__ import annotations

from renderer.compile.text import glue_control_tags, html_to_text
from renderer.compile.text_wrap import wrap_line
from renderer.recipient.tidy import tidy_text
from renderer.sandbox.text_width import display_width, underline


def _page(body: str) -> str:
    return f"<html><head><style>p{{color:red}}</style></head><body>{body}</body></html>"


def test_hidden_preheader_and_styles_are_left_out():
    html = _page('<div style="display:none; font-size:1px">secret preview</div>'
                 '<h1>Hello</h1><p>Read <a href="https://x.example/a">the guide</a>.</p>')
    text = html_to_text(html)
    assert "secret preview" not in text and "color" not in text
    assert "Hello" in text
    assert "Read the guide (https://x.example/a)." in text


def test_image_only_links_vanish_and_a_link_alone_reads_label_colon_url():
    text = html_to_text(_page('<a href="https://x.example/p"><img src="a.png" alt="A"></a>'
                              '<p><a href="https://x.example/p">Mug &rarr;</a></p>'))
    assert text == "Mug: https://x.example/p\n"


def test_headings_are_underlined_and_skipped_parts_left_out():
    html = _page('<table><tr><td class="text-h1"><div>Welcome in</div></td></tr>'
                 '<tr><td class="text-h2"><div>Picked for you</div></td></tr>'
                 '<tr><td class="text-skip"><div><a href="https://x.example/nav">NAV</a></div></td></tr></table>')
    assert html_to_text(html) == "Welcome in\n==========\n\nPicked for you\n--------------\n"


def test_a_card_keeps_its_lines_together_and_gives_its_url_once():
    card = ('<div class="text-card"><table><tr><td><a href="jjph00001z"><img src="x"></a></td></tr>'
            '<tr><td><div><a href="jjph00002z">jjph00003z</a></div></td></tr>'
            '<tr><td><div>jjph00004z</div></td></tr>'
            '<tr><td><div><a href="jjph00005z">Shop now &rarr;</a></div></td></tr></table></div>')
    tags = ("{% for p in products %}", "{{ p.url }}", "{{ p.url }}", "{{ p.name }}", "{{ p.price }}",
            "{{ p.url }}", "{% endfor %}")
    html = _page(f"<table><tbody>jjph00000z<tr><td>{card}</td></tr>jjph00006z</tbody></table><p>End</p>")
    assert html_to_text(html, tags) == (
        "jjph00000zjjph00003z\njjph00004z\nShop now: jjph00005z\n\njjph00006zEnd\n")



def test_cards_in_different_sections_each_give_their_url():
    # Two loops over products, one card each, in sections of their own (the
    # product grid's full rows and its odd last row): each card's link keeps
    # its URL, though both links are the same {{ p.url }}.
    def section(n: int) -> str:
        card = (f'<div class="text-card"><table><tr><td><div><a href="jjph0000{n}z">Shop now</a></div></td></tr>'
                '</table></div>')
        return f"<div><table><tbody><tr><td>{card}</td></tr></tbody></table></div>"

    tags = ("{{ p.url }}", "{{ p.url }}")
    text = html_to_text(_page(section(0) + section(1)), tags)
    assert text == "Shop now: jjph00000z\n\nShop now: jjph00001z\n"

def test_a_row_of_links_gives_one_link_per_line():
    html = _page('<div><a href="https://x.example/u">Unsubscribe</a> &nbsp;·&nbsp; '
                 '<a href="https://x.example/p">Preferences</a></div>'
                 '<p>Write to <a href="mailto:hi@x.example">hi@x.example</a>.</p>')
    assert html_to_text(html) == ("Unsubscribe: https://x.example/u\nPreferences: https://x.example/p\n\n"
                                  "Write to hi@x.example.\n")


def test_paragraphs_wrap_at_78_columns_without_breaking_urls():
    words = "word " * 30
    url = "https://x.example/" + "a" * 90
    text = html_to_text(_page(f"<p>{words}<a href=\"{url}\">guide</a></p>"))
    lines = text.splitlines()
    assert all(len(line) <= 78 for line in lines if url not in line)
    assert f"guide\n({url})\n" in text, "the URL moves to its own line, whole"


def test_wrapping_counts_placeholders_by_what_they_hold_and_cjk_as_wide():
    def width(placeholder: str) -> int:
        return 0 if placeholder == "jjph00001z" else 40

    assert wrap_line("jjph00001z" + "x " * 38, width) == ("jjph00001z" + "x " * 38).rstrip()
    assert max(map(len, wrap_line("a " * 30 + "jjph00002z", width).split("\n"))) <= 78
    japanese = "ご購入いただいた商品はいかがですか。" * 6
    wrapped = wrap_line(japanese, width)
    assert all(display_width(line) <= 78 for line in wrapped.split("\n"))
    assert wrapped.replace("\n", "") == japanese
    assert not any(line.startswith("。") for line in wrapped.split("\n"))


def test_underline_matches_the_display_width():
    assert underline("Hi, さくら", "-") == "Hi, さくら\n" + "-" * 10


def test_tidy_collapses_blank_runs_and_trailing_spaces():
    assert tidy_text("a  \n\n\n\n b\n\n") == "a\n\n b\n"


def test_control_tags_alone_take_no_blank_line_so_rendering_needs_no_cleanup():
    from jinja2 import Environment

    source = "Intro\n\n{% for p in items %}\n\n{{ p }}\n\n{% endfor %}{% if more %}\n\nMore\n\n{% endif %}\n\nEnd\n"
    glued = glue_control_tags(source)
    assert glued == "Intro\n\n{% for p in items %}{{ p }}\n\n{% endfor %}{% if more %}More\n\n{% endif %}End\n"
    rendered = Environment(keep_trailing_newline=True).from_string(glued).render(items=["a", "b"], more=False)
    assert rendered == "Intro\n\na\n\nb\n\nEnd\n"
    inline = "Price {% if sale %}{{ a }}{% endif %}\n\nNext"
    assert glue_control_tags(inline) == inline


def test_data_text_writes_an_element_as_words():
    html = _page('<div>$48.00 <span class="was" data-text="(was {})">$60.00</span></div>')
    assert html_to_text(html) == "$48.00 (was $60.00)\n"
