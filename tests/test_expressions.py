"""Segment rules and show_if conditions as plain Python: the same verdicts and errors as Jinja's."""

from __future__ import annotations

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st

from renderer import Engine
from renderer.audience.segments import _ENV as RULES_ENV
from renderer.audience.segments import MISSING
from renderer.sandbox.environments import html_environment
from renderer.sandbox.expressions import ExpressionSet

HTML_ENV = html_environment()
EXPRESSIONS = [
    "rfm.frequency >= 6 and rfm.m_score >= 5 and rfm.recency_days <= 60",
    "order_count >= 1 and order_count <= 2 and rfm.recency_days > 90 and browsing | length > 0",
    "location.country == 'US' or location.country in ['CA', 'MX']",
    "not (days_since_signup <= 30) and churn_risk is none",
    "attributes.vip == true and attributes['tier'] not in ('gold',)",
    "attributes.items",  # a dict method in one sandbox, a key in another: left to Jinja
    "1 < order_count < 5",
    "browsing",
    "order_count + 1 > 2",  # arithmetic: left to Jinja
]

values = st.one_of(st.none(), st.booleans(), st.integers(-5, 400), st.floats(allow_nan=False, width=16),
                   st.text(max_size=3), st.just(MISSING), st.lists(st.integers(), max_size=2))


KEYS = ["frequency", "m_score", "recency_days", "country", "vip", "tier", "items"]


def contexts():
    """Contexts that have every name the expressions read (so that the Python path runs), and some that lack one."""
    full = st.fixed_dictionaries({key: values for key in KEYS})
    partial = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)
    nested = st.one_of(full, full, full, partial)
    names = {"rfm": st.one_of(nested, nested, nested, values), "location": nested, "attributes": nested,
             "order_count": values, "browsing": values, "days_since_signup": values, "churn_risk": values}
    return st.one_of(st.fixed_dictionaries(names), st.fixed_dictionaries({}, optional=names))


def jinja_verdicts(expressions: ExpressionSet, context: dict) -> list:
    return expressions._jinja(context)


def same(a: list, b: list) -> bool:
    """Verdicts alike: equal booleans, or exceptions of the same type and message."""
    return len(a) == len(b) and all(
        (type(x) is type(y) and str(x) == str(y)) if isinstance(x, BaseException) else x is y
        for x, y in zip(a, b))


def check_alike(environment, context):
    for expressions in [ExpressionSet(environment, EXPRESSIONS)] + [ExpressionSet(environment, [e])
                                                                    for e in EXPRESSIONS]:
        assert same(expressions.evaluate(context), jinja_verdicts(expressions, context)), expressions.expressions


@settings(max_examples=500, deadline=None)
@given(context=contexts())
def test_rule_verdicts_and_errors_are_jinjas(context):
    check_alike(RULES_ENV, context)


@settings(max_examples=200, deadline=None)
@given(context=contexts())
def test_condition_verdicts_are_jinjas_in_the_template_sandbox(context):
    check_alike(HTML_ENV, context)


def test_the_python_path_decides_when_the_data_is_plain():
    expressions = ExpressionSet(RULES_ENV, ["1 < order_count < 5", "rfm.recency_days <= 60"])
    expressions._jinja = None  # the Python verdicts alone: Jinja is not asked
    assert expressions.evaluate({"order_count": 1, "rfm": {"recency_days": 60}}) == [False, True]
    assert expressions.evaluate({"order_count": 4, "rfm": {"recency_days": 61}}) == [True, False]


def test_what_the_translation_does_not_cover_is_left_to_jinja():
    expressions = ExpressionSet(RULES_ENV, EXPRESSIONS)
    assert expressions.translated == len(EXPRESSIONS) - 2
    context = {"attributes": {"items": 3}, "order_count": 2}
    verdicts = expressions.evaluate(context)
    assert verdicts[5] is True and verdicts[8] is True
    assert same(verdicts, jinja_verdicts(expressions, context))


def test_missing_data_is_reported_as_jinja_reports_it():
    expressions = ExpressionSet(RULES_ENV, ["rfm.recency_days < 30", "order_count > 1"])
    verdicts = expressions.evaluate({"rfm": {"recency_days": None}, "order_count": 3})
    assert isinstance(verdicts[0], TypeError) and verdicts[1] is True
    undefined = expressions.evaluate({"order_count": 3})
    assert isinstance(undefined[0], jinja2.UndefinedError) and undefined[1] is True


def test_every_bundled_rule_and_condition_runs_as_python():
    engine = Engine(auto_reload=False)
    rules = engine.rules().tests
    assert rules.translated == len(rules) > 0
    for name in engine.template_names():
        conditions = engine.compiled(name).conditions
        assert conditions.translated == len(conditions), name
