"""Declarative segment rules over profile fields and derived features.

A rules file (YAML) holds optional ``features:`` thresholds and a list of
``segments``, each with a ``name``, ``description``, ``priority`` (1 is the
highest) and a ``when`` expression, e.g.::

    - name: us_recent_buyer
      description: US customers who bought in the last 30 days
      priority: 50
      when: rfm.recency_days < 30 and location.country == 'US'

Expressions are Jinja expressions, compiled once at load in a sandbox. A
comparison with missing data (``None < 30``) makes the rule not match, as a
NULL would in SQL. Syntax errors, unknown fields and duplicate names fail at
load with the rule's name and the file's line.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import jinja2
import yaml
from jinja2 import ChainableUndefined, nodes

from renderer.audience.features import FeatureConfig, Features, History, Rfm, derive, derive_with_history
from renderer.base.errors import TemplateError
from renderer.base.models import Consent, Engagement, Location, Profile, RuleTrace
from renderer.content import yaml_io
from renderer.sandbox.environments import GLOBALS, BoundedSandbox
from renderer.sandbox.expressions import ExpressionSet
from renderer.sandbox.guard import check_template


class _Missing:
    """Stands for missing data in rule expressions: every comparison is false.

    ``rfm.recency_days < 30`` for a customer without orders is then simply
    false, like NULL in SQL, instead of raising ``TypeError`` on ``None < 30``;
    ``is none`` and ``not x`` still treat it as missing.
    """

    __slots__ = ()

    def _false(self, other: object) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = _false

    def __ne__(self, other: object) -> bool:
        return True

    def __bool__(self) -> bool:
        return False

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "missing"


MISSING = _Missing()
_ENV = BoundedSandbox(undefined=ChainableUndefined)
_ENV.tests["none"] = lambda value: value is None or value is MISSING

_FEATURE_NAMES = {
    "order_count", "engagement_score", "open_rate", "click_rate", "days_since_signup",
    "days_since_last_open", "days_since_last_click", "churn_risk",
}
# From a predictive model (Engine(predictive=...)); missing without one, or for a customer without orders.
_PREDICTED_NAMES = ("churn_probability", "churn_decile", "expected_value", "value_decile")
_PROFILE_NAMES = {
    "id", "email", "first_name", "last_name", "locale", "signup_date", "orders", "browsing",
    "attributes", "segments",
}
# Names whose attributes are checked at load: the model's fields.
_STRUCTURED: dict[str, set[str]] = {
    "rfm": set(Rfm._fields) | {"code"},
    "location": set(Location.model_fields),
    "consent": set(Consent.model_fields),
    "engagement": set(Engagement.model_fields),
}
FIELDS = frozenset(_FEATURE_NAMES | _PROFILE_NAMES | set(_STRUCTURED) | set(_PREDICTED_NAMES))
"""Every top-level name a rule may use."""


@dataclass(frozen=True)
class SegmentRule:
    name: str
    description: str
    priority: int
    when: str
    line: int | None
    reads: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Assignment:
    """A profile's segments, primary first, with the evidence."""

    segments: list[str]
    features: Features
    outcomes: list[RuleTrace]
    prediction: Any = None

    @property
    def primary(self) -> str | None:
        return self.segments[0] if self.segments else None


