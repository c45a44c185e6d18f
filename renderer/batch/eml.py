"""``renderer batch --format eml``: one ``.eml`` file per rendered recipient.

The job is the JSON Lines job of ``job.py``, unchanged: its output,
``DIR/index.jsonl``, still holds one record per input line and is what
``--resume`` reads. For a rendered recipient the record names the file
(``"file": "000042-cust_42.eml"``) instead of carrying the HTML and text,
and the file is written, under a temporary name renamed into place, before
the record: every record's file exists, and a resumed run writes the files
after the last record again, under the same names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from renderer.base.errors import InvalidInput
from renderer.base.mime import recipient_address
from renderer.base.models import RenderedEmail

INDEX = "index.jsonl"
"""The job's record of every input line, in the output folder."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def eml_name(line: int, profile_id: str) -> str:
    """The file of input line ``line``: ``000042-cust_42.eml``.

    Deterministic, unique per line (the number), and safe on any file system:
    the id's characters other than ASCII letters, digits, ``_`` and ``-`` become
    ``_`` (no dots, slashes or separators), cut to 64.
    """
    safe = _UNSAFE.sub("_", profile_id).strip("_")[:64] or "recipient"
    return f"{line:06d}-{safe}.eml"


@dataclass(frozen=True)
class EmlOutput:
    """Where the messages go and the envelope every one of them gets."""

    folder: Path
    sender: str
    reply_to: str | None = None
    date: datetime | None = None
    """``Date`` of every message (the job's ``--now``); ``None``: when each is written."""

    def record(self, line: int, email: RenderedEmail, profile: Any) -> dict[str, Any]:
        """Write ``email``'s message for ``profile`` (the input line's profile); its index record.

        A recipient whose address cannot go into a message (one that needs
        SMTPUTF8, say) gets a ``failed`` record, as invalid input does.
        """
        try:
            message = email.to_message(sender=self.sender, to=recipient_address(profile),
                                       reply_to=self.reply_to, date=self.date)
        except InvalidInput as error:
            return {"line": line, "id": email.profile_id, "status": "failed", "error": str(error),
                    "kind": type(error).__name__, "problems": error.errors()}
        name = eml_name(line, email.profile_id)
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(message.as_bytes())
        os.replace(temporary, self.folder / name)
        record = {"line": line, "id": email.profile_id, "status": "rendered", "file": name,
                  "message_id": message["Message-ID"], **email.to_dict()}
        for key in ("template", "profile_id", "html", "text"):
            del record[key]
        return record
