"""Experiments: the template section, deterministic assignment, forcing, holdouts, the split report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import islice

import pytest
from conftest import PROJECT_ROOT, fixture_request

from renderer import Engine
from renderer.audience.experiment_report import chi_square_p, split_audience
from renderer.audience.experiments import choose
from renderer.base.errors import InvalidInput, TemplateError
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.synthetic import generate_profiles

PROFILE = {"id": "c-1001", "email": "elena@example.com", "first_name": "Elena"}
CONTROL_HEADLINE, B_HEADLINE = "The slow season edit", "Settle in for winter"


@pytest.fixture(scope="module")
def audience_ids() -> list[str]:
    """100,000 generated recipients' ids."""
    return [profile["id"] for profile in generate_profiles(100_000, seed=7, now=FIXTURE_NOW)]


def _experiments(engine: Engine, template: str = "recommendations"):
    return engine.compiled(template).spec.experiments


def _write_template(root, name: str, text: str) -> None:
    (root / "templates" / f"{name}.yaml").write_text(text, encoding="utf-8")


# --- assignment -----------------------------------------------------------------------------------

def test_over_100000_recipients_each_variant_gets_its_weight(engine, audience_ids):
    assert len(set(audience_ids)) == len(audience_ids) == 100_000
    for split in split_audience(_experiments(engine), audience_ids):
        for name, count, share, expected in split.rows():
            assert abs(share - expected) < 0.01, (split.experiment.key, name, share, expected)
            assert count > 0
        statistic, dof, p = split.chi_square()
        assert p > 0.01, (split.experiment.key, statistic, dof)
    hero = next(s for s in split_audience(_experiments(engine), audience_ids) if s.experiment.key == "hero_test")
    assert set(hero.counts) == {"A", "B", "holdout"}


def test_uneven_weights_and_three_variants_split_as_weighted(content_copy, audience_ids):
    text = (PROJECT_ROOT / "templates" / "recommendations.yaml").read_text(encoding="utf-8")
    _write_template(content_copy, "recommendations", text.replace("variants: {A: 50, B: 50}",
                                                                  "variants: {A: 70, B: 20, C: 10}"))
    experiments = _experiments(Engine(content=content_copy))
    split = next(s for s in split_audience(experiments, audience_ids) if s.experiment.key == "hero_test")
    shares = {name: (share, expected) for name, _, share, expected in split.rows()}
    assert shares["C"][1] == pytest.approx(0.095)  # 10% of the 95% outside the holdout
    assert all(abs(share - expected) < 0.01 for share, expected in shares.values()), shares
    assert split.chi_square()[2] > 0.01


def test_a_split_off_its_weights_is_caught_by_the_chi_square(engine, audience_ids):
    hero = _experiments(engine)["hero_test"]
    split = split_audience({"hero_test": hero}, audience_ids[:20_000])[0]
    split.counts["A"] += 600  # as if 600 more recipients had landed on the control
    assert split.chi_square()[2] < 0.01


_CHILD = """
import json, sys
from renderer import Engine
from renderer.audience.experiments import choose
experiments = Engine().compiled("recommendations").spec.experiments
ids = json.loads(sys.stdin.read())
print(json.dumps({key: [choose(e, i) for i in ids] for key, e in experiments.items()}))
"""


def test_the_same_recipient_gets_the_same_variant_in_three_processes(engine, audience_ids):
    ids = audience_ids[:2000]
    here = {key: [choose(e, i) for i in ids] for key, e in _experiments(engine).items()}
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    answers = []
    for seed in ("1", "2", "random"):  # string hashing differs per process: the assignment must not
        done = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(ids), capture_output=True,
                              text=True, env=dict(env, PYTHONHASHSEED=seed),
                              cwd=PROJECT_ROOT, check=True)
        answers.append(json.loads(done.stdout))
    assert answers == [here, here, here]
    assert len(set(here["hero_test"])) == 3


