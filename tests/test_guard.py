"""The compile-time sandbox checks accept ordinary templates (refusals: test_sandbox.py)."""

from __future__ import annotations

import pytest

from renderer.sandbox.environments import html_environment
from renderer.sandbox.guard import check_template

ORDINARY = [
    "{{ '{:,}'.format(Year) }} {{ '%.2f'|format(3.5) }} {{ Persona|attr('name') }}",
    "{% for row in RecommendedProducts[:4]|batch(2) %}{% for p in row[1:] %}{{ p.name }}{% endfor %}{% endfor %}",
    "{% for i in range(300) %}{% for j in range(300) %}.{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% endfor %}{{ 'ab' * 3 }}{{ 2 ** 10 }}",
    "{% if Features.rfm.monetary is gt 1000000000 %}big{% endif %}{{ Attributes['tier'] }}",
    "{% macro card(p) %}{{ p.name }}{% endmacro %}{% for p in CartItems %}{{ card(p) }}{% endfor %}",
]


@pytest.mark.parametrize("source", ORDINARY)
def test_ordinary_templates_pass(source):
    check_template(html_environment().parse(source), "ordinary.mjml")


def test_every_bundled_template_compiles(engine):
    for name in engine.template_names():
        assert engine.compiled(name).html
