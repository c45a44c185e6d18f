"""``renderer check``: render every template against every fixture and report what breaks emails.

Beyond the per-email rules of :mod:`renderer.devtools.check_rules`, this module adds
the rules that need the whole fixture set: a token printed empty for some
fixture (no fallback in the template's ``defaults:``), and a ``show_if`` that
no fixture makes true, or none makes false. Findings name the file and line
where the problem comes from when the source can be found, and merge the
fixtures that showed the same problem.

The fixtures are every profile (with its own recommendations payload, as in
the gallery), plus the first profile with each other payload
(``recommendations/empty.json``) and each variant of the template's event
(``events/cart_abandoned_empty.json``), so that blocks get hidden as well as shown.
A template with experiments is also rendered with each fixture in each other
variant of each experiment (``force_variants``), and a variant that no
fixture's id is assigned to is a warning (``variant-unexercised``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from renderer.base.errors import InvalidInput, RenderAborted, RequiredTokenEmpty, TemplateError
from renderer.content.experiments import HOLDOUT
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet
from renderer.content.json_io import read_json
from renderer.content.loader import source_files
from renderer.content.locales import locale_files
from renderer.devtools.check_rules import (
    ERROR,
    NAME_TOKENS,
    WARNING,
    Issue,
    check_email,
    check_hidden_main_list,
    check_name_defaults,
    check_nameless_greeting,
    check_size,
    check_warnings,
)
from renderer.recipient.pipeline import render_prepared
from renderer.sandbox.environments import TOKENS, render_fast

if TYPE_CHECKING:
    from renderer.compile.pipeline import CompiledTemplate
    from renderer.engine import Engine

_EMPTY_VALUES: tuple[Any, ...] = (None, "", [], {})


@dataclass(frozen=True)
class Finding:
    """One problem: which rule, how bad, in which template, and where it comes from."""

    rule: str
    severity: str
    template: str
    message: str
    file: str | None = None
    line: int | None = None
    fixtures: tuple[str, ...] = ()
    rendered: int = 0
    """How many fixtures the template was rendered with."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else f"{self.file}: " if self.file else ""
        if self.fixtures and len(self.fixtures) == self.rendered > 1:
            seen = f" (all {self.rendered} fixtures)"
        else:
            seen = f" (fixtures: {', '.join(self.fixtures)})" if self.fixtures else ""
        return f"{where}{self.severity}: {self.template}: {self.message} [{self.rule}]{seen}"


@dataclass
class CheckReport:
    """Every finding of one check run; ``ok`` when there is no error."""

    templates: list[str]
    emails: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        errors, warnings = len(self.errors), len(self.warnings)
        return (f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
                f"in {len(self.templates)} templates ({self.emails} emails rendered)")

    def to_text(self) -> str:
        return "".join(f"{finding}\n" for finding in self.findings) + self.summary() + "\n"

    def to_json(self) -> str:
        return json.dumps({"ok": self.ok, "errors": len(self.errors), "warnings": len(self.warnings),
                           "templates": self.templates, "emails": self.emails,
                           "findings": [asdict(f) for f in self.findings]}, ensure_ascii=False, indent=2) + "\n"


class _Empty:
    """Stands in for a token the fixture left empty: falsy and iterable, but it notes being printed."""

    __slots__ = ("_name", "_printed")

    def __init__(self, name: str, printed: set[str]) -> None:
        self._name, self._printed = name, printed

    def __bool__(self) -> bool:
        return False

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Empty(self._name, self._printed)

    def __getitem__(self, key: Any) -> Any:
        return [] if isinstance(key, slice) else _Empty(self._name, self._printed)

    def __str__(self) -> str:
        self._printed.add(self._name)
        return ""

    __html__ = __str__

    def __lt__(self, other: Any) -> bool:
        return False

    __gt__ = __le__ = __ge__ = __lt__


