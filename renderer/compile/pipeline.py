"""Compile a template once: the per-template pipeline, in order.

    0. translate  the template's copy into the catalog's language (locales.py)
    1. assemble   blocks + params -> one MJML document with Jinja tags
       validate   every tag and attribute against MJML's table (validate.py)
    2. protect    Jinja tags -> inert placeholders
    3. mjml       MJML -> HTML (MRML)
    4. inline     CSS -> style attributes (premailer)
    5. restore    placeholders -> Jinja tags: the HTML template
    6. text       inlined HTML -> plain-text template
    7. load       both into sandboxed Jinja templates

Everything here runs once per template version; per recipient only
:meth:`CompiledTemplate.render_html` and friends run (see ``recipient.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from types import CodeType
from typing import Any

import jinja2

from renderer.base.errors import CompileError, TemplateError
from renderer.compile.assemble import Assembled, AssembledBlock, assemble
from renderer.compile.inline import inline_css
from renderer.compile.mjml import compile_mjml
from renderer.compile.protect import protect, restore
from renderer.compile.text import glue_control_tags, html_to_text
from renderer.compile.validate import check_mjml
from renderer.content.loader import BlockSpec, TemplateSpec
from renderer.content.locales import Catalog, translate_spec, untranslated_copy
from renderer.sandbox.environments import html_environment, text_environment
from renderer.sandbox.expressions import ExpressionSet

ENGINE_DEFAULTS: dict[str, Any] = {"FirstName": "there"}
"""Fallbacks every template gets; a template's ``defaults:`` override them."""

HTML_ENV = html_environment()
TEXT_ENV = text_environment()


@dataclass(frozen=True)
class Sources:
    """What stages 0-6 make of a template: plain data, the same for the same content and code."""

    spec: TemplateSpec
    fingerprint: str
    brand: dict[str, Any]
    assembled: Assembled
    html_source: str
    text_source: str
    untranslated: tuple[str, ...]
    """Copy and message ids that show in English although the language is another one."""

    def jinja(self) -> tuple[tuple[jinja2.Environment, str], ...]:
        """(environment, source) of html, text, subject and preheader, in ``CompiledTemplate.codes``' order."""
        return ((HTML_ENV, self.html_source), (TEXT_ENV, self.text_source),
                (TEXT_ENV, self.assembled.subject), (TEXT_ENV, self.assembled.preheader))


@dataclass(frozen=True)
class CompiledTemplate(Sources):
    """A template ready to render many recipients: its sources and their Jinja templates."""

    html: jinja2.Template
    text: jinja2.Template
    subject: jinja2.Template
    preheader: jinja2.Template
    conditions: ExpressionSet
    """The ``show_if`` of every block that has one, in block order."""
    codes: tuple[CodeType, ...] = field(repr=False, compare=False)
    """The Jinja code of ``html``, ``text``, ``subject`` and ``preheader``: what the compile cache keeps."""

    @property
    def name(self) -> str:
        return self.spec.name

    @functools.cached_property
    def defaults(self) -> dict[str, Any]:
        """Token fallbacks: the engine's, overridden by the template's ``defaults:``."""
        return {**ENGINE_DEFAULTS, **self.spec.defaults}

    @property
    def language(self) -> str:
        """The language its fixed strings were compiled in (``en``, ``de``, ...)."""
        return self.assembled.language


