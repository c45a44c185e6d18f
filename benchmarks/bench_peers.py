"""Per-recipient time of the fast path beside its floor, the reference path and other engines, side by side.

Run:  .venv/bin/python benchmarks/bench_peers.py [--recipients 300] [--rounds 5] [--markdown FILE]
      (``make bench-peers`` installs python-liquid, from the bench extra, and the
      npm packages of benchmarks/peers/ first)

The recipients are a synthetic audience (renderer.devtools.synthetic, fixed
seed) with the bundled recommendations and, for trigger templates, the bundled
event; a recipient whose render is aborted (no consent) is left out, as a
batch leaves it out. Per bundled template:

- fast: ``engine.render``, with everything a caller gets (validation, features
  and segments, token context, subject, preheader, HTML, text, headers);
- floor: only the compiled HTML and text templates over an already prepared
  context (``render_fast``), each recipient with the compiled template of its
  language, the one ``engine.render`` used; floor HTML: the HTML one alone;
- reference: ``engine.render_reference`` (Jinja on the MJML, then MJML with
  mjml-python and CSS inlining with premailer, per recipient), over the first
  ``--reference`` recipients only: it is about a hundred times slower;
- premailer: the reference path's inlining step alone
  (``renderer.compile.inline.inline_css``: premailer with the project's
  options, then the long-line breaking), on the HTML that MJML made for the
  same recipients, i.e. what that step is given per recipient;
- Liquid: python-liquid rendering the compiled HTML template with its Jinja
  tags rewritten as Liquid (``benchmarks/peers/translate.py``), with the
  project's own filter functions, autoescaped, over the same contexts;
- Handlebars: Handlebars on node rendering the compiled HTML template
  rewritten as Handlebars, with helpers for the filters;
- react-email: its ``render()`` of a comparable email component (brand bar,
  hero, the template's product cards two to a row, footer) on node.

Handlebars and react-email run when ``node`` and ``benchmarks/peers/node_modules``
are there (``benchmarks/peers/*.js``), over the same recipients' contexts,
written to a JSON file. Each is one subprocess per template, started and
warmed up before the rounds (2 s of untimed renders, so that V8 has optimised
the hot code; React's production build); in each round, in turn with the
others, it is asked for one timed pass over the recipients, timed inside
node. react-email's ``render()`` is asynchronous (React's streaming server
renderer): its figure is wall time per ``await``, and the CPU time it used is
printed beside it. Liquid and Handlebars render the HTML only, so their ratio
is to the floor's HTML template alone.

Before timing, every recipient's Liquid and Handlebars output is compared
with Jinja's HTML (entities decoded for Handlebars, which writes ``'`` as
``&#x27;`` and ``=`` as ``&#x3D;``). All are measured in alternating rounds
so that machine noise hits all alike; each figure is the median over rounds
of the mean per recipient. The load average is printed at start and end.
``--markdown FILE`` writes the same tables as Markdown (docs/performance.md).
"""

from __future__ import annotations

import argparse
import collections
import html
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(PEERS))

from jinja2 import meta  # noqa: E402
from markupsafe import Markup  # noqa: E402
from translate import observe_tests, product_lists, to_handlebars, to_liquid  # noqa: E402

from renderer import Engine  # noqa: E402
from renderer.base.errors import RenderAborted  # noqa: E402
from renderer.compile.inline import inline_css  # noqa: E402
from renderer.compile.mjml import compile_mjml  # noqa: E402
from renderer.compile.pipeline import HTML_ENV, CompiledTemplate, reference_mjml  # noqa: E402
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet  # noqa: E402
from renderer.devtools.synthetic import generate_profiles  # noqa: E402
from renderer.sandbox.environments import render_fast  # noqa: E402
from renderer.sandbox.formatting import plural_form  # noqa: E402
from renderer.sandbox.phrasing import phrases_filter  # noqa: E402
from renderer.sandbox.urls import utm_filter  # noqa: E402

