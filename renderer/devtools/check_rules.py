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
from typing import Any

import lxml.html

from renderer.base.models import RenderedEmail
from renderer.compile.clients import MAX_LINE_OCTETS, longest_line

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
    needle: str | re.Pattern[str] | None = None
    """Source text (or a pattern) to look for, to say where the problem comes from."""


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
        width = (image.get("width") or "").strip()
        if not width:
            issues.append(Issue("image-width", WARNING, f"image {src or '(no src)'} has no width attribute: "
                                "Outlook shows it at its full natural size", src or "<img"))
        elif not _PIXELS.fullmatch(width):
            issues.append(Issue("image-width", ERROR, f"image {src or '(no src)'} has width={width!r}, not a "
                                "number of pixels: Outlook for Windows sizes it from the image file", src or "<img"))
    return issues


_PIXELS = re.compile(r"\d+")
_PX_LENGTH = re.compile(r"(\d+(?:\.\d+)?)(?:px)?")
_STYLE_WIDTH = re.compile(r"(?:^|;)\s*width\s*:\s*(\d+(?:\.\d+)?)px", re.I)
_STYLE_PADDING = re.compile(r"(?:^|;)\s*padding(-left|-right)?\s*:\s*([^;]+)", re.I)
_FOR_OUTLOOK = re.compile(r"<!--\[if (?![^\]]*!mso)[^\]]*\bmso\b[^\]]*\]>(.*?)<!\[endif\]-->", re.S)
_NOT_FOR_OUTLOOK = re.compile(r"<!--\[if !mso[^\]]*\]><!-->.*?<!--<!\[endif\]-->", re.S)


def outlook_view(html: str) -> lxml.html.HtmlElement:
    """The document Outlook for Windows lays out: its conditional comments opened, ``[if !mso]`` parts gone."""
    return lxml.html.document_fromstring(_FOR_OUTLOOK.sub(r"\1", _NOT_FOR_OUTLOOK.sub("", html)))


def _pixel_width(element: lxml.html.HtmlElement) -> float | None:
    style = _STYLE_WIDTH.search(element.get("style") or "")
    if style:
        return float(style.group(1))
    attribute = _PX_LENGTH.fullmatch((element.get("width") or "").strip())
    return float(attribute.group(1)) if attribute else None


def _px(value: str) -> float:
    number = _PX_LENGTH.fullmatch(value.strip())
    return float(number.group(1)) if number else 0.0


def _horizontal_padding(element: lxml.html.HtmlElement) -> float:
    left = right = 0.0
    for side, value in _STYLE_PADDING.findall(element.get("style") or ""):
        if side == "-left":
            left = _px(value)
        elif side == "-right":
            right = _px(value)
        else:
            parts = value.split()
            if parts:
                right = _px(parts[1] if len(parts) > 1 else parts[0])
                left = _px(parts[3] if len(parts) > 3 else parts[1] if len(parts) > 1 else parts[0])
    return left + right


def _fmt(width: float) -> str:
    return f"{width:g}"


def check_outlook_widths(html: str) -> list[Issue]:
    """Outlook lays out the ghost tables at their pixel widths: nothing may be wider than the room it is in.

    The room starts at the email's width (its first fixed-width table) and shrinks
    by each cell's horizontal padding; a row's cells add up, a table or image must
    fit alone. A fractional width is rounded by Outlook, a pixel here or there.
    """
    body = outlook_view(html).find("body")
    if body is None:
        return []
    found: dict[str, Issue] = {}
    email_width = next((w for t in body.iter("table") if (w := _pixel_width(t)) is not None), None)
    if email_width is None:
        return []

    def report(rule: str, severity: str, message: str) -> None:
        found.setdefault(message, Issue(rule, severity, message))

    def walk(element: lxml.html.HtmlElement, room: float) -> None:
        for child in element:
            if not isinstance(child.tag, str):
                continue
            width = _pixel_width(child) if child.tag in ("table", "td", "th", "img") else None
            if width is not None and width != int(width):
                report("outlook-width", WARNING, f"Outlook: a {child.tag} is {_fmt(width)} px wide, a fraction "
                       "Outlook rounds (columns may wrap or leave a gap)")
            if child.tag == "tr":
                cells = [w for cell in child if isinstance(cell.tag, str) and (w := _pixel_width(cell)) is not None]
                if sum(cells) > room + 0.5:
                    report("outlook-width", ERROR, f"Outlook: a row of {len(cells)} cell{'s' * (len(cells) > 1)} "
                           f"({' + '.join(_fmt(c) for c in cells)} px) is {_fmt(sum(cells))} px wide in "
                           f"{_fmt(room)} px of room: the email is wider than {_fmt(email_width)} px there")
            elif width is not None and child.tag in ("table", "img") and width > room + 0.5:
                report("outlook-width", ERROR, f"Outlook: a {child.tag} {_fmt(width)} px wide sits in {_fmt(room)} "
                       "px of room: it sticks out of its column")
            inner = width if width is not None and child.tag in ("table", "td", "th") else room
            walk(child, inner - _horizontal_padding(child) if child.tag in ("td", "th") else inner)

    walk(body, email_width)
    return list(found.values())


