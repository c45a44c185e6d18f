"""The work budget of a render (``sandbox/budget.py``, ``sandbox/bounded.py``).

Each attack here passes the compile-time guard, because its size arrives
through a variable, a macro or a built-in; before the budget each one hung
the compiler or the render, or built strings of gigabytes. Each is now
refused within a couple of seconds: per recipient at render time, or naming
the block file when it is compile-time ``[% %]`` code.
"""

from __future__ import annotations

import re
import time

import pytest
import yaml

from renderer import Engine, Failed, RenderedEmail, RenderRequest, TemplateError, render_many
from renderer.content.fixtures import FIXTURE_NOW
from renderer.sandbox.environments import html_environment

PROFILE = {"id": "c1", "email": "ana@example.com", "first_name": "Ana"}
REFUSED_WITHIN = 2.0
"""CPU seconds (a busy machine does not stretch them): a generous bound, each refusal takes milliseconds,
that a hang cannot meet."""


def hostile_engine(content_copy, body: str) -> Engine:
    """An engine whose template ``hostile`` has ``body`` in a text block."""
    template = {"subject": "Hello {{ FirstName }}", "blocks": ["header", {"block": "text", "params": {"body": body}},
                                                              "footer"]}
    (content_copy / "templates" / "hostile.yaml").write_text(yaml.safe_dump(template), encoding="utf-8")
    return Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")


STORED_RANGE = "{% set r = range(99999)|list %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}"
MACRO_LOOP = ("{% macro m() %}{% for j in range(99999) %}{% endfor %}{% endmacro %}"
              "{% for i in range(99999) %}{{ m() }}{% endfor %}")

RENDER_TIME = {
    "stored_range_in_nested_loops": (STORED_RANGE, "loops and macro calls ran more than 100,000 times"),
    "loop_in_a_macro_called_from_a_loop": (MACRO_LOOP, "loops and macro calls ran more than 100,000 times"),
    "lipsum": ("{{ lipsum(99999, false, 20, 100) }}", "could build 9,999,900 words; the limit is 100,000"),
    "set_number_in_center": ("{% set n = 999999999 %}{{ FirstName|center(n) }}",
                             "center() width of 999,999,999 is above the limit of 100,000"),
    "set_number_in_indent": ("{% set n = 999999999 %}{{ 'a\nb'|indent(n) }}",
                             "indent() width of 999,999,999 is above the limit of 100,000"),
    "set_number_in_percent_star": ("{% set n = 999999999 %}{{ '%*d'|format(n, 1) }}",
                                   "a '*' format width of 999,999,999 is above the limit of 100,000"),
    "set_number_in_brace_format": ("{% set n = 999999999 %}{{ ('{:>' ~ n ~ '}').format(FirstName) }}",
                                   "the format spec '>999999999' asks for a width or precision above 100,000"),
    "set_number_in_str_center": ("{% set n = 999999999 %}{{ FirstName.center(n) }}",
                                 "str.center() width of 999,999,999 is above the limit of 100,000"),
    "set_number_in_percent_operator": ("{% set n = 999999999 %}{{ '%*d' % (n, 1) }}",
                                       "a '*' format width of 999,999,999 is above the limit of 100,000"),
    "macro_calls_count_as_iterations": ("{% macro m() %}{% endmacro %}{% for i in range(60000) %}{{ m() }}{% endfor %}",
                                        "loops and macro calls ran more than 100,000 times"),
    "a_stored_list_summed_in_a_loop": ("{% set r = range(99999)|list %}{% for i in r %}{{ r|sum }}{% endfor %}",
                                       "walked or built more than 1,000,000 items"),
    "text_built_in_a_set_block": ("{% set s %}{% for i in range(99999) %}{{ FirstName|center(99999) }}{% endfor %}"
                                  "{% endset %}{{ s|length }}", "built more than 2,000,000 characters of text"),
    "doubling_with_tilde": ("{% set ns = namespace(s=FirstName * 30000) %}{% for i in range(40) %}"
                            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
                            "built more than 2,000,000 characters of text"),
    "output_of_a_long_loop": ("{% for i in range(30000) %}" + "abcdefghij" * 10 + "{% endfor %}",
                              "wrote more than 2,000,000 characters"),
}


@pytest.mark.parametrize("case", RENDER_TIME)
def test_sizes_from_variables_macros_and_builtins_fail_per_recipient(content_copy, case):
    body, message = RENDER_TIME[case]
    engine = hostile_engine(content_copy, body)
    engine.compiled("hostile")  # the literal guard sees nothing
    started = time.process_time()
    with pytest.raises(TemplateError) as caught:
        engine.render("hostile", profile=PROFILE, now=FIXTURE_NOW)
    assert time.process_time() - started < REFUSED_WITHIN
    error = caught.value
    assert error.filename.endswith("text.mjml")
    assert "rendering the html of template 'hostile' for profile 'c1' failed" in error.message
    assert "BudgetExceeded" in error.message and message in error.message


def test_xmlattr_refuses_a_profile_attribute_that_is_an_event_handler(content_copy):
    engine = hostile_engine(content_copy, "<p {{ Attributes|xmlattr }}>hi</p>")
    attributes = {"class": "vip", "onmouseover": "alert(1)"}
    with pytest.raises(TemplateError, match="xmlattr: 'onmouseover' is not an allowed attribute name") as caught:
        engine.render("hostile", profile=dict(PROFILE, attributes=attributes), now=FIXTURE_NOW)
    assert caught.value.filename.endswith("text.mjml")


