"""The preview server over HTTP: pages, frames, downloads, path safety, live-reload events.

A real server on a free 127.0.0.1 port serves a private copy of the content.
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlencode

import pytest

from renderer.devtools.preview.app import create_app
from renderer.devtools.preview.project import PreviewProject, Selection
from renderer.devtools.preview.server import serve_in_thread

from conftest import PROFILES, TEMPLATES
from preview_support import (
    PATIENCE,
    compiled_gallery,
    copy_content,
    edited,
    event_stream,
    get,
    preview_server,
    raw_get,
    wait_for_change,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    paths = copy_content(tmp_path_factory.mktemp("content"))
    with preview_server(paths) as (url, project):
        yield url, project


def test_the_first_gallery_answers_without_waiting_for_any_compile(tmp_path):
    project = PreviewProject(copy_content(tmp_path))
    # Hold the engine's compile lock: any request that waited on compiling would hang here.
    with project.engine._lock, serve_in_thread(create_app(project)) as url:
        status, _, body = get(url)
        assert not any(project.engine.is_compiled(t) for t in TEMPLATES), "nothing was compiled"
    assert status == 200
    assert body.count('class="card card-pending"') == len(TEMPLATES) * len(PROFILES)
    for template in TEMPLATES:
        for profile in PROFILES:
            assert f'href="/email/{template}?profile={profile}"' in body, (template, profile)
    assert f"Compiling templates: 0 of {len(TEMPLATES) * len(PROFILES)} emails ready" in body


def test_gallery_links_every_template_and_fixture(server):
    url, _ = server
    status, headers, _ = get(url + "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    body = compiled_gallery(url)
    assert "Compiling templates" not in body
    for template in TEMPLATES:
        for profile in PROFILES:
            assert f'href="/email/{template}?profile={profile}"' in body, (template, profile)
    assert body.count('class="card"') == len(TEMPLATES) * len(PROFILES)
    assert "Elena, your cart is waiting" in body  # a subject
    assert "We saved the things you picked out" in body  # a preheader
    # The one fixture a trigger would not email: a frequent buyer is no engaged non-buyer.
    assert body.count("trigger-skip") == 1
    skip = body.index("Would skip · Recent buyer")
    assert body.rindex('href="/email/', 0, skip) == body.index('href="/email/engaged_incentive?profile=frequent_high_spender"')


def test_email_view_shows_subject_segments_blocks_and_rules(server):
    url, _ = server
    status, _, body = get(url + "/email/welcome?profile=frequent_high_spender")
    assert status == 200
    assert "Welcome to Fernhill, Elena" in body
    assert "frequent_high_spender" in body and "us_recent_buyer" in body
    assert 'id="mobile-frame"' in body and 'id="desktop-frame"' in body
    assert body.count('sandbox="allow-same-origin allow-popups') == 2 and "allow-scripts" not in body
    assert "rfm.frequency &gt;= 6" in body  # the rule's expression, escaped
    assert 'id="plain-text"' in body and 'id="html-source"' in body


def test_hidden_blocks_name_the_show_if_that_hid_them(server):
    url, project = server
    preview_hidden = [
        (template, profile) for template in TEMPLATES for profile in PROFILES
        if (email := project.render(Selection(template, profile)).email) and email.trace.hidden
    ]
    assert preview_hidden, "some fixture hides a block"
    template, profile = preview_hidden[0]
    _, _, body = get(f"{url}/email/{template}?profile={profile}")
    assert "hidden by show_if" in body


def test_frame_serves_images_locally_and_download_is_the_email_as_sent(server):
    url, project = server
    status, headers, frame = get(url + "/frame/welcome.html?profile=new_customer")
    assert status == 200 and "Priya" in frame
    assert "https://cdn.fernhill.example/" not in frame and 'src="/assets/hero/welcome.png"' in frame
    assert '<base target="_blank"></head>' in frame  # links open a tab, not inside the frame
    image_status, image_headers, _ = get_bytes(url + "/assets/hero/welcome.png")
    assert image_status == 200 and image_headers["content-type"] == "image/png"
    status, headers, sent = get(url + "/frame/welcome.html?profile=new_customer&download=1")
    assert headers["content-disposition"] == 'attachment; filename="welcome-new_customer.html"'
    assert "https://cdn.fernhill.example/hero/welcome.png" in sent
    status, headers, text = get(url + "/frame/welcome.txt?profile=new_customer")
    assert status == 200 and headers["content-type"].startswith("text/plain") and "Priya" in text


def get_bytes(url):
    with urllib.request.urlopen(url, timeout=PATIENCE) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_recommendations_picker_changes_the_products(server):
    url, _ = server
    _, _, own = get(url + "/frame/welcome.html?profile=frequent_high_spender")
    _, _, none = get(url + "/frame/welcome.html?profile=frequent_high_spender&recs=none")
    _, _, empty = get(url + "/frame/welcome.html?profile=frequent_high_spender&recs=empty")
    assert own != none and "Where most people start" in own
    # No payload falls back to the bestsellers; an empty payload hides the grid.
    assert "Where most people start" in none and "Beeswax Taper Candles" in none
    assert "Where most people start" not in empty


def test_event_picker_shows_the_variants_and_the_triggers_decision(server):
    url, _ = server
    _, _, page = get(url + "/email/abandoned_cart?profile=minimal")
    assert 'id="pick-event"' in page and 'value="cart_abandoned_stale"' in page
    assert "Trigger would send" in page
    _, _, stale = get(url + "/email/abandoned_cart?profile=minimal&event=cart_abandoned_stale")
    assert '<option value="cart_abandoned_stale" selected>' in stale
    assert "Trigger would skip · Event too old" in stale
    assert "frame/abandoned_cart.html?profile=minimal&amp;event=cart_abandoned_stale" in stale
    _, _, welcome = get(url + "/email/welcome?profile=minimal")
    assert 'id="pick-event"' not in welcome


@pytest.mark.parametrize("path", [
    "/assets/../pyproject.toml",
    "/assets/%2e%2e/pyproject.toml",
    "/assets/%2E%2E/pyproject.toml",
    "/assets/..%2fpyproject.toml",
    "/assets/%2e%2e%2fpyproject.toml",
    "/assets/%252e%252e/pyproject.toml",
    "/assets/brand/../../pyproject.toml",
    "/assets/..\\pyproject.toml",
    "/_static/../../../pyproject.toml",
    "/_static/%2e%2e/app.py",
    "/email/..%2f..%2fpyproject",
    "/frame/..%2fpyproject.html?profile=new_customer",
    "/email/welcome?profile=../../pyproject",
    "/email/welcome?profile=..%2f..%2fpyproject",
    "/email/welcome?profile=new_customer&recs=../../../pyproject",
    "/email/abandoned_cart?profile=new_customer&event=../../pyproject",
    "/assets//etc/passwd",
    "/assets/%2fetc%2fpasswd",
])
def test_path_traversal_is_refused(server, path):
    url, _ = server
    status, body = raw_get(url, path)
    assert status in (400, 404), (path, status)
    assert "[build-system]" not in body and "root:" not in body and "starlette" not in body


def test_unknown_names_are_404_pages_that_say_what_exists(server):
    url, _ = server
    status, _, body = get(url + "/email/nope")
    assert status == 404 and "unknown template &#39;nope&#39;" in body and "welcome" in body
    status, _, body = get(url + "/email/welcome?profile=nobody")
    assert status == 404 and "unknown profile" in body
    status, _, _ = get(url + "/no/such/page")
    assert status == 404


def test_requests_for_another_host_are_refused(server):
    url, _ = server
    status, _ = raw_get(url, "/", host="attacker.example")
    assert status == 400


def post_profile(url: str, text: str, template: str = "welcome") -> tuple[int, dict, str]:
    form = urlencode({"template": template, "recs": "auto", "profile_json": text}).encode()
    return get(url + "/custom", data=form)


def test_pasted_profile_renders(server):
    url, _ = server
    profile = {"id": "p1", "email": "mia@example.com", "first_name": "Mia"}
    status, _, body = post_profile(url, json.dumps(profile))
    assert status == 200  # after the redirect to the pasted profile's view
    assert "Welcome to Fernhill, Mia" in body and "Pasted profile" in body


def test_pasted_profile_with_a_bad_email_names_the_field(server):
    url, _ = server
    status, _, body = post_profile(url, json.dumps({"id": "p2", "email": "not-an-email"}))
    assert status == 200
    assert "This profile doesn't validate" in body
    assert '<code class="loc">profile.email</code>' in body
    assert "not-an-email" in body  # the text stays in the form, to be fixed


def test_pasted_text_that_is_not_json_names_line_and_column(server):
    url, _ = server
    _, _, body = post_profile(url, '{\n  "id": "p3",\n  "email": \n}')
    assert "line 4, column 1" in body and "not valid JSON" in body


def test_broken_template_shows_file_line_and_source(server):
    url, project = server
    hero = project.paths.blocks / "hero.mjml"
    with event_stream(url) as events:
        with edited(hero, lambda text: text.replace("[% endif %]", "", 1)):
            wait_for_change(events, "blocks/hero.mjml")
            status, _, body = get(url + "/email/welcome?profile=new_customer")
            assert status == 200
            assert "This template doesn't build" in body
            assert "blocks/hero.mjml, line 25" in body
            assert "Unexpected end of template" in body
            assert '<span class="hit"><i>25</i>' in body
            gallery = compiled_gallery(url)
            using_hero = [t for t in TEMPLATES
                          if "block: hero" in (project.paths.templates / f"{t}.yaml").read_text()]
            assert using_hero and "blocks/hero.mjml:25" in gallery
            assert gallery.count('class="row-error"') == len(using_hero)
            assert gallery.count('class="card"') == (len(TEMPLATES) - len(using_hero)) * len(PROFILES)
        wait_for_change(events, "blocks/hero.mjml")  # the repair
    _, _, body = get(url + "/email/welcome?profile=new_customer")
    assert "Welcome to Fernhill, Priya" in body
    assert "blocks/hero.mjml" not in compiled_gallery(url), "the gallery forgot the fixed error"


def test_a_misspelled_mjml_tag_shows_its_file_line_and_suggestion(server):
    url, project = server
    hero = project.paths.blocks / "hero.mjml"
    with event_stream(url) as events:
        with edited(hero, lambda text: text.replace('<mj-text align="center"', '<mj-txet align="center"', 1)):
            wait_for_change(events, "blocks/hero.mjml")
            line = next(n for n, text in enumerate(hero.read_text().splitlines(), 1) if "<mj-txet" in text)
            status, _, body = get(url + "/email/welcome?profile=new_customer")
            assert status == 200
            assert "This template doesn't build" in body
            assert f"blocks/hero.mjml, line {line}" in body
            assert "unknown MJML tag &lt;mj-txet&gt; (did you mean &lt;mj-text&gt;?)" in body
        wait_for_change(events, "blocks/hero.mjml")  # the repair
    _, _, body = get(url + "/email/welcome?profile=new_customer")
    assert "Welcome to Fernhill, Priya" in body


@pytest.mark.parametrize("file, change", [
    ("blocks/footer.mjml", lambda text: text + "\n"),
    ("fixtures/profiles/lapsed.json", lambda text: text.replace("Daniel", "Dan")),
    ("segments.yaml", lambda text: text + "\n# edited\n"),
])
def test_saving_a_content_file_pushes_a_change_event(server, file, change):
    url, project = server
    with event_stream(url) as events, edited(project.paths.root / file, change):
        wait_for_change(events, file)


def test_an_oversized_paste_is_refused(server):
    url, _ = server
    status, _, body = post_profile(url, "x" * (1 << 20))
    assert status == 413 and "larger than 1 MiB" in body