def printed_empty(compiled: CompiledTemplate, context: dict[str, Any],
                  missing: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """The tokens this recipient leaves empty that the email nonetheless prints.

    ``missing`` are tokens to treat as empty whatever a default put there (the
    name tokens of a recipient without a name).
    """
    printed: set[str] = set()
    names = (compiled.assembled.tokens & TOKENS) - set(compiled.spec.defaults) - {"Subject", "Preheader"}
    probe = dict(context)
    for name in names:
        if probe.get(name) in _EMPTY_VALUES:
            probe[name] = _Empty(name, printed)
    for name in missing & compiled.assembled.tokens:
        probe[name] = _Empty(name, printed)
    for template in (compiled.subject, compiled.preheader, compiled.html, compiled.text):
        render_fast(template, probe)
    return printed


class _Sources:
    """The content files of one template, searched for the text a finding is about."""

    def __init__(self, engine: Engine, compiled: CompiledTemplate, fixtures: FixtureSet) -> None:
        files = source_files(engine.layout, compiled.spec) + locale_files(engine.layout.locales, compiled.language)
        files += sorted((fixtures.root / "profiles").glob("*.json")) + \
            sorted((fixtures.root / "recommendations").glob("*.json")) + sorted((fixtures.root / "events").glob("*.json"))
        self.files = [f for f in files if f.is_file()]
        self._lines: dict[Path, list[str]] = {}

    def find(self, needle: str | re.Pattern[str] | None) -> tuple[str | None, int | None]:
        if needle is None:
            return str(self.files[0]) if self.files else None, None
        for path in self.files:
            lines = self._lines.setdefault(path, path.read_text(encoding="utf-8").splitlines())
            for number, line in enumerate(lines, 1):
                if (needle.search(line) if isinstance(needle, re.Pattern) else needle in line):
                    return str(path), number
        return str(self.files[0]) if self.files else None, None


def _requests(fixtures: FixtureSet, event_type: str | None) -> list[tuple[str, dict[str, Any]]]:
    names = fixtures.profile_names()
    requests = [(name, {"profile": fixtures.profile(name), "recommendations": fixtures.recommendations(name),
                        "event": fixtures.event(event_type, name), "now": FIXTURE_NOW}) for name in names]
    if not names:
        return requests
    first = requests[0][1]
    for payload in sorted((fixtures.root / "recommendations").glob("*.json")):
        if payload.stem not in names and payload.stem != "default":
            requests.append((f"{names[0]} + recommendations/{payload.name}",
                             dict(first, recommendations=read_json(payload))))
    if event_type:
        for variant in sorted((fixtures.root / "events").glob(f"{event_type}_*.json")):
            requests.append((f"{names[0]} + events/{variant.name}", dict(first, event=read_json(variant))))
    return requests


def _variant_requests(compiled: CompiledTemplate, requests: list[tuple[str, dict[str, Any]]],
                      natural: dict[str, set[str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each fixture as assigned, then in each other variant of each experiment (the rest as assigned).

    ``natural`` collects, per experiment, the variants some fixture is assigned to by its id.
    """
    from renderer.audience.experiments import choose

    experiments = compiled.spec.experiments
    for label, request in requests:
        yield label, request
        recipient = request["profile"].get("id") if isinstance(request["profile"], dict) else None
        if not experiments or not isinstance(recipient, str):
            continue
        for key, experiment in experiments.items():
            assigned = choose(experiment, recipient)
            natural[key].add(experiment.control if assigned == HOLDOUT else assigned)
            for variant in experiment.variants:
                if variant != assigned and not (assigned == HOLDOUT and variant == experiment.control):
                    yield f"{label} [{key}={variant}]", dict(request, force_variants={key: variant})


def _error_finding(template: str, error: TemplateError) -> Finding:
    rule = "unknown-token" if "unknown token" in error.message else "compile"
    return Finding(rule, ERROR, template, error.message, error.filename, error.lineno)


class _Collector:
    """Findings of one template, merged across the fixtures that showed them."""

    def __init__(self, template: str, sources: _Sources) -> None:
        self.template, self.sources = template, sources
        self.found: dict[tuple[Any, ...], list[str]] = {}

    def add(self, issue: Issue, fixture: str | None, needle: str | re.Pattern[str] | None = None,
            where: tuple[str | None, int | None] | None = None) -> None:
        """Note an issue a fixture showed (``None``: one found in the content itself, by no fixture)."""
        if where is None:
            where = self.sources.find(needle if needle is not None else issue.needle)
        key = (issue.rule, issue.severity, issue.message, *where)
        if fixture is None:
            self.found.setdefault(key, [])
            return
        self.found.setdefault(key, [])
        if fixture not in self.found[key]:
            self.found[key].append(fixture)

    def findings(self, rendered: int) -> list[Finding]:
        return [Finding(rule, severity, self.template, message, file, line, tuple(fixtures), rendered)
                for (rule, severity, message, file, line), fixtures in self.found.items()]


def _token_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"\{\{[^}]*\b" + re.escape(name) + r"\b")


def _missing_names(context: dict[str, Any], profile: Any) -> set[str]:
    """The name tokens a recipient has no value for (before the template's defaults)."""
    first, last = bool(profile.first_name), bool(profile.last_name)
    return {name for name, has in (("FirstName", first), ("LastName", last), ("FullName", first or last))
            if not has} & set(NAME_TOKENS)


def _hidden_lists(compiled: CompiledTemplate, prepared: Any) -> list[tuple[int, str, str]]:
    """(index, block, token) of each block hidden because its show_if, a single token, is empty."""
    found = []
    for index, trace in enumerate(prepared.trace.blocks):
        token = (trace.show_if or "").strip()
        if not trace.shown and token in TOKENS and prepared.context.get(token) in _EMPTY_VALUES:
            found.append((index, trace.block, token))
    return found


def check_template(engine: Engine, name: str, fixtures: FixtureSet) -> tuple[list[Finding], int]:
    """Every finding for one template, and how many emails were rendered for it."""
    try:
        base = engine.compiled(name)
    except TemplateError as error:
        return [_error_finding(name, error)], 0
    collect = _Collector(name, _Sources(engine, base, fixtures))
    verdicts: list[set[bool]] = [set() for _ in base.assembled.blocks]
    largest: tuple[int, str, str] | None = None
    rendered = 0
    compile_errors: list[Finding] = []
    for issue in check_name_defaults(base.spec.defaults):
        collect.add(issue, None)
    declared = {need.token for need in base.spec.requires}
    hidable = {need.token for need in base.spec.requires if need.on_missing == "hide_block"}
    natural: dict[str, set[str]] = {key: set() for key in base.spec.experiments}
    for label, request in _variant_requests(base, _requests(fixtures, base.spec.event), natural):
        try:
            compiled, prepared = engine.prepare(name, **request)
            unsubscribe = prepared.context.get("UnsubscribeUrl")
            email = render_prepared(compiled, prepared)
        except TemplateError as error:
            compile_errors.append(_error_finding(name, error))
            continue
        except RequiredTokenEmpty:
            continue  # the template says this fixture gets no email, as it should
        except (InvalidInput, RenderAborted) as error:
            collect.add(Issue("fixture", ERROR, f"the fixture does not render: {error}"), label, None)
            continue
        rendered += 1
        for index, trace in enumerate(prepared.trace.blocks):
            verdicts[index].add(bool(trace.shown))
        for issue in check_email(email, unsubscribe):
            if issue.rule == "html-size":
                continue  # reported once per template, for the largest email
            collect.add(issue, label)
        for issue in check_warnings(email):
            collect.add(issue, label)
        size = len(email.html.encode())
        if largest is None or size > largest[0]:
            largest = (size, label, email.html)
        printed = printed_empty(compiled, prepared.context, _missing_names(prepared.context, prepared.profile))
        for issue in check_nameless_greeting(printed & set(NAME_TOKENS), compiled.defaults):
            collect.add(issue, label)
        hidden = _hidden_lists(compiled, prepared)
        for index, block, token in hidden:
            for issue in check_hidden_main_list([(block, token)], declared):
                collect.add(issue, label, where=(str(base.spec.path),
                                                 base.spec.blocks[base.assembled.blocks[index].entry].line))
        for token in sorted(printed - set(NAME_TOKENS)):
            collect.add(Issue("empty-token", WARNING, f"{{{{ {token} }}}} prints nothing for some fixtures: add a "
                              f"fallback under the template's defaults: or guard it with {{% if {token} %}}"),
                        label, _token_pattern(token))
    for key, experiment in base.spec.experiments.items():
        for variant in experiment.variants:
            if variant not in natural[key] and rendered:
                message = (f"variant {variant} of experiment {key}: no fixture's id is assigned to it, so only "
                           "forced renders (this check, the preview) show it; add a fixture that lands in it "
                           f"(renderer render {name} --profile ... --variant {key}={variant} shows it)")
                finding = Finding("variant-unexercised", WARNING, name, message, str(base.spec.path), experiment.line)
                collect.found[(finding.rule, finding.severity, message, finding.file, finding.line)] = []
    if largest is not None:
        for issue in check_size(largest[2]):
            collect.add(issue, largest[1], re.compile(r"^blocks:"))
    for index, block in enumerate(base.assembled.blocks):
        use = base.spec.blocks[block.entry]
        if block.condition is None or rendered == 0:
            continue
        # A block about a token the template requires (skip or abort) is never hidden in an email sent.
        never_hidden = block.condition.strip() in declared - hidable
        for state, verb in ((True, "shows"), (False, "hides")):
            if state not in verdicts[index] and not (state is False and never_hidden):
                message = (f"block {block.name!r} (show_if {block.condition!r}): no fixture {verb} it, so that "
                           f"branch is never previewed or tested; add a fixture that {verb} it")
                finding = Finding("show-if-unexercised", WARNING, name, message, str(base.spec.path), use.line)
                collect.found[(finding.rule, finding.severity, message, finding.file, finding.line)] = []
    unique_errors = list({(f.message, f.file, f.line): f for f in compile_errors}.values())
    return unique_errors + collect.findings(rendered), rendered


def check_content(engine: Engine, templates: Iterable[str] | None = None,
                  fixtures: FixtureSet | None = None) -> CheckReport:
    """Check the given templates (default: all) against every fixture; see :func:`renderer.check`."""
    names = list(templates) if templates else engine.template_names()
    known = set(engine.template_names())
    fixture_set = fixtures or _default_fixtures(engine)
    report = CheckReport(names)
    for name in names:
        if name not in known:
            report.findings.append(Finding("template", ERROR, name, f"no template {name!r} in {engine.layout.templates}"))
            continue
        findings, rendered = check_template(engine, name, fixture_set)
        report.findings += findings
        report.emails += rendered
    report.findings.sort(key=lambda f: (f.severity != ERROR, f.template, f.file or "", f.line or 0, f.rule))
    return report


def _default_fixtures(engine: Engine) -> FixtureSet:
    beside = engine.layout.templates.parent / "fixtures"
    return FixtureSet(beside) if (beside / "profiles").is_dir() else FixtureSet(engine.layout.fixtures)


