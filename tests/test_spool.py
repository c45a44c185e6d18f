"""Spool slots: what workers write, what the parent reads back, and what happens when a write fails."""

from __future__ import annotations

import subprocess
import sys

from renderer.engine import PROJECT_ROOT
from renderer.spool import SlotWriter, Spooled, read_spooled, spooled

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
        "from renderer.spool import SlotWriter, read_spooled\n"
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
