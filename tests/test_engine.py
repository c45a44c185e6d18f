from __future__ import annotations

import os
from html import unescape

import pytest

import renderer
from renderer import Engine, TemplateError, TemplateNotFound
from renderer.content.fixtures import FIXTURE_NOW

PROFILE = {"id": "c1", "email": "ana@example.com", "first_name": "Ana"}


def test_module_level_render_uses_the_bundled_content():
    email = renderer.render("welcome", profile=PROFILE, now=FIXTURE_NOW)
    assert email.subject == "Welcome to Fernhill, Ana"
    assert email.template == "welcome" and email.profile_id == "c1"
    assert "Ana" in email.html and "Ana" in email.text



@pytest.mark.parametrize("template", ["welcome", "recommendations", "abandoned_cart", "browse_abandonment"])
def test_models_validated_once_render_as_their_dicts(engine, fixtures, template):
    """A caller may validate a profile once and pass the models: the same email as from the dicts."""
    compiled = engine.compiled(template)
    for name in fixtures.profile_names():
        dicts = {"profile": fixtures.profile(name), "recommendations": fixtures.recommendations(name),
                 "event": fixtures.event(compiled.spec.event, name), "now": FIXTURE_NOW}
        profile, event, products = engine.validate(dicts["profile"], event=dicts["event"],
                                                   recommendations=dicts["recommendations"])
        assert isinstance(profile, renderer.Profile) and all(isinstance(p, renderer.Product) for p in products)
        models = dict(dicts, profile=profile, recommendations=products, event=event)
        try:
            expected = engine.render(template, **dicts)
        except renderer.RenderAborted as refusal:
            with pytest.raises(renderer.RenderAborted) as again:
                engine.render(template, **models)
            assert again.value.code == refusal.code
            continue
        got = engine.render(template, **models)
        assert (got.subject, got.preheader, got.html, got.text, got.warnings, got.blocks, got.segments) == \
            (expected.subject, expected.preheader, expected.html, expected.text, expected.warnings,
             expected.blocks, expected.segments)

def test_validate_names_every_bad_field_and_cuts_a_long_history_as_render_does():
    with pytest.raises(renderer.InvalidInput) as bad:
        renderer.validate({"id": "c1", "email": "nope", "orders": [{"id": "o", "total": -1}]},
                          recommendations=[{"id": "p"}])
    where = {problem.loc for problem in bad.value.problems}
    assert {"profile.email", "profile.orders.0.total", "profile.orders.0.placed_at",
            "recommendations.0.name"} <= where
    orders = [{"id": f"o{i}", "placed_at": f"2026-01-{1 + i % 28:02d}T00:00:00Z", "total": 1} for i in range(500)]
    profile, event, products = renderer.validate(dict(PROFILE, orders=orders))
    assert event is None and products is None
    assert len(profile.orders) == renderer.Limits().history and profile.order_count == 500
    email = renderer.render("welcome", profile=profile, now=FIXTURE_NOW)
    assert email.warnings == renderer.render("welcome", profile=dict(PROFILE, orders=orders), now=FIXTURE_NOW).warnings
    assert any("orders" in warning for warning in email.warnings)


def test_public_names_are_exported_and_nothing_private_leaks():
    assert set(renderer.__all__) <= set(dir(renderer))
    assert not [name for name in renderer.__all__ if name.startswith("_")]


def test_compiled_template_is_cached(engine):
    assert engine.compiled("welcome") is engine.compiled("welcome")


def test_edited_block_recompiles(content_copy):
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks",
                    reload_interval=0)
    before = engine.compiled("welcome")
    assert "© 2026 Fernhill" in unescape(engine.render("welcome", profile=PROFILE, now=FIXTURE_NOW).html)
    footer = content_copy / "blocks" / "footer.mjml"
    footer.write_text(footer.read_text().replace("&copy; {{ Year }}", "Since 2019, {{ Year }}"))
    os.utime(footer, ns=(1, os.stat(footer).st_mtime_ns + 10**9))
    after = engine.compiled("welcome")
    assert after is not before
    assert "Since 2019, 2026 Fernhill" in unescape(engine.render("welcome", profile=PROFILE, now=FIXTURE_NOW).html)


def test_broken_edit_fails_on_every_call_until_fixed(content_copy):
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks",
                    reload_interval=3600)
    engine.compiled("welcome")
    engine._cache[("welcome", "en")]._loaded.checked_at -= 7200  # as if the interval had passed
    hero = content_copy / "blocks" / "hero.mjml"
    original = hero.read_text()
    hero.write_text(original.replace("[% endif %]", "", 1))
    os.utime(hero, ns=(1, os.stat(hero).st_mtime_ns + 10**9))
    for _ in range(2):  # the second call comes well within reload_interval
        with pytest.raises(TemplateError, match="hero.mjml:25"):
            engine.compiled("welcome")
    hero.write_text(original)
    os.utime(hero, ns=(1, os.stat(hero).st_mtime_ns + 2 * 10**9))
    assert "Welcome in" in engine.render("welcome", profile=PROFILE, now=FIXTURE_NOW).html


def test_unknown_template_lists_the_available_ones(engine):
    with pytest.raises(TemplateNotFound, match="welcome"):
        engine.compiled("welcom")


def test_show_if_hides_a_block_and_reports_the_blocks_shown(engine):
    fhs = dict(PROFILE, segments=["frequent_high_spender"])
    vip = engine.render("recommendations", profile=fhs, now=FIXTURE_NOW)
    plain = engine.render("recommendations", profile=PROFILE, now=FIXTURE_NOW)
    assert "incentive" in vip.blocks and "incentive" not in plain.blocks
    assert "Early access" in vip.text and "Early access" not in plain.text
    assert "EARLY ACCESS" in vip.html and "EARLY ACCESS" not in plain.html