def test_changing_one_experiments_weights_leaves_the_other_unchanged(engine, content_copy, audience_ids):
    before = _experiments(engine)
    text = (PROJECT_ROOT / "templates" / "recommendations.yaml").read_text(encoding="utf-8")
    changed = text.replace("variants: {A: 50, B: 50}\n    holdout: 0.05",
                           "variants: {A: 30, B: 30, C: 40}\n    holdout: 0.2")
    assert changed != text
    _write_template(content_copy, "recommendations", changed)
    after = _experiments(Engine(content=content_copy))
    assert after["hero_test"].variants == ("A", "B", "C")
    moved = sum(choose(before["hero_test"], i) != choose(after["hero_test"], i) for i in audience_ids)
    assert moved > 10_000  # the changed experiment did reshuffle
    assert all(choose(before["subject_test"], i) == choose(after["subject_test"], i) for i in audience_ids)


def test_a_new_salt_reshuffles_its_experiment(engine, content_copy, audience_ids):
    text = (PROJECT_ROOT / "templates" / "recommendations.yaml").read_text(encoding="utf-8")
    _write_template(content_copy, "recommendations",
                    text.replace("    holdout: 0.05\n", "    holdout: 0.05\n    salt: second-run\n"))
    before, after = _experiments(engine)["hero_test"], _experiments(Engine(content=content_copy))["hero_test"]
    ids = audience_ids[:10_000]
    assert sum(choose(before, i) != choose(after, i) for i in ids) > 3000


# --- rendering ------------------------------------------------------------------------------------

def test_every_render_of_a_recipient_shows_its_variant(engine):
    first = engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW)
    again = Engine().render("recommendations", profile=PROFILE, now=FIXTURE_NOW)
    assert first.variants == again.variants and first.html == again.html
    assert set(first.variants) == {"hero_test", "subject_test"}
    assert [v.experiment for v in first.trace.variants] == ["hero_test", "subject_test"]
    assert all(0 <= v.position < 1 for v in first.trace.variants)


def test_a_forced_variant_is_rendered_and_reported(engine):
    email = engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW,
                          force_variants={"hero_test": "B", "subject_test": "winter"})
    assert email.variants == {"hero_test": "B", "subject_test": "winter"}
    assert B_HEADLINE in email.html and CONTROL_HEADLINE not in email.html
    assert B_HEADLINE in email.text and "Settle in for winter\n====================\n" in email.text
    assert email.subject == "Elena, your winter picks are in"
    assert email.headers["X-Variant"] == "hero_test=B; subject_test=winter"
    assert [tuple(v) for v in email.trace.variants] == [("hero_test", "B", None), ("subject_test", "winter", None)]
    control = engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW,
                            force_variants={"hero_test": "A", "subject_test": "picks"})
    assert CONTROL_HEADLINE in control.html and B_HEADLINE not in control.html
    assert control.subject == "Elena, a few things we think you'll like"
    assert email.to_dict()["variants"] == email.variants


def test_a_holdout_gets_the_control_content_and_is_flagged(engine):
    held = engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW,
                         force_variants={"hero_test": "holdout", "subject_test": "picks"})
    control = engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW,
                            force_variants={"hero_test": "A", "subject_test": "picks"})
    assert held.variants["hero_test"] == "holdout"
    assert held.headers["X-Variant"] == "hero_test=holdout; subject_test=picks"
    assert held.html == control.html and held.text == control.text and held.subject == control.subject


def test_a_recipient_can_land_in_the_holdout_by_hash(engine, audience_ids):
    hero = _experiments(engine)["hero_test"]
    held = next(i for i in audience_ids if choose(hero, i) == "holdout")
    email = engine.render("recommendations", profile=dict(PROFILE, id=held), now=FIXTURE_NOW)
    assert email.variants["hero_test"] == "holdout" and CONTROL_HEADLINE in email.html


def test_an_unknown_variant_or_experiment_in_force_variants_is_a_clear_error(engine):
    with pytest.raises(InvalidInput) as caught:
        engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW,
                      force_variants={"hero_test": "b", "subjct_test": "winter"})
    problems = {error["loc"]: error for error in caught.value.errors()}
    assert problems[("force_variants", "hero_test")]["type"] == "unknown_variant"
    assert "did you mean B?" in problems[("force_variants", "hero_test")]["msg"]
    assert "its variants: A, B, holdout" in problems[("force_variants", "hero_test")]["msg"]
    assert problems[("force_variants", "subjct_test")]["type"] == "unknown_experiment"
    assert "did you mean subject_test?" in problems[("force_variants", "subjct_test")]["msg"]
    with pytest.raises(InvalidInput, match="force_variants"):
        engine.render("welcome", profile=PROFILE, now=FIXTURE_NOW, force_variants={"hero_test": "B"})
    with pytest.raises(InvalidInput, match="mapping"):
        engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW, force_variants=["B"])


