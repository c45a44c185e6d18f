"""Load the content a designer edits: templates, blocks, the theme and brand.

Content is data. A template is a YAML file in ``templates/``; a block is an
MJML fragment in ``blocks/`` whose first lines may hold a YAML header inside a
Jinja comment (``{#--- ... ---#}``) documenting its parameters. Nothing here
compiles anything; it only reads files and checks their shape.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from renderer.base.errors import TemplateError, TemplateNotFound
from renderer.content import yaml_io
from renderer.content.layout import ContentLayout

_HEADER = re.compile(r"\A\{#---\n(?P<yaml>.*?)\n---#\}\n?", re.DOTALL)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter a block accepts."""

    name: str
    doc: str = ""
    required: bool = False
    default: Any = None


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


@dataclass(frozen=True)
class TemplateSpec:
    """An email: subject, preheader and an ordered list of blocks."""

    name: str
    path: Path
    subject: str
    preheader: str
    blocks: list[BlockUse]
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    event: str | None = None
    fixtures: dict[str, Any] = field(default_factory=dict)
    recommendations: RecommendationPolicy = field(default_factory=lambda: RecommendationPolicy())
    utm: Any = None
    """Overrides of the brand's ``utm:`` settings, or ``False`` for no UTM parameters."""


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
        params[pname] = ParamSpec(
            name=pname,
            doc=str(spec.get("doc", "")),
            required=bool(spec.get("required", False)),
            default=spec.get("default"),
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


def _block_use(entry: Any, path: Path, line: int | None) -> BlockUse:
    if isinstance(entry, str):
        return BlockUse(block=entry, line=line)
    if isinstance(entry, dict) and "block" in entry:
        unknown = set(entry) - {"block", "params", "show_if"}
        if unknown:
            raise TemplateError(
                f"block entry has unknown keys {sorted(unknown)} (allowed: block, params, show_if)",
                str(path), line,
            )
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise TemplateError("block params must be a mapping", str(path), line)
        show_if = entry.get("show_if")
        return BlockUse(block=str(entry["block"]), params=params,
                        show_if=str(show_if) if show_if is not None else None, line=line)
    raise TemplateError("each block entry is a block name or a mapping with 'block:'", str(path), line)


def _entry_lines(path: Path) -> list[int | None]:
    """Line numbers of the items of the top-level ``blocks:`` list, for errors."""
    try:
        root = yaml_io.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "blocks" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


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
             "utm"}
    unknown = set(data) - known
    if unknown:
        raise TemplateError(f"unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(known))})", str(path))
    lines = _entry_lines(path)
    uses = [_block_use(entry, path, lines[i] if i < len(lines) else None)
            for i, entry in enumerate(data["blocks"])]
    return TemplateSpec(
        name=name,
        path=path,
        subject=str(data["subject"]),
        preheader=str(data.get("preheader") or ""),
        blocks=uses,
        description=str(data.get("description") or ""),
        defaults=dict(data.get("defaults") or {}),
        event=data.get("event"),
        fixtures=dict(data.get("fixtures") or {}),
        recommendations=_policy(data.get("recommendations"), path),
        utm=data.get("utm"),
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
