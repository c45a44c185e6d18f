"""What the preview renders, without a server: selections, outcomes, errors, checks."""

from __future__ import annotations

import pytest

from renderer import RenderedEmail, TemplateError, TemplateNotFound
from renderer.devtools.preview.checks import GMAIL_CLIP_BYTES, check_email
from renderer.devtools.preview.pages import error_view, humanize, person
from renderer.devtools.preview.project import CUSTOM, NONE, CustomProfiles, PreviewProject, Selection

from conftest import PROFILES, TEMPLATES, fixture_request
from preview_support import copy_content, edited


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> PreviewProject:
    return PreviewProject(copy_content(tmp_path_factory.mktemp("content")), reload_interval=0)


def test_gallery_renders_every_template_for_every_fixture(project):
    rows = project.gallery()
    assert [row.template for row in rows] == TEMPLATES
    for row in rows:
        assert row.error is None and row.description
        assert [p.selection.profile for p in row.previews] == PROFILES
        assert all(p.email is not None for p in row.previews), row.template
    assert {row.template: row.event for row in rows}["abandoned_cart"] == "cart_abandoned"


def test_a_ready_only_gallery_compiles_nothing_and_the_queue_fills_it_in_gallery_order(tmp_path):
    project = PreviewProject(copy_content(tmp_path))
    rows = project.gallery(ready_only=True)
    assert all(p.pending and p.email is None for row in rows for p in row.previews)
    assert [row.template for row in rows] == TEMPLATES and all(row.description for row in rows)
    queue = project.compile_queue()
    languages = sorted({project.engine.language_for(project.fixtures.profile(p).get("locale")) for p in PROFILES})
    assert queue[:len(languages)] == [(TEMPLATES[0], "en")] + [(TEMPLATES[0], lang) for lang in languages
                                                                  if lang != "en"]
    assert len(queue) == len(TEMPLATES) * len(languages) and not project.engine.is_compiled(TEMPLATES[0])
    project.compile(*queue[0])
    assert project.engine.is_compiled(*queue[0]) and queue[0] not in project.compile_queue()
    first = project.gallery(ready_only=True)[0]
    english = [p for p in first.previews if not p.pending]
    assert english and all(p.email is not None for p in english)
    assert {p.selection.profile for p in english} == {
        p for p in PROFILES if project.engine.language_for(project.fixtures.profile(p).get("locale")) == "en"}


def test_a_compile_error_is_kept_for_the_gallery_until_the_content_changes(tmp_path):
    project = PreviewProject(copy_content(tmp_path), reload_interval=0)
    with edited(project.paths.blocks / "hero.mjml", lambda text: text.replace("[% endif %]", "", 1)):
        for key in project.compile_queue():
            project.compile(*key)
        rows = {row.template: row for row in project.gallery(ready_only=True)}
        assert isinstance(rows["welcome"].error, TemplateError)
        assert rows["abandoned_cart"].error is None and not any(p.pending for p in rows["abandoned_cart"].previews)
        assert all(key[0] != "welcome" for key in project.compile_queue()), "a broken template is not retried"
    project.content_changed()
    assert ("welcome", "en") in project.compile_queue()
    project.compile("welcome", "en")
    assert project.gallery(ready_only=True)[TEMPLATES.index("welcome")].error is None


@pytest.mark.parametrize("selection", [
    Selection("nope", "new_customer"),
    Selection("../templates/welcome", "new_customer"),
    Selection("welcome", "../../pyproject"),
    Selection("welcome", "nobody"),
    Selection("welcome", CUSTOM + "0000000000"),
    Selection("welcome", "new_customer", "../profiles/lapsed"),
    Selection("abandoned_cart", "new_customer", event="../profiles/lapsed"),
    Selection("abandoned_cart", "new_customer", event="cart_abandoned_nope"),
])
def test_names_outside_the_content_are_refused(project, selection):
    with pytest.raises(TemplateNotFound):
        project.render(selection)


def test_recommendation_choices(project):
    own = project.render(Selection("welcome", "frequent_high_spender")).email
    none = project.render(Selection("welcome", "frequent_high_spender", NONE)).email
    default = project.render(Selection("welcome", "frequent_high_spender", "default")).email
    empty = project.render(Selection("welcome", "frequent_high_spender", "empty")).email
    assert own.html != default.html
    # No payload: the template's fallback (bestsellers not yet bought); an empty payload hides the grid.
    assert "product_grid" in own.blocks and "product_grid" in none.blocks and "Beeswax Taper" in none.html
    assert "product_grid" not in empty.blocks


def test_event_choices_and_what_the_trigger_would_do(project):
    assert project.event_names("cart_abandoned") == ["cart_abandoned", "cart_abandoned_empty",
                                                     "cart_abandoned_stale"]
    assert project.event_names("welcome") == []
    sent = project.render(Selection("abandoned_cart", "minimal"))
    assert sent.event == "cart_abandoned" and sent.trigger is None and "cart_items" in sent.email.blocks
    # The email is still shown when the trigger would skip it, with the skip rule that says so.
    stale = project.render(Selection("abandoned_cart", "minimal", event="cart_abandoned_stale"))
    assert stale.email is not None and stale.trigger.code == "event_too_old"
    # An empty cart: no email at all (abandoned_cart requires CartItems), and the trigger's own rule too.
    empty = project.render(Selection("abandoned_cart", "minimal", event="cart_abandoned_empty"))
    assert empty.email is None and empty.skipped.code == "required_token_empty"
    assert empty.trigger.code == "empty_cart"
    just_now = project.render(Selection("browse_abandonment", "minimal", event="browse_abandoned_just_now"))
    assert just_now.trigger.code == "event_too_recent"
    # A variant of another event (the template was switched in the picker) falls back to the template's own.
    switched = project.render(Selection("browse_abandonment", "minimal", event="cart_abandoned_stale"))
    assert switched.trigger is None and "ViewedProducts" not in switched.email.warnings
    assert switched.email.html == project.render(Selection("browse_abandonment", "minimal")).email.html
    # Templates without an event ignore the choice.
    assert project.render(Selection("welcome", "minimal", event="cart_abandoned_stale")).trigger is None
    assert Selection("abandoned_cart", "minimal", event="cart_abandoned_stale").query() == \
        "profile=minimal&event=cart_abandoned_stale"


