"""``renderer screenshot``: the command-line wiring of :mod:`renderer.devtools.screenshot`."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.args import add_request_arguments, engine_from_args, request_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``screenshot`` subcommand to the ``renderer`` parser."""
    shot = subparsers.add_parser("screenshot", help="render one email to a PNG with headless Chromium")
    add_request_arguments(shot)
    shot.add_argument("--out", required=True, help="PNG file to write")
    shot.add_argument("--width", type=int, default=375, help="viewport width in CSS pixels (default: 375)")
    shot.set_defaults(func=cmd_screenshot)


def cmd_screenshot(args: argparse.Namespace) -> int:
    # The global --locales and --personas count here too, as for `renderer render`.
    from renderer.devtools.screenshot import screenshot_email

    sizes = screenshot_email(engine_from_args(args), args.template, args.out, width=args.width,
                             **request_from_args(args))
    print(f"wrote {args.out}: {args.width} x {sizes['height']} px")
    if sizes["scrollWidth"] > sizes["clientWidth"]:
        print(f"warning: the email is {sizes['scrollWidth']} px wide, wider than the "
              f"{sizes['clientWidth']} px screen", file=sys.stderr)
    if sizes["brokenImages"]:
        print(f"warning: {sizes['brokenImages']} image(s) did not load", file=sys.stderr)
    return 0
