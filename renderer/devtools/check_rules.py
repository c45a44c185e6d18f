"""What breaks an email in the inbox, checked on one rendered email.

Each rule looks at the finished email only and returns :class:`Issue`\\s:
the rule, its severity, a message, and a ``needle`` (a piece of source text,
such as a link or an image's ``src``) that ``renderer.devtools.check`` looks for in the
content files to name a file and line. The preview shows the same rules next
to an email (``renderer/devtools/preview/checks.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html

from renderer.base.models import RenderedEmail

ERROR, WARNING = "error", "warning"

GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail hides everything after the first 102 KB of HTML behind "View entire message"."""
SIZE_WARNING_BYTES = 90 * 1024
SUBJECT_VISIBLE_CHARS = 70
"""Most inboxes cut a subject after about this many characters."""
PREHEADER_MIN_CHARS = 40
PREHEADER_MAX_CHARS = 140
"""Past this, no inbox shows more of the preheader and some show the body's first words instead."""

_UTM = re.compile(r"[?&]utm_[^#]*")


@dataclass(frozen=True)
class Issue:
    """One problem with one rendered email."""

    rule: str
    severity: str
    message: str
    needle: str | None = None
    """Source text to look for, to say where the problem comes from."""


def _source_url(url: str) -> str:
    # The UTM parameters were added by the engine; the content has the URL without them.
    return _UTM.sub("", url)


def check_html_lang(document: lxml.html.HtmlElement) -> list[Issue]:
    # MRML writes lang="und" (undetermined) when the document gives none.
    if (document.get("lang") or "").strip().lower() not in ("", "und"):
        return []
    return [Issue("html-lang", ERROR, "the <html> element has no lang attribute: screen readers "
                  "guess the language, and clients may pick the wrong fonts", "<mjml")]


def check_images(document: lxml.html.HtmlElement) -> list[Issue]:
    issues = []
    for image in document.iter("img"):
        src = image.get("src") or ""
        if not (image.get("alt") or "").strip():
            issues.append(Issue("image-alt", WARNING, f"image {src or '(no src)'} has no alt text: readers with "
                                "images off, and screen readers, get nothing", src or "<img"))
        if not (image.get("width") or "").strip():
            issues.append(Issue("image-width", WARNING, f"image {src or '(no src)'} has no width attribute: "
                                "Outlook shows it at its full natural size", src or "<img"))
    return issues


def check_links(document: lxml.html.HtmlElement) -> list[Issue]:
    issues, seen = [], set()
    for anchor in document.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href.startswith(("https://", "mailto:")) and len(href) > len("https://"):
            continue
        if href in seen:
            continue
        seen.add(href)
        label = anchor.text_content().strip() or "(an image)"
        issues.append(Issue("link-scheme", ERROR, f"link {href or '(empty)'!r} on {label!r} is not an absolute "
                            "https (or mailto) URL: it breaks, or warns the reader, in most clients",
                            _source_url(href) or "href=\"\""))
    return issues


def check_unsubscribe(document: lxml.html.HtmlElement, unsubscribe_url: str | None) -> list[Issue]:
    hrefs = [a.get("href") or "" for a in document.iter("a")]
    if unsubscribe_url and unsubscribe_url in hrefs:
        return []
    if not unsubscribe_url and any("unsubscribe" in h.lower() for h in hrefs):
        return []
    return [Issue("unsubscribe", ERROR, "no unsubscribe link: required by law in most markets "
                  "(CAN-SPAM, GDPR) and by Gmail and Yahoo for bulk mail; use the footer block "
                  "or {{ UnsubscribeUrl }}")]


def check_size(html: str) -> list[Issue]:
    size = len(html.encode())
    if size > GMAIL_CLIP_BYTES:
        return [Issue("html-size", ERROR, f"HTML is {size / 1024:.1f} KB ({size:,} bytes): Gmail clips "
                      "everything after 102 KB, unsubscribe link included")]
    if size >= SIZE_WARNING_BYTES:
        return [Issue("html-size", WARNING, f"HTML is {size / 1024:.1f} KB ({size:,} bytes): close to "
                      "Gmail's 102 KB clipping limit")]
    return []


def check_subject(subject: str) -> list[Issue]:
    if not subject.strip():
        return [Issue("subject", ERROR, "the subject is empty", "subject:")]
    if len(subject) > SUBJECT_VISIBLE_CHARS:
        return [Issue("subject", WARNING, f"the subject has {len(subject)} characters: most inboxes cut it "
                      f"after about {SUBJECT_VISIBLE_CHARS}", "subject:")]
    return []


def check_preheader(preheader: str) -> list[Issue]:
    if not preheader.strip():
        return [Issue("preheader", WARNING, "no preheader: inboxes show the email's first words "
                      "(often the navigation) beside the subject instead", "preheader:")]
    if len(preheader) > PREHEADER_MAX_CHARS:
        return [Issue("preheader", WARNING, f"the preheader has {len(preheader)} characters: inboxes show "
                      f"at most about {PREHEADER_MAX_CHARS}", "preheader:")]
    return []


def check_tables(document: lxml.html.HtmlElement) -> list[Issue]:
    bare = [t for t in document.iter("table") if (t.get("role") or "").lower() != "presentation"]
    if not bare:
        return []
    return [Issue("table-role", WARNING, f"{len(bare)} layout table{'s' if len(bare) > 1 else ''} without "
                  "role=\"presentation\": screen readers announce every row and cell", "<table")]


def check_email(email: RenderedEmail, unsubscribe_url: str | None) -> list[Issue]:
    """Every rule on one rendered email."""
    document = lxml.html.document_fromstring(email.html)
    return [
        *check_subject(email.subject),
        *check_preheader(email.preheader),
        *check_html_lang(document),
        *check_images(document),
        *check_links(document),
        *check_unsubscribe(document, unsubscribe_url),
        *check_tables(document),
        *check_size(email.html),
    ]
