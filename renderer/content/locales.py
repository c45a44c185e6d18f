"""Translated fixed strings of the blocks: ``locales/<lang>.yaml``, read at compile time.

A locale file maps message ids to text, grouped by block (``footer.unsubscribe``)::

    footer:
      unsubscribe: Abmelden
      help: "Fragen? Antworte einfach oder schreib an [[ email ]]."

Blocks use a message with ``[[ t('footer.unsubscribe') ]]``; a message may
hold recipient tokens (``{{ CartTotal }}``), brand values (``[[ brand.name ]]``)
and named values passed by the block (``[[ t('footer.help', email=link) ]]``).
An id missing from ``de.yaml`` falls back to ``en.yaml``, which must define
every id.

The templates' own copy stays readable English in ``templates/*.yaml``; a
locale file translates it under ``copy:``, keyed by the English text exactly
as the template writes it (a subject, a preheader, a default, a block
parameter). Text without a translation stays English; editing the English
leaves its old translation unused, so translate again after an edit.

A template is compiled once per language on first use (see
``Engine.compiled``), so looking strings up costs a recipient nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from renderer.base.errors import TemplateError
from renderer.content import yaml_io
from renderer.content.experiments import Varied
from renderer.content.loader import TemplateSpec
from renderer.sandbox.formatting import babel_locale, text_direction

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Catalog:
    """The messages of one language, with the default language's behind them."""

    language: str
    messages: dict[str, str]
    origins: dict[str, str]
    """Message id -> the file that defined it, for errors."""
    folder: Path
    copy: dict[str, str] = field(default_factory=dict)
    """The templates' English copy -> this language's (from the ``copy:`` section)."""

    @property
    def direction(self) -> str:
        return text_direction(self.language)

    def translate(self, value: Any) -> Any:
        """A template's text in this language, or as it was when there is no translation.

        A value that differs per experiment variant is translated variant by variant.
        """
        if isinstance(value, Varied):
            return value.map(self.translate)
        return self.copy.get(value, value) if isinstance(value, str) else value

    def fell_back(self, message_id: str) -> bool:
        """Whether a message of a language other than English comes from the English file."""
        if self.language == DEFAULT_LANGUAGE:
            return False
        origin = self.origins.get(message_id) or self.origins.get(f"{message_id}.other")
        return origin is not None and Path(origin).stem.lower() == DEFAULT_LANGUAGE

    def text(self, message_id: str) -> str:
        """The message's text.

        Raises:
            TemplateError: no locale file defines the id.
        """
        try:
            return self.messages[message_id]
        except KeyError:
            english = self.folder / f"{DEFAULT_LANGUAGE}.yaml"
            raise TemplateError(f"unknown message id {message_id!r}: add it to {english}", str(english)) from None


    def plural_texts(self, message_id: str) -> dict[str, str]:
        """The forms of a plural message (``cart_items.more.one``, ``.other``, ...) by CLDR category.

        All forms come from one file, the most specific that defines the
        message's ``other`` form: a language's own forms never mix with
        English ones. Categories that file leaves out use ``other``.

        Raises:
            TemplateError: no locale file defines ``<message_id>.other``.
        """
        origin = self.origins.get(f"{message_id}.other")
        if origin is None:
            english = self.folder / f"{DEFAULT_LANGUAGE}.yaml"
            raise TemplateError(f"unknown plural message {message_id!r}: add its forms (at least 'other') "
                                f"to {english}", str(english))
        prefix = f"{message_id}."
        return {key[len(prefix):]: text for key, text in self.messages.items()
                if key.startswith(prefix) and self.origins.get(key) == origin}


def plural_categories(language: str) -> tuple[str, ...]:
    """The CLDR plural categories a language distinguishes, ``other`` last (``('one', 'other')`` for en)."""
    tags = babel_locale(language).plural_form.tags
    order = ("zero", "one", "two", "few", "many")
    return tuple(tag for tag in order if tag in tags) + ("other",)


def primary_language(locale: str) -> str:
    """``de`` for ``de-DE`` or ``de_AT``."""
    return locale.replace("_", "-").split("-")[0].lower()


