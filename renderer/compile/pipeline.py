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
from dataclasses import dataclass
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
class CompiledTemplate:
    """A template ready to render many recipients."""

    spec: TemplateSpec
    fingerprint: str
    brand: dict[str, Any]
    assembled: Assembled
    html_source: str
    text_source: str
    html: jinja2.Template
    text: jinja2.Template
    subject: jinja2.Template
    preheader: jinja2.Template
    conditions: ExpressionSet
    """The ``show_if`` of every block that has one, in block order."""
    untranslated: tuple[str, ...] = ()
    """Copy and message ids that show in English although the language is another one."""

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


def _load(env: jinja2.Environment, source: str, filename: str) -> jinja2.Template:
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(error.message or str(error), filename, error.lineno) from None


def _compile_conditions(blocks: tuple[AssembledBlock, ...]) -> ExpressionSet:
    # Each condition's syntax was checked by the assemble stage, naming the block.
    return ExpressionSet(HTML_ENV, [b.condition for b in blocks if b.condition is not None])


def compile_template(spec: TemplateSpec, blocks: dict[str, BlockSpec], theme: str,
                     brand: dict[str, Any], fingerprint: str, catalog: Catalog | None = None,
                     layout: str | None = None, *, theme_path: str = "the theme (_theme.mjml)",
                     layout_path: str = "the layout (_layout.mjml)") -> CompiledTemplate:
    """Run the per-template pipeline, with the fixed strings of ``catalog``'s language.

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
        inlined = inline_css(compile_mjml(protected.source))
        html_source = restore(inlined, protected, stage="MJML or CSS inlining")
        text_source = glue_control_tags(
            restore(html_to_text(inlined, protected.tags, isolate=rtl), protected, stage="text conversion", strict=False))
    except CompileError as error:
        raise CompileError(error.message, str(spec.path)) from None
    return CompiledTemplate(
        spec=spec,
        fingerprint=fingerprint,
        brand=brand,
        assembled=assembled,
        html_source=html_source,
        text_source=text_source,
        html=_load(HTML_ENV, html_source, str(spec.path)),
        text=_load(TEXT_ENV, text_source, str(spec.path)),
        subject=_load(TEXT_ENV, assembled.subject, str(spec.path)),
        preheader=_load(TEXT_ENV, assembled.preheader, str(spec.path)),
        conditions=_compile_conditions(assembled.blocks),
        untranslated=tuple(untranslated) + assembled.untranslated,
    )


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