def test_a_template_without_experiments_reports_none(engine):
    email = engine.render("welcome", profile=PROFILE, now=FIXTURE_NOW)
    assert email.variants == {} and "X-Variant" not in email.headers and email.trace.variants == []


@pytest.mark.parametrize("forced", [{"hero_test": "A"}, {"hero_test": "B"}, {"hero_test": "holdout"}])
@pytest.mark.parametrize("profile", ["frequent_high_spender", "locale_he"])
def test_fast_and_reference_bodies_match_for_every_variant(engine, forced, profile):
    from test_equivalence import (
        canonical_body as _body,  # the DOM comparison of every template x fixture
    )

    request = fixture_request(engine, "recommendations", profile)
    fast = engine.render("recommendations", **request, force_variants=forced)
    reference = engine.render_reference("recommendations", **request, force_variants=forced)
    assert _body(fast.html) == _body(reference)


# --- the template section -------------------------------------------------------------------------

_BASE = """\
subject: {subject}
experiments:
{experiments}
blocks:
{blocks}
  - block: footer
"""


def _spec(content_copy, *, experiments="  t:\n    variants: {A: 1, B: 1}", subject="Hi",
          blocks="  - block: header"):
    _write_template(content_copy, "probe", _BASE.format(subject=subject, experiments=experiments, blocks=blocks))
    return Engine(content=content_copy)


@pytest.mark.parametrize("experiments,message,line", [
    ("  t:\n    variants: {A: 1}", "two or more variants", 3),
    ("  t:\n    variants: {A: 1, B: -2}", "weight of B is -2", 3),
    ("  t:\n    variants: {A: 1, B: 1}\n    control: C", "control 'C' is not one of its variants", 3),
    ("  t:\n    variants: {A: 1, B: 1}\n    holdout: 1.5", "holdout is 1.5", 3),
    ("  t:\n    varients: {A: 1, B: 1}", "did you mean variants?", 3),
    ("  T-1:\n    variants: {A: 1, B: 1}", "experiment name 'T-1'", 3),
    ("  t:\n    variants: {A: 1, holdout: 1}", "not 'holdout'", 3),
])
def test_a_malformed_experiment_names_the_file_and_line(content_copy, experiments, message, line):
    engine = _spec(content_copy, experiments=experiments)
    with pytest.raises(TemplateError) as caught:
        engine.compiled("probe")
    assert message in caught.value.message
    assert caught.value.filename.endswith("probe.yaml") and caught.value.lineno == line


@pytest.mark.parametrize("subject,blocks,message", [
    ("{A: Hi, C: Yo}", "  - block: header", "no experiment has a variant .C."),
    ("{B: Yo}", "  - block: header", "the control variant A of experiment t needs a value"),
    ("Hi", "  - block: header\n    variant: Z", "no experiment has a variant 'Z'"),
    ("Hi", "  - block: text\n    params: {heading: {A: a, B: b}, body: {A: x, B: y, experiment: u}}",
     "unknown experiment 'u'"),
])
def test_an_unknown_variant_in_the_template_is_refused(content_copy, subject, blocks, message):
    engine = _spec(content_copy, subject=subject, blocks=blocks)
    with pytest.raises(TemplateError, match=message):
        engine.compiled("probe")


def test_a_mapping_two_experiments_could_own_needs_its_experiment(content_copy):
    two = "  t:\n    variants: {A: 1, B: 1}\n  u:\n    variants: {A: 1, B: 1}"
    with pytest.raises(TemplateError, match="could belong to experiments t, u; add experiment: NAME"):
        _spec(content_copy, experiments=two, subject="{A: Hi, B: Yo}").compiled("probe")
    engine = _spec(content_copy, experiments=two, subject="{A: Hi, B: Yo, experiment: u}")
    assert engine.render("probe", profile=PROFILE, force_variants={"u": "B"}).subject == "Yo"
    assert engine.render("probe", profile=PROFILE, force_variants={"u": "A", "t": "B"}).subject == "Hi"


