"""``renderer check``, ``gallery``, ``templates``, ``schema`` and ``init``: the content and its checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from renderer.base.errors import UsageError
from renderer.cli.args import engine_from_args
from renderer.cli.exits import EXIT_FAILED, EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from renderer.api import check

    report = check(args.templates_to_check or None, engine=engine_from_args(args), fixtures=args.fixtures)
    sys.stdout.write(report.to_json() if args.format == "json" else report.to_text())
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_gallery(args: argparse.Namespace) -> int:
    from renderer.devtools.gallery import write_gallery

    out = Path(args.out)
    entries = write_gallery(out, engine=engine_from_args(args))
    failed = [e for e in entries if e.error]
    for entry in failed:
        print(f"error: {entry.template} x {entry.fixture}: {entry.error}", file=sys.stderr)
    print(f"rendered {len(entries) - len(failed)} of {len(entries)} emails into {out}/ "
          f"- open {out / 'index.html'}")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_templates(args: argparse.Namespace) -> int:
    engine = engine_from_args(args)
    for name in engine.template_names():
        compiled = engine.compiled(name)
        print(f"{name:<22} {compiled.spec.description}")
    return EXIT_OK


SCHEMA_NAMES = ("profile", "product", "recommendations", "event", "batch-line", "batch-record", "eml-record")
"""The names of ``renderer.devtools.schemas.SCHEMAS``, spelled out: building the parser of every command
does not import pydantic and the models for them (tests/test_schemas.py checks the two agree)."""


def cmd_schema(args: argparse.Namespace) -> int:
    from renderer.devtools.schemas import SCHEMAS, schema_text, write_schemas

    if args.out:
        for path in write_schemas(args.out):
            print(path)
        return EXIT_OK
    if args.name is None:
        raise UsageError(f"name a schema ({', '.join(SCHEMAS)}) or pass --out DIR for all of them")
    sys.stdout.write(schema_text(args.name))
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from renderer.devtools.scaffold import init_project

    layout = init_project(args.folder)
    folder = args.folder
    print(f"created a content project in {layout.root}: a copy of the demo brand to make your own.\n"
          f"See every email, live as you save:  renderer --content {folder} preview\n"
          f"What would break in an inbox:       renderer --content {folder} check\n"
          f"Its tests:                          pytest {Path(folder) / 'tests'}\n"
          f"For designers:                      {Path(folder) / 'README.md'}")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``renderer`` parser."""
    sub = subparsers
    check = sub.add_parser("check", help="render every template x fixture and report what breaks emails "
                           "(exit 1 on errors)")
    check.add_argument("templates_to_check", nargs="*", metavar="TEMPLATE", help="templates (default: all)")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--fixtures", help="fixtures folder (default: the one beside the templates)")
    check.set_defaults(func=cmd_check)

    gallery = sub.add_parser("gallery", help="render every template x fixture into a folder")
    gallery.add_argument("--out", default="out", help="output folder (default: out)")
    gallery.set_defaults(func=cmd_gallery)

    templates = sub.add_parser("templates", help="list the templates")
    templates.set_defaults(func=cmd_templates)

    schema = sub.add_parser("schema", help="JSON Schemas of the inputs and batch records, "
                            "for services that validate before they call")
    schema.add_argument("name", nargs="?", choices=SCHEMA_NAMES, help="print this schema")
    schema.add_argument("--out", help="write every schema to DIR/NAME.schema.json")
    schema.set_defaults(func=cmd_schema)

    init = sub.add_parser("init", help="start a content project of your own in a new folder",
                          description="Copy the demo brand's templates, blocks, locales, fixtures, assets and "
                                      "segment rules into FOLDER, with a README for designers and a test file.")
    init.add_argument("folder", help="a new or empty folder")
    init.set_defaults(func=cmd_init)