COLUMNS = {
    "fast": "fast", "floor": "floor", "floor_html": "floor HTML", "reference": "reference",
    "premailer": "premailer", "liquid": "Liquid", "handlebars": "Handlebars", "react_email": "react-email",
}
RATIOS = [  # (numerator, denominator)
    ("fast", "floor"), ("reference", "fast"), ("premailer", "fast"),
    ("liquid", "floor_html"), ("handlebars", "floor_html"), ("react_email", "fast"),
]
NODE_SCRIPTS = {"handlebars": "handlebars.js", "react_email": "react_email.js"}
# React's production build, as a deployed renderer runs it (the development one checks and warns).
NODE_ENV = {**os.environ, "NODE_ENV": "production"}
# What the react-email component reads from a context, besides the product lists.
REACT_NAMES = {"FirstName", "Subject", "Preheader", "Lang", "Dir", "Year", "UnsubscribeUrl", "PreferencesUrl"}


class Recipient(NamedTuple):
    request: dict[str, Any]
    compiled: CompiledTemplate
    """The compiled template in the recipient's language, the one ``engine.render`` uses."""
    context: dict[str, Any]
    """The prepared context, with the rendered subject and preheader, as the reference path has it."""


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())


def mean_seconds(function, items) -> float:
    start = time.perf_counter()
    for item in items:
        function(item)
    return (time.perf_counter() - start) / len(items)


def liquid_environment():
    """python-liquid, autoescaped, with the email's filters: the project's own functions."""
    from liquid import Environment

    environment = Environment(autoescape=True)
    environment.filters["utm"] = lambda url, query, *domains: utm_filter(url, query, domains)
    environment.filters["phrases"] = phrases_filter
    environment.filters["plural_form"] = plural_form
    environment.filters["batch"] = lambda items, size: [items[i:i + size] for i in range(0, len(items), size)]
    return environment


def audience(engine: Engine, template: str, profiles: list[dict]) -> list[Recipient]:
    fixtures = FixtureSet.default()
    recommendations = fixtures.recommendations("default")
    event = fixtures.event(engine.compiled(template).spec.event)
    recipients = []
    for profile in profiles:
        request = {"profile": profile, "recommendations": recommendations, "event": event, "now": FIXTURE_NOW}
        try:
            compiled, ready = engine.prepare(template, **request)
        except RenderAborted:  # no consent, or a required token empty: not an email
            continue
        email = engine.render(template, **request)
        ready.context.update(Subject=email.subject, Preheader=email.preheader)
        recipients.append(Recipient(request, compiled, ready.context))
    return recipients


def by_language(recipients: list[Recipient]) -> dict[str, list[Recipient]]:
    groups: dict[str, list[Recipient]] = collections.defaultdict(list)
    for recipient in recipients:
        groups[recipient.compiled.language].append(recipient)
    return groups


def phrased_names(value: Any, language: str, found: dict[str, str]) -> None:
    """Every product name in ``value`` that the ``phrases`` filter changes, with its HTML."""
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str) and name not in found:
            phrased = phrases_filter(name, language)
            if isinstance(phrased, Markup):
                found[name] = str(phrased)
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            phrased_names(item, language, found)


def node_data(template: str, recipients: list[Recipient], handlebars: dict[str, Any]) -> dict[str, Any]:
    """What handlebars.js and react_email.js are given: templates, product lists and contexts.

    A context keeps the names the HTML templates and the react-email component
    read. The ``phrases`` filter's results for every product name of a language
    that uses it are computed here, so that the Handlebars helper is a lookup.
    """
    compiled = recipients[0].compiled
    cards = product_lists(compiled.html_source, HTML_ENV)
    names = set(REACT_NAMES) | {name for name, _ in cards}
    for group in by_language(recipients).values():
        names |= meta.find_undeclared_variables(HTML_ENV.parse(group[0].compiled.html_source))
    contexts = [{k: r.context[k] for k in sorted(names) if k in r.context} for r in recipients]
    phrases: dict[str, dict[str, str]] = {}
    for recipient, context in zip(recipients, contexts):
        for phrase_language in handlebars[recipient.compiled.language].phrase_languages:
            phrased_names(context, phrase_language, phrases.setdefault(phrase_language, {}))
    queries = collections.Counter(q for translation in handlebars.values() for q in translation.utm_queries)
    return {
        "template": template,
        "handlebars": {language: translation.source for language, translation in handlebars.items()},
        "cards": cards,
        "utm_query": queries.most_common(1)[0][0] if queries else "",
        "domains": list(compiled.brand.get("utm", {}).get("domains", [])),
        "phrases": phrases,
        "recipients": [{"language": r.compiled.language, "context": c} for r, c in zip(recipients, contexts)],
    }