_VARIANT_BLOCKS = """\
  - block: header
  - block: text
    variant: B
    params: {heading: Only for B, body: "<p>See <a href='https://fernhill.example/b'>this</a></p>"}
  - block: hero
    params:
      image: https://cdn.fernhill.example/hero/newsletter.png
      image_alt: Shelves
      headline: {A: Headline A, B: Headline B}
      body: Words
      button_label: {A: Look, B: Look now}
      button_url: {A: "https://fernhill.example/a", B: "https://fernhill.example/b2"}"""


@pytest.mark.parametrize("utm", [False, True])
def test_variant_blocks_and_parameters_render_per_variant_on_both_paths(content_copy, utm):
    from test_equivalence import canonical_body as _body

    experiments = f"  t:\n    variants: {{A: 1, B: 1}}\n    utm: {'true' if utm else 'false'}"
    engine = _spec(content_copy, experiments=experiments, blocks=_VARIANT_BLOCKS)
    emails = {name: engine.render("probe", profile=PROFILE, force_variants={"t": name}, now=FIXTURE_NOW)
              for name in ("A", "B", "holdout")}
    assert "Only for B" in emails["B"].html and "Only for B" not in emails["A"].html
    assert "Headline B" in emails["B"].html and "Headline A" not in emails["B"].html
    assert "Headline A" in emails["A"].html and "fernhill.example/a?" in emails["A"].html
    assert "fernhill.example/b2?" in emails["B"].html and "fernhill.example/b2" not in emails["A"].html
    assert emails["holdout"].html == emails["A"].html
    assert emails["B"].blocks == ["header", "text", "hero", "footer"]
    assert emails["A"].blocks == ["header", "hero", "footer"]
    if utm:  # clicks say which variant they came from
        assert "utm_content=t-B" in emails["B"].html and "utm_content=t-A" not in emails["B"].html
        assert "utm_content=t-A" in emails["A"].html and "utm_content=hero" not in emails["A"].html
    else:
        assert "utm_content=t-" not in emails["A"].html + emails["B"].html
        assert "utm_content=hero" in emails["B"].html
    for name, email in emails.items():
        reference = engine.render_reference("probe", profile=PROFILE, force_variants={"t": name}, now=FIXTURE_NOW)
        assert _body(email.html) == _body(reference), name


def test_a_holdout_is_shown_the_blocks_of_the_control_and_only_those(content_copy):
    blocks = """  - block: header
  - block: text
    variant: A
    params: {heading: Only for the control, body: "<p>A</p>"}
  - block: text
    variant: [B, C]
    params: {heading: Only for the others, body: "<p>B or C</p>"}
  - block: text
    variant: [A, C]
    params: {heading: For the control and C, body: "<p>A or C</p>"}"""
    engine = _spec(content_copy, experiments="  t:\n    variants: {A: 1, B: 1, C: 1}\n    holdout: 0.1",
                   blocks=blocks)
    shown = {name: engine.render("probe", profile=PROFILE, force_variants={"t": name}, now=FIXTURE_NOW).html
             for name in ("A", "B", "C", "holdout")}
    assert shown["holdout"] == shown["A"]
    assert "Only for the control" in shown["A"] and "Only for the others" not in shown["A"]
    assert "For the control and C" in shown["A"] and "For the control and C" in shown["C"]
    assert "Only for the control" not in shown["B"] + shown["C"] and "Only for the others" in shown["C"]
    assert "For the control and C" not in shown["B"]


def test_the_variant_header_can_be_renamed_or_left_out(content_copy):
    brand = content_copy / "blocks" / "brand.yaml"
    original = brand.read_text(encoding="utf-8")
    brand.write_text(original + "\nexperiment_header: X-Fernhill-Test\n", encoding="utf-8")
    email = Engine(content=content_copy).render("recommendations", profile=PROFILE, now=FIXTURE_NOW)
    assert "X-Variant" not in email.headers and email.headers["X-Fernhill-Test"].startswith("hero_test=")
    brand.write_text(original + "\nexperiment_header: false\n", encoding="utf-8")
    email = Engine(content=content_copy).render("recommendations", profile=PROFILE, now=FIXTURE_NOW)
    assert not [name for name in email.headers if name.startswith("X-")] and email.variants


# --- batches, the CLI and the p-value ----------------------------------------------------------------

