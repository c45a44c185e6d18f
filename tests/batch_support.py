"""Helpers for tests of ``renderer batch``: reading its output, feeding it through a pipe."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path


def read_records(path: Path) -> list[dict]:
    """The output records, split as JSON Lines are: on newlines only (U+2028 may be inside a record)."""
    return [json.loads(line) for line in path.read_bytes().split(b"\n") if line]


def open_fifo_for_writing(fifo: Path, reader: subprocess.Popen) -> int:
    """The write end of ``fifo`` once ``reader`` has opened it (fails if it exits first)."""
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            assert reader.poll() is None, "the batch ended before it read its input: " + reader.stderr.read()
            time.sleep(0.02)
            continue
        os.set_blocking(fd, True)
        return fd
