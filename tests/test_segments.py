from __future__ import annotations

import pytest

from renderer import Engine, TemplateError
from renderer.audience.segments import RuleSet
from renderer.base.models import Profile, parse
from renderer.content.fixtures import FIXTURE_NOW

from conftest import PROJECT_ROOT
from profiles import make_profile

RULES = RuleSet.load(PROJECT_ROOT / "segments.yaml")


def segments_of(**kwargs) -> list[str]:
    return RULES.assign(make_profile(**kwargs), FIXTURE_NOW).segments


def test_bundled_rules_are_loaded_in_priority_order():
    assert RULES.names == ["frequent_high_spender", "valuable_at_risk", "at_risk", "new_customer", "us_recent_buyer",
                           "engaged_non_buyer", "occasional_browser"]


# --- boundaries of every bundled rule -------------------------------------------------

SIX_RECENT = [10, 40, 70, 100, 130, 160]


@pytest.mark.parametrize("orders,total,expected", [
    (SIX_RECENT, 1000 / 6, True),
    (SIX_RECENT[:5], 200, False),                  # five orders: not frequent enough
    (SIX_RECENT, 999.99 / 6, False),               # spend just under 1000
    ([60, 70, 80, 90, 100, 110], 200, True),       # last order exactly 60 days ago
    ([61, 70, 80, 90, 100, 110], 200, False),      # 61 days ago
])
def test_frequent_high_spender_boundaries(orders, total, expected):
    assert ("frequent_high_spender" in segments_of(orders=orders, total=total)) is expected


@pytest.mark.parametrize("orders,expected", [
    ([181, 250, 300], True),
    ([180, 250, 300], False),   # exactly 180 days is not yet "over 180"
    ([200, 300], False),        # only two orders
    ([], False),
])
def test_at_risk_boundaries(orders, expected):
    assert ("at_risk" in segments_of(orders=orders)) is expected


@pytest.mark.parametrize("signup_days,orders,expected", [
    (30, [], True), (31, [], False), (2, [1], True), (2, [1, 2], False), (None, [], False),
])
def test_new_customer_boundaries(signup_days, orders, expected):
    assert ("new_customer" in segments_of(signup_days=signup_days, orders=orders)) is expected


@pytest.mark.parametrize("days,country,expected", [
    (29, "US", True), (29.9, "US", True), (30, "US", False), (31, "US", False),
    (5, "us", True), (5, "CA", False), (5, None, False),
])
def test_us_recent_buyer_boundaries(days, country, expected):
    assert ("us_recent_buyer" in segments_of(orders=[days], country=country)) is expected


@pytest.mark.parametrize("orders,opens,clicks,expected", [
    ([], 3, 1, True), ([], 3, 0, False), ([], 0, 0, False), ([20], 3, 1, False),
])
def test_engaged_non_buyer_boundaries(orders, opens, clicks, expected):
    got = segments_of(orders=orders, received=5, opens=opens, clicks=clicks, last_open=2)
    assert ("engaged_non_buyer" in got) is expected


@pytest.mark.parametrize("orders,browsing,expected", [
    ([91], 2, True), ([90], 2, False), ([91, 300], 1, True), ([91, 200, 300], 1, False), ([91], 0, False),
])
def test_occasional_browser_boundaries(orders, browsing, expected):
    assert ("occasional_browser" in segments_of(orders=orders, browsing=browsing)) is expected


# --- missing data, priority, merging ------------------------------------------------------

def test_minimal_profile_matches_nothing_and_says_why():
    assignment = RULES.assign(parse(Profile, {"id": "m", "email": "m@example.com"}, what="p"), FIXTURE_NOW)
    assert assignment.segments == [] and assignment.primary is None
    notes = {o.segment: o.note for o in assignment.outcomes}
    assert notes["new_customer"] == "missing data: days_since_signup"
    assert notes["us_recent_buyer"] == "missing data: rfm.recency_days"


def test_primary_segment_is_the_highest_priority_match():
    segments = segments_of(orders=SIX_RECENT, total=200)
    assert segments == ["frequent_high_spender", "us_recent_buyer"]


def test_priority_order_comes_from_the_file_and_ties_keep_file_order():
    rules = RuleSet.parse("""
segments:
  - {name: b, priority: 5, when: "order_count >= 0"}
  - {name: a, priority: 1, when: "order_count >= 0"}
  - {name: c, priority: 5, when: "order_count >= 0"}
""")
    assert rules.assign(make_profile(), FIXTURE_NOW).segments == ["a", "b", "c"]


def test_explicit_segments_are_kept_and_merged():
    profile = make_profile(orders=[5], segments=["vip_list", "at_risk", "vip_list"])
    assignment = RULES.assign(profile, FIXTURE_NOW)
    assert assignment.segments == ["at_risk", "us_recent_buyer", "vip_list"]
    at_risk = next(o for o in assignment.outcomes if o.segment == "at_risk")
    assert at_risk.note == "set on the profile"


