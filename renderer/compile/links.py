"""UTM parameters on the links of the brand's own domains.

Configured in ``blocks/brand.yaml`` (a template's ``utm:`` may override any key)::

    utm:
      domains: [fernhill.example]     # these hosts and their subdomains
      source: fernhill
      medium: email
      campaign: "{template}"          # the template's name

``utm_content`` is the block's name, so a click says which block it came
from. A static link is tagged once, at assembly; a link made of a token
(``href="{{ p.url }}"``) gets the ``utm`` filter, which runs per recipient
but is memoised, since the same product URLs come back recipient after
recipient. Existing query strings and fragments are kept, and a link that
already carries any ``utm_`` parameter is left as the designer wrote it.
Unsubscribe and preference links are never tagged.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from renderer.base.errors import TemplateError
from renderer.sandbox.urls import tag_url

_HREF = re.compile(r'(\bhref=")([^"]*)(")')
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
_NEVER = frozenset({"UnsubscribeUrl", "PreferencesUrl", "UnsubscribeMailto"})
_KEYS = ("source", "medium", "campaign")


@dataclass(frozen=True)
class UtmConfig:
    """Which domains to tag, and the parameters every tagged link of one template gets."""

    domains: tuple[str, ...]
    params: tuple[tuple[str, str], ...]

    def query(self, content: str) -> str:
        """The query string to add, for links of the block ``content``."""
        return urlencode([*self.params, ("utm_content", content)])


def utm_config(brand: dict[str, Any], override: dict[str, Any] | None, *, template: str,
               filename: str) -> UtmConfig | None:
    """The template's UTM settings from the brand's ``utm:`` and the template's own; ``None`` when off.

    Raises:
        TemplateError: the settings are not a mapping, or a domain is not a host name.
    """
    base = brand.get("utm")
    if override is False or (not base and not override):
        return None
    merged: dict[str, Any] = {}
    for part in (base, override):
        if part is None:
            continue
        if not isinstance(part, dict):
            raise TemplateError("utm must be a mapping of domains, source, medium and campaign", filename)
        merged.update(part)
    unknown = set(merged) - {"domains", *_KEYS}
    if unknown:
        raise TemplateError(f"utm has unknown keys {sorted(unknown)} (allowed: domains, source, medium, campaign)",
                            filename)
    domains = merged.get("domains") or []
    if isinstance(domains, str):
        domains = [domains]
    hosts = tuple(str(d).lower().strip() for d in domains)
    bad = [h for h in hosts if not _HOST.match(h)]
    if bad or not hosts:
        raise TemplateError(f"utm.domains must list host names (like example.com), not {bad or domains!r}",
                            filename)
    params = tuple((f"utm_{key}", str(merged[key]).replace("{template}", template))
                   for key in _KEYS if merged.get(key))
    return UtmConfig(hosts, params)


def _jinja_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _tag_href(value: str, query: str, domains: tuple[str, ...]) -> str:
    if "{%" in value:
        return value  # a condition inside a link: left alone
    expressions = _EXPRESSION.findall(value)
    if not expressions:
        # The attribute may hold entities (&amp;); the URL is tagged unescaped.
        return html.escape(tag_url(html.unescape(value), query, domains), quote=True)
    if any(e.strip() in _NEVER for e in expressions):
        return value
    pieces = []
    for index, literal in enumerate(_EXPRESSION.split(value)):
        if index % 2:
            pieces.append(f"({literal.strip()})")
        elif literal:
            pieces.append(_jinja_string(literal))
    domain_tuple = "(" + ", ".join(_jinja_string(d) for d in domains) + ",)"
    return f"{{{{ ({' ~ '.join(pieces)}) | utm({_jinja_string(query)}, {domain_tuple}) }}}}"


def tag_links(source: str, config: UtmConfig, content: str) -> str:
    """Add UTM parameters to every ``href`` of one block's MJML (once per template)."""
    query = config.query(content)
    return _HREF.sub(lambda m: m.group(1) + _tag_href(m.group(2), query, config.domains) + m.group(3), source)
