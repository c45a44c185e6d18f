"""MJML to HTML with mjml-python (the Rust MRML compiler), network-free."""

from __future__ import annotations

import re

import mjml as _mjml

from renderer.base.errors import CompileError
from renderer.compile.clients import normalize_paddings, prepare_for_inlining

# MRML 1.4.2 writes a combining mark inside an attribute value as Rust's
# debug escape: Arabic "بدلًا" in data-text or aria-label comes out as
# "بدل\u{64b}ا" (so do Hindi or Vietnamese marks in alt text).
_RUST_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")


def _unescape(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return chr(code) if code <= 0x10FFFF else match.group(0)


def compile_mjml(source: str) -> str:
    """Compile an MJML document to HTML.

    ``fonts={}`` keeps MRML from emitting its default Google Fonts link, which
    the inliner would otherwise try to fetch; fonts are declared in the theme.
    Characters MRML escaped the Rust way (``\\u{64b}``) are put back. Unitless
    zero paddings are written ``0px`` first, and the HTML is readied for the
    inliner (see :mod:`renderer.compile.clients`).

    Raises:
        CompileError: with MRML's own message when the MJML does not parse.
    """
    try:
        html = _mjml.mjml2html(normalize_paddings(source), fonts={}, disable_comments=True)
    except Exception as error:  # MRML raises a bare exception type
        raise CompileError(f"MJML could not compile: {error}") from None
    if "\\u{" in html:
        html = _RUST_ESCAPE.sub(_unescape, html)
    return prepare_for_inlining(html)
