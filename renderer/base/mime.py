"""A rendered email as a MIME message a mail server accepts: ``RenderedEmail.to_message``.

Built with the standard library's ``email`` package on a copy of
``email.policy.SMTP`` (CRLF line ends, headers folded at 78 columns and
non-ASCII words RFC 2047-encoded), with two changes:

- ``cte_type="7bit"``: the message is ASCII from end to end, so it needs no
  ``8BITMIME`` from any server on its way. The HTML part is always
  quoted-printable, whose lines are at most 76 characters: the inlined HTML is
  one line of tens of kilobytes, and SMTP refuses lines over 998 octets. The
  text part gets whatever the library finds smallest (7bit for short ASCII
  lines, else quoted-printable or base64).
- RFC 2369's list headers (``List-Unsubscribe``) are folded between their
  URLs and never encoded: the stdlib would turn a URL too long for one line
  into an RFC 2047 encoded word, which no mail client reads as a URL.

Each part is the email's text in MIME's canonical form: lines end in CRLF
and the body ends with a line break.

Cost: the HTML part's quoted-printable is encoded by ``binascii.b2a_qp`` (C):
the stdlib's encoder is pure Python and took about 1.75 ms of the 2.8 ms that
building a 50 KB message cost. And the message's ``as_bytes`` writes each
part's body in one piece: the stdlib's generator writes a body line by line,
two calls per line, about 1,800 per message. What is left (about 1.8 ms to
build a message) is mostly the stdlib's header parsing and folding, in pure
Python. The module is imported on the first message only.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from email import policy as email_policy
from email.generator import NLCRE, BytesGenerator
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage, MIMEPart
from email.utils import make_msgid
from io import BytesIO
from typing import Any, Protocol

from renderer.base.errors import InvalidInput, Problem


class RenderedParts(Protocol):
    """What a message is built from: a :class:`~renderer.base.models.RenderedEmail`'s subject, parts and headers."""

    subject: str
    html: str
    text: str
    headers: dict[str, str]

# The address syntax the profile model checks (models._EMAIL), ASCII only:
# an internationalized address needs SMTPUTF8, which this message does not use.
_ADDR_SPEC = re.compile(r"^[!-?A-~]+@[!-?A-~]+(\.[!-?A-~]+)+$")
_MESSAGE_ID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")
_FIELD_NAME = re.compile(r"^[!-9;-~]+$")
_URL_LIST = re.compile(r"^<[!-;=?-~]+>(, ?<[!-;=?-~]+>)*$")
_URL = re.compile(r"<[^>]*>")
_NOT_ASCII = "internationalized addresses are not supported (they need SMTPUTF8)"
_FROM_LINE = re.compile(r"^From ", re.MULTILINE)
MAX_LINE = 998
"""SMTP's limit on a line, in octets, without its CRLF (RFC 5321 section 4.5.3.1.6)."""


class _UrlListHeader(UnstructuredHeader):
    """An RFC 2369 header (``<url>, <url>``): kept as given, folded between URLs, never encoded."""

    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        super().parse(value, kwds)
        kwds["decoded"] = value  # the unstructured parser would decode "=?...?=" inside a URL

    def fold(self, *, policy: email_policy.EmailPolicy) -> str:
        line = f"{self.name}: {self}"
        if len(line) <= policy.max_line_length:
            return line + policy.linesep
        # One URL a line; email_message checked that each such line fits SMTP's limit.
        urls = _URL.findall(str(self))
        return f"{self.name}: " + ("," + policy.linesep + " ").join(urls) + policy.linesep


_LIST_HEADERS = ("list-help", "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive")
_HEADERS = HeaderRegistry()
for _name in _LIST_HEADERS:
    _HEADERS.map_to_type(_name, _UrlListHeader)

POLICY = email_policy.SMTP.clone(cte_type="7bit", header_factory=_HEADERS)
"""The policy of every message built here: ``email.policy.SMTP``, 7-bit, list headers kept whole."""
# Encoded body lines of at most 74 characters, so that one whose "F" becomes "=46" (see
# _body) is still within quoted-printable's 76 (RFC 2045 section 6.7).
_PART_POLICY = POLICY.clone(max_line_length=74)


class _BodyAtOnceGenerator(BytesGenerator):
    """``BytesGenerator`` writing a part's body in one call, not two calls per line: the same bytes."""

    def _write_lines(self, lines: str) -> None:
        # The stdlib writes each line of NLCRE.split(lines) followed by the line separator, all but the
        # last, and then the last unless it is empty: that is the pieces joined by the separator, or,
        # with no "\r" to split on, every "\n" replaced by it.
        if lines:
            self.write(lines.replace("\n", self._NL) if "\r" not in lines else self._NL.join(NLCRE.split(lines)))