def namespace(profile: Profile, features: Features, prediction: Any = None) -> tuple[dict[str, Any], set[str]]:
    """The names a rule expression sees for one profile, and which of them are missing.

    ``prediction`` is a :class:`~renderer.audience.predictive.Prediction` (or ``None``).
    """
    values = dict(GLOBALS)
    missing: set[str] = set()
    for name in _PREDICTED_NAMES:
        if prediction is None:
            values[name] = MISSING
            missing.add(name)
        else:
            values[name] = getattr(prediction, name)
    for name in _FEATURE_NAMES:
        value = getattr(features, name)
        if value is None:
            value = MISSING
            missing.add(name)
        values[name] = value
    fields = profile.__dict__
    for name in _PROFILE_NAMES:
        values[name] = fields[name]
    # Plain dicts: the sandbox reads dict keys directly, but checks every
    # attribute of an object (see environments._Sandbox).
    rfm = features.rfm._asdict()
    rfm["code"] = features.rfm.code
    if rfm["recency_days"] is None:
        rfm["recency_days"] = MISSING
        missing.add("rfm.recency_days")
    values["rfm"] = rfm
    values["location"] = dict(fields["location"].__dict__)
    values["consent"] = dict(fields["consent"].__dict__)
    values["engagement"] = dict(fields["engagement"].__dict__)
    return values, missing


def _references(tree: nodes.Node) -> frozenset[str]:
    """The fields an expression reads: ``days_since_signup``, ``rfm.recency_days``, ..."""
    found = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    found |= {f"{a.node.name}.{a.attr}" for a in tree.find_all(nodes.Getattr) if isinstance(a.node, nodes.Name)}
    return frozenset(found)


def _check_fields(tree: nodes.Node, rule: str, path: str, line: int | None) -> None:
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in FIELDS and name.name not in ("true", "false", "none"):
            raise TemplateError(f"segment {rule!r}: unknown field {name.name!r} "
                                f"(known: {', '.join(sorted(FIELDS))})", path, line)
    for attr in tree.find_all(nodes.Getattr):
        if isinstance(attr.node, nodes.Name) and attr.node.name in _STRUCTURED:
            known = _STRUCTURED[attr.node.name]
            if attr.attr not in known:
                raise TemplateError(f"segment {rule!r}: unknown field '{attr.node.name}.{attr.attr}' "
                                    f"(known: {', '.join(sorted(known))})", path, line)


def _check_sandbox(tree: nodes.Template, rule: str, path: str, line: int | None) -> None:
    try:
        check_template(tree, path, line)
    except TemplateError as error:
        raise TemplateError(f"segment {rule!r}: {error.message}", path, line) from None


def _compile_rule(entry: Any, index: int, path: str, line: int | None) -> SegmentRule:
    if not isinstance(entry, dict):
        raise TemplateError(f"segment #{index + 1} must be a mapping with name, description, priority, when",
                            path, line)
    name = str(entry.get("name") or "").strip()
    if not name:
        raise TemplateError(f"segment #{index + 1} has no name", path, line)
    unknown = set(entry) - {"name", "description", "priority", "when"}
    if unknown:
        raise TemplateError(f"segment {name!r}: unknown keys {sorted(unknown)}", path, line)
    when = str(entry.get("when") or "").strip()
    if not when:
        raise TemplateError(f"segment {name!r} has no 'when' expression", path, line)
    priority = entry.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise TemplateError(f"segment {name!r}: priority must be a whole number", path, line)
    try:
        tree = _ENV.parse("{{ (" + when + ") }}")
        _check_fields(tree, name, path, line)
        _check_sandbox(tree, name, path, line)
        _ENV.compile_expression(when, undefined_to_none=False)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"segment {name!r}: invalid expression {when!r}: {error.message}",
                            path, line) from None
    return SegmentRule(name, str(entry.get("description") or ""), priority, when, line, _references(tree))


def _item_lines(text: str) -> list[int]:
    try:
        root = yaml_io.compose(text)
    except yaml.YAMLError:
        return []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "segments" and isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
    return []


