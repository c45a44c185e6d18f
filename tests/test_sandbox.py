"""Hostile templates: the sandbox refuses escapes and runaway work, naming the file.

What the source shows is refused when the template compiles (``sandbox/guard.py``);
what depends on recipient data is refused at render time, as a TemplateError
for that recipient alone and a ``Failed`` record in a batch.
"""

from __future__ import annotations

import pickle
import re

import pytest
import yaml

from renderer import Engine, Failed, RenderedEmail, RenderRequest, TemplateError, render_many
from renderer.audience.segments import RuleSet
from renderer.content.fixtures import FIXTURE_NOW

PROFILE = {"id": "c1", "email": "ana@example.com", "first_name": "Ana"}


def hostile_engine(content_copy, body: str) -> Engine:
    """An engine whose template ``hostile`` has ``body`` in a text block."""
    template = {"subject": "Hello {{ FirstName }}", "blocks": ["header", {"block": "text", "params": {"body": body}},
                                                              "footer"]}
    (content_copy / "templates" / "hostile.yaml").write_text(yaml.safe_dump(template), encoding="utf-8")
    return Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")


COMPILE_TIME = {
    "class": ("{{ FirstName.__class__ }}", "'__class__' is not allowed"),
    "subclasses": ("{{ FirstName.__class__.__mro__[1].__subclasses__() }}", "'__subclasses__' is not allowed"),
    "item": ("{{ Attributes['__globals__'] }}", "'__globals__' is not allowed"),
    "attr_filter": ('{{ FirstName|attr("__class__") }}', "'__class__' is not allowed"),
    "attr_format": ('{{ ("{0.__class__}"|attr("format"))(FirstName) }}', "reaches '__class__'"),
    "format_call": ('{{ "{0.__class__}".format(FirstName) }}', "reaches '__class__'"),
    "stored_format": ('{% set f = "{0.__init__.__globals__}".format %}{{ f(FirstName) }}', "reaches '__init__'"),
    "huge_range": ("{{ range(10**9)|length }}", "range() of 1,000,000,000 items"),
    "nested_loops": ("{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}",
                     "may run 1,000,000 times"),
    "data_sized_loops": ("{% for i in range(Year) %}{% for j in range(Year) %}x{% endfor %}{% endfor %}",
                         "may run 10,000,000,000 times"),
    "recursive_macro": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "macro 'f' calls itself"),
    "huge_argument": ('{{ "x"|center(10**10) }}', "10,000,000,000 is too large"),
    "huge_width": ('{{ "%999999999s"|format(FirstName) }}', "width above 100,000"),
}


@pytest.mark.parametrize("case", COMPILE_TIME)
def test_escape_payloads_fail_at_compile_naming_the_files(content_copy, case):
    body, message = COMPILE_TIME[case]
    engine = hostile_engine(content_copy, body)
    with pytest.raises(TemplateError, match=re.escape(message)) as caught:
        engine.compiled("hostile")
    # Typed in the template's parameter: told there, with the block that prints it.
    assert caught.value.filename.endswith("templates/hostile.yaml") and caught.value.lineno == 5
    assert "parameter 'body' of block 'text'" in caught.value.message


def test_a_hostile_block_file_fails_while_its_parameters_are_filled(content_copy):
    block = content_copy / "blocks" / "text.mjml"
    block.write_text(block.read_text() + "\n<mj-raw>[[ ''.__class__.__mro__ ]]</mj-raw>\n")
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    with pytest.raises(TemplateError, match="'__mro__' is not allowed") as caught:
        engine.compiled("welcome")
    assert caught.value.filename.endswith("text.mjml") and caught.value.lineno


def test_a_hostile_segment_rule_fails_at_load_naming_rule_and_line():
    rules = "segments:\n  - name: sneaky\n    when: orders.__class__.__mro__\n"
    with pytest.raises(TemplateError, match=r"rules\.yaml:2: segment 'sneaky': '__mro__' is not allowed"):
        RuleSet.parse(rules, "rules.yaml")


def test_multiplying_in_a_rule_is_bounded_too():
    rules = RuleSet.parse("segments:\n  - name: big\n    when: (email * 100000000)|length > 3\n")
    profile = {"id": "c", "email": "a@example.com"}
    from renderer.base.models import Profile, parse

    assignment = rules.assign(parse(Profile, profile, what="profile"), FIXTURE_NOW)
    assert assignment.segments == [] and "'*' would build" in assignment.outcomes[0].note


RENDER_TIME = {
    "attr_from_data": ("{{ FirstName|attr(Attributes.name) }}", {"name": "__class__"},
                       "SecurityError: access to attribute '__class__'"),
    "format_from_data": ("{% set f = Attributes.fmt.format %}{{ f(FirstName) }}", {"fmt": "{0.__class__}"},
                         "SecurityError: access to attribute '__class__'"),
    "range_from_data": ("{{ range(Attributes.n)|length }}", {"n": 10**9},
                        "OverflowError: Range too big"),
    "repeat_from_data": ("{{ (FirstName * Attributes.n)|length }}", {"n": 10**9},
                         "SecurityError: '*' would build 3,000,000,000 items"),
    "power_from_data": ("{{ 2 ** Attributes.n }}", {"n": 10**6},
                        "SecurityError: '**' would build an integer of more than 4096 bits"),
    "mutation": ("{{ RecommendedProducts.append(1) }}", {},
                 "SecurityError: access to attribute 'append' of 'list' object is unsafe"),
    "dict_mutation": ("{{ Attributes.update(a=1) }}", {},
                      "SecurityError: access to attribute 'update' of 'dict' object is unsafe"),
    "self_application": ("{% macro a(f) %}{{ f(f) }}{% endmacro %}{{ a(a) }}", {},
                         "RecursionError: the template recursed too deep"),
}


@pytest.mark.parametrize("case", RENDER_TIME)
def test_data_driven_payloads_fail_at_render_naming_the_block_file(content_copy, case):
    body, attributes, message = RENDER_TIME[case]
    engine = hostile_engine(content_copy, body)
    engine.compiled("hostile")  # nothing in the source gives it away
    with pytest.raises(TemplateError) as caught:
        engine.render("hostile", profile=dict(PROFILE, attributes=attributes), now=FIXTURE_NOW)
    error = caught.value
    assert error.filename.endswith("text.mjml")
    assert "rendering the html of template 'hostile' for profile 'c1' failed" in error.message
    assert message in error.message
    assert pickle.loads(pickle.dumps(error)).message == error.message


def test_a_failing_recipient_is_one_failed_record_in_a_batch(content_copy):
    engine = hostile_engine(content_copy, "{{ range(Attributes.n)|length }} items")
    requests = [RenderRequest("hostile", dict(PROFILE, id=f"c{i}", attributes={"n": n}), now=FIXTURE_NOW)
                for i, n in enumerate([3, 10**9, 5])]
    results = list(render_many(requests, engine=engine))
    assert [type(r) for r in results] == [RenderedEmail, Failed, RenderedEmail]
    failed = results[1]
    assert failed.kind == "TemplateError" and failed.id == "c1"
    assert "text.mjml" in failed.error and "Range too big" in failed.error
    assert "3 items" in results[0].html and "5 items" in results[2].html


def test_a_single_loop_up_to_the_range_limit_still_renders(content_copy):
    engine = hostile_engine(content_copy, "{% for i in range(100000) %}{% endfor %}{{ range(5)|sum }}")
    assert ">10<" in engine.render("hostile", profile=PROFILE, now=FIXTURE_NOW).html.replace("\n", "").replace(" ", "")