def test_batch_results_carry_the_variants(engine):
    from renderer import render_many

    requests = [{"template": "recommendations", "profile": dict(PROFILE, id=f"c{i}"), "now": FIXTURE_NOW}
                for i in range(6)]
    requests.append(dict(requests[0], id="qa", force_variants={"hero_test": "B"}))
    results = list(render_many(requests, engine=engine, workers=2))
    assert [r.variants for r in results[:6]] == [engine.render(**r).variants for r in requests[:6]]
    assert results[6].variants["hero_test"] == "B"


def test_batch_records_carry_the_variants(tmp_path, engine):
    from renderer.cli.main import main

    lines = [dict(PROFILE, id=f"c{i}") for i in range(3)] + [{"profile": PROFILE, "id": "qa",
                                                             "force_variants": {"hero_test": "holdout"}}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["batch", "recommendations", "--profiles", str(source), "--out", str(out), "--now",
                 FIXTURE_NOW.isoformat()]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["variants"] for r in records[:3]] == [
        engine.render("recommendations", profile=line, now=FIXTURE_NOW).variants for line in lines[:3]]
    assert records[3]["variants"]["hero_test"] == "holdout" and records[3]["headers"]["X-Variant"]


def test_experiments_report_prints_the_split(tmp_path, capsys, engine):
    from renderer.cli.main import main
    from renderer.devtools.synthetic import write_jsonl

    audience = tmp_path / "audience.jsonl"
    write_jsonl(islice(generate_profiles(2000, seed=3, now=FIXTURE_NOW), 2000), audience)
    with audience.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    assert main(["experiments", "report", str(audience), "--template", "recommendations"]) == 0
    out = capsys.readouterr()
    ids = [json.loads(line)["id"] for line in audience.read_text(encoding="utf-8").splitlines()[:2000]]
    hero = split_audience(_experiments(engine), ids)[0]
    assert f"{hero.counts['B']:,}" in out.out and "holdout" in out.out and "A (control)" in out.out
    assert "chi-square" in out.out and "2,000 recipients placed in 2 experiments" in out.out
    assert "1 invalid lines" in out.out
    assert main(["experiments", "report", str(audience), "--template", "welcome"]) != 0
    assert "declares no experiments" in capsys.readouterr().err


@pytest.mark.parametrize("statistic,dof", [(0.5, 1), (3.84, 1), (6.63, 1), (3.35, 2), (20.0, 3), (1.0, 7),
                                           (50.0, 7), (200.0, 2)])
def test_the_chi_square_p_value_matches_scipy(statistic, dof):
    stats = pytest.importorskip("scipy.stats")
    assert chi_square_p(statistic, dof) == pytest.approx(float(stats.chi2.sf(statistic, dof)), rel=1e-9, abs=1e-15)


def test_the_chi_square_p_value_without_scipy():
    # Known values: the 5% and 1% critical values of one degree of freedom.
    assert chi_square_p(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-9)
    assert chi_square_p(6.6348966010212145, 1) == pytest.approx(0.01, rel=1e-9)
    assert chi_square_p(0.0, 2) == 1.0
    assert chi_square_p(2 * 1.0, 2) == pytest.approx(2.718281828459045 ** -1.0)  # dof 2: exp(-x/2)


# --- renderer check -------------------------------------------------------------------------------

LOPSIDED = """\
subject: "Hi {{ FirstName }}"
preheader: "A preheader long enough to fill the inbox preview line, and then some."
experiments:
  rare_test:
    variants: {A: 1000000, B: 1}
blocks:
  - block: header
  - block: text
    variant: B
    params:
      heading: Only B sees this
      body: "<p>Read <a href=\\"http://fernhill.example/insecure-b\\">the guide</a>.</p>"
  - block: footer
"""


