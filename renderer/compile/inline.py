"""Inline CSS into style attributes with premailer, network off."""

from __future__ import annotations

import logging

from renderer.base.errors import CompileError
from renderer.compile.clients import MAX_LINE_OCTETS, ascii_references, break_long_lines, longest_line

DOCTYPE = "<!doctype html>"


def inline_css(html: str, *, references: bool = True) -> str:
    """Move CSS rules into ``style`` attributes; keep media queries in ``<head>``.

    premailer drops the doctype, so it is put back. Its copying of ``width`` and
    ``height`` from styles into attributes is off: it overwrote MRML's pixel
    widths on images with ``width="100%"`` (Outlook then sizes the image from
    the file) and wrote ``width`` on paragraphs. Lines are broken to fit
    RFC 5322's 998 octets (:func:`~renderer.compile.clients.break_long_lines`), after every
    character outside ASCII is written as a character reference
    (:func:`~renderer.compile.clients.ascii_references`), unless ``references`` is false or
    a line would then be too long.
    libxml2's serializer does not know ``<wbr>`` (HTML5) as a void element and
    writes ``<wbr></wbr>``; that is put back to ``<wbr>``, as the MJML source
    and the ``phrases`` filter write it (and as MRML requires).

    Raises:
        CompileError: when the HTML cannot be processed.
    """
    # Imported here: premailer, cssutils and requests take about 0.1 s to import, which a process whose
    # templates all come from the compile cache (compile/cache.py) never needs.
    from premailer import Premailer

    try:
        inlined = Premailer(
            html,
            allow_network=False,
            allow_loading_external_files=False,
            keep_style_tags=False,
            remove_classes=False,
            strip_important=False,
            disable_validation=True,
            disable_basic_attributes=["width", "height"],
            cssutils_logging_level=logging.CRITICAL,
        ).transform(pretty_print=False)
    except Exception as error:
        raise CompileError(f"CSS inlining failed: {error}") from None
    if not inlined.lower().startswith("<!doctype"):
        inlined = f"{DOCTYPE}\n{inlined}"
    inlined = inlined.replace("<wbr></wbr>", "<wbr>")
    if references:
        written = break_long_lines(ascii_references(inlined))
        if longest_line(written) <= MAX_LINE_OCTETS:
            return written
    return break_long_lines(inlined)
