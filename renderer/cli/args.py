"""Arguments several ``renderer`` commands share: the clock, the engine, one render request."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from renderer.base.errors import InvalidInput, Problem
from renderer.content.layout import ContentLayout

if TYPE_CHECKING:
    from renderer.engine import Engine


def parse_now(value: str | None) -> datetime | None:
    """``--now`` as an aware datetime (naive means UTC); ``None`` stays ``None``.

    Raises:
        InvalidInput: not an ISO 8601 timestamp.
    """
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("--now", [Problem("now", f"not an ISO 8601 timestamp: {value!r}")]) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def clock_from_args(args: argparse.Namespace, *inputs: str | None) -> datetime | None:
    """The render clock: ``--now``, else the fixtures' clock when an input file is a fixture.

    The fixtures' dates are relative to ``FIXTURE_NOW`` (2026-11-15 12:00 UTC):
    rendered at the wall clock, the bundled cart event is weeks old and every
    trigger skips it. So when any of ``inputs`` (the profile, event or
    recommendations file) lies inside the content's ``fixtures/`` folder and
    ``--now`` is not given, the command renders at the fixtures' clock; with
    other files it is ``None`` (the engine's default, the current time).

    Raises:
        InvalidInput: ``--now`` is not an ISO 8601 timestamp.
    """
    given = parse_now(args.now)
    if given is not None:
        return given
    from pathlib import Path

    from renderer.content.fixtures import FIXTURE_NOW

    fixtures = content_from_args(args).fixtures
    for name in inputs:
        if name and Path(name).resolve().is_relative_to(fixtures):
            return FIXTURE_NOW
    return None


def content_from_args(args: argparse.Namespace) -> ContentLayout:
    """The content project the global options describe: ``--content`` (or ``$RENDERER_CONTENT``,
    else the bundled brand) with any of ``--templates``, ``--blocks``, ``--locales`` overriding a part."""
    return ContentLayout.at(args.content, templates=args.templates, blocks=args.blocks, locales=args.locales)


def engine_from_args(args: argparse.Namespace, **options: Any) -> Engine:
    """The Engine the global options describe (content, ``--personas``, ``--predictive``,
    ``--recommender``), with ``options`` added."""
    from renderer.engine import Engine

    recommender = getattr(args, "recommender", None)
    if recommender and "recommendations" not in options:
        from renderer.sources.copurchase import CoPurchaseRecommendations

        options["recommendations"] = CoPurchaseRecommendations.load(recommender)
    return Engine(args.content, templates_dir=args.templates, blocks_dir=args.blocks, locales_dir=args.locales,
                  personas=args.personas, predictive=getattr(args, "predictive", None), **options)


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """``TEMPLATE --profile [--recommendations] [--event] [--now]``: one recipient's render request."""
    parser.add_argument("template")
    parser.add_argument("--profile", required=True, help="profile JSON file")
    parser.add_argument("--recommendations", help="recommendations JSON file (a list of products)")
    parser.add_argument("--event", help="event JSON file (cart or browsing)")
    parser.add_argument("--now", help="render clock, ISO 8601 (default: now; the fixtures' clock, "
                        "2026-11-15T12:00:00Z, when a file given is in the content's fixtures/ folder)")


def add_message_arguments(parser: argparse.ArgumentParser) -> None:
    """``--from`` and ``--reply-to``: the envelope of ``--format eml`` messages."""
    parser.add_argument("--from", dest="sender", metavar="ADDRESS",
                        help="with --format eml: the From address, e.g. 'Fernhill <hello@fernhill.example>' "
                        "(default: sender in blocks/brand.yaml)")
    parser.add_argument("--reply-to", metavar="ADDRESS", help="with --format eml: a Reply-To address")


def envelope_from_args(args: argparse.Namespace, engine: Engine) -> tuple[str, str | None]:
    """``(sender, reply_to)`` for ``--format eml``: ``--from``, else the brand's ``sender``; both checked.

    Raises:
        InvalidInput: no sender anywhere, or an address that is not one valid address.
    """
    from renderer.base.mime import checked_address

    sender = args.sender if args.sender is not None else engine.brand().get("sender")
    if sender is None:
        raise InvalidInput("--from", [Problem("sender", "no sender address: pass --from 'Name <address>' "
                                                        "or set sender: in blocks/brand.yaml", type="missing")])
    checked_address("sender", sender)
    if args.reply_to is not None:
        checked_address("reply_to", args.reply_to)
    return sender, args.reply_to


def request_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``Engine.render`` that :func:`add_request_arguments` read."""
    from renderer.content.json_io import read_json

    return {
        "profile": read_json(args.profile),
        "recommendations": read_json(args.recommendations) if args.recommendations else None,
        "event": read_json(args.event) if args.event else None,
        "now": clock_from_args(args, args.profile, args.event, args.recommendations),
    }