def check_node(script: str, data_path: Path, out: Path) -> list[str]:
    """Every recipient's HTML as ``script`` renders it (``--check``)."""
    done = subprocess.run(["node", str(PEERS / script), str(data_path), "--check", str(out)], env=NODE_ENV,
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{script} --check failed:\n{done.stderr.strip()}")
    return json.loads(out.read_text())


class NodePeer:
    """One of the node scripts, started and warmed up once per template, timing a pass when asked."""

    def __init__(self, script: str, data_path: Path) -> None:
        self.script = script
        self.errors = data_path.with_suffix(f".{script}.stderr")
        with self.errors.open("w") as errors:
            self.process = subprocess.Popen(["node", str(PEERS / script), str(data_path)], env=NODE_ENV,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True)

    def ready(self) -> None:
        """Wait for the end of its warm-up."""
        if self.answer().strip() != "ready":
            raise SystemExit(f"{self.script} did not say it was ready")

    def answer(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=60)
            raise SystemExit(f"{self.script} stopped:\n{self.errors.read_text().strip()}")
        return line

    def time(self) -> dict[str, float]:
        """One timed pass over the recipients: mean_us, cpu_us and bytes per recipient."""
        self.process.stdin.write("time\n")
        self.process.stdin.flush()
        return json.loads(self.answer())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def compare(outputs: list[str], expected: list[str], decode: bool) -> tuple[int, str]:
    """How many outputs equal Jinja's HTML (entities decoded when ``decode``), and the first difference."""
    same, first = 0, ""
    for output, wanted in zip(outputs, expected):
        if decode:
            output, wanted = html.unescape(output), html.unescape(wanted)
        if output == wanted:
            same += 1
        elif not first:
            at = next((i for i, (a, b) in enumerate(zip(output, wanted)) if a != b), min(len(output), len(wanted)))
            first = f"at character {at}: {output[max(0, at - 40):at + 40]!r} instead of {wanted[max(0, at - 40):at + 40]!r}"
    return same, first


def measure(engine: Engine, template: str, profiles: list[dict], args: argparse.Namespace,
            liquid_env, node: bool, workdir: Path) -> tuple[dict[str, float], dict[str, Any]]:
    """The medians (seconds per recipient) of one template, and what was checked and seen."""
    recipients = audience(engine, template, profiles)
    reference_recipients = recipients[:args.reference]
    groups = by_language(recipients)
    notes: dict[str, Any] = {"recipients": len(recipients), "reference": len(reference_recipients)}
    if not recipients:
        return {}, notes

    # The node peers start first: they warm up while the rest is prepared and checked.
    peers: dict[str, NodePeer] = {}
    data_path = workdir / f"{template}.json"
    if node:
        handlebars = {language: to_handlebars(group[0].compiled.html_source, HTML_ENV)
                      for language, group in groups.items()}
        data_path.write_text(json.dumps(node_data(template, recipients, handlebars)))
        peers = {peer: NodePeer(script, data_path) for peer, script in NODE_SCRIPTS.items()}

    expected = [render_fast(r.compiled.html, r.context) for r in recipients]
    notes["html_bytes"] = statistics.mean(len(e.encode()) for e in expected)
    # What the inlining step is given per recipient on the reference path: MJML's HTML.
    before_inlining = [compile_mjml(reference_mjml(r.compiled, r.context)) for r in reference_recipients]
    if node:
        notes["handlebars_same"], notes["handlebars_difference"] = compare(
            check_node(NODE_SCRIPTS["handlebars"], data_path, workdir / f"{template}.handlebars.json"),
            expected, decode=True)
    liquid_work = []
    if liquid_env is not None:
        liquid = {}
        for language, group in groups.items():
            source = group[0].compiled.html_source
            tests = observe_tests(source, HTML_ENV, [r.context for r in group])
            liquid[language] = liquid_env.from_string(to_liquid(source, HTML_ENV, tests).source)
        liquid_work = [(liquid[r.compiled.language], r.context) for r in recipients]
        notes["liquid_same"], notes["liquid_difference"] = compare(
            [t.render(c) for t, c in liquid_work], expected, decode=False)

    def fast(recipient: Recipient) -> None:
        engine.render(template, **recipient.request)

    def floor(recipient: Recipient) -> None:
        render_fast(recipient.compiled.html, recipient.context)
        render_fast(recipient.compiled.text, recipient.context)

    def floor_html(recipient: Recipient) -> None:
        render_fast(recipient.compiled.html, recipient.context)

    def reference(recipient: Recipient) -> None:
        engine.render_reference(template, **recipient.request)

    def liquid_render(work) -> None:
        work[0].render(work[1])

    for process in peers.values():
        process.ready()
    results: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(args.rounds):
        results["fast"].append(mean_seconds(fast, recipients))
        results["floor"].append(mean_seconds(floor, recipients))
        results["floor_html"].append(mean_seconds(floor_html, recipients))
        results["reference"].append(mean_seconds(reference, reference_recipients))
        results["premailer"].append(mean_seconds(inline_css, before_inlining))
        if liquid_work:
            results["liquid"].append(mean_seconds(liquid_render, liquid_work))
        for peer, process in peers.items():
            timed = process.time()
            results[peer].append(timed["mean_us"] / 1e6)
            results[f"{peer}_cpu"].append(timed["cpu_us"] / 1e6)
            notes[f"{peer}_bytes"] = timed["bytes"]
    for process in peers.values():
        process.close()
    return {key: statistics.median(values) for key, values in results.items()}, notes


def format_time(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def format_ratio(ratio: float) -> str:
    return f"{ratio:.0f}x" if ratio >= 100 else f"{ratio:.1f}x" if ratio >= 10 else f"{ratio:.2f}x"


def tables(rows: dict[str, dict[str, float]], counts: dict[str, int]) -> list[tuple[list[str], list[list[str]]]]:
    """The times table and the ratios table: (header, rows) each, cells as text."""
    present = [key for key in COLUMNS if any(key in medians for medians in rows.values())]
    times_header = ["template", "recipients"] + [COLUMNS[key] for key in present]
    times = [[template, str(counts[template])] + [format_time(medians[k]) if k in medians else "-" for k in present]
             for template, medians in rows.items()]
    ratios = [(a, b) for a, b in RATIOS if a in present and b in present]
    ratios_header = ["template"] + [f"{COLUMNS[a]} / {COLUMNS[b]}" for a, b in ratios]
    ratio_rows = [[template] + [format_ratio(medians[a] / medians[b]) if a in medians and b in medians else "-"
                                for a, b in ratios]
                  for template, medians in rows.items()]
    means = ["geometric mean"]
    for a, b in ratios:
        values = [medians[a] / medians[b] for medians in rows.values() if a in medians and b in medians]
        means.append(format_ratio(statistics.geometric_mean(values)) if values else "-")
    ratio_rows.append(means)
    return [(times_header, times), (ratios_header, ratio_rows)]


def plain(header: list[str], rows: list[list[str]], total: bool = False) -> str:
    """A text table; ``total``: a rule before the last row too."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [" ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in [header, *rows]]
    rule = "-" * len(lines[0])
    body = [*lines[1:-1], rule, lines[-1]] if total else lines[1:]
    return "\n".join([lines[0], rule, *body])


def markdown(header: list[str], rows: list[list[str]], bold_last: str | None = None) -> str:
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    for row in rows:
        cells = list(row)
        if bold_last and row is rows[-1]:
            cells = [f"**{cell}**" if header[i] == bold_last else cell for i, cell in enumerate(cells)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def versions(node: bool) -> str:
    found = []
    if importlib.util.find_spec("liquid"):
        import liquid

        found.append(f"python-liquid {liquid.__version__}")
    if node:
        node_version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
        found.append(f"node {node_version.stdout.strip()}")
        for package in ("handlebars", "@react-email/components", "@react-email/render", "react"):
            manifest = PEERS / "node_modules" / package / "package.json"
            if manifest.is_file():
                found.append(f"{package} {json.loads(manifest.read_text())['version']}")
    return ", ".join(found)


def commit() -> str:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=positive, default=300, help="synthetic recipients (before consent)")
    parser.add_argument("--reference", type=positive, default=10,
                        help="recipients per round on the reference path and premailer")
    parser.add_argument("--rounds", type=positive, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown to this file")
    args = parser.parse_args()

    load_start = load_average()
    print(f"load average at start: {load_start}")
    liquid_env = liquid_environment() if importlib.util.find_spec("liquid") else None
    if liquid_env is None:
        print("python-liquid is not installed (pip install -e '.[bench]'): Liquid left out")
    node = shutil.which("node") is not None and (PEERS / "node_modules").is_dir()
    if not node:
        print("node or benchmarks/peers/node_modules missing (npm ci --prefix benchmarks/peers): "
              "Handlebars and react-email left out")

    engine = Engine(auto_reload=False)
    profiles = list(generate_profiles(args.recipients, seed=args.seed, now=FIXTURE_NOW))
    rows: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    notes: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as workdir:
        for template in engine.template_names():
            rows[template], notes[template] = measure(engine, template, profiles, args, liquid_env, node,
                                                      Path(workdir))
            counts[template] = notes[template]["recipients"]
            seen = notes[template]
            if not seen["recipients"]:
                print(f"{template}: every render aborted (no consent?): nothing to time")
                continue
            checks = [f"{template}: {seen['recipients']} recipients, HTML {seen['html_bytes'] / 1e3:.1f} KB"]
            if "liquid_same" in seen:
                checks.append(f"Liquid identical to Jinja for {seen['liquid_same']}")
            if "handlebars_same" in seen:
                checks.append(f"Handlebars for {seen['handlebars_same']} (entities decoded)")
            if "react_email_bytes" in seen:
                checks.append(f"react-email HTML {seen['react_email_bytes'] / 1e3:.1f} KB, "
                              f"{format_time(rows[template]['react_email_cpu'])} of CPU per render")
            print("; ".join(checks), flush=True)
            for peer in ("liquid", "handlebars"):
                if seen.get(f"{peer}_difference"):
                    print(f"  {peer} differs {seen[peer + '_difference']}")
    load_end = load_average()

    caption = (f"{args.recipients} synthetic recipients (seed {args.seed}) less those a template aborts; "
               f"the reference path and premailer over the first {args.reference}; per-recipient means, "
               f"median of {args.rounds} alternating rounds ({date.today().isoformat()}, commit {commit()}; "
               f"{versions(node)}). Load average {load_start} at start, {load_end} at end.")
    (times_header, times), (ratios_header, ratios) = tables(rows, counts)
    print()
    print(caption)
    print()
    print(plain(times_header, times))
    print()
    print(plain(ratios_header, ratios, total=True))
    print(f"\nload average at end: {load_end}")
    if args.markdown:
        args.markdown.write_text("\n\n".join([
            caption, markdown(times_header, times), markdown(ratios_header, ratios, bold_last="fast / floor"),
        ]) + "\n")
        print(f"Markdown tables written to {args.markdown}")


if __name__ == "__main__":
    main()