def test_empty_product_list_hides_the_grid(engine, fixtures):
    none = engine.render("welcome", profile=PROFILE, recommendations=[], now=FIXTURE_NOW)
    some = engine.render("welcome", profile=PROFILE, recommendations=fixtures.recommendations("default"),
                         now=FIXTURE_NOW)
    assert "product_grid" not in none.blocks and "product_grid" in some.blocks
    assert "Where most people start" not in none.html


def test_data_is_never_parsed_as_template(engine):
    hostile = dict(PROFILE, first_name="{{7*7}}{% raw %}<b>")
    email = engine.render("welcome", profile=hostile, now=FIXTURE_NOW)
    assert "49" not in email.subject and "{{7*7}}" in email.subject
    assert "{{7*7}}{% raw %}&lt;b&gt;" in email.html
    assert "<b>" not in email.html.split("<body", 1)[1]


def _copy_with(content_copy, relative, old, new):
    path = content_copy / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")


def test_unknown_token_fails_at_compile_naming_token_and_file(content_copy):
    engine = _copy_with(content_copy, "blocks/footer.mjml", "{{ Year }}", "{{ Yeer }}")
    with pytest.raises(TemplateError, match=r"footer\.mjml.*unknown token Yeer"):
        engine.compiled("welcome")


def test_jinja_syntax_error_names_block_file_and_line(content_copy):
    engine = _copy_with(content_copy, "blocks/footer.mjml", "{{ Year }}", "{{ Year }")
    with pytest.raises(TemplateError) as caught:
        engine.compiled("welcome")
    assert caught.value.filename.endswith("footer.mjml")
    lines = (content_copy / "blocks/footer.mjml").read_text().splitlines()
    assert "{{ Year }" in lines[caught.value.lineno - 1]


@pytest.mark.parametrize("path,old,new,template,error,message", [
    ("templates/welcome.yaml", "      count: 4", "      cuont: 4", "welcome", TemplateError,
     r"welcome\.yaml:\d+: block 'product_grid' has no parameter cuont"),
    ("templates/welcome.yaml", "      headline: 15% off your first order\n", "", "welcome", TemplateError,
     "needs parameter 'headline'"),
    ("templates/welcome.yaml", "      button_label: Use my code\n",
     "      button_label: Use my code\n      button_style: ghost\n", "welcome", TemplateError,
     r"welcome\.yaml:\d+: block 'incentive' parameter 'button_style' is 'ghost'; it takes one of: primary, secondary"),
    ("templates/welcome.yaml", "blocks:\n", "blocks: [\n", "welcome", TemplateError,
     r"welcome\.yaml:\d+: invalid YAML"),
    ("templates/welcome.yaml", "block: text", "block: txt", "welcome", TemplateNotFound, "unknown block 'txt'"),
    ("templates/recommendations.yaml", "show_if: \"'frequent_high_spender' in Segments\"",
     "show_if: \"Segments ==\"", "recommendations", TemplateError, r"recommendations\.yaml.*show_if"),
])
def test_a_broken_template_file_is_named_with_its_problem(content_copy, path, old, new, template, error, message):
    # Unknown or missing block parameter, a value not among its choices, bad YAML, unknown block, bad show_if.
    engine = _copy_with(content_copy, path, old, new)
    with pytest.raises(error, match=message):
        engine.compiled(template)


def test_engine_rejects_missing_folders(tmp_path):
    with pytest.raises(renderer.RendererError, match="templates_dir"):
        Engine(templates_dir=tmp_path / "nope", blocks_dir=tmp_path)


OPTED_OUT = dict(PROFILE, id="optout", consent={"email_marketing": False})


class CountingSource:
    """A recommendation source that counts its calls (consent must be refused before any fetch)."""

    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, profile, limit):
        self.calls += 1
        return []


def test_a_recipient_without_consent_gets_no_marketing_email_anywhere():
    source = CountingSource()
    engine = Engine(recommendations=source)
    with pytest.raises(renderer.RenderAborted) as aborted:
        engine.render("recommendations", profile=OPTED_OUT, now=FIXTURE_NOW)
    assert aborted.value.code == "no_consent" and source.calls == 0, "refused before any recommendation call"
    with pytest.raises(renderer.RenderAborted, match="no_consent"):
        renderer.render("welcome", profile=OPTED_OUT, now=FIXTURE_NOW)
    [skipped] = renderer.render_many([renderer.RenderRequest("welcome", OPTED_OUT, now=FIXTURE_NOW)], engine=engine)
    assert isinstance(skipped, renderer.Skipped) and skipped.code == "no_consent"


def test_transactional_mail_goes_out_whatever_the_consent():
    email = Engine().render("welcome", profile=OPTED_OUT, now=FIXTURE_NOW, transactional=True)
    assert email.subject
    [result] = renderer.render_many([renderer.RenderRequest("welcome", OPTED_OUT, now=FIXTURE_NOW)],
                                    transactional=True)
    assert isinstance(result, renderer.RenderedEmail)


def test_the_module_level_functions_take_exactly_the_engine_methods_parameters():
    import inspect

    for name in ("render", "render_event"):
        method = list(inspect.signature(getattr(Engine, name)).parameters.values())[1:]
        assert list(inspect.signature(getattr(renderer, name)).parameters.values()) == method, name
        assert getattr(renderer, name).__doc__ == getattr(Engine, name).__doc__
    assert "require_recommendations" in inspect.signature(renderer.render).parameters
    assert renderer.TriggerOutcome and renderer.Skip and "Skip" in renderer.__all__
