"""The HTML environment's output escaping gives markupsafe's text, and templates render as stock Jinja does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import StrictUndefined, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from renderer.sandbox.environments import html_environment
from renderer.sandbox.escaping import escape_output


class _Html:
    def __html__(self) -> str:
        return "<b>trusted</b>"


class _Named(str):
    pass


VALUES = ["plain", "", "<script>&\"'</script>", "\u202e<\u0000>", Markup("<i>safe</i>"), _Named("<sub>"),
          _Html(), 3, -1.5, Decimal("12.50"), None, True, ["<", Markup("<i>")], {"k": "<v>"}]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_escape_output_is_markupsafe_escape_as_text(value):
    escaped = escape_output(value)
    assert escaped == escape(value)
    assert type(escaped) is str


@settings(max_examples=300, derandomize=True)
@given(st.text())
def test_escape_output_matches_markupsafe_for_any_text(text):
    assert escape_output(text) == str(escape(text))


def test_render_functions_escape_with_escape_output():
    source = html_environment().compile("{% macro m(x) %}{{ x }}{% endmacro %}{{ a }}{{ m(a) }}", raw=True)
    assert "escape = environment.escape_output" in source


TEMPLATES = [
    "{{ a }}{{ b }}{{ n }}{{ none }}{{ 1.5 }}{{ items }}{{ mapping }}",
    "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(a) }}{{ m(a)|upper }}{{ m(b)|length }}",
    "{% set s %}{{ a }}{% endset %}{{ s }}{{ s|length }}{{ s ~ a }}{{ (s ~ a)|length }}",
    "{% filter upper %}{{ a }}{{ b }}{% endfilter %}{% autoescape false %}{{ a }}{% endautoescape %}",
    "{{ a|e }}{{ a|safe }}{{ a|replace('<', '[') }}{{ '%s<'|format(a) }}{{ [a, b]|join(', ') }}",
    "{% for x in items %}{{ x }}{{ loop.index }}{% if not loop.last %}, {% endif %}{% endfor %}",
    "{% macro card() %}[{{ caller() }}]{% endmacro %}{% call card() %}{{ a }}{{ b }}{% endcall %}",
    "{{ a if n > 2 else b }}{{ (a ~ b) }}{{ mapping.k }}{{ mapping['k'] }}{{ a[:3] }}",
]


@pytest.mark.parametrize("source", TEMPLATES)
def test_html_environment_renders_as_stock_jinja(source):
    values = {"a": "<&\"'> Ana", "b": Markup("<b>bold</b>"), "n": 3, "items": ["<", Markup("<i>"), 3],
              "mapping": {"k": "<v>"}}
    stock = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    assert html_environment().from_string(source).render(**values) == stock.from_string(source).render(**values)


def test_an_undefined_value_still_fails_the_render():
    with pytest.raises(UndefinedError):
        html_environment().from_string("{{ missing }}").render()