def check_line_length(html: str) -> list[Issue]:
    longest = longest_line(html)
    if longest <= MAX_LINE_OCTETS:
        return []
    return [Issue("line-length", ERROR, f"the HTML has a line of {longest:,} octets: mail servers may break "
                  f"lines over {MAX_LINE_OCTETS} (RFC 5322), even in the middle of a tag")]


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


_WARNING_RULES = (("mixed currencies:", "currency"), ("untranslated:", "untranslated"))
"""Render warnings that are the content's doing, as ``renderer check`` rules (prefix -> rule)."""


def check_warnings(email: RenderedEmail) -> list[Issue]:
    """The email's own warnings about its content: several currencies, English copy in another language."""
    return [Issue(rule, WARNING, warning) for warning in email.warnings
            for prefix, rule in _WARNING_RULES if warning.startswith(prefix)]


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
        *check_outlook_widths(email.html),
        *check_line_length(email.html),
        *check_size(email.html),
    ]


# --- copy that reads wrong without the recipient's data --------------------------------------

NAME_TOKENS = ("FirstName", "LastName", "FullName")
"""Tokens that hold the recipient's name, which many profiles do not have."""


def check_name_defaults(defaults: dict[str, Any]) -> list[Issue]:
    """A name token whose default is not empty: a recipient without a name is greeted with it.

    ``FirstName: there`` turns ``{{ FirstName }}, it's back`` into "there, it's
    back". The default should be ``""`` and the copy written both ways with
    ``{% if FirstName %}``.
    """
    issues = []
    for name in NAME_TOKENS:
        value = defaults.get(name)
        if value not in (None, ""):
            issues.append(Issue(
                "name-default", WARNING,
                f"defaults: {name}: {value!r} greets a recipient without a name as {str(value)!r}: set "
                f"{name}: \"\" and write the copy with {{% if {name} %}}...{{% else %}}...{{% endif %}}",
                re.compile(rf"^\s*{name}\s*:")))
    return issues


def check_nameless_greeting(printed: set[str], defaults: dict[str, Any]) -> list[Issue]:
    """Name tokens printed, unguarded, in an email to a recipient without that name.

    ``printed`` are the name tokens the email printed although the recipient
    has no such name (whatever the template's default puts there).
    """
    issues = []
    for name in NAME_TOKENS:
        if name in printed:
            shown = str(defaults.get(name) or "")
            reads = f"reads {shown!r} there" if shown else "reads nothing there (\", it's back\")"
            issues.append(Issue(
                "name-greeting", WARNING,
                f"{{{{ {name} }}}} is printed for a recipient without a name, whose email {reads}: write the "
                f"greeting with {{% if {name} %}}...{{% else %}}...{{% endif %}}",
                re.compile(r"\{\{[^}]*\b" + name + r"\b")))
    return issues


def check_hidden_main_list(hidden: list[tuple[str, str]], declared: set[str]) -> list[Issue]:
    """Blocks hidden because the list they show is empty, while the email is still sent.

    ``hidden`` holds (block, token) for each block of the email that its own
    ``show_if`` (a single token: ``CartItems``) hid; ``declared`` are the
    tokens the template ``requires:`` (with any ``on_missing``). An undeclared
    one is how "your cart is waiting" goes out with no cart in it.
    """
    return [Issue(
        "required-data", WARNING,
        f"block {block!r} is hidden because {token} is empty, and the email is sent without it: add "
        f"requires: [{token}] to skip such recipients, or requires: [{{token: {token}, on_missing: hide_block}}] "
        "if the email reads right without it")
        for block, token in hidden if token not in declared]
