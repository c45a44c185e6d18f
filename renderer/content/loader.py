"""Load the content a designer edits: templates, blocks, the theme and brand.

Content is data. A template is a YAML file in ``templates/``; a block is an
MJML fragment in ``blocks/`` whose first lines may hold a YAML header inside a
Jinja comment (``{#--- ... ---#}``) documenting its parameters. Nothing here
compiles anything; it only reads files and checks their shape.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from renderer.base.errors import TemplateError, TemplateNotFound
from renderer.content import yaml_io
from renderer.content.experiments import Experiment, Varied, block_variants, parse_experiments, varied
from renderer.content.layout import ContentLayout
from renderer.sandbox.environments import TOKENS

_HEADER = re.compile(r"\A\{#---\n(?P<yaml>.*?)\n---#\}\n?", re.DOTALL)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter a block accepts."""

    name: str
    doc: str = ""
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] | None = None
    """When set, the only values the parameter takes (``choices: [primary, secondary]``)."""


@dataclass(frozen=True)
class BlockSpec:
    """A reusable MJML fragment, as read from ``blocks/NAME.mjml``."""

    name: str
    path: Path
    source: str
    source_line: int
    description: str = ""
    params: dict[str, ParamSpec] = field(default_factory=dict)
    show_if: str | None = None


@dataclass(frozen=True)
class BlockUse:
    """One entry of a template's block list."""

    block: str
    params: dict[str, Any] = field(default_factory=dict)
    show_if: str | None = None
    line: int | None = None
    param_lines: dict[str, int] = field(default_factory=dict)
    """The template file line each parameter's value starts on, for errors about what it holds."""
    variant: tuple[str, tuple[str, ...]] | None = None
    """``variant: B``: the experiment and the variants the block is shown to (``None``: everyone)."""


@dataclass(frozen=True)
class RecommendationPolicy:
    """What a template does when recommendations cannot be had.

    ``fallback``: ``bestsellers`` (the brand's bestsellers file) or ``none``
    (the blocks that list them hide). ``required``: abort the render instead.
    ``limit``: how many products to ask a source for.
    """

    fallback: str = "bestsellers"
    required: bool = False
    limit: int = 8


def _policy(data: Any, path: Path) -> RecommendationPolicy:
    if data is None:
        return RecommendationPolicy()
    if not isinstance(data, dict) or set(data) - {"fallback", "required", "limit"}:
        raise TemplateError("'recommendations' takes fallback (bestsellers|none), required (true|false) "
                            "and limit (a number)", str(path))
    policy = RecommendationPolicy(**data)
    if policy.fallback not in ("bestsellers", "none") or not isinstance(policy.required, bool) \
            or not isinstance(policy.limit, int) or policy.limit < 1:
        raise TemplateError(f"invalid recommendations policy {data!r}: fallback is bestsellers or none, "
                            "required is true or false, limit a positive number", str(path))
    return policy


ON_MISSING = ("skip", "abort", "hide_block")
"""What a template does when a required token is empty (see :class:`Requirement`)."""

REQUIRABLE: frozenset[str] = TOKENS - {"Subject", "Preheader", "Year", "Lang", "Dir", "Locale", "Email"}
"""Tokens a template may require: those a recipient's data can leave empty."""


@dataclass(frozen=True)
class Requirement:
    """One entry of a template's ``requires:`` list: a token the email is about.

    ``on_missing`` says what happens when the token is empty for a recipient:
    ``skip`` (the default): no email, reported as skipped (``RenderAborted``
    with the code ``required_token_empty``); ``abort``: no email, and a batch
    counts the recipient as failed, for data the caller must always send;
    ``hide_block``: the blocks that read the token are hidden and the email
    goes out without them.
    """

    token: str
    on_missing: str = "skip"
    line: int | None = None


