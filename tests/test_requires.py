"""A template's ``requires:``: no email without the data it is about, through every way in.

Also the copy lints that come with it (names), win_back without orders, and
the fixtures' clock of the CLI (the README's commands, run as written).
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import shlex
import shutil
from datetime import datetime, timezone
from pathlib import Path

import lxml.html
import pytest

from renderer import Engine, RenderAborted, RenderRequest, TemplateError, render_many
from renderer.base.errors import RequiredTokenEmpty
from renderer.batch.local import Failed, Skipped
from renderer.cli.args import clock_from_args
from renderer.cli.main import main
from renderer.content.fixtures import FIXTURE_NOW
from renderer.devtools.check import check_content
from tests.conftest import FIXTURES, PROJECT_ROOT

EVENTS = PROJECT_ROOT / "fixtures" / "events"
LIST_TEMPLATES = {"abandoned_cart": ("CartItems", "cart_items"), "browse_abandonment": ("ViewedProducts", "browse_items")}
"""Every bundled template with a required list: the token, and the block that shows it."""


def _copy(tmp_path: Path) -> Path:
    for folder in ("templates", "blocks", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    shutil.copy(PROJECT_ROOT / "segments.yaml", tmp_path / "segments.yaml")
    return tmp_path


def _write(root: Path, name: str, text: str) -> Path:
    path = root / "templates" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# --- the bundled templates ------------------------------------------------------------------

def test_the_bundled_list_templates_declare_their_list(engine):
    for template, (token, _) in LIST_TEMPLATES.items():
        required = {need.token: need.on_missing for need in engine.compiled(template).spec.requires}
        assert required.get(token) == "skip", template


@pytest.mark.parametrize("template", sorted(LIST_TEMPLATES))
def test_render_without_the_list_raises_the_abort(engine, template):
    token = LIST_TEMPLATES[template][0]
    for name in FIXTURES.profile_names():
        profile = FIXTURES.profile(name)
        if template == "browse_abandonment" and profile.get("browsing"):
            continue  # their own browsing fills ViewedProducts
        with pytest.raises(RenderAborted) as caught:
            engine.render(template, profile=profile, now=FIXTURE_NOW)
        assert caught.value.code == "required_token_empty" and token in caught.value.message, name
        assert isinstance(caught.value, RequiredTokenEmpty) and caught.value.token == token


def test_render_many_and_workers_skip_without_the_list(engine):
    cart = json.loads((EVENTS / "cart_abandoned.json").read_text())
    profiles = [FIXTURES.profile(name) for name in FIXTURES.profile_names()]
    requests = [RenderRequest("abandoned_cart", p, event=cart if i % 2 else None, now=FIXTURE_NOW)
                for i, p in enumerate(profiles)]
    for workers in (1, 2):
        results = list(render_many(requests, engine=engine, workers=workers))
        assert len(results) == len(requests)
        for i, result in enumerate(results):
            if i % 2:
                assert "cart_items" in result.blocks and "FH-1001" in result.html
            else:
                assert isinstance(result, Skipped) and result.code == "required_token_empty", (workers, i)


def test_the_error_survives_pickling():
    error = pickle.loads(pickle.dumps(RequiredTokenEmpty("CartItems", "abandoned_cart", "abort")))
    assert (error.code, error.token, error.template, error.on_missing) == \
        ("required_token_empty", "CartItems", "abandoned_cart", "abort")


@pytest.mark.parametrize("template", sorted(LIST_TEMPLATES))
def test_batch_over_generated_profiles_never_sends_without_the_list(tmp_path, capsys, template):
    token, block = LIST_TEMPLATES[template]
    audience, out = tmp_path / "audience.jsonl", tmp_path / "out.jsonl"
    assert main(["fixtures", "generate", "--count", "50", "--seed", "1", "--out", str(audience)]) == 0
    code = main(["batch", template, "--profiles", str(audience), "--out", str(out),
                 "--now", "2026-11-15T12:00:00Z"])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 50 and code == 0
    codes = {r.get("code") for r in records if r["status"] == "skipped"}
    assert "required_token_empty" in codes and codes <= {"required_token_empty", "no_consent"}
    for record in records:
        if record.get("code") == "required_token_empty":
            assert token in record["message"]
        elif record["status"] != "skipped":
            assert record["status"] == "rendered" and block in record["blocks"], record


def test_render_event_skips_a_browse_event_whose_products_are_all_sold_out(engine):
    sold_out = json.loads((EVENTS / "browse_abandoned_sold_out.json").read_text())
    outcome = engine.render_event(profile=FIXTURES.profile("new_customer"), event=sold_out, now=FIXTURE_NOW)
    assert not outcome.sent and outcome.skip.code == "required_token_empty"
    assert "ViewedProducts" in outcome.skip.message


def test_check_passes_the_bundled_content_and_skips_without_a_finding(engine):
    report = check_content(engine, sorted(LIST_TEMPLATES), FIXTURES)
    assert report.findings == [] and report.emails > 0


def test_check_warns_when_a_list_template_does_not_declare_its_list(tmp_path):
    root = _copy(tmp_path)
    path = root / "templates" / "abandoned_cart.yaml"
    path.write_text(path.read_text().replace("  - CartItems\n", ""))
    report = check_content(Engine(root), ["abandoned_cart"], FIXTURES)
    found = [f for f in report.findings if f.rule == "required-data"]
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == "warning" and finding.file == str(path)
    assert finding.line == _line(path, "- block: cart_items")
    assert "block 'cart_items' is hidden because CartItems is empty" in finding.message
    assert "requires: [CartItems]" in finding.message
    assert finding.fixtures == ("frequent_high_spender + events/cart_abandoned_empty.json",)


# --- on_missing -----------------------------------------------------------------------------

_PROBE = """\
subject: "Hello"
preheader: "A preheader long enough for the check to be content with it."
requires:
{requires}
blocks:
  - block: text
    params:
      heading: "Your cart"
      body: "<p>{{% for item in CartItems %}}{{{{ item.name }}}} {{% endfor %}}</p>"
  - block: text
    params:
      heading: "Your last order"
      body: "<p>{{{{ LastPurchaseProduct.name }}}}</p>"
  - block: footer