def _code(env: jinja2.Environment, source: str, filename: str) -> CodeType:
    try:
        return env.compile(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(error.message or str(error), filename, error.lineno) from None


def load(sources: Sources, codes: tuple[CodeType, ...] | None = None) -> CompiledTemplate:
    """Stage 7: the Jinja templates, from ``codes`` when given (the cache's), else compiled now.

    What ``Environment.from_string`` does, in two halves, so the code can be kept.

    Raises:
        TemplateError: a Jinja tag is broken (file and line named).
    """
    pairs = sources.jinja()
    if codes is None:
        codes = tuple(_code(env, source, str(sources.spec.path)) for env, source in pairs)
    html, text, subject, preheader = (env.template_class.from_code(env, code, env.make_globals(None), None)
                                      for (env, _), code in zip(pairs, codes, strict=True))
    return CompiledTemplate(**_fields(sources), html=html, text=text, subject=subject, preheader=preheader,
                            conditions=_compile_conditions(sources.assembled.blocks), codes=codes)


def _fields(sources: Sources) -> dict[str, Any]:
    return {item.name: getattr(sources, item.name) for item in fields(Sources)}


def sources_of(compiled: CompiledTemplate) -> Sources:
    """The plain data of a compiled template (what :func:`load` makes it from again)."""
    return Sources(**_fields(compiled))


def _compile_conditions(blocks: tuple[AssembledBlock, ...]) -> ExpressionSet:
    # Each condition's syntax was checked by the assemble stage, naming the block.
    return ExpressionSet(HTML_ENV, [b.condition for b in blocks if b.condition is not None])


def compile_template(spec: TemplateSpec, blocks: dict[str, BlockSpec], theme: str,
                     brand: dict[str, Any], fingerprint: str, catalog: Catalog | None = None,
                     layout: str | None = None, *, theme_path: str = "the theme (_theme.mjml)",
                     layout_path: str = "the layout (_layout.mjml)") -> CompiledTemplate:
    """Run the whole per-template pipeline: :func:`load` of :func:`compile_sources` (same arguments and errors)."""
    return load(compile_sources(spec, blocks, theme, brand, fingerprint, catalog, layout, theme_path=theme_path,
                                layout_path=layout_path))


def compile_sources(spec: TemplateSpec, blocks: dict[str, BlockSpec], theme: str,
                    brand: dict[str, Any], fingerprint: str, catalog: Catalog | None = None,
                    layout: str | None = None, *, theme_path: str = "the theme (_theme.mjml)",
                    layout_path: str = "the layout (_layout.mjml)") -> Sources:
    """Stages 0-6, with the fixed strings of ``catalog``'s language.

    ``theme_path`` and ``layout_path`` name the theme and layout files in errors.

    Raises:
        TemplateError: a content file is broken (file and line named).
        CompileError: an unknown or misplaced MJML tag or attribute (file and line
            named), or MJML or the inliner rejected the assembled document.
    """
    untranslated: list[str] = []
    if catalog is not None:
        untranslated = untranslated_copy(spec, catalog)
        spec = translate_spec(spec, catalog)
    assembled = assemble(spec, blocks, theme, brand, catalog, layout, theme_path=theme_path,
                         layout_path=layout_path)
    check_mjml(assembled.mjml, assembled.origins, fallback=str(spec.path))
    rtl = catalog is not None and catalog.direction == "rtl"
    protected = protect(assembled.mjml)
    try:
        inlined = inline_css(compile_mjml(protected.source), references=not protected.captures_text())
        html_source = restore(inlined, protected, stage="MJML or CSS inlining")
        text_source = glue_control_tags(
            restore(html_to_text(inlined, protected.tags, isolate=rtl), protected, stage="text conversion", strict=False))
    except CompileError as error:
        raise CompileError(error.message, str(spec.path)) from None
    return Sources(spec, fingerprint, brand, assembled, html_source, text_source,
                   tuple(untranslated) + assembled.untranslated)


def reference_mjml(compiled: CompiledTemplate, context: dict[str, Any]) -> str:
    """The assembled MJML after one recipient's Jinja pass: plain MJML, no tags left.

    What the reference path compiles; the fidelity test also gives it to the
    JavaScript MJML compiler.
    """
    return HTML_ENV.from_string(compiled.assembled.mjml).render(context)


def render_reference(compiled: CompiledTemplate, context: dict[str, Any]) -> str:
    """The slow oracle: Jinja on the MJML source, then MJML, then inlining.

    Used by tests and benchmarks to prove the fast path equal, never by ``render``.
    """
    return inline_css(compile_mjml(reference_mjml(compiled, context)))
