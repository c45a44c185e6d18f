"""``renderer preview`` and ``renderer screenshot`` from the command line."""

from __future__ import annotations

import shutil
import signal
import socket
import struct
import subprocess
import sys

from preview_support import ARTIFACTS, copy_content, get
from renderer.cli import build_parser, main
from renderer.engine import PROJECT_ROOT

PROFILE = str(PROJECT_ROOT / "fixtures/profiles/new_customer.json")


def test_preview_binds_localhost_by_default():
    args = build_parser().parse_args(["preview"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 8025, False)


def test_a_port_in_use_is_a_plain_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["preview", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "in use" in err and "Traceback" not in err


def test_preview_command_serves_until_interrupted(tmp_path):
    paths = copy_content(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "renderer", "preview", "--port", "0", "--content", str(paths.root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Preview running at http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[3]
        status, _, body = get(url)
        assert status == 200 and "Every email, for every customer" in body
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
    assert code == 0


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_screenshot_writes_a_png_of_the_requested_width(tmp_path, capsys):
    out = tmp_path / "welcome.png"
    code = main(["screenshot", "welcome", "--profile", PROFILE, "--now", "2026-11-15T12:00:00Z",
                 "--recommendations", str(PROJECT_ROOT / "fixtures/recommendations/default.json"),
                 "--out", str(out), "--width", "375"])
    assert code == 0
    width, height = png_size(out)
    assert width == 375 and height > 1500
    output = capsys.readouterr()
    assert f"wrote {out}: 375 x" in output.out and "warning" not in output.err
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(out, ARTIFACTS / "screenshot-welcome-375.png")


def test_screenshot_of_a_bad_profile_is_a_plain_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "email": "nope"}')
    assert main(["screenshot", "welcome", "--profile", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    assert "profile.email" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
