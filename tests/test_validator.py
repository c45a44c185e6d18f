"""Every email through the Nu HTML validator (npm ``vnu-jar``, run with Java): no errors but known email noise.

The noise is what every MJML email carries for Outlook and old clients and
what no client needs removed: each kind is listed in ``EMAIL_NOISE`` with
its reason. Anything else the validator reports fails the test, with the
message and the email it came from. Without Java the test is skipped:
``tests/test_outlook.py`` checks the attributes this test once found
(``width="100%"`` on images, ``width`` on ``p``, ``vertical-align`` on ``td``)
with the project's own rule.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import PAIRS, fixture_request
from node_support import node_package_file

EMAIL_NOISE = {
    r"Bad value “auto” for attribute “height” on element “img”":
        "MJML writes height=\"auto\" on every image; Outlook reads the width attribute and keeps the ratio",
    r"CSS: “mso-[a-z-]+”: Property “mso-[a-z-]+” doesn't exist\.":
        "Outlook's own properties (mso-hide on the preheader, mso-padding-alt on buttons, the table spacing rule)",
    r"Attribute “xmlns:[vo]” not allowed here\.":
        "the VML and Office namespaces on <html>, which Outlook needs for its conditional markup",
}


def validate(java: str, files: list) -> list[dict]:
    jar = node_package_file("vnu-jar", "build/dist/vnu.jar")
    done = subprocess.run([java, "-jar", str(jar), "--errors-only", "--format", "json", *map(str, files)],
                          capture_output=True, text=True)
    return json.loads(done.stderr)["messages"]


@pytest.fixture(scope="module")
def java() -> str:
    found = shutil.which("java")
    if found is None:
        pytest.skip("Java is not installed: the Nu validator needs it (tests/test_outlook.py checks attributes)")
    return found


def unexplained(messages: list[dict]) -> list[str]:
    return [f"{m['url'].rsplit('/', 1)[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages
            if not any(re.search(pattern, m["message"]) for pattern in EMAIL_NOISE)]


def test_every_email_has_no_validation_error_but_known_email_noise(java, engine, tmp_path):
    files = []
    for template, profile in PAIRS:
        path = tmp_path / f"{template}-{profile}.html"
        path.write_text(engine.render(template, **fixture_request(engine, template, profile)).html, encoding="utf-8")
        files.append(path)
    messages = validate(java, files)
    found = unexplained(messages)
    assert not found, f"{len(found)} validation errors:\n" + "\n".join(found[:40])
    # Each listed kind of noise still occurs: a kind that went away leaves the list.
    for pattern in EMAIL_NOISE:
        assert any(re.search(pattern, m["message"]) for m in messages), f"{pattern!r} no longer occurs"


def test_the_validator_finds_the_errors_this_test_is_for(java, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><html lang="en"><head><title>x</title></head><body>'
                    '<table role="presentation"><tr><td vertical-align="top"><p width="5">x</p>'
                    '<img alt="" src="a.png" width="100%"></td></tr></table></body></html>', encoding="utf-8")
    found = " | ".join(unexplained(validate(java, [page])))
    assert "“vertical-align” not allowed" in found and "“width” not allowed on element “p”" in found, found
    assert "Bad value “100%” for attribute “width” on element “img”" in found, found
