from __future__ import annotations

from renderer.stages.text import html_to_text, tidy_text


def test_hidden_preheader_and_styles_are_left_out():
    html = ('<html><head><style>p{color:red}</style></head><body>'
            '<div style="display:none; font-size:1px">secret preview</div>'
            '<h1>Hello</h1><p>Read <a href="https://x.example/a">the guide</a>.</p></body></html>')
    text = html_to_text(html)
    assert "secret preview" not in text and "color" not in text
    assert "Hello" in text
    assert "the guide (https://x.example/a)" in text


def test_image_only_links_vanish():
    text = html_to_text('<html><body><a href="https://x.example/p"><img src="a.png" alt="A"></a>'
                        '<p><a href="https://x.example/p">Mug</a></p></body></html>')
    assert text.strip() == "Mug (https://x.example/p)"


def test_tidy_collapses_blank_runs_and_trailing_spaces():
    assert tidy_text("a  \n\n\n\n b\n\n") == "a\n\n b\n"


def test_control_tags_alone_take_no_blank_line_so_rendering_needs_no_cleanup():
    from jinja2 import Environment

    from renderer.stages.text import glue_control_tags

    source = "Intro\n\n{% for p in items %}\n\n{{ p }}\n\n{% endfor %}{% if more %}\n\nMore\n\n{% endif %}\n\nEnd\n"
    glued = glue_control_tags(source)
    assert glued == "Intro\n\n{% for p in items %}{{ p }}\n\n{% endfor %}{% if more %}More\n\n{% endif %}End\n"
    rendered = Environment(keep_trailing_newline=True).from_string(glued).render(items=["a", "b"], more=False)
    assert rendered == "Intro\n\na\n\nb\n\nEnd\n"
    inline = "Price {% if sale %}{{ a }}{% endif %}\n\nNext"
    assert glue_control_tags(inline) == inline
