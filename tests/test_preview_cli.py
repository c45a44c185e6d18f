"""``renderer preview`` and ``renderer screenshot`` from the command line."""

from __future__ import annotations

import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

from renderer.cli.main import build_parser, main

from conftest import INTERRUPTIBLE, PROJECT_ROOT
from preview_support import ARTIFACTS, PATIENCE, copy_content, event_stream, get, read_event

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_preview(root, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [*INTERRUPTIBLE, "-m", "renderer", "preview", "--port", str(port), "--content", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
    )


def stop(process: subprocess.Popen) -> tuple[int, str, str, float]:
    """Ctrl+C: the exit code, the output, and how long the process took to end."""
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=PATIENCE)
    return process.returncode, out, err, time.monotonic() - started


def test_preview_command_serves_until_interrupted(tmp_path):
    paths = copy_content(tmp_path)
    port = free_port()
    launched = time.monotonic()
    process = launch_preview(paths.root, port)
    try:
        # Poll from launch: the socket is bound early, so the first request waits in its queue.
        while True:
            try:
                status, _, body = get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                time.sleep(0.05)
        first_page = time.monotonic() - launched
        assert status == 200 and "Every email, for every customer" in body
        line = process.stdout.readline()
        assert line == f"Preview running at http://127.0.0.1:{port}/ (Ctrl+C to stop)\n", line
    finally:
        code, out, err, stopping = stop(process)
    # The figures go to the log and the artifacts; the verdict is what happened, not how fast.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = f"launch to first 200 on /: {first_page:.2f} s; Ctrl+C to exit: {stopping:.2f} s\n"
    (ARTIFACTS / "preview-timing.txt").write_text(report)
    print(report)
    assert code == 0 and out == "Preview stopped.\n"
    assert err == "", err


def test_ctrl_c_while_compiling_with_a_live_page_open_stops_quietly(tmp_path):
    paths = copy_content(tmp_path)
    process = launch_preview(paths.root, free_port())
    try:
        url = process.stdout.readline().split()[3]
        with event_stream(url.rstrip("/")) as events:
            # The background compiler has just started on the gallery's 42 compiles.
            assert read_event(events, "compiled") is not None
            # The open stream does not hold the server up: it ends it and exits.
            code, out, err, _ = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0 and out == "Preview stopped.\n"
    assert "Traceback" not in err and "CancelledError" not in err and err == "", err


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_screenshot_writes_a_png_of_the_requested_width(tmp_path):
    out = tmp_path / "welcome.png"
    # Its own process: Playwright's sync API cannot start inside the test process's browser session.
    done = subprocess.run(
        [sys.executable, "-m", "renderer", "screenshot", "welcome", "--profile", PROFILE,
         "--now", "2026-11-15T12:00:00Z", "--recommendations",
         str(PROJECT_ROOT / "fixtures/recommendations/default.json"), "--out", str(out), "--width", "375"],
        capture_output=True, text=True, timeout=PATIENCE)
    assert done.returncode == 0, done.stderr
    width, height = png_size(out)
    assert width == 375 and height > 1500
    assert f"wrote {out}: 375 x" in done.stdout and "warning" not in done.stderr
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(out, ARTIFACTS / "screenshot-welcome-375.png")


def test_screenshot_of_a_bad_profile_is_a_plain_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "email": "nope"}')
    assert main(["screenshot", "welcome", "--profile", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    assert "profile.email" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
