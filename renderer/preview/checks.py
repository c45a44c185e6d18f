"""Plain-words checks of a rendered email that the preview shows next to it."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import RenderedEmail

GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail hides everything after the first 102 KB of HTML behind "View entire message"."""
SUBJECT_VISIBLE_CHARS = 70
PREHEADER_MIN_CHARS = 40


@dataclass(frozen=True)
class Check:
    """One check: passed or not, and what it means in plain words."""

    ok: bool
    label: str
    detail: str


def check_email(email: RenderedEmail) -> list[Check]:
    """Size, subject length and preheader checks for one rendered email."""
    size = len(email.html.encode())
    subject = len(email.subject)
    preheader = len(email.preheader)
    return [
        Check(size <= GMAIL_CLIP_BYTES, f"HTML is {size / 1024:.0f} KB",
              "under Gmail's 102 KB clipping limit" if size <= GMAIL_CLIP_BYTES
              else "Gmail will clip it: readers must click to see the rest"),
        Check(subject <= SUBJECT_VISIBLE_CHARS, f"Subject is {subject} characters",
              "short enough for most inboxes" if subject <= SUBJECT_VISIBLE_CHARS
              else f"many inboxes cut it after about {SUBJECT_VISIBLE_CHARS}"),
        Check(preheader >= PREHEADER_MIN_CHARS, f"Preheader is {preheader} characters",
              "fills the inbox preview line" if preheader >= PREHEADER_MIN_CHARS
              else "inboxes fill the rest of the preview line with the email's first words"),
    ]
