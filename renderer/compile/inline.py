"""Inline CSS into style attributes with premailer, network off."""

from __future__ import annotations

import logging

from premailer import Premailer

from renderer.base.errors import CompileError

DOCTYPE = "<!doctype html>"


def inline_css(html: str) -> str:
    """Move CSS rules into ``style`` attributes; keep media queries in ``<head>``.

    premailer drops the doctype, so it is put back.

    Raises:
        CompileError: when the HTML cannot be processed.
    """
    try:
        inlined = Premailer(
            html,
            allow_network=False,
            allow_loading_external_files=False,
            keep_style_tags=False,
            remove_classes=False,
            strip_important=False,
            disable_validation=True,
            cssutils_logging_level=logging.CRITICAL,
        ).transform(pretty_print=False)
    except Exception as error:
        raise CompileError(f"CSS inlining failed: {error}") from None
    if inlined.lower().startswith("<!doctype"):
        return inlined
    return f"{DOCTYPE}\n{inlined}"
