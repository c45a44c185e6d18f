"""The ``renderer`` command: parses arguments, calls the library, reports errors.

Each command group lives in its own module (``emails``, ``content``,
``audience``, ``experiments``, ``batch``, ``preview``, ``serve``, ``screenshot``) with a ``register``
function. Errors become a plain message and an exit code in one place
(:func:`main`; the codes are in ``exits.py``); ``--debug`` shows the
traceback instead. Anything that is not the project's error or a file
problem is a bug, and shows its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from renderer.base.errors import RendererError
from renderer.cli.audience import register as register_audience
from renderer.cli.batch import register as register_batch
from renderer.cli.content import register as register_content
from renderer.cli.emails import register as register_emails
from renderer.cli.experiments import register as register_experiments
from renderer.cli.exits import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE_OR_INPUT
from renderer.cli.predict import register as register_predict
from renderer.cli.preview import register as register_preview
from renderer.cli.screenshot import register as register_screenshot
from renderer.cli.serve import register as register_serve

_COMMANDS = ("{render,check,gallery,segments,batch,trigger,fixtures,templates,schema,init,preview,serve,"
             "screenshot,recommend}")
_GLOBAL_VALUE_OPTIONS = {"--content", "--templates", "--blocks", "--locales", "--personas", "--predictive",
                         "--recommender"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="renderer", description="Personalized email rendering.")
    parser.add_argument("--content", metavar="DIR", help="content project folder (renderer init DIR makes one; "
                        "default: $RENDERER_CONTENT, else the bundled demo brand)")
    parser.add_argument("--templates", help="templates folder (default: templates/ of the content)")
    parser.add_argument("--blocks", help="blocks folder (default: blocks/ of the content)")
    parser.add_argument("--locales", help="locale files folder (default: locales/ beside the blocks folder)")
    parser.add_argument("--personas", help="personas model file (from `renderer segments fit`)")
    parser.add_argument("--predictive", help="predictive model file (from `renderer segments fit-predictive`)")
    parser.add_argument("--recommender", help="co-purchase model file (from `renderer recommend fit`): "
                        "the recommendation source when a render is given no products")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    # The unlisted "segments-fit" (and "segments-fit-predictive") is what `segments fit`
    # (`segments fit-predictive`) is rewritten to (see _route).
    sub = parser.add_subparsers(dest="command", required=True, metavar=_COMMANDS)

    for register in (register_emails, register_content, register_audience, register_predict, register_experiments,
                     register_batch, register_preview, register_serve, register_screenshot):
        register(sub)
    for command in sub.choices.values():
        # --content after the command word too (`renderer preview --content DIR`); absent, the global one stands.
        command.add_argument("--content", metavar="DIR", default=argparse.SUPPRESS,
                             help="content project folder (as the global --content)")
    return parser


def _command_index(argv: list[str]) -> int | None:
    """Where the command word is: after the global options and their values."""
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in _GLOBAL_VALUE_OPTIONS:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return index
    return None


def _route(argv: list[str]) -> list[str]:
    # `segments` takes a file name as its first word, so argparse cannot also
    # give it a `fit` subcommand; `segments fit` is rewritten here instead. A
    # profiles file really named "fit" can still be given as ./fit.
    index = _command_index(argv)
    if index is not None and argv[index] == "segments" and argv[index + 1:index + 2] in (["fit"], ["fit-predictive"]):
        return argv[:index] + [f"segments-{argv[index + 1]}"] + argv[index + 2:]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    words = _route(list(sys.argv[1:] if argv is None else argv))
    command = _command_index(words)
    debug = "--debug" in (words if command is None else words[:command])
    try:
        # Inside the try: Ctrl+C while the libraries load is as quiet as at any other moment.
        args = build_parser().parse_args(words)
        return args.func(args)
    except RendererError as error:
        # The project's errors say what is wrong and where; each knows its exit code.
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # The reader went away (`renderer templates | head -1`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:
        # A file that cannot be read or written (missing, no permission, disk full): plain, exit 2.
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE_OR_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    # Anything else is a bug in the renderer: its traceback is the report to file.


if __name__ == "__main__":
    sys.exit(main())
