"""Plain-words checks of a rendered email that the preview shows next to it.

The rules are ``renderer check``'s own (:mod:`renderer.devtools.check_rules`), run on
the one email on screen: size, subject and preheader first, then every other
rule that finds something (links, images, lang, unsubscribe, tables).
"""

from __future__ import annotations

from dataclasses import dataclass

from renderer.base.models import RenderedEmail
from renderer.devtools.check_rules import (
    GMAIL_CLIP_BYTES,
    PREHEADER_MIN_CHARS,
    SUBJECT_VISIBLE_CHARS,
)
from renderer.devtools.check_rules import (
    check_email as lint_email,
)

_SHOWN_APART = frozenset({"html-size", "subject", "preheader"})
_LABELS = {"html-lang": "No language", "image-alt": "Image without alt text", "image-width": "Image without width",
           "link-scheme": "Link not https", "unsubscribe": "No unsubscribe link", "table-role": "Layout tables",
           "outlook-width": "Too wide in Outlook", "line-length": "Line too long"}


@dataclass(frozen=True)
class Check:
    """One check: passed or not, and what it means in plain words."""

    ok: bool
    label: str
    detail: str


def check_email(email: RenderedEmail) -> list[Check]:
    """Size, subject length and preheader checks, then what ``renderer check`` finds in this email."""
    size = len(email.html.encode())
    subject = len(email.subject)
    preheader = len(email.preheader)
    checks = [
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
    unsubscribe = email.headers.get("List-Unsubscribe", "").split(">")[0].lstrip("<") or None
    issues = [i for i in lint_email(email, unsubscribe) if i.rule not in _SHOWN_APART]
    checks += [Check(False, _LABELS.get(i.rule, i.rule), i.message) for i in issues]
    if not issues:
        checks.append(Check(True, "Links, images, language and unsubscribe",
                            "https links, alt text and widths, lang set, an unsubscribe link"))
    return checks