def test_every_fixture_lands_in_its_described_segments(fixtures):
    expected = {
        "frequent_high_spender": ["frequent_high_spender", "us_recent_buyer"],
        "new_customer": ["new_customer", "engaged_non_buyer"],
        "occasional_browser": ["occasional_browser"],
        "lapsed": ["at_risk"],
        "international": [],
        "minimal": [],
    }
    for name, segments in expected.items():
        profile = parse(Profile, fixtures.profile(name), what="profile")
        assert RULES.assign(profile, FIXTURE_NOW).segments == segments, name


# --- bad rules fail at load with name and line --------------------------------------------

@pytest.mark.parametrize("rules,message", [
    ("segments:\n  - name: a\n    when: order_count >=\n", r"<rules>:2: segment 'a': invalid expression"),
    ("segments:\n  - name: a\n    when: order_cnt > 1\n", r"<rules>:2: segment 'a': unknown field 'order_cnt'"),
    ("segments:\n  - name: a\n    when: rfm.recency > 1\n", r"unknown field 'rfm.recency'"),
    ("segments:\n  - name: a\n    when: location.county == 'US'\n", r"unknown field 'location.county'"),
    ("segments:\n  - {name: a, when: 'true'}\n  - {name: a, when: 'true'}\n",
     r"<rules>:3: segment 'a' is defined twice \(first at line 2\)"),
    ("segments:\n  - {name: a, when: 'true', priority: high}\n", r"priority must be a whole number"),
    ("segments:\n  - {name: a}\n", r"has no 'when'"),
    ("segments:\n  - {name: a, when: 'true', colour: red}\n", r"unknown keys \['colour'\]"),
    ("segments: [\n", r"invalid YAML"),
    ("features: {recency_days: [1, 2, 3, 4]}\nsegments: []\n", r"features: recency_days needs four descending"),
])
def test_bad_rules_fail_at_load(rules, message):
    with pytest.raises(TemplateError, match=message):
        RuleSet.parse(rules)


def test_attributes_are_free_form_and_missing_ones_do_not_match():
    rules = RuleSet.parse("segments:\n  - {name: gold, when: \"attributes.loyalty_tier == 'Gold'\"}\n")
    assert rules.assign(make_profile(attributes={"loyalty_tier": "Gold"}), FIXTURE_NOW).segments == ["gold"]
    assert rules.assign(make_profile(), FIXTURE_NOW).segments == []


# --- in the engine -------------------------------------------------------------------------

def test_trace_explains_rules_and_hidden_blocks(engine, fixtures):
    email = engine.render("recommendations", profile=fixtures.profile("new_customer"), now=FIXTURE_NOW)
    assert email.segments == ["new_customer", "engaged_non_buyer"]
    assert [r.segment for r in email.trace.rules if r.matched] == email.segments
    hidden = {(b.block, b.show_if) for b in email.trace.hidden}
    assert ("incentive", "'frequent_high_spender' in Segments") in hidden
    assert ("incentive", "PrimarySegment == 'at_risk'") in hidden
    assert "FIRST10" in email.html and "MISSYOU15" not in email.html


@pytest.mark.parametrize("fixture,code", [
    ("frequent_high_spender", "Shop early"), ("new_customer", "FIRST10"), ("lapsed", "MISSYOU15"),
])
def test_segment_specific_variants_reach_their_segment(engine, fixtures, fixture, code):
    others = {"Shop early", "FIRST10", "MISSYOU15"} - {code}
    email = engine.render("recommendations", profile=fixtures.profile(fixture), now=FIXTURE_NOW)
    assert code in email.html and code in email.text
    assert not [other for other in others if other in email.html]


def test_engine_takes_a_rules_file_and_reloads_it(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("segments:\n  - {name: everyone, when: 'true'}\n")
    engine = Engine(segments_file=rules, reload_interval=0)
    profile = {"id": "c", "email": "c@example.com"}
    assert engine.render("welcome", profile=profile, now=FIXTURE_NOW).segments == ["everyone"]
    rules.write_text("segments:\n  - {name: nobody, when: 'false'}\n  - {name: all, when: 'true'}\n")
    import os
    os.utime(rules, ns=(1, os.stat(rules).st_mtime_ns + 10**9))
    assert engine.render("welcome", profile=profile, now=FIXTURE_NOW).segments == ["all"]


def test_missing_values_compare_false_but_test_as_none():
    rules = RuleSet.parse("""
segments:
  - {name: never_bought, when: "rfm.recency_days is none"}
  - {name: lapsed_or_never, when: "not rfm.recency_days or rfm.recency_days > 365"}
  - {name: reversed_comparison, when: "30 > rfm.recency_days"}
  - {name: arithmetic, when: "rfm.recency_days + 1 > 2"}
""")
    assignment = rules.assign(make_profile(signup_days=None), FIXTURE_NOW)
    assert assignment.segments == ["never_bought", "lapsed_or_never"]
    notes = {o.segment: o.note for o in assignment.outcomes}
    assert notes["reversed_comparison"] == "missing data: rfm.recency_days"
    assert notes["arithmetic"] == "missing data"
    buyer = rules.assign(make_profile(orders=[10]), FIXTURE_NOW)
    assert buyer.segments == ["reversed_comparison", "arithmetic"]
