"""The wheel as a campaign service meets it: built, installed in a fresh venv, used outside the checkout.

Offline: the wheel is built without build isolation (hatchling from this
environment) and installed with ``--no-index``; the fresh venv sees this
environment's libraries through a path file, but not its editable renderer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT

pytestmark = pytest.mark.xdist_group("wheel")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a fresh venv with only the built wheel of renderer installed."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist"),
                    str(PROJECT_ROOT)], check=True, capture_output=True)
    [wheel] = (work / "dist").glob("renderer-*.whl")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies come from this environment; its editable renderer does not (a plain path
    # entry does not run the .pth hooks that put the checkout on sys.path).
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    return python


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RENDERER_CONTENT", "PYTHONPATH")}
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    done = run(installed, "-c", "import renderer.engine, renderer.content.layout as l; "
                                "print(renderer.engine.__file__); print(l.bundled_content())", cwd=tmp_path)
    module, content = done.stdout.split()
    assert "site-packages" in module and not module.startswith(str(PROJECT_ROOT)), done.stderr
    assert content.endswith("renderer/_content") and "site-packages" in content


def test_every_bundled_template_renders_from_the_wheel(installed, tmp_path):
    code = """
import json, renderer
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet
engine = renderer.default_engine()
fixtures = FixtureSet(engine.layout.fixtures)
out = {}
for template in engine.template_names():
    spec = engine.compiled(template).spec
    email = renderer.render(template, profile=fixtures.profile("frequent_high_spender"),
                            recommendations=fixtures.recommendations("frequent_high_spender"),
                            event=fixtures.event(spec.event), now=FIXTURE_NOW)
    out[template] = [email.subject, len(email.html), len(email.text)]
print(json.dumps(out))
"""
    done = run(installed, "-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    emails = json.loads(done.stdout)
    assert sorted(emails) == sorted(p.stem for p in (PROJECT_ROOT / "templates").glob("*.yaml"))
    assert all(subject and html > 5000 and text > 200 for subject, html, text in emails.values()), emails
    assert emails["welcome"][0] == "Welcome to Fernhill, Elena"


def test_renderer_init_makes_a_project_that_renders_with_content(installed, tmp_path):
    renderer_cli = installed.parent / "renderer"
    made = subprocess.run([str(renderer_cli), "init", "brand"], capture_output=True, text=True, cwd=tmp_path)
    assert made.returncode == 0 and "renderer --content brand preview" in made.stdout, made.stderr
    brand = tmp_path / "brand"
    assert {p.name for p in brand.iterdir()} >= {"templates", "blocks", "locales", "fixtures", "assets",
                                                 "segments.yaml", "README.md", "tests"}
    welcome = brand / "templates" / "welcome.yaml"
    welcome.write_text(welcome.read_text().replace("Welcome to Fernhill", "Welcome to Bramble"))
    for template in sorted(p.stem for p in (brand / "templates").glob("*.yaml")):
        args = [str(renderer_cli), "--content", "brand", "render", template, "--format", "json",
                "--profile", "brand/fixtures/profiles/frequent_high_spender.json",
                "--now", "2026-11-15T12:00:00Z"]
        if template in ("abandoned_cart", "browse_abandonment", "engaged_incentive"):
            event = {"abandoned_cart": "cart_abandoned", "browse_abandonment": "browse_abandoned",
                     "engaged_incentive": "engaged_no_purchase"}[template]
            args += ["--event", f"brand/fixtures/events/{event}.json"]
        done = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, (template, done.stderr)
        email = json.loads(done.stdout)
        assert email["subject"] and "<mj-" not in email["html"], template
        if template == "welcome":
            assert email["subject"] == "Welcome to Bramble, Elena", "the project's own template was used"
    checked = subprocess.run([str(renderer_cli), "--content", "brand", "check"], capture_output=True, text=True,
                             cwd=tmp_path)
    assert checked.returncode == 0 and "0 errors" in checked.stdout, checked.stdout + checked.stderr


def test_import_renderer_from_the_wheel_loads_no_optional_library(installed, tmp_path):
    optional = ["numpy", "requests", "starlette", "uvicorn", "faker", "dask", "distributed", "watchfiles",
                "pybreaker", "cachetools", "sklearn", "matplotlib", "playwright"]
    done = run(installed, "-c", f"import renderer, sys; print(sorted(set({optional!r}) & {{m.split('.')[0] "
                                f"for m in sys.modules}}))", cwd=tmp_path)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