@dataclass(frozen=True)
class RuleSet:
    """Segment rules in priority order, plus the feature thresholds they use."""

    rules: tuple[SegmentRule, ...]
    config: FeatureConfig
    path: str = "<rules>"
    tests: ExpressionSet = dataclasses.field(init=False, repr=False, compare=False)
    known: frozenset[str] = dataclasses.field(init=False, repr=False, compare=False)
    """The rules' names: profile segments that name none of them follow the rule matches."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tests", ExpressionSet(_ENV, [rule.when for rule in self.rules]))
        object.__setattr__(self, "known", frozenset(rule.name for rule in self.rules))

    @classmethod
    def empty(cls) -> RuleSet:
        """No rules (shared: building one compiles an expression template)."""
        return _EMPTY if cls is RuleSet else cls((), FeatureConfig())

    @classmethod
    def load(cls, path: str | Path) -> RuleSet:
        """Read and compile a rules file.

        Raises:
            TemplateError: bad YAML, bad expression, unknown field or duplicate name (file and line).
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, path: str = "<rules>") -> RuleSet:
        try:
            data = yaml_io.safe_load(text) or {}
        except yaml.MarkedYAMLError as error:
            line = error.problem_mark.line + 1 if error.problem_mark else None
            raise TemplateError(f"invalid YAML: {error.problem}", path, line) from None
        if not isinstance(data, dict) or not isinstance(data.get("segments", []), list):
            raise TemplateError("a rules file is a mapping with a 'segments' list", path, 1)
        try:
            config = FeatureConfig.from_dict(data.get("features") or {})
        except (TypeError, ValueError) as error:
            raise TemplateError(f"features: {error}", path) from None
        lines = _item_lines(text)
        rules: list[SegmentRule] = []
        seen: dict[str, int | None] = {}
        for index, entry in enumerate(data.get("segments") or []):
            line = lines[index] if index < len(lines) else None
            rule = _compile_rule(entry, index, path, line)
            if rule.name in seen:
                raise TemplateError(f"segment {rule.name!r} is defined twice (first at line {seen[rule.name]})",
                                    path, line)
            seen[rule.name] = line
            rules.append(rule)
        ordered = sorted(enumerate(rules), key=lambda pair: (pair[1].priority, pair[0]))
        return cls(tuple(rule for _, rule in ordered), config, path)

    @property
    def names(self) -> list[str]:
        return [rule.name for rule in self.rules]

    def assign(self, profile: Profile, now: datetime, *,
               predict: Callable[[Profile, Features, datetime, History], Any] | None = None) -> Assignment:
        """Every matching segment in priority order; explicit ``profile.segments`` merged in.

        Explicit segments that name a rule take that rule's place; others follow
        the rule matches, in the order given. ``predict`` (a predictive model's
        ``predict``) gives the rules ``churn_probability``, ``expected_value`` and
        their deciles; without it they are missing. It is given the order
        :class:`History` that the features' pass over the orders found.
        """
        if predict is None:
            features, prediction = derive(profile, now, self.config), None
        else:
            features, history = derive_with_history(profile, now, self.config)
            prediction = predict(profile, features, now, history)
        values, missing = namespace(profile, features, prediction)
        explicit = set(profile.segments)
        outcomes, matched = [], []
        for rule, verdict in zip(self.rules, self.tests.evaluate(values)):
            note = None
            hit = verdict is True
            if isinstance(verdict, BaseException):
                note = "missing data" if isinstance(verdict, (TypeError, jinja2.UndefinedError)) else str(verdict)
            elif not hit and missing and (absent := rule.reads & missing):
                note = _missing_note(absent)  # a frozenset: rule.reads & missing
            if rule.name in explicit and not hit:
                hit, note = True, "set on the profile"
            outcomes.append(RuleTrace(rule.name, hit, rule.when, note))
            if hit:
                matched.append(rule.name)
        if profile.segments:
            known = self.known
            matched += [name for name in dict.fromkeys(profile.segments) if name not in known]
        return Assignment(matched, features, outcomes, prediction)


@functools.lru_cache(maxsize=512)
def _missing_note(absent: frozenset[str]) -> str:
    """The trace's note for a rule that read missing data: the same few sets for every recipient, made once."""
    return f"missing data: {', '.join(sorted(absent))}"


_EMPTY = RuleSet((), FeatureConfig())