def locale_files(folder: Path, language: str) -> list[Path]:
    """The files a language's catalog reads: the default language's, then its own."""
    files = [folder / f"{DEFAULT_LANGUAGE}.yaml"]
    if language != DEFAULT_LANGUAGE:
        files.append(folder / f"{language}.yaml")
    return files


def available_languages(folder: Path) -> frozenset[str]:
    """Languages that have a file in ``folder`` (always including the default)."""
    found = {p.stem.lower() for p in folder.glob("*.yaml")} if folder.is_dir() else set()
    return frozenset(found | {DEFAULT_LANGUAGE})


def _flatten(data: Any, path: Path, prefix: str = "") -> dict[str, str]:
    if not isinstance(data, dict):
        raise TemplateError(f"expected a mapping of message ids{' under ' + prefix if prefix else ''}", str(path))
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path, name))
        elif isinstance(value, (str, int, float)):
            flat[name] = str(value)
        else:
            raise TemplateError(f"message {name!r} must be text", str(path))
    return flat


def _read(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    try:
        data = yaml_io.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise TemplateError(f"invalid YAML: {error.problem}", str(path), line) from None
    if not isinstance(data, dict):
        raise TemplateError("a locale file must be a mapping of message ids", str(path))
    copy = data.pop("copy", None) or {}
    if not isinstance(copy, dict) or not all(isinstance(v, (str, type(None))) for v in copy.values()):
        raise TemplateError("copy: must map each English text to its translation", str(path))
    return _flatten(data, path), {str(k): v or "" for k, v in copy.items()}


def load_catalog(folder: Path, language: str) -> Catalog:
    """Read a language's messages over the default language's.

    Raises:
        TemplateError: a locale file is not valid YAML or not a mapping of texts.
    """
    messages: dict[str, str] = {}
    origins: dict[str, str] = {}
    copy: dict[str, str] = {}
    for path in locale_files(folder, language):
        if path.exists():
            own, own_copy = _read(path)
            messages.update(own)
            origins.update(dict.fromkeys(own, str(path)))
            copy.update(own_copy)
    return Catalog(language, messages, origins, folder, copy)


def translate_spec(spec: TemplateSpec, catalog: Catalog) -> TemplateSpec:
    """The template with its subject, preheader, defaults and block parameters in the catalog's language."""
    if not catalog.copy:
        return spec
    return replace(
        spec,
        subject=catalog.translate(spec.subject),
        preheader=catalog.translate(spec.preheader),
        defaults={name: catalog.translate(value) for name, value in spec.defaults.items()},
        blocks=[replace(use, params={name: catalog.translate(value) for name, value in use.params.items()})
                for use in spec.blocks],
    )


_NOT_COPY = re.compile(r"^(?:https?:|mailto:|/|\[\[|[\w.-]+$)")
"""Parameter values that are not words for a reader: links, ``[[ ... ]]`` fills, names, numbers."""
_LENGTHS = re.compile(r"\b\d+(?:\.\d+)?(?:px|em|rem|%)?\b|#[0-9a-fA-F]{3,8}\b")
"""CSS lengths and colours (``36px 0 0``, ``#2f4f3a``): parameters, not copy."""


def untranslated_copy(spec: TemplateSpec, catalog: Catalog) -> list[str]:
    """The template's English texts that ``catalog``'s language has no ``copy:`` translation of."""
    if catalog.language == DEFAULT_LANGUAGE:
        return []
    values = [spec.subject, spec.preheader, *spec.defaults.values(),
              *(value for use in spec.blocks for value in use.params.values())]
    missing: list[str] = []
    for value in values:
        if (isinstance(value, str) and value.strip() and not _NOT_COPY.match(value.strip())
                and any(ch.isalpha() for ch in _LENGTHS.sub("", value)) and value not in catalog.copy and value not in missing):
            missing.append(value)
    return missing


@lru_cache(maxsize=512)
def language_for(locale: str, available: frozenset[str]) -> str:
    """The content language for a recipient's locale: its own if translated, else the default."""
    language = primary_language(locale) if isinstance(locale, str) else DEFAULT_LANGUAGE
    return language if language in available else DEFAULT_LANGUAGE