def test_check_renders_every_variant_and_warns_of_one_no_fixture_lands_in(tmp_path):
    import shutil

    from renderer.api import check

    for folder in ("templates", "blocks", "locales", "fixtures"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    shutil.copy(PROJECT_ROOT / "segments.yaml", tmp_path / "segments.yaml")
    _write_template(tmp_path, "lopsided", LOPSIDED)
    report = check(["lopsided", "recommendations"], engine=Engine(content=tmp_path))
    unexercised = [f for f in report.findings if f.rule == "variant-unexercised"]
    assert [(f.template, f.line) for f in unexercised] == [("lopsided", 4)]
    assert "variant B of experiment rare_test" in unexercised[0].message
    # Variant B was still rendered for every fixture, and its bad link found.
    link = next(f for f in report.findings if f.rule == "link-scheme" and f.template == "lopsided")
    assert "insecure-b" in link.message and link.fixtures and all("[rare_test=B]" in f for f in link.fixtures)
    # The variant's block is shown (forced) and hidden (as assigned): no show-if warning for it.
    assert not [f for f in report.findings if f.rule == "show-if-unexercised" and f.template == "lopsided"]
    assert not [f for f in report.findings if f.template == "recommendations"]


def test_check_of_the_bundled_content_renders_each_variant(engine):
    from renderer.api import check

    with_variants = check(["recommendations"], engine=engine)
    fixtures = len([f for f in (PROJECT_ROOT / "fixtures" / "profiles").glob("*.json")])
    # Each fixture as assigned, then once in the other variant of each of the two experiments.
    assert with_variants.emails >= fixtures * 3 and with_variants.ok and not with_variants.warnings


def test_an_experiment_built_in_code_places_recipients_as_a_loaded_one(engine, audience_ids):
    from renderer.content.experiments import Experiment

    loaded = _experiments(engine)["hero_test"]
    built = Experiment("hero_test", ("A", "B"), (0.5, 0.5), "A", holdout=0.05)
    assert [choose(built, i) for i in audience_ids[:5000]] == [choose(loaded, i) for i in audience_ids[:5000]]


# Recipients' outcomes under the documented rule (XXH3-64): a faster assignment must place everyone where they are.
PINNED = {
    "c-1001": ("A", 0.08748317497088991, "picks", 0.47919001427907354),
    "c-1002": ("A", 0.28744140356392456, "picks", 0.25976007797383344),
    "customer-42": ("A", 0.43458412538622526, "winter", 0.5005808906697723),
    "c-36": ("holdout", 0.032416692755559175, "picks", 0.22104135721894538),
    "ünï-çødé": ("A", 0.10538278789161573, "picks", 0.14567141597355632),
    "c-7a3f": ("B", 0.6440948419891862, "picks", 0.28050201152014),
    "": ("B", 0.8647192719799875, "winter", 0.6683146065159433),
}
PINNED_THREE = {"c-0000": ("blue", 0.9542195921710476), "c-0001": ("green", 0.37438641436926495),
                "c-0003": ("red", 0.17058110060717122), "c-0022": ("holdout", 0.03561119986379846)}


def test_the_hash_is_xxh3_64_as_specified():
    """The hash library gives XXH3-64's reference value (seed 0, no input): another XXH3 elsewhere places alike."""
    from xxhash import xxh3_64_intdigest

    assert xxh3_64_intdigest(b"") == 0x2D06800538D394C2


@pytest.mark.parametrize("recipient", list(PINNED))
def test_pinned_recipients_keep_their_variants_and_places(engine, recipient):
    from renderer.audience.experiments import assign

    hero, hero_place, subject, subject_place = PINNED[recipient]
    outcomes, traces, label = assign(_experiments(engine), recipient)
    assert outcomes == {"hero_test": hero, "subject_test": subject}
    assert label == f"hero_test={hero}; subject_test={subject}"
    assert [(t.experiment, t.variant, t.position) for t in traces] == [
        ("hero_test", hero, hero_place), ("subject_test", subject, subject_place)]
    if recipient:  # a profile needs an id; the assignment takes any text
        email = engine.render("recommendations", profile=dict(PROFILE, id=recipient), now=FIXTURE_NOW)
        assert email.variants == outcomes
        assert [(t.variant, t.position) for t in email.trace.variants] == [(hero, hero_place), (subject, subject_place)]
        assert email.headers["X-Variant"] == f"hero_test={hero}; subject_test={subject}"


def test_pinned_recipients_of_a_salted_three_variant_experiment_with_a_holdout():
    from renderer.audience.experiments import assign
    from renderer.content.experiments import Experiment

    three = Experiment("three", ("red", "green", "blue"), (0.2, 0.3, 0.5), "green", holdout=0.1, salt="winter-2026")
    for recipient, (outcome, place) in PINNED_THREE.items():
        assert choose(three, recipient) == outcome
        assert assign({"three": three}, recipient)[1][0].position == place


def _by_the_written_rule(key: str, salt: str, names: list[str], weights: list[float], holdout: float,
                         recipient: str) -> str:
    """docs/experiments.md's rule, written out plainly: XXH3-64 of the UTF-8 bytes as a place in [0, 1)."""
    import xxhash

    place = int(xxhash.xxh3_64(f"{key}\x1f{salt}\x1f{recipient}".encode("utf-8")).hexdigest(), 16) / 2 ** 64
    if place < holdout:
        return "holdout"
    place = (place - holdout) / (1 - holdout) if holdout else place
    total, end = sum(weights), 0.0
    for name, weight in zip(names, weights):
        end += weight / total
        if place < end:
            return name
    return names[-1]


@pytest.mark.parametrize("names, weights, holdout, salt", [
    (["A", "B"], [50, 50], 0.05, ""),
    (["picks", "winter"], [50, 50], 0.0, ""),
    (["red", "green", "blue"], [1, 2, 7], 0.1, "winter-2026"),
    (["a", "b", "c", "d"], [3, 3, 3, 1], 0.25, "s"),
])
def test_assignment_follows_the_documented_rule(audience_ids, names, weights, holdout, salt):
    from renderer.audience.experiments import assign
    from renderer.content.experiments import Experiment

    total = float(sum(weights))
    experiment = Experiment("exp_x", tuple(names), tuple(w / total for w in weights), names[0], holdout=holdout,
                            salt=salt)
    ids = audience_ids[:20_000]
    got = [assign({"exp_x": experiment}, i)[0]["exp_x"] for i in ids]
    assert got == [_by_the_written_rule("exp_x", salt, names, weights, holdout, i) for i in ids]


@pytest.mark.parametrize("weights, holdout", [((0.5, 0.5), 0.05), ((0.5, 0.5), 0.0), ((0.1, 0.2, 0.7), 0.1),
                                              ((1 / 3, 1 / 3, 1 / 3), 0.25), ((0.999, 0.001), 0.3)])
def test_the_cut_points_give_the_rules_outcome_at_every_place(weights, holdout):
    import math
    import random

    from renderer.audience.experiments import variant_at
    from renderer.content.experiments import HOLDOUT, Experiment

    names = tuple("ABC"[: len(weights)])
    experiment = Experiment("exp_x", names, weights, "B", holdout=holdout)
    assert experiment.outcomes == ((HOLDOUT,) if holdout else ()) + names
    assert len(experiment.cuts) == len(experiment.outcomes) - 1
    # Around each cut point, at the ends of [0, 1) and at random places, the table says what the rule says.
    rng = random.Random(5)
    places = [0.0, math.nextafter(1.0, 0.0)] + [rng.random() for _ in range(2_000)]
    for cut in experiment.cuts:
        places += [math.nextafter(cut, 0.0), cut, math.nextafter(cut, 1.0)]
    for place in places:
        assert variant_at(experiment, place) == experiment.outcomes[experiment.slot_at(place)], place
    assert [variant_at(experiment, math.nextafter(cut, 0.0)) for cut in experiment.cuts] == \
        list(experiment.outcomes[:-1])
    assert [variant_at(experiment, cut) for cut in experiment.cuts] == list(experiment.outcomes[1:])


def test_an_experiment_changed_with_dataclasses_replace_places_by_its_new_weights_and_salt():
    """bounds and hash_prefix follow the fields they come from; a copy with other weights or salt must not keep the old."""
    from dataclasses import replace

    from renderer.content.experiments import Experiment

    first = Experiment("exp_x", ("A", "B"), (0.5, 0.5), "A")
    changed = replace(first, weights=(0.9, 0.1), salt="second-run")
    fresh = Experiment("exp_x", ("A", "B"), (0.9, 0.1), "A", salt="second-run")
    assert changed.bounds == fresh.bounds == (0.9, 1.0)
    assert changed.hash_prefix == fresh.hash_prefix == b"exp_x\x1fsecond-run\x1f"
    ids = [f"r{i}" for i in range(2000)]
    assert [choose(changed, i) for i in ids] == [choose(fresh, i) for i in ids]
