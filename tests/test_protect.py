from __future__ import annotations

import pytest

from renderer.base.errors import CompileError
from renderer.compile.inline import inline_css
from renderer.compile.protect import protect, restore


def test_round_trip_restores_every_tag():
    source = '<a href="{{ p.url }}">{% if x is gt 3 %}{{ p.name }}{% endif %}</a>{# note #}'
    protected = protect(source)
    assert "{{" not in protected.source and "{%" not in protected.source and "note" not in protected.source
    assert restore(protected.source, protected, stage="test") == source.replace("{# note #}", "")


def test_premailer_does_not_url_encode_protected_tags():
    source = '<html><head><style>a { color: red; }</style></head><body><a href="{{ url }}">x</a></body></html>'
    protected = protect(source)
    restored = restore(inline_css(protected.source), protected, stage="inline")
    assert 'href="{{ url }}"' in restored
    assert "color:red" in restored.replace(" ", "")


def test_dropped_tag_is_a_compile_error():
    protected = protect("<p>{% if a %}x{% endif %}</p>")
    broken = protected.source.replace("jjph00001z", "")
    with pytest.raises(CompileError, match="dropped the Jinja tag '{% endif %}'"):
        restore(broken, protected, stage="MJML")


def test_repeated_control_tag_is_an_error_but_repeated_expression_is_not():
    protected = protect("{% if a %}{{ Lang }}{% endif %}")
    doubled_expression = protected.source.replace("jjph00001z", "jjph00001z jjph00001z")
    assert restore(doubled_expression, protected, stage="t") == "{% if a %}{{ Lang }} {{ Lang }}{% endif %}"
    doubled_control = protected.source + "jjph00000z"
    with pytest.raises(CompileError, match="repeated 2 times"):
        restore(doubled_control, protected, stage="t")


def test_source_with_placeholder_lookalike_is_refused():
    with pytest.raises(CompileError):
        protect("jjph00001z")


@pytest.mark.parametrize("source,captures", [
    ("{% filter upper %}é{% endfilter %}", True),
    ("{% set word %}Grüße{% endset %}{{ word|length }}", True),
    ("{%- set word | trim -%} x {% endset %}", True),
    ("{% macro m() %}é{% endmacro %}{{ m()|upper }}", True),
    ("{% call m() %}é{% endcall %}", True),
    ("{% set total = price * 2 %}{{ total }}", False),
    ("{% if FirstName %}{{ FirstName|upper }}{% endif %}{# {% filter %} #}", False),
])
def test_tags_that_read_their_body_as_a_value_are_told_apart(source, captures):
    assert protect(source).captures_text() is captures
