"""Spool slots: what workers write, what the parent reads back, and what happens when a write fails."""

from __future__ import annotations

import os
import subprocess
import sys

from renderer.batch.spool import SlotWriter, Spooled, read_spooled, spooled

from conftest import PROJECT_ROOT

ITEMS = [bytes([65 + i]) * 300 for i in range(5)]


def test_items_land_in_the_slot_in_order_and_a_reused_slot_is_read_up_to_its_size(tmp_path):
    slot = tmp_path / "slot-0"
    slot.write_bytes(b"x" * 5000)  # an earlier, longer chunk's output, never truncated
    with SlotWriter(str(slot)) as writer:
        for item in ITEMS:
            writer.write(item)
    output = writer.result((5,))
    assert output == Spooled(str(slot), 1500, b"", (5,))
    assert read_spooled(output) == b"".join(ITEMS)
    assert slot.stat().st_size == 5000, "the slot keeps its pages"


def test_a_slot_that_cannot_be_opened_sends_everything_inline(tmp_path):
    with SlotWriter(str(tmp_path / "missing-folder" / "slot-0")) as writer:
        for item in ITEMS:
            writer.write(item)
    output = writer.result()
    assert output.path is None and output.size == 0 and output.data == b"".join(ITEMS)
    assert read_spooled(output) == b"".join(ITEMS)


def test_a_write_that_fails_midway_spills_that_item_and_the_rest_inline(tmp_path):
    # A real failing write: the file size limit (as a full /dev/shm would) cuts the
    # fourth item in two; it and the fifth travel inline, the torn bytes are ignored.
    slot = tmp_path / "slot-0"
    script = (
        "import resource, signal, sys\n"
        "from renderer.batch.spool import SlotWriter, read_spooled\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "items = [bytes([65 + i]) * 300 for i in range(5)]\n"
        "with SlotWriter(sys.argv[1]) as writer:\n"
        "    for item in items:\n"
        "        writer.write(item)\n"
        "output = writer.result()\n"
        "print(output.size, len(output.data), read_spooled(output) == b''.join(items))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(slot)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, check=True)
    assert done.stdout.split() == ["900", "600", "True"]
    assert slot.stat().st_size == 1000, "the torn fourth item is in the file, past the size read"


def test_chunks_take_the_slots_in_turn(tmp_path):
    chunks = list(spooled([[1], [2], [3], [4], [5]], str(tmp_path), 2))
    assert [c.slot.rsplit("-", 1)[1] for c in chunks] == ["0", "1", "0", "1", "0"]
    assert [c.items for c in chunks] == [[1], [2], [3], [4], [5]]


def test_folders_of_jobs_that_were_killed_are_removed_by_the_next_job(tmp_path):
    from renderer.batch.spool import PREFIX, remove_stale_folders

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f"{PREFIX}{dead_pid}-x1y2"
    stale.mkdir()
    (stale / "slot-0").write_bytes(b"x" * 1000)
    live = tmp_path / f"{PREFIX}{os.getpid()}-a1b2"
    live.mkdir()
    unrelated = tmp_path / "renderer-batch-notes"
    unrelated.mkdir()
    assert remove_stale_folders(str(tmp_path)) == [str(stale)]
    assert not stale.exists() and live.exists() and unrelated.exists()


def test_a_batch_with_workers_cleans_up_after_a_killed_one(tmp_path):
    from renderer.batch.spool import PREFIX

    from profiles import audience

    spool = tmp_path / "spool"
    spool.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    (spool / f"{PREFIX}{int(gone.stdout)}-k1").mkdir()
    source = audience(tmp_path / "in.jsonl", 30)
    subprocess.run([sys.executable, "-m", "renderer", "batch", "welcome", "--profiles", str(source),
                    "--out", str(tmp_path / "out.jsonl"), "--workers", "2", "--chunk-size", "5",
                    "--now", "2026-11-15T12:00:00Z"], check=True, capture_output=True, cwd=PROJECT_ROOT,
                   env={**os.environ, "RENDERER_SPOOL_DIR": str(spool)})
    assert list(spool.iterdir()) == []
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 30