def _requirement(entry: Any, path: Path, line: int | None) -> Requirement:
    if isinstance(entry, str):
        token, on_missing = entry, "skip"
    elif isinstance(entry, dict) and isinstance(entry.get("token"), str) and not set(entry) - {"token", "on_missing"}:
        token, on_missing = entry["token"], entry.get("on_missing", "skip")
    else:
        raise TemplateError("each 'requires' entry is a token name or a mapping with token: and on_missing: "
                            f"({' | '.join(ON_MISSING)}), not {entry!r}", str(path), line)
    if token not in REQUIRABLE:
        close = difflib.get_close_matches(token, sorted(REQUIRABLE), n=1)
        hint = f"; did you mean {close[0]}?" if close else f"; tokens that can be required: {', '.join(sorted(REQUIRABLE))}"
        raise TemplateError(f"'requires' names unknown token {token!r}{hint}", str(path), line)
    if on_missing not in ON_MISSING:
        close = difflib.get_close_matches(str(on_missing), ON_MISSING, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise TemplateError(f"on_missing of {token} is {on_missing!r}: it is one of {', '.join(ON_MISSING)}{hint}",
                            str(path), line)
    return Requirement(token, on_missing, line)


def _requirements(data: Any, path: Path) -> tuple[Requirement, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise TemplateError("'requires' must be a list of tokens, e.g. requires: [CartItems]", str(path),
                            _key_line(path, "requires"))
    lines = _item_lines(path, "requires")
    found = [_requirement(entry, path, lines[i] if i < len(lines) else None) for i, entry in enumerate(data)]
    seen: set[str] = set()
    for need in found:
        if need.token in seen:
            raise TemplateError(f"'requires' lists {need.token} twice", str(path), need.line)
        seen.add(need.token)
    return tuple(found)


@dataclass(frozen=True)
class TemplateSpec:
    """An email: subject, preheader and an ordered list of blocks."""

    name: str
    path: Path
    subject: str | Varied
    preheader: str | Varied
    blocks: list[BlockUse]
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    event: str | None = None
    fixtures: dict[str, Any] = field(default_factory=dict)
    recommendations: RecommendationPolicy = field(default_factory=lambda: RecommendationPolicy())
    utm: Any = None
    """Overrides of the brand's ``utm:`` settings, or ``False`` for no UTM parameters."""
    requires: tuple[Requirement, ...] = ()
    """The tokens the email is about (``requires: [CartItems]``), in the file's order."""
    experiments: dict[str, Experiment] = field(default_factory=dict)
    """The ``experiments:`` section, in the file's order (see ``content/experiments.py``)."""


def _read_yaml(path: Path) -> Any:
    try:
        return yaml_io.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise TemplateError(f"invalid YAML: {error.problem}", str(path), line) from None


def template_names(dirs: ContentLayout) -> list[str]:
    return sorted(p.stem for p in dirs.templates.glob("*.yaml") if not p.name.startswith("_"))


def block_names(dirs: ContentLayout) -> list[str]:
    return sorted(p.stem for p in dirs.blocks.glob("*.mjml") if not p.name.startswith("_"))


def load_brand(dirs: ContentLayout) -> dict[str, Any]:
    """Brand constants (name, address, colours, URLs) used by blocks at compile time."""
    if not dirs.brand.exists():
        return {}
    data = _read_yaml(dirs.brand) or {}
    if not isinstance(data, dict):
        raise TemplateError("brand file must be a mapping", str(dirs.brand))
    return data


def load_theme(dirs: ContentLayout) -> str:
    """The shared ``<mj-head>`` content: fonts, attributes, styles."""
    return dirs.theme.read_text(encoding="utf-8") if dirs.theme.exists() else ""


def load_layout(dirs: ContentLayout) -> str | None:
    """The document skeleton (``_layout.mjml``) if the content has its own, else ``None`` (the built-in one)."""
    return dirs.layout.read_text(encoding="utf-8") if dirs.layout.exists() else None


def load_block(dirs: ContentLayout, name: str) -> BlockSpec:
    if not isinstance(name, str) or not _NAME.match(name) or not (path := dirs.blocks / f"{name}.mjml").is_file():
        raise TemplateNotFound(name, "block", block_names(dirs))
    text = path.read_text(encoding="utf-8")
    match = _HEADER.match(text)
    header: dict[str, Any] = {}
    if match:
        try:
            header = yaml_io.safe_load(match["yaml"]) or {}
        except yaml.MarkedYAMLError as error:
            line = error.problem_mark.line + 2 if error.problem_mark else None
            raise TemplateError(f"invalid block header: {error.problem}", str(path), line) from None
        if not isinstance(header, dict):
            raise TemplateError("block header must be a mapping", str(path), 2)
    params = {}
    for pname, spec in (header.get("params") or {}).items():
        spec = spec if isinstance(spec, dict) else {"doc": str(spec)}
        choices = spec.get("choices")
        if choices is not None and (not isinstance(choices, list) or not choices):
            raise TemplateError(f"parameter {pname!r}: choices must be a list of values", str(path), 2)
        params[pname] = ParamSpec(
            name=pname,
            doc=str(spec.get("doc", "")),
            required=bool(spec.get("required", False)),
            default=spec.get("default"),
            choices=tuple(choices) if choices is not None else None,
        )
    body = text[match.end():] if match else text
    source_line = text[: match.end()].count("\n") + 1 if match else 1
    return BlockSpec(
        name=name,
        path=path,
        source=body,
        source_line=source_line,
        description=str(header.get("description", "")),
        params=params,
        show_if=header.get("show_if"),
    )


def _block_use(entry: Any, path: Path, line: int | None, param_lines: dict[str, int],
               experiments: dict[str, Experiment]) -> BlockUse:
    if isinstance(entry, str):
        return BlockUse(block=entry, line=line)
    if isinstance(entry, dict) and "block" in entry:
        unknown = set(entry) - {"block", "params", "show_if", "variant", "experiment"}
        if unknown:
            raise TemplateError(
                f"block entry has unknown keys {sorted(unknown)} (allowed: block, params, show_if, variant, "
                "experiment)", str(path), line,
            )
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise TemplateError("block params must be a mapping", str(path), line)
        block = str(entry["block"])
        params = {name: varied(value, experiments, path, param_lines.get(name, line),
                               f"parameter {name!r} of block {block!r}") for name, value in params.items()}
        show_if = entry.get("show_if")
        return BlockUse(block=block, params=params,
                        show_if=str(show_if) if show_if is not None else None, line=line,
                        param_lines={name: at for name, at in param_lines.items() if name in params},
                        variant=block_variants(entry, experiments, path, line, block))
    raise TemplateError("each block entry is a block name or a mapping with 'block:'", str(path), line)


def _value_line(node: yaml.Node) -> int:
    """The line a scalar's text starts on: a block scalar (``|``, ``>``) starts on the line after its key."""
    line = node.start_mark.line + 1
    return line + 1 if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">") else line


def _param_lines(item: yaml.Node) -> dict[str, int]:
    if isinstance(item, yaml.MappingNode):
        for key, value in item.value:
            if key.value == "params" and isinstance(value, yaml.MappingNode):
                return {str(name.value): _value_line(node) for name, node in value.value}
    return {}


def _top_level(path: Path, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The key and value nodes of a top-level key of a YAML file, for line numbers."""
    try:
        root = yaml_io.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if key.value == name:
            return key, value
    return None


def _item_lines(path: Path, name: str) -> list[int | None]:
    """Line numbers of the items of a top-level list (``blocks:``, ``requires:``), for errors."""
    found = _top_level(path, name)
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in found[1].value]


def _experiment_lines(path: Path) -> dict[str, int]:
    """The line of the ``experiments:`` key (under ``""``) and of each experiment in it, for errors."""
    found = _top_level(path, "experiments")
    if found is None:
        return {}
    lines = {"": found[0].start_mark.line + 1}
    if isinstance(found[1], yaml.MappingNode):
        lines.update({str(key.value): key.start_mark.line + 1 for key, _ in found[1].value})
    return lines


def _key_line(path: Path, name: str) -> int | None:
    found = _top_level(path, name)
    return found[0].start_mark.line + 1 if found is not None else None


def _entry_lines(path: Path) -> list[tuple[int, dict[str, int]]]:
    """Line numbers of the items of the top-level ``blocks:`` list and of their parameters, for errors."""
    found = _top_level(path, "blocks")
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return []
    return [(item.start_mark.line + 1, _param_lines(item)) for item in found[1].value]


def load_template(dirs: ContentLayout, name: str) -> TemplateSpec:
    if not isinstance(name, str) or not _NAME.match(name) or not (path := dirs.templates / f"{name}.yaml").is_file():
        raise TemplateNotFound(name, "template", template_names(dirs))
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise TemplateError("a template file must be a mapping", str(path), 1)
    for key in ("subject", "blocks"):
        if key not in data:
            raise TemplateError(f"missing required key {key!r}", str(path))
    if not isinstance(data["blocks"], list) or not data["blocks"]:
        raise TemplateError("'blocks' must be a non-empty list", str(path))
    known = {"description", "subject", "preheader", "defaults", "blocks", "event", "fixtures", "recommendations",
             "utm", "requires", "experiments"}
    unknown = set(data) - known
    if unknown:
        raise TemplateError(f"unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(known))})", str(path))
    requires = _requirements(data.get("requires"), path)
    for need in requires:
        if need.token in (data.get("defaults") or {}):
            raise TemplateError(f"{need.token} is required and has a default under defaults:, which would always "
                                "fill it; keep one of the two", str(path), need.line)
    experiments = parse_experiments(data.get("experiments"), path, _experiment_lines(path))
    lines = _entry_lines(path)
    uses = [_block_use(entry, path, *(lines[i] if i < len(lines) else (None, {})), experiments)
            for i, entry in enumerate(data["blocks"])]
    subject = varied(data["subject"], experiments, path, _key_line(path, "subject"), "subject")
    preheader = varied(data.get("preheader") or "", experiments, path, _key_line(path, "preheader"), "preheader")
    return TemplateSpec(
        name=name,
        path=path,
        subject=subject if isinstance(subject, Varied) else str(subject),
        preheader=preheader if isinstance(preheader, Varied) else str(preheader),
        blocks=uses,
        description=str(data.get("description") or ""),
        defaults=dict(data.get("defaults") or {}),
        event=data.get("event"),
        fixtures=dict(data.get("fixtures") or {}),
        recommendations=_policy(data.get("recommendations"), path),
        utm=data.get("utm"),
        requires=requires,
        experiments=experiments,
    )


def source_files(dirs: ContentLayout, spec: TemplateSpec) -> list[Path]:
    """Every file a compiled template depends on, for cache invalidation."""
    files = [spec.path, dirs.theme, dirs.layout, dirs.brand]
    files += sorted({dirs.blocks / f"{use.block}.mjml" for use in spec.blocks})
    return files


def fingerprint(paths: list[Path]) -> str:
    """A digest of the files' contents (a missing file counts as empty)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.exists() else b"\0missing")
    return digest.hexdigest()


def content_fingerprint(dirs: ContentLayout, *, personas_file: Path | None = None,
                        predictive_file: Path | None = None) -> str:
    """A digest of everything a render reads from content: templates, blocks, locales, rules, personas
    and the predictive model.

    Files are named relative to their folder (``templates/welcome.yaml``), so
    the same content installed under another path on another machine gives
    the same digest. Hidden files and editor backups (``~``) are left out.
    """
    named: list[tuple[str, Path]] = []
    for label, folder in (("templates", dirs.templates), ("blocks", dirs.blocks), ("locales", dirs.locales)):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            relative = path.relative_to(folder)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts) \
                    and not path.name.endswith("~"):
                named.append((f"{label}/{relative.as_posix()}", path))
    for label, path in (("segments", dirs.segments), ("personas", personas_file),
                        ("predictive", predictive_file)):
        if path is not None:
            named.append((label, path))
    digest = hashlib.sha256()
    for name, path in named:
        data = path.read_bytes() if path.exists() else b""
        # Name and length first, so that no two different file sets hash alike.
        digest.update(f"{name}\0{len(data) if path.exists() else -1}\0".encode())
        digest.update(data)
    return digest.hexdigest()