def test_pasted_profiles_are_kept_by_content(project):
    name = project.custom.add('{"id": "p", "email": "p@example.com", "first_name": "Pat"}')
    assert name.startswith(CUSTOM) and project.custom.add(project.custom.get(name)) == name
    preview = project.render(Selection("welcome", name))
    assert preview.email.subject == "Welcome to Fernhill, Pat"
    assert "Pat" in preview.profile_text


def test_the_store_forgets_the_oldest_pasted_profiles():
    store = CustomProfiles(limit=2)
    first, second, third = (store.add(str(n)) for n in range(3))
    assert store.get(first) is None and store.get(second) == "1" and store.get(third) == "2"


def test_invalid_input_is_an_outcome_with_every_problem(project):
    name = project.custom.add('{"id": "", "email": "nope", "orders": [{"id": "o", "placed_at": "x", "total": 1}]}')
    preview = project.render(Selection("welcome", name))
    assert preview.email is None and preview.content_error is None
    assert {p.loc for p in preview.problems} >= {"profile.id", "profile.email", "profile.orders.0.placed_at"}


def test_broken_content_is_an_outcome_naming_file_and_line(project):
    with edited(project.paths.blocks / "hero.mjml", lambda text: text.replace("[% endif %]", "", 1)):
        preview = project.render(Selection("welcome", "new_customer"))
        assert preview.email is None and isinstance(preview.content_error, TemplateError)
        view = error_view(preview.content_error, project.paths)
        assert (view.file, view.line) == ("blocks/hero.mjml", 25)
        assert [n for n, _ in view.excerpt] == list(range(22, 28))
        rows = {row.template: row for row in project.gallery()}
        assert rows["welcome"].error is not None and rows["abandoned_cart"].error is None
    assert project.render(Selection("welcome", "new_customer")).email is not None


def test_only_the_projects_own_files_are_quoted(project, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("line one\nline two\n")
    view = error_view(TemplateError("boom", str(outside), 1), project.paths)
    assert view.excerpt == [] and view.file == str(outside)


def test_unchanged_templates_are_not_recompiled(project):
    before = {name: project.engine.compiled(name) for name in TEMPLATES}
    with edited(project.paths.blocks / "cart_items.mjml", lambda text: text + "\n<!-- edited -->\n"):
        after = {name: project.engine.compiled(name) for name in TEMPLATES}
    changed = {name for name in TEMPLATES if after[name] is not before[name]}
    assert changed == {"abandoned_cart"}


def test_checks_flag_a_clipped_email():
    big = RenderedEmail("t", "p", "Subject", "A preheader long enough to fill the preview line.",
                        "x" * (GMAIL_CLIP_BYTES + 1), "text")
    size, subject, preheader, *lint = check_email(big)
    assert not size.ok and "clip" in size.detail
    assert subject.ok and preheader.ok
    # The rest are renderer check's rules: a page of "x" has no lang and no unsubscribe link.
    assert {c.label for c in lint if not c.ok} >= {"No language", "No unsubscribe link"}


def test_checks_of_a_bundled_email_all_pass(engine):
    email = engine.render("welcome", **fixture_request(engine, "welcome", "new_customer"))
    assert all(check.ok for check in check_email(email))


def test_labels():
    assert humanize("frequent_high_spender") == "Frequent high spender"
    assert person('{"first_name": "さくら", "last_name": "山本", "email": "s@example.com"}').initials == "さ山"
    assert person('{"email": "someone@example.com"}').name == "someone@example.com"
    assert person("not json").name == "Unreadable profile"


def test_a_profile_without_consent_is_shown_with_why_it_would_not_be_sent(project):
    name = project.custom.add('{"id": "p9", "email": "p9@example.com", "consent": {"email_marketing": false}}')
    preview = project.render(Selection("welcome", name))
    assert preview.email is not None, "the designer still sees the email"
    assert preview.trigger is not None and preview.trigger.code == "no_consent"
    assert project.render(Selection("welcome", "new_customer")).trigger is None


def test_a_recipient_skipped_for_missing_data_shows_the_reason_on_the_card_and_page(project):
    from markupsafe import escape

    from renderer.devtools.preview.pages import email_page, gallery_page

    # The bundled fixtures all send, so one card of the gallery is swapped for this preview.
    skipped = project.render(Selection("abandoned_cart", "minimal", event="cart_abandoned_empty"))
    message = str(escape(skipped.skipped.message))  # as the autoescaped page writes it
    assert "CartItems is empty" in message
    page = email_page(project, skipped)
    assert 'id="skipped"' in page and "No email for this recipient" in page and message in page
    rows = project.gallery()
    row = next(r for r in rows if r.template == "abandoned_cart")
    row.previews[0] = skipped
    cards = gallery_page(project, rows)
    assert "Not sent" in cards and "Would skip · Required token empty" in cards and message in cards
