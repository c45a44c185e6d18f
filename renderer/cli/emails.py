"""``renderer render`` and ``renderer trigger``: one email for one recipient, or for one event."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from renderer.cli.args import (
    add_message_arguments,
    add_request_arguments,
    clock_from_args,
    engine_from_args,
    envelope_from_args,
    parse_now,
    request_from_args,
)
from renderer.cli.exits import EXIT_OK

if TYPE_CHECKING:
    from renderer.base.models import RenderedEmail


def cmd_render(args: argparse.Namespace) -> int:
    engine = engine_from_args(args)
    envelope = envelope_from_args(args, engine) if args.format == "eml" else None
    request = request_from_args(args)
    email = engine.render(args.template, **request, force_variants=_forced(args.variant))
    if envelope is not None:
        _write_message(args, email, envelope, request)
    else:
        if args.format == "json":
            output = json.dumps(email.to_dict(), ensure_ascii=False, indent=2) + "\n"
        elif args.format == "text":
            output = email.text
        else:
            output = email.html
        if args.out:
            Path(args.out).write_text(output, encoding="utf-8")
            print(f"wrote {args.out}: {email.subject!r} ({len(output.encode()) // 1024} KB)", file=sys.stderr)
        else:
            sys.stdout.write(output)
    for warning in email.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def _forced(pairs: list[str] | None) -> dict[str, str] | None:
    """``--variant hero_test=B`` (repeatable) as ``force_variants``."""
    from renderer.base.errors import UsageError

    if not pairs:
        return None
    forced = {}
    for pair in pairs:
        key, sep, name = pair.partition("=")
        if not sep or not key or not name:
            raise UsageError(f"--variant takes EXPERIMENT=VARIANT (e.g. hero_test=B), not {pair!r}")
        forced[key] = name
    return forced


def _write_message(args: argparse.Namespace, email: RenderedEmail, envelope: tuple[str, str | None],
                   request: dict[str, Any]) -> None:
    """``--format eml``: the MIME message, as bytes (CRLF line ends), to ``--out`` or standard output."""
    from renderer.base.mime import recipient_address

    sender, reply_to = envelope
    # --now, when given, is the Date too: the same command writes the same message but for its
    # Message-ID and MIME boundary. (The fixtures' clock is the render's only: a message is dated now.)
    message = email.to_message(sender=sender, to=recipient_address(request["profile"]), reply_to=reply_to,
                               date=parse_now(args.now))
    data = message.as_bytes()
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"wrote {args.out}: {email.subject!r} ({len(data) // 1024} KB)", file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def cmd_trigger(args: argparse.Namespace) -> int:
    from renderer.content.json_io import read_json

    engine = engine_from_args(args)
    outcome = engine.render_event(
        profile=read_json(args.profile), event=read_json(args.event),
        now=clock_from_args(args, args.profile, args.event, args.recommendations),
        recommendations=read_json(args.recommendations) if args.recommendations else None,
    )
    if outcome.skip is not None:
        print(f"skip {outcome.event_type} -> {outcome.template}: {outcome.skip.code}: {outcome.skip.message}")
        return EXIT_OK
    email = outcome.email
    assert email is not None  # an outcome is either a skip or an email
    print(f"send {outcome.event_type} -> {outcome.template}: {email.subject!r} "
          f"(segments: {', '.join(email.segments) or 'none'}; blocks: {', '.join(email.blocks)})")
    for warning in email.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.out:
        out = Path(args.out)
        out.write_text(email.html, encoding="utf-8")
        out.with_suffix(".txt").write_text(email.text, encoding="utf-8")
        print(f"wrote {out} and {out.with_suffix('.txt')}")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``renderer`` parser."""
    sub = subparsers
    render = sub.add_parser("render", help="render one email for one profile")
    add_request_arguments(render)
    render.add_argument("--format", choices=["html", "text", "json", "eml"], default="html",
                        help="eml: the MIME message (multipart/alternative, headers, CRLF) to send as it is")
    render.add_argument("--out", help="write here instead of standard output")
    render.add_argument("--variant", action="append", metavar="EXPERIMENT=VARIANT",
                        help="render in this variant of an experiment (or EXPERIMENT=holdout), for QA; repeatable")
    add_message_arguments(render)
    render.set_defaults(func=cmd_render)

    trigger = sub.add_parser("trigger", help="decide and render an automation trigger for one event")
    trigger.add_argument("event", help="event JSON file (cart_abandoned, browse_abandoned, engaged_no_purchase)")
    trigger.add_argument("--profile", required=True, help="profile JSON file")
    trigger.add_argument("--recommendations", help="recommendations JSON file (a list of products)")
    trigger.add_argument("--now", help="clock, ISO 8601 (default: now; the fixtures' clock, 2026-11-15T12:00:00Z, "
                         "when the event, profile or recommendations file is in the content's fixtures/ folder)")
    trigger.add_argument("--out", help="write the email here (HTML; the text part next to it as .txt)")
    trigger.set_defaults(func=cmd_trigger)