def test_xmlattr_writes_allowed_names():
    source = "<p{{ {'class': 'vip', 'data-tier': 'gold', 'aria-label': 'x', 'title': none}|xmlattr }}>"
    assert html_environment().from_string(source).render() == '<p class="vip" data-tier="gold" aria-label="x">'


def test_a_budget_failure_is_one_failed_record_in_a_batch(content_copy):
    engine = hostile_engine(content_copy, "{% set r = range(Attributes.n)|list %}{% for i in r %}{% for j in r %}"
                                          "{% endfor %}{% endfor %}{{ Attributes.n }} rows")
    requests = [RenderRequest("hostile", dict(PROFILE, id=f"c{i}", attributes={"n": n}), now=FIXTURE_NOW)
                for i, n in enumerate([3, 99999, 5])]
    results = list(render_many(requests, engine=engine))
    assert [type(r) for r in results] == [RenderedEmail, Failed, RenderedEmail]
    assert results[1].kind == "TemplateError" and "loop budget" in results[1].error
    assert "3 rows" in results[0].html and "5 rows" in results[2].html


COMPILE_TIME = {
    "stored_range_in_nested_loops": (STORED_RANGE.replace("{%", "[%").replace("%}", "%]"),
                                     "loops and macro calls ran more than 100,000 times"),
    "loop_in_a_macro_called_from_a_loop": (
        MACRO_LOOP.replace("{%", "[%").replace("%}", "%]").replace("{{", "[[").replace("}}", "]]"),
        "loops and macro calls ran more than 100,000 times"),
    "lipsum": ("[[ lipsum(99999, false, 20, 100) ]]", "could build 9,999,900 words"),
    "set_number_in_center": ("[% set n = 999999999 %][[ 'x'|center(n) ]]", "center() width of 999,999,999"),
    "set_number_in_indent": ("[% set n = 999999999 %][[ 'a\nb'|indent(n) ]]", "indent() width of 999,999,999"),
    "set_number_in_percent_star": ("[% set n = 999999999 %][[ '%*d'|format(n, 1) ]]",
                                   "a '*' format width of 999,999,999"),
    "set_number_in_brace_format": ("[% set n = 999999999 %][[ ('{:>' ~ n ~ '}').format('x') ]]",
                                   "the format spec '>999999999'"),
    "xmlattr": ("<p[[ {'onmouseover': 'alert(1)'}|xmlattr ]]>", "'onmouseover' is not an allowed attribute name"),
}


@pytest.mark.parametrize("case", COMPILE_TIME)
def test_the_same_forms_in_block_code_fail_at_compile_naming_the_block(content_copy, case):
    code, message = COMPILE_TIME[case]
    block = content_copy / "blocks" / "text.mjml"
    block.write_text(block.read_text() + f"\n<mj-raw>{code}</mj-raw>\n")
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    started = time.process_time()
    with pytest.raises(TemplateError, match=re.escape(message)) as caught:
        engine.compiled("welcome")
    assert time.process_time() - started < REFUSED_WITHIN
    assert caught.value.filename.endswith("text.mjml")
    assert "BudgetExceeded" in caught.value.message


def test_a_hostile_subject_fails_at_compile_naming_the_template(content_copy):
    template = {"subject": "[% set n = 999999999 %][[ 'x'|center(n) ]]", "blocks": ["header", "footer"]}
    (content_copy / "templates" / "hostile.yaml").write_text(yaml.safe_dump(template), encoding="utf-8")
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    with pytest.raises(TemplateError, match="center\\(\\) width of 999,999,999") as caught:
        engine.compiled("hostile")
    assert caught.value.filename.endswith("hostile.yaml")


ORDINARY = {
    "a loop of 100,000 items": ("{% for i in range(100000) %}{% endfor %}done", "done"),
    "widths within the limit": ("{{ 'ab'|center(6) }}|{{ '%5.1f'|format(2.25) }}|{{ '{:>4}'.format('x') }}"
                                "|{{ 'a\nb'|indent(2) }}|{{ '%-3s' % 'x' }}|{{ 'x'.rjust(3) }}",
                                "  ab  |  2.2|   x|a\n  b|x  |  x"),
    "macros in loops": ("{% macro m(x) %}<{{ x }}>{% endmacro %}{% for i in range(3) %}{{ m(i) }}{% endfor %}",
                        "<0><1><2>"),
    "recursive loops": ("{% for x in [[1, [2]], [3]] recursive %}{% if x is iterable %}{{ loop(x) }}"
                        "{% else %}{{ x }}{% endif %}{% endfor %}", "123"),
    "filters over lists": ("{{ range(5)|sum }} {{ [3, 1, 2]|sort|join(',') }} {{ [1, 2, 3]|batch(2)|list|length }}",
                           "10 1,2,3 2"),
}


@pytest.mark.parametrize("case", ORDINARY)
def test_ordinary_work_fits_the_budget(case):
    source, expected = ORDINARY[case]
    assert html_environment().from_string(source).render() == expected


def test_each_render_has_its_own_budget():
    template = html_environment().from_string("{% for i in range(60000) %}{% endfor %}ok")
    assert [template.render() for _ in range(3)] == ["ok"] * 3
