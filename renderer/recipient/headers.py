"""Mail headers an email carries beside its body: one-click unsubscribe (RFC 2369, RFC 8058), variants."""

from __future__ import annotations

from typing import Any

ONE_CLICK = "List-Unsubscribe=One-Click"

VARIANT_HEADER = "X-Variant"
"""The header naming an email's experiment variants, unless the brand's ``experiment_header`` renames it."""


def unsubscribe_headers(url: str | None, mailto: str | None) -> dict[str, str]:
    """``List-Unsubscribe`` with the URL and the mailto, and RFC 8058's one-click POST header.

    Gmail and Yahoo require one-click unsubscribe from bulk senders. The POST
    header is only valid beside an HTTPS URL (RFC 8058 section 3.1), so it is
    left out when there is none. The sender must DKIM-sign both headers.

    Example:
        >>> unsubscribe_headers("https://x.example/u?c=1", "mailto:u@x.example?subject=c1")
        {'List-Unsubscribe': '<https://x.example/u?c=1>, <mailto:u@x.example?subject=c1>', \
'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'}
    """
    targets = [t for t in (url, mailto) if t]
    if not targets:
        return {}
    headers = {"List-Unsubscribe": ", ".join(f"<{t}>" for t in targets)}
    if url and url.lower().startswith("https://"):
        headers["List-Unsubscribe-Post"] = ONE_CLICK
    return headers


def email_headers(context: dict[str, Any], brand: dict[str, Any] | None = None, variants: str = "") -> dict[str, str]:
    """The headers of one recipient's email: the unsubscribe headers from their token context and,
    in an email with experiments, ``X-Variant: hero_test=B; subject_test=holdout`` (``variants`` is
    the assignment's label, ``audience/experiments.assign``), so an ESP can attribute opens and
    clicks per variant. That header's name is the brand's ``experiment_header``; ``false`` there
    leaves it out."""
    headers = unsubscribe_headers(context.get("UnsubscribeUrl"), context.get("UnsubscribeMailto"))
    if variants:
        name = (brand or {}).get("experiment_header", VARIANT_HEADER)
        if name:
            headers[str(name)] = variants
    return headers
