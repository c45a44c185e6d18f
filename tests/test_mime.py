"""``RenderedEmail.to_message`` (renderer/base/mime.py): every bundled email through a real SMTP server.

The server is aiosmtpd on 127.0.0.1, on a port the OS picks, started by a
fixture; the client is ``smtplib``. What arrives is compared with what was
rendered: the raw bytes with the message as built, the parts (decoded)
with the email's text and HTML, the headers (decoded) with its subject,
addresses and ``headers``.
"""

from __future__ import annotations

import pickle
import re
import smtplib
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renderer.base.errors import InvalidInput
from renderer.base.mime import _body, _quoted_printable_body, checked_address, recipient_address
from renderer.base.models import RenderedEmail
from renderer.content.fixtures import FIXTURE_NOW

from conftest import PAIRS, fixture_request

SENDER = "Fernhill <hello@fernhill.example>"


class Inbox:
    """An aiosmtpd handler that keeps every envelope it accepts."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp_server():
    """A real SMTP server on 127.0.0.1 and a free port; ``start()`` returns once it answers."""
    from aiosmtpd.controller import Controller

    class OnAnyFreePort(Controller):
        # Port 0 lets the OS pick a free port (no race with other test processes);
        # start() connects to the server before it returns, so it must learn the port first.
        def _trigger_server(self) -> None:
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = OnAnyFreePort(Inbox(), hostname="127.0.0.1", port=0, ready_timeout=120)
    controller.start()
    yield controller
    controller.stop()


def deliver(server, message) -> bytes:
    """Send ``message`` with smtplib; the bytes the server received (its reply came after it kept them)."""
    inbox = server.handler
    before = len(inbox.envelopes)
    with smtplib.SMTP(server.hostname, server.port, timeout=120) as client:
        refused = client.send_message(message)
    assert refused == {}
    assert len(inbox.envelopes) == before + 1
    return inbox.envelopes[-1].content


def canonical(text: str) -> bytes:
    """A text as a MIME text body carries it: CRLF line ends, a line break at the end, UTF-8."""
    assert "\r" not in text
    return (text if text.endswith("\n") else text + "\n").replace("\n", "\r\n").encode("utf-8")


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def raw_header(raw: bytes, name: str) -> bytes:
    """A header as it travelled, folding lines included."""
    found = re.search(rb"^" + name.encode() + rb": (.*?)\r\n(?![ \t])", header_block(raw) + b"\r\n", re.MULTILINE | re.DOTALL)
    assert found, name
    return found.group(1)


@pytest.mark.parametrize("template,profile", PAIRS)
def test_every_bundled_email_arrives_whole_over_smtp(engine, smtp_server, template, profile):
    request = fixture_request(engine, template, profile)
    email = engine.render(template, **request)
    to = recipient_address(request["profile"])
    message = email.to_message(sender=SENDER, to=to, date=FIXTURE_NOW)
    sent = message.as_bytes()  # fixes the MIME boundary, so the copy smtplib sends has the same

    raw = deliver(smtp_server, message)

    assert raw == sent
    assert raw.isascii(), "7-bit throughout: no server on the way needs 8BITMIME"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    arrived = BytesParser(policy=policy.default).parsebytes(raw)
    assert arrived.defects == []
    assert arrived.get_content_type() == "multipart/alternative"
    text, html = arrived.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_payload(decode=True) == canonical(email.text)
    assert html.get_payload(decode=True) == canonical(email.html)
    assert html["Content-Transfer-Encoding"] == "quoted-printable"
    assert "MIME-Version" not in text and "MIME-Version" not in html

    assert arrived["Subject"] == email.subject
    assert str(arrived["From"]) == SENDER
    assert arrived["To"].addresses == (to,)
    assert to.addr_spec == request["profile"]["email"]
    assert arrived["Date"].datetime == FIXTURE_NOW
    assert arrived["Message-ID"] == message["Message-ID"]
    assert re.fullmatch(r"<[^@<>]+@fernhill\.example>", arrived["Message-ID"])
    assert arrived["MIME-Version"] == "1.0"
    assert "Reply-To" not in arrived
    assert set(email.headers) == {"List-Unsubscribe", "List-Unsubscribe-Post"} | ({"X-Variant"} if email.variants else set())
    for name, value in email.headers.items():
        assert arrived[name] == value
        assert re.sub(rb"\r\n[ \t]", b" ", raw_header(raw, name)) == value.encode("ascii"), "never encoded"


@pytest.mark.parametrize("template,profile,subject,name,variants", [
    ("browse_abandonment", "locale_de", "Noch am Überlegen, Jonas?", "Jonas Müller", None),
    # The subject test's "picks" variant: the one with an umlaut, whichever variant the hash gives Jonas.
    ("recommendations", "locale_de", "Jonas, ein paar Dinge, die dir gefallen könnten", "Jonas Müller",
     {"subject_test": "picks"}),
    ("welcome", "locale_ar", "أهلًا بك في Fernhill يا ليلى", "ليلى حسن", None),
    ("win_back", "locale_ar", "اشتقنا إليك يا ليلى", "ليلى حسن", None),
])
def test_german_and_arabic_subjects_and_names_arrive_encoded(engine, smtp_server, template, profile, subject,
                                                             name, variants):
    request = fixture_request(engine, template, profile)
    email = engine.render(template, **request, force_variants=variants)
    assert email.subject == subject
    raw = deliver(smtp_server, email.to_message(sender=SENDER, to=recipient_address(request["profile"])))

    assert all(len(line) <= 78 for line in header_block(raw).split(b"\r\n")), "headers folded at 78"
    for header, expected in (("Subject", subject), ("To", name)):
        travelled = raw_header(raw, header)
        assert travelled.isascii() and b"=?utf-8?" in travelled
        assert all(len(word) <= 75 for word in re.findall(rb"=\?[^?]+\?[bqBQ]\?[^?]*\?=", travelled)), \
            "RFC 2047: an encoded word is at most 75 characters"
        # Decoded by the legacy decoder too, independently of the parser's policy.
        decoded = str(make_header(decode_header(re.sub(r"\r\n[ \t]", " ", travelled.decode("ascii")))))
        assert expected in decoded
    arrived = BytesParser(policy=policy.default).parsebytes(raw)
    assert arrived["Subject"] == subject
    assert arrived["To"].addresses[0].display_name == name


def rendered(**changes) -> RenderedEmail:
    fields = {"template": "welcome", "profile_id": "c1", "subject": "Welcome", "preheader": "Hello",
              "html": "<p>Hi</p>", "text": "Hi\n",
              "headers": {"List-Unsubscribe": "<https://x.example/u?c=c1>, <mailto:u@x.example>",
                          "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}
    return RenderedEmail(**{**fields, **changes})


def test_a_long_unsubscribe_url_is_folded_between_urls_and_never_encoded(engine, fixtures, smtp_server):
    # The stdlib alone would turn a URL longer than a line into an RFC 2047 word no client reads as a URL.
    profile = {**fixtures.profile("new_customer"), "id": "customer-" + "x" * 120}
    email = engine.render("welcome", profile=profile, now=FIXTURE_NOW)
    url = email.headers["List-Unsubscribe"]
    assert len(url) > 200
    raw = deliver(smtp_server, email.to_message(sender=SENDER, to=recipient_address(profile)))
    travelled = raw_header(raw, "List-Unsubscribe")
    assert b"=?" not in travelled and travelled.count(b"\r\n ") == 1
    assert re.sub(rb"\r\n ", b" ", travelled) == url.encode()
    assert BytesParser(policy=policy.default).parsebytes(raw)["List-Unsubscribe"] == url


def test_a_url_too_long_for_an_smtp_line_is_refused_by_name():
    email = rendered(headers={"List-Unsubscribe": "<https://x.example/" + "a" * 1000 + ">"})
    with pytest.raises(InvalidInput) as caught:
        email.to_message(sender=SENDER, to="a@example.com")
    assert [p.loc for p in caught.value.problems] == ["headers.List-Unsubscribe"]


def test_lines_that_start_with_from_survive_smtplib(smtp_server):
    # smtplib's send_message would write them as ">From " (mbox quoting) unless encoded.
    html = "".join("<p>" + "a" * i + "From here</p>\n" for i in range(80))
    text = "Hello\nFrom the journal\n" + "".join("b" * i + " From there\n" for i in range(80))
    message = rendered(text=text, html=html).to_message(sender=SENDER, to="ana@example.com")
    text_part, html_part = message.iter_parts()
    for part in (text_part, html_part):
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert re.search(r"^=46rom ", part.get_payload(), re.MULTILINE), "the case under test occurs"
        assert max(len(line) for line in part.get_payload().splitlines()) <= 76
    arrived = BytesParser(policy=policy.default).parsebytes(deliver(smtp_server, message))
    decoded = [part.get_payload(decode=True) for part in arrived.iter_parts()]
    assert decoded == [canonical(text), canonical(html)]


def test_reply_to_message_id_and_a_naive_date():
    message = rendered().to_message(sender="news@fernhill.example", to=Address("Ana", "ana", "example.com"),
                                    reply_to="Support <help@fernhill.example>", message_id="<abc.1@fernhill.example>",
                                    date=FIXTURE_NOW.replace(tzinfo=None))
    assert message["Reply-To"] == "Support <help@fernhill.example>"
    assert message["Message-ID"] == "<abc.1@fernhill.example>"
    assert message["Date"] == "Sun, 15 Nov 2026 12:00:00 +0000"
    assert message["To"] == "Ana <ana@example.com>"
    assert list(message.keys())[:7] == ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version"]


@pytest.mark.parametrize("field,value,message", [
    ("sender", None, "an email address is required"),
    ("sender", "", "an email address is required"),
    ("sender", "Fernhill", "not one email address"),
    ("sender", "a@fernhill.example, b@fernhill.example", "not one email address"),
    ("sender", "a@fernhill.example\r\nBcc: victim@example.com", "must not contain CR or LF"),
    ("to", "ana@example.com\nBcc: victim@example.com", "must not contain CR or LF"),
    ("to", "jürgen@example.de", "internationalized addresses are not supported"),
    ("to", "ana@localhost", "not a valid email address"),
    ("to", 42, "expected an email address, got int"),
    ("reply_to", "nobody", "not one email address"),
    ("message_id", "abc", "expected '<unique@domain>'"),
])
def test_a_bad_argument_is_an_input_error_naming_it(field, value, message):
    arguments = {"sender": SENDER, "to": "ana@example.com", field: value}
    with pytest.raises(InvalidInput) as caught:
        rendered().to_message(**arguments)
    assert [(p.loc, message in p.message) for p in caught.value.problems] == [(field, True)]
    assert isinstance(caught.value, ValueError)
    assert pickle.loads(pickle.dumps(caught.value)).problems == caught.value.problems


def test_every_bad_argument_is_reported_at_once():
    with pytest.raises(InvalidInput) as caught:
        rendered(subject="Hi\r\nBcc: victim@example.com", headers={"X-Bad:": "v"}).to_message(
            sender="", to="nobody", reply_to="x\n", date="yesterday")
    assert [p.loc for p in caught.value.problems] == ["sender", "to", "reply_to", "date", "subject", "headers.X-Bad:"]


def test_a_recipient_name_cannot_add_a_header(smtp_server):
    profile = {"id": "c1", "email": "ana@example.com", "first_name": "Ana\r\nBcc: victim@example.com\x00",
               "last_name": "Lima\t"}
    to = recipient_address(profile)
    assert to.display_name == "Ana Bcc: victim@example.com Lima"
    raw = deliver(smtp_server, rendered().to_message(sender=SENDER, to=to))
    assert not re.search(rb"^Bcc:", header_block(raw), re.MULTILINE)
    assert BytesParser(policy=policy.default).parsebytes(raw)["To"].addresses == (to,)


def test_checked_address_names_the_field():
    assert checked_address("sender", SENDER) == Address("Fernhill", "hello", "fernhill.example")
    with pytest.raises(InvalidInput, match="sender: not one email address"):
        checked_address("sender", "Fernhill")


_QP_TEXTS = st.lists(st.sampled_from(["From ", "From", "=", " ", "\t", "\n", "\r\n", "\r", "a" * 70, "é", "日本",
                                      "<p>", "x=y", "F", "rom "]) | st.text(max_size=20), max_size=60).map("".join)


@settings(max_examples=400, derandomize=True)
@given(_QP_TEXTS)
def test_the_html_part_encoded_in_c_is_the_stdlib_part(content):
    fast, reference = _quoted_printable_body(content, "html"), _body(content, "html", "quoted-printable")
    assert fast.items() == reference.items()
    assert fast.get_payload(decode=True) == reference.get_payload(decode=True)
    lines = fast.get_payload().split("\n")
    assert max(len(line) for line in lines) <= 76
    assert not [line for line in lines if line.startswith("From ")]  # smtplib would write ">From "


def test_a_line_b2a_qp_leaves_too_long_is_soft_broken():
    # binascii encodes a line's trailing tab or space ("=09", "=20") past its own 76-character fill.
    for content in ("a" * 75 + "\t\n", "b" * 74 + " \n" + "c" * 75 + "\t", "From " + "d" * 70 + "\t\n"):
        part = _quoted_printable_body(content, "html")
        assert max(len(line) for line in part.get_payload().split("\n")) <= 76
        assert part.get_payload(decode=True) == _body(content, "html", "quoted-printable").get_payload(decode=True)


@pytest.mark.parametrize("template,profile", PAIRS[:6])
def test_a_message_flattens_to_the_bytes_the_stdlib_generator_writes(engine, template, profile):
    email = engine.render(template, **fixture_request(engine, template, profile))
    message = email.to_message(sender=SENDER, to="ana@example.com", date=FIXTURE_NOW)
    boundary = message.get_boundary()
    assert re.fullmatch(r"={15}\d{19}==", boundary)
    assert not [part for part in message.iter_parts() if boundary in part.get_payload()]
    assert message.as_bytes() == EmailMessage.as_bytes(message) == bytes(message)


def test_a_from_line_pushed_past_76_characters_is_soft_broken_outside_an_escape():
    # b2a_qp fills lines to 76 characters; "=46" for the F adds two, and the cut must not split "=3D".
    for filler in ("a" * 71, "a" * 69 + "=", "a" * 68 + "==", "é" * 20):
        content = "x" * 75 + "\nFrom " + filler + "\n"
        part = _quoted_printable_body(content, "html")
        lines = part.get_payload().split("\n")
        assert any(line.startswith("=46rom ") for line in lines)
        assert max(len(line) for line in lines) <= 76
        assert part.get_payload(decode=True) == _body(content, "html", "quoted-printable").get_payload(decode=True)