"""


def test_abort_fails_the_batch_record_and_is_raised_by_triggers(tmp_path):
    root = _copy(tmp_path)
    path = root / "templates" / "browse_abandonment.yaml"
    path.write_text(path.read_text().replace("  - ViewedProducts\n",
                                             "  - {token: ViewedProducts, on_missing: abort}\n"))
    engine = Engine(root)
    [result] = render_many([RenderRequest("browse_abandonment", FIXTURES.profile("minimal"), now=FIXTURE_NOW)],
                           engine=engine)
    assert isinstance(result, Failed) and result.kind == "RequiredTokenEmpty" and "ViewedProducts" in result.error
    sold_out = json.loads((EVENTS / "browse_abandoned_sold_out.json").read_text())
    with pytest.raises(RequiredTokenEmpty) as caught:
        engine.render_event(profile=FIXTURES.profile("minimal"), event=sold_out, now=FIXTURE_NOW)
    assert caught.value.on_missing == "abort"


def test_hide_block_hides_every_block_that_reads_the_token(tmp_path):
    root = _copy(tmp_path)
    _write(root, "probe", _PROBE.format(requires="  - {token: LastPurchaseProduct, on_missing: hide_block}\n"
                                                 "  - {token: CartItems, on_missing: hide_block}"))
    engine = Engine(root)
    cart = FIXTURES.event("cart_abandoned")
    nothing = engine.render("probe", profile=FIXTURES.profile("new_customer"), now=FIXTURE_NOW)
    assert nothing.blocks == ["footer"] and "Your cart" not in nothing.html and "Your last order" not in nothing.text
    both = engine.render("probe", profile=FIXTURES.profile("lapsed"), event=cart, now=FIXTURE_NOW)
    assert both.blocks == ["text", "text", "footer"] and "Your last order" in both.text


def test_hide_block_of_a_token_the_subject_reads_is_a_compile_error(tmp_path):
    root = _copy(tmp_path)
    path = _write(root, "probe", _PROBE.format(requires="  - {token: CartItems, on_missing: hide_block}")
                  .replace('subject: "Hello"', 'subject: "{{ CartItems | length }} items"'))
    with pytest.raises(TemplateError) as caught:
        Engine(root).compiled("probe")
    assert caught.value.filename == str(path) and caught.value.lineno == _line(path, "on_missing: hide_block")
    assert "subject or preheader reads it" in caught.value.message


@pytest.mark.parametrize("entry,message", [
    ("  - CartItem", "'requires' names unknown token 'CartItem'; did you mean CartItems?"),
    ("  - {token: ViewedProduct, on_missing: skip}", "did you mean ViewedProducts?"),
    ("  - {token: CartItems, on_missing: hide}", ("on_missing of CartItems is 'hide': it is one of skip, abort, "
                                                   "hide_block; did you mean hide_block?")),
    ("  - {token: CartItems, when: empty}", "each 'requires' entry is a token name or a mapping"),
    ("  - CartItems\n  - CartItems", "'requires' lists CartItems twice"),
])
def test_requires_is_validated_with_file_line_and_a_suggestion(tmp_path, entry, message):
    root = _copy(tmp_path)
    path = _write(root, "probe", _PROBE.format(requires=entry))
    with pytest.raises(TemplateError) as caught:
        Engine(root).compiled("probe")
    error = caught.value
    assert message in error.message and error.filename == str(path)
    assert error.lineno == _line(path, "requires:") + len(entry.splitlines())  # the (last) entry's line
    assert str(error).startswith(f"{path}:{error.lineno}: ")


def test_a_required_token_with_a_default_is_refused(tmp_path):
    root = _copy(tmp_path)
    path = _write(root, "probe", _PROBE.format(requires="  - CartItems") + "defaults:\n  CartItems: []\n")
    with pytest.raises(TemplateError, match="CartItems is required and has a default"):
        Engine(root).compiled("probe")
    assert path.exists()


# --- copy: names ----------------------------------------------------------------------------

OLD_README_EXAMPLE = """\
description: Tells a customer that something they viewed is back.
subject: "{{ FirstName }}, it's back"
preheader: "The piece you had your eye on is in stock again."
defaults:
  FirstName: there
