from __future__ import annotations

import json
import re

import pytest

from renderer.cli.main import main

from conftest import PROFILES, PROJECT_ROOT, TEMPLATES

PROFILE = str(PROJECT_ROOT / "fixtures/profiles/new_customer.json")


def test_render_writes_html_to_a_file(tmp_path, capsys):
    out = tmp_path / "email.html"
    code = main(["render", "welcome", "--profile", PROFILE, "--now", "2026-11-15T12:00:00Z",
                 "--recommendations", str(PROJECT_ROOT / "fixtures/recommendations/default.json"),
                 "--out", str(out)])
    assert code == 0
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "Priya" in html
    assert "wrote" in capsys.readouterr().err


def test_render_json_format(capsys):
    assert main(["render", "abandoned_cart", "--profile", PROFILE, "--format", "json",
                 "--event", str(PROJECT_ROOT / "fixtures/events/cart_abandoned.json")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["subject"] == "Priya, your cart is waiting"
    assert "cart_items" in result["blocks"]
    assert result["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_bad_profile_is_a_plain_error_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "x", "email": "nope", "orders": [{"id": "o", "placed_at": "x", "total": 1}]}))
    assert main(["render", "welcome", "--profile", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "email:" in err and "orders.0.placed_at" in err
    assert "Traceback" not in err


def test_broken_json_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "id": "x",\n  "email": \n}')
    assert main(["render", "welcome", "--profile", str(bad)]) == 2
    assert "line 4" in capsys.readouterr().err


def test_unknown_template(capsys):
    assert main(["render", "nope", "--profile", PROFILE]) == 2
    assert "unknown template 'nope'" in capsys.readouterr().err


def test_gallery_renders_every_pair(tmp_path, capsys):
    out = tmp_path / "gallery"
    assert main(["gallery", "--out", str(out)]) == 0
    index = (out / "index.html").read_text()
    pages = sorted(out.glob("*/*.html"))
    assert len(pages) == len(TEMPLATES) * len(PROFILES)
    for page in pages:
        assert f'href="{page.parent.name}/{page.name}"' in index
        assert page.with_suffix(".txt").exists()
    assert f"rendered {len(pages)} of {len(pages)}" in capsys.readouterr().out
    # The index is the preview's own gallery page, with links to files: it opens offline.
    assert "Every email, for every customer" in index and (out / "_static" / "preview.css").is_file()
    assert 'href="/' not in index and 'src="/' not in index, "no server routes in a static gallery"
    for frame in re.findall(r'<iframe src="([^"]+)"', index):
        assert (out / frame).is_file(), frame
    assert (out / "assets" / "brand" / "logo-light.png").is_file()


def test_fixtures_generate_is_deterministic(tmp_path, capsys):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["fixtures", "generate", "--count", "50", "--seed", "7", "--out", str(first)]) == 0
    assert main(["fixtures", "generate", "--count", "50", "--seed", "7", "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_text().splitlines()) == 50
    assert "wrote 50 profiles" in capsys.readouterr().out


def test_fixtures_generate_rejects_a_negative_count(tmp_path, capsys):
    assert main(["fixtures", "generate", "--count", "-3", "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "count" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--workers", "--chunk-size"])
def test_batch_rejects_a_worker_or_chunk_count_below_one(tmp_path, capsys, option):
    with pytest.raises(SystemExit) as stopped:
        main(["batch", "welcome", "--profiles", str(tmp_path / "in.jsonl"), "--out", "-", option, "0"])
    assert stopped.value.code == 2
    assert f"argument {option}: must be at least 1, got 0" in capsys.readouterr().err


def test_the_command_loads_no_library_before_its_error_handler_runs():
    # Ctrl+C is handled inside main(); what loads before it (the import of the command) stays small.
    import subprocess
    import sys

    code = ("import sys, renderer.cli.main; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'jinja2', 'pydantic', 'mjml', 'premailer', 'lxml', 'babel', 'yaml', 'rich'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_ctrl_c_while_the_command_loads_is_a_quiet_exit(monkeypatch, capsys):
    import renderer.cli.main as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["templates"]) == 130
    assert capsys.readouterr().err == "interrupted\n"

