"""Turn a template that failed for one recipient into a TemplateError naming its file.

Runs only after a render raised, so it may be slow: it renders the template's
blocks one by one with the same context to find the block file that fails.
Rendering the finished HTML cannot tell, because MJML drops the comments that
mark where each block starts.
"""

from __future__ import annotations

import re
from typing import Any

from renderer.base.errors import TemplateError
from renderer.compile.pipeline import HTML_ENV, CompiledTemplate
from renderer.sandbox.environments import render_fast

_BLOCK_MARK = re.compile(r"<!-- block: [a-z0-9_]+ -->\n")
_MESSAGE_LIMIT = 300


def _describe(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "RecursionError: the template recursed too deep"
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _failing_block(compiled: CompiledTemplate, context: dict[str, Any]) -> str | None:
    """The file of the first block whose part of the template raises with this context."""
    chunks = _BLOCK_MARK.split(compiled.assembled.mjml)[1:]
    for block, chunk in zip(compiled.assembled.blocks, chunks):
        try:
            render_fast(HTML_ENV.from_string(chunk), context)
        except Exception:
            return block.path
    return None


def render_failure(compiled: CompiledTemplate, context: dict[str, Any], part: str, profile_id: str,
                   error: BaseException) -> TemplateError:
    """A TemplateError for ``part`` (subject, preheader, html or text) failing for one recipient.

    The error names the block file that failed when it can be found (else the
    template file), the template, the recipient and what the sandbox or Jinja
    said, e.g. ``blocks/hero.mjml: rendering the html of template 'welcome'
    for profile 'c1' failed: SecurityError: access to attribute '__class__'
    of 'str' object is unsafe.``
    """
    where = _failing_block(compiled, context) if part in ("html", "text") else None
    return TemplateError(
        f"rendering the {part} of template {compiled.name!r} for profile {profile_id!r} failed: "
        f"{_describe(error)}",
        where or str(compiled.spec.path),
    )