blocks:
  - block: header
  - block: text
    params:
      heading: "Good news, {{ FirstName }}"
      body: "<p>It's back on the shelf, for now.</p>"
  - block: product_grid
    params: {source: ViewedProducts, heading: Back in stock, count: 2}
  - block: incentive
    show_if: "'frequent_high_spender' in Segments"
    params: {headline: "Free shipping for you", code: THANKYOU}
  - block: footer
"""
"""The README's back_in_stock example as it was: "there, it's back", and "It's back" with no product."""


def _readme_example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("Create `templates/back_in_stock.yaml`:", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)


def test_the_old_readme_example_gets_the_name_and_required_data_warnings(tmp_path):
    root = _copy(tmp_path)
    path = _write(root, "back_in_stock", OLD_README_EXAMPLE)
    report = check_content(Engine(root), ["back_in_stock"], FIXTURES)
    by_rule = {f.rule: f for f in report.findings}
    # untranslated: the example's copy is English only, and the fixtures include other languages.
    assert set(by_rule) == {"name-default", "name-greeting", "required-data", "untranslated"}
    default = by_rule["name-default"]
    assert (default.file, default.line, default.severity) == (str(path), 5, "warning")
    assert default.message == ("defaults: FirstName: 'there' greets a recipient without a name as 'there': set "
                               'FirstName: "" and write the copy with {% if FirstName %}...{% else %}...{% endif %}')
    greeting = by_rule["name-greeting"]
    assert (greeting.file, greeting.line) == (str(path), 2)  # the subject: the first line that prints it
    assert greeting.message.startswith("{{ FirstName }} is printed for a recipient without a name, whose email "
                                       "reads 'there' there")
    assert "minimal" in greeting.fixtures and "frequent_high_spender" not in greeting.fixtures
    hidden = by_rule["required-data"]
    assert (hidden.file, hidden.line) == (str(path), _line(path, "- block: product_grid"))
    assert "because ViewedProducts is empty" in hidden.message


