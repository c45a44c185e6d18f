"""The preview's experiments: every variant of each experiment side by side, and a forced variant."""

from __future__ import annotations

import re
from html import unescape

import pytest

from preview_support import copy_content, get, preview_server

ELENA = "/email/recommendations?profile=frequent_high_spender"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    paths = copy_content(tmp_path_factory.mktemp("content"))
    with preview_server(paths) as (url, project):
        yield url, project


def test_the_email_view_shows_every_variant_side_by_side(server):
    url, _ = server
    status, _, body = get(url + ELENA)
    assert status == 200 and 'data-tab="variants"' in body
    rows = dict(re.findall(r'<div class="variant-row" data-experiment="(\w+)">(.*?)</div>', body, re.S))
    assert set(rows) == {"hero_test", "subject_test"}
    assert re.findall(r'data-variant="([\w-]+)"', rows["hero_test"]) == ["A", "B", "holdout"]
    assert re.findall(r'data-variant="([\w-]+)"', rows["subject_test"]) == ["picks", "winter"]
    assert "Elena, your winter picks are in" in rows["subject_test"]
    assert rows["hero_test"].count(" · this recipient") == 1  # the variant Elena is assigned
    frames = [unescape(src) for src in re.findall(r'<iframe class="frame variant-frame" src="([^"]+)"',
                                                 rows["hero_test"])]
    assert len(frames) == 3
    headlines = []
    for frame in frames:
        status, _, html = get(url + frame)
        assert status == 200
        headlines.append("Settle in for winter" in html)
    assert headlines == [False, True, False]  # A, B, and the holdout's control


def test_a_forced_variant_in_the_url_is_rendered_and_named(server):
    url, _ = server
    status, _, body = get(url + ELENA + "&variants=hero_test%3DB%3Bsubject_test%3Dwinter")
    assert status == 200
    assert "Elena, your winter picks are in" in body
    assert 'data-variant="hero_test"' in body and "hero_test: B" in body and "(forced)" in body
    status, _, frame = get(url + "/frame/recommendations.html?profile=frequent_high_spender&variants=hero_test%3DB")
    assert status == 200 and "Settle in for winter" in frame


def test_an_unknown_forced_variant_names_the_field(server):
    url, _ = server
    status, _, body = get(url + ELENA + "&variants=hero_test%3DC")
    assert "force_variants.hero_test" in body and "its variants: A, B, holdout" in body


def test_a_template_without_experiments_has_no_variants_tab(server):
    url, _ = server
    status, _, body = get(url + "/email/welcome?profile=frequent_high_spender")
    assert status == 200 and 'data-tab="variants"' not in body