class Message(EmailMessage):
    """The ``EmailMessage`` that :func:`email_message` returns; its ``as_bytes`` (and ``bytes()``) are faster."""

    def as_bytes(self, unixfrom: bool = False, policy: Any = None) -> bytes:
        out = BytesIO()
        generator = _BodyAtOnceGenerator(out, mangle_from_=False, policy=self.policy if policy is None else policy)
        generator.flatten(self, unixfrom=unixfrom)
        return out.getvalue()


def _has_newline(text: str) -> bool:
    return "\r" in text or "\n" in text


def _address(field: str, value: Any, problems: list[Problem]) -> Address | None:
    """``value`` (``"Name <a@b.example>"``, ``"a@b.example"`` or an ``Address``) as one Address."""
    if isinstance(value, Address):
        address = value  # Address itself refuses CR and LF in any part
    elif isinstance(value, str) and value.strip():
        if _has_newline(value):
            problems.append(Problem(field, "must not contain CR or LF", input=value))
            return None
        header = POLICY.header_factory("To", value)
        if len(header.addresses) == 1 and not header.addresses[0].addr_spec.isascii():
            problems.append(Problem(field, _NOT_ASCII, input=value))
            return None
        if len(header.addresses) != 1 or header.defects:
            problems.append(Problem(field, "not one email address ('Name <name@example.com>' or "
                                           "'name@example.com')", input=value))
            return None
        address = header.addresses[0]
    elif value is None or isinstance(value, str):
        problems.append(Problem(field, "an email address is required", type="missing", input=value))
        return None
    else:
        problems.append(Problem(field, f"expected an email address, got {type(value).__name__}"))
        return None
    if not _ADDR_SPEC.match(address.addr_spec) or len(address.addr_spec) > 254:
        why = _NOT_ASCII if not address.addr_spec.isascii() else "not a valid email address"
        problems.append(Problem(field, why, input=str(value)))
        return None
    return address


def checked_address(field: str, value: Any) -> Address:
    """``value`` as one address, checked as :meth:`RenderedEmail.to_message` checks it.

    Raises:
        InvalidInput: naming ``field``: missing, not one address, not ASCII, or holding CR or LF.
    """
    problems: list[Problem] = []
    address = _address(field, value, problems)
    if address is None:
        raise InvalidInput(field, problems)
    return address


def _checked_headers(headers: Mapping[str, str], problems: list[Problem]) -> None:
    for name, value in headers.items():
        loc = f"headers.{name}"
        if not _FIELD_NAME.match(name):
            problems.append(Problem(loc, "not a header field name", input=name))
        elif not isinstance(value, str) or _has_newline(value):
            problems.append(Problem(loc, "must be text without CR or LF", input=value))
        elif name.lower() in _LIST_HEADERS:
            if not _URL_LIST.match(value):
                problems.append(Problem(loc, "expected '<url>, <url>' in ASCII (RFC 2369)", input=value))
            elif any(len(name) + 2 + len(url) + 1 > MAX_LINE for url in _URL.findall(value)):
                problems.append(Problem(loc, f"a URL too long for one {MAX_LINE}-octet line",
                                        input=value))


def email_message(email: RenderedParts, *, sender: Any, to: Any, reply_to: Any = None,
                  message_id: str | None = None, date: datetime | None = None) -> EmailMessage:
    """The MIME message of ``email``; see :meth:`RenderedEmail.to_message`."""
    problems: list[Problem] = []
    from_address = _address("sender", sender, problems)
    to_address = _address("to", to, problems)
    reply_address = _address("reply_to", reply_to, problems) if reply_to is not None else None
    if message_id is not None and not (isinstance(message_id, str) and _MESSAGE_ID.match(message_id)):
        problems.append(Problem("message_id", "expected '<unique@domain>'",
                                input=message_id if isinstance(message_id, str) else None))
    if date is not None and not isinstance(date, datetime):
        problems.append(Problem("date", "expected a datetime"))
    if _has_newline(email.subject):
        problems.append(Problem("subject", "must not contain CR or LF", input=email.subject))
    _checked_headers(email.headers, problems)
    if problems:
        raise InvalidInput("email message", problems)
    assert from_address is not None and to_address is not None  # else a problem was recorded

    when = date or datetime.now(timezone.utc)
    message = Message(policy=POLICY)
    message["From"] = from_address
    message["To"] = to_address
    if reply_address is not None:
        message["Reply-To"] = reply_address
    message["Subject"] = email.subject
    # Naive means UTC, as everywhere in the engine.
    message["Date"] = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    # The sender's domain, not this machine's name (make_msgid's default).
    message["Message-ID"] = message_id or make_msgid(domain=from_address.domain)
    message["MIME-Version"] = "1.0"
    for name, value in email.headers.items():
        message[name] = value
    text, html = _body(email.text, "plain", None), _quoted_printable_body(email.html, "html")
    message.make_alternative(boundary=_boundary(text, html))
    message.attach(text)
    message.attach(html)
    return message