def test_a_name_printed_without_a_default_is_a_greeting_warning_too(tmp_path):
    root = _copy(tmp_path)
    text = OLD_README_EXAMPLE.replace("  FirstName: there\n", '  FirstName: ""\n')
    path = _write(root, "back_in_stock", text)
    report = check_content(Engine(root), ["back_in_stock"], FIXTURES)
    [greeting] = [f for f in report.findings if f.rule == "name-greeting"]
    assert (greeting.file, greeting.line) == (str(path), 2)
    assert "reads nothing there" in greeting.message
    assert not [f for f in report.findings if f.rule == "name-default"]


def test_the_readme_example_as_written_now_passes_the_check(tmp_path):
    root = _copy(tmp_path)
    _write(root, "back_in_stock", _readme_example())
    report = check_content(Engine(root), ["back_in_stock"], FIXTURES)
    # Only the untranslated rule remains: the example's copy is English, and some fixtures are not.
    assert [f for f in report.findings if f.rule != "untranslated"] == [] and report.emails > 0
    assert {f.rule for f in report.findings} <= {"untranslated"}
    engine = Engine(root)
    minimal = FIXTURES.profile("minimal")
    with pytest.raises(RenderAborted, match="ViewedProducts"):
        engine.render("back_in_stock", profile=minimal, now=FIXTURE_NOW)
    browsed = dict(minimal, browsing=FIXTURES.profile("frequent_high_spender")["browsing"])
    email = engine.render("back_in_stock", profile=browsed, now=FIXTURE_NOW)
    assert email.subject == "It's back" and "Good news" in email.html and "Good news," not in email.html


# --- win_back without orders ----------------------------------------------------------------

def test_win_back_reads_right_without_orders(engine):
    for name in ("minimal", "new_customer"):
        email = engine.render("win_back", profile=FIXTURES.profile(name), now=FIXTURE_NOW)
        assert "Since then" not in email.html and "Since then" not in email.text
        assert "We've added new stoneware, softer linens and a few things for the trail.\n" in email.text
        assert "last_purchase" not in email.blocks
    lapsed = engine.render("win_back", profile=FIXTURES.profile("lapsed"), now=FIXTURE_NOW)
    assert "for the trail since your last order on Mar 7, 2026." in lxml.html.fromstring(lapsed.html).text_content()


# --- the fixtures' clock --------------------------------------------------------------------

def _readme_command(prefix: str) -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith(prefix))
    return shlex.split(line)[1:]


def test_the_readme_trigger_command_sends_as_written(monkeypatch, capsys):
    argv = _readme_command("renderer trigger fixtures/events/cart_abandoned.json")
    assert "--now" not in argv
    monkeypatch.chdir(PROJECT_ROOT)
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("send cart_abandoned -> abandoned_cart: 'Priya, your cart is waiting'"), out


def _args(**given):
    values = {"content": None, "templates": None, "blocks": None, "locales": None, "now": None}
    return argparse.Namespace(**(values | given))


def test_the_clock_is_the_fixtures_only_for_files_in_the_fixtures_folder(tmp_path):
    fixture = str(PROJECT_ROOT / "fixtures" / "profiles" / "new_customer.json")
    own = tmp_path / "p.json"
    shutil.copy(fixture, own)
    assert clock_from_args(_args(), str(own), fixture, None) == FIXTURE_NOW
    assert clock_from_args(_args(), str(own), None) is None  # the engine's default: the current time
    given = clock_from_args(_args(now="2030-01-02T03:04:05Z"), fixture)
    assert given == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    # Another content project: its own fixtures folder counts, the bundled one does not.
    other = tmp_path / "brand"
    (other / "fixtures" / "profiles").mkdir(parents=True)
    mine = other / "fixtures" / "profiles" / "p.json"
    shutil.copy(fixture, mine)
    assert clock_from_args(_args(content=str(other)), str(mine)) == FIXTURE_NOW
    assert clock_from_args(_args(content=str(other)), fixture) is None


def test_a_fixture_trigger_sends_with_a_relative_path_from_elsewhere(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(PROJECT_ROOT / "fixtures")
    assert main(["trigger", "events/cart_abandoned.json", "--profile", "profiles/new_customer.json"]) == 0
    assert capsys.readouterr().out.startswith("send ")
