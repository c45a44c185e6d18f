"""Swap Jinja tags for inert placeholders, and back.

MJML and the CSS inliner both rewrite what they do not understand: a ``<``
inside ``{% if %}`` breaks MJML's parse, and premailer URL-encodes
``href="{{ url }}"`` into ``{{%20url%20}}``. So before those stages every
Jinja tag becomes a short alphanumeric placeholder, and afterwards each
placeholder must come back exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from renderer.base.errors import CompileError

_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_PLACEHOLDER = re.compile(r"jjph(\d{5})z")


# Tags whose body a template can read as a value instead of writing it out: a filter block, a macro
# (``m()|upper``), a call block (the body is the macro's caller()) and a block set
# (``{% set x %}...{% endset %}``, no ``=``).
_CAPTURING_TAG = re.compile(r"\{%[-+]?\s*(?:filter|macro|call)\b|\{%[-+]?\s*set\b[^=]*%\}\Z", re.DOTALL)


@dataclass(frozen=True)
class Protected:
    """Source with placeholders, and the tags they stand for."""

    source: str
    tags: tuple[str, ...]

    def captures_text(self) -> bool:
        """Whether a tag may take the text it encloses as a value (``{% filter upper %}``, a macro, a
        block ``set``, ``{% call %}``): that text must reach Jinja as written, not as character references."""
        return any(_CAPTURING_TAG.match(tag) for tag in self.tags if tag.startswith("{%"))


def protect(source: str) -> Protected:
    """Replace every Jinja tag by a placeholder (comments are dropped)."""
    tags: list[str] = []

    def swap(match: re.Match[str]) -> str:
        tag = match.group(0)
        if tag.startswith("{#"):
            return ""
        tags.append(tag)
        return f"jjph{len(tags) - 1:05d}z"

    if _PLACEHOLDER.search(source):
        raise CompileError("the source already contains placeholder-like text 'jjphNNNNNz'")
    return Protected(_JINJA_TAG.sub(swap, source), tuple(tags))


def restore(text: str, protected: Protected, *, stage: str, strict: bool = True) -> str:
    """Put the Jinja tags back.

    With ``strict``, every tag must survive, and control tags (``{% %}``) exactly
    once: MJML may copy an attribute such as ``lang="{{ Lang }}"`` to two
    elements, which is harmless for an expression but not for an ``{% if %}``.

    Raises:
        CompileError: when a stage dropped a tag or duplicated a control tag.
    """
    seen = [0] * len(protected.tags)

    def swap(match: re.Match[str]) -> str:
        index = int(match.group(1))
        seen[index] += 1
        return protected.tags[index]

    restored = _PLACEHOLDER.sub(swap, text)
    if strict:
        for index, count in enumerate(seen):
            if count == 0 or (count > 1 and protected.tags[index].startswith("{%")):
                what = "dropped" if count == 0 else f"repeated {count} times"
                raise CompileError(
                    f"{stage} {what} the Jinja tag {protected.tags[index]!r}; "
                    "tags between MJML sections or columns must sit inside <mj-raw>"
                )
    return restored