def _boundary(*parts: MIMEPart) -> str:
    """A multipart boundary that occurs nowhere in the parts' bodies.

    The generator would make one when flattening, and check it with a regular
    expression compiled for that message over all of the message's text; this
    is the generator's own random boundary, checked with ``in``, which rules
    out more (anywhere, not only at a line's start).
    """
    while True:
        boundary = BytesGenerator._make_boundary()
        if not any(boundary in part.get_payload() for part in parts):
            return boundary


_QP_LINE = 76
"""Quoted-printable's longest encoded line, soft break included (RFC 2045 section 6.7)."""


def _quoted_printable_body(content: str, subtype: str) -> MIMEPart:
    """The part ``_body(content, subtype, "quoted-printable")`` makes, encoded in C.

    The same headers; the payload is the same UTF-8 bytes, with lines ending in
    ``\n`` and a line break at the end (what ``set_content`` encodes), in
    quoted-printable lines of at most 76 characters, a line that starts with
    ``From `` starting ``=46rom `` (see :func:`_body`).
    """
    part = MIMEPart(policy=_PART_POLICY)
    part.set_content("", subtype=subtype, cte="quoted-printable")
    data = b"\n".join(content.encode("utf-8").splitlines()) + b"\n"
    payload = binascii.b2a_qp(data, istext=True).decode("ascii")
    lines = payload.split("\n")
    # b2a_qp fills lines to 76 characters, but a trailing tab or space it encodes ("=09") can take a
    # line to 78; and it leaves "From " at a line's start as it is.
    if payload.startswith("From ") or "\nFrom " in payload or max(map(len, lines)) > _QP_LINE:
        payload = "\n".join(piece for line in lines for piece in _fitted(line))
    part.set_payload(payload)
    return part


def _fitted(line: str) -> Iterator[str]:
    """An encoded line as lines of at most 76 characters (soft breaks outside any ``=XX``), none starting ``From ``."""
    while True:
        if line.startswith("From "):
            line = "=46" + line[1:]
        if len(line) <= _QP_LINE:
            yield line
            return
        cut = _QP_LINE - 1  # room for the soft break's "="
        while "=" in line[cut - 2:cut]:  # a literal "=" is always encoded: an "=" here starts an escape
            cut -= 1
        yield line[:cut] + "="
        line = line[cut:]


def _body(content: str, subtype: str, cte: str | None) -> MIMEPart:
    """One text part; ``cte`` ``None`` lets the library pick the smallest 7-bit encoding."""
    # MIMEPart, not EmailMessage: a part carries no MIME-Version header of its own.
    part = MIMEPart(policy=_PART_POLICY)
    part.set_content(content, subtype=subtype, cte=cte)
    if _FROM_LINE.search(part.get_payload()):
        # smtplib's send_message flattens without the message's policy, which quotes a line
        # that starts with "From " as ">From " (mbox style) and changes the email. "=46" is
        # the same "F" in quoted-printable (RFC 2049 section 3, item 8).
        if part["Content-Transfer-Encoding"] == "7bit":
            part = MIMEPart(policy=_PART_POLICY)
            part.set_content(content, subtype=subtype, cte="quoted-printable")
        part.set_payload(_FROM_LINE.sub("=46rom ", part.get_payload()))
    return part


def recipient_address(profile: Any) -> Address:
    """A profile's ``To`` address: its email, with first and last name as the display name.

    ``profile`` is a :class:`~renderer.base.models.Profile` or its dict (as read
    from JSON); the name is cleaned of control characters and runs of
    whitespace, since it is data, not a header.
    """
    def field(name: str) -> Any:
        return profile.get(name) if isinstance(profile, Mapping) else getattr(profile, name, None)

    words = " ".join(str(field(name) or "") for name in ("first_name", "last_name"))
    name = unicodedata.normalize("NFC", " ".join(words.split()))
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    addr_spec = str(field("email") or "").strip()
    username, _, domain = addr_spec.rpartition("@")
    if _has_newline(addr_spec) or not username:
        raise InvalidInput("recipient", [Problem("profile.email", "not a valid email address", input=addr_spec)])
    return Address(display_name=name, username=username, domain=domain)
