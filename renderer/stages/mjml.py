"""MJML to HTML with mjml-python (the Rust MRML compiler), network-free."""

from __future__ import annotations

import mjml as _mjml

from ..errors import CompileError


def compile_mjml(source: str) -> str:
    """Compile an MJML document to HTML.

    ``fonts={}`` keeps MRML from emitting its default Google Fonts link, which
    the inliner would otherwise try to fetch; fonts are declared in the theme.

    Raises:
        CompileError: with MRML's own message when the MJML does not parse.
    """
    try:
        return _mjml.mjml2html(source, fonts={}, disable_comments=True)
    except Exception as error:  # MRML raises a bare exception type
        raise CompileError(f"MJML could not compile: {error}") from None
