"""The MJML elements: which tags exist, which attributes each takes, what each may contain.

Facts, not code: copied from MJML 5.4's own components (each component's
``allowedAttributes``, its ``endingTag`` flag, the preset's ``dependencies``
table and the validator's component-less tags), the same data the JavaScript
MJML validator checks a document against. MRML, which compiles our emails,
silently ignores a tag or an attribute it does not know; ``validate.py``
checks the assembled document against this table instead.

``mj-class`` and ``css-class`` are accepted on every element (MJML's
validator whitelists them). An *ending* element's content is HTML or text,
not MJML, so nothing inside it is checked. Children ``ANY_ELEMENT``: any
known element may appear (``mj-attributes`` sets defaults per tag name).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Element:
    """One MJML tag: its attributes, the tags it may contain, and whether its content is raw."""

    attributes: tuple[str, ...]
    children: tuple[str, ...] | None
    """Tags allowed directly inside; ``None`` (``ANY_ELEMENT``) lets any known element in."""
    ending: bool = False
    """An ending tag: its content is HTML or text, never parsed as MJML."""


ANY_ELEMENT = None
GLOBAL_ATTRIBUTES = frozenset({"mj-class", "css-class"})

ELEMENTS: dict[str, Element] = {
    # The root and the tags MJML handles without a component of their own.
    "mjml": Element(attributes=("dir", "lang", "owa"), children=("mj-body", "mj-head", "mj-raw")),
    "mj-include": Element(attributes=("css-inline", "path", "type"), children=()),
    "mj-selector": Element(attributes=("path",), children=("mj-html-attribute",)),
    "mj-html-attribute": Element(attributes=("name",), children=(), ending=True),
    "mj-body": Element(
        attributes=("background-color", "id", "width"),
        children=("mj-raw", "mj-section", "mj-wrapper", "mj-hero"),
    ),
    "mj-head": Element(
        attributes=(),
        children=(
            "mj-attributes", "mj-breakpoint", "mj-html-attributes", "mj-font", "mj-preview", "mj-style",
            "mj-title", "mj-raw"
        ),
    ),
    "mj-attributes": Element(
        attributes=(),
        children=ANY_ELEMENT,
    ),
    "mj-breakpoint": Element(
        attributes=("width",),
        children=(), ending=True,
    ),
    "mj-html-attributes": Element(
        attributes=(),
        children=("mj-selector",),
    ),
    "mj-font": Element(
        attributes=("href", "name"),
        children=(),
    ),
    "mj-preview": Element(
        attributes=(),
        children=(), ending=True,
    ),
    "mj-style": Element(
        attributes=("inline",),
        children=(), ending=True,
    ),
    "mj-title": Element(
        attributes=(),
        children=(), ending=True,
    ),
    "mj-hero": Element(
        attributes=(
            "background-color", "background-height", "background-position", "background-url",
            "background-width", "border-radius", "height", "inner-background-color", "inner-padding",
            "inner-padding-bottom", "inner-padding-left", "inner-padding-right", "inner-padding-top",
            "mode", "padding", "padding-bottom", "padding-left", "padding-right", "padding-top",
            "vertical-align"
        ),
        children=(
            "mj-accordion", "mj-button", "mj-carousel", "mj-divider", "mj-image", "mj-social", "mj-spacer",
            "mj-table", "mj-text", "mj-navbar", "mj-raw"
        ),
    ),
    "mj-button": Element(
        attributes=(
            "align", "background-color", "border", "border-bottom", "border-left", "border-radius",
            "border-right", "border-top", "color", "container-background-color", "font-family", "font-size",
            "font-style", "font-weight", "height", "href", "inner-padding", "letter-spacing", "line-height",
            "name", "padding", "padding-bottom", "padding-left", "padding-right", "padding-top", "rel",
            "target", "text-align", "text-decoration", "text-transform", "title", "vertical-align", "width"
        ),
        children=(), ending=True,
    ),
    "mj-column": Element(
        attributes=(
            "background-color", "border", "border-bottom", "border-left", "border-radius", "border-right",
            "border-top", "direction", "inner-background-color", "inner-border", "inner-border-bottom",
            "inner-border-left", "inner-border-radius", "inner-border-right", "inner-border-top", "padding",
            "padding-bottom", "padding-left", "padding-right", "padding-top", "vertical-align", "width"
        ),
        children=(
            "mj-accordion", "mj-button", "mj-carousel", "mj-divider", "mj-image", "mj-raw", "mj-social",
            "mj-spacer", "mj-table", "mj-text", "mj-navbar"
        ),
    ),
    "mj-divider": Element(
        attributes=(
            "align", "border-color", "border-style", "border-width", "container-background-color",
            "padding", "padding-bottom", "padding-left", "padding-right", "padding-top", "width"
        ),
        children=(),
    ),
    "mj-group": Element(
        attributes=("background-color", "direction", "vertical-align", "width"),
        children=("mj-column", "mj-raw"),
    ),
    "mj-image": Element(
        attributes=(
            "align", "alt", "border", "border-bottom", "border-left", "border-radius", "border-right",
            "border-top", "container-background-color", "fluid-on-mobile", "font-size", "height", "href",
            "max-height", "name", "padding", "padding-bottom", "padding-left", "padding-right",
            "padding-top", "rel", "sizes", "src", "srcset", "target", "title", "usemap", "width"
        ),
        children=(),
    ),
    "mj-raw": Element(
        attributes=("position",),
        children=(), ending=True,
    ),
    "mj-section": Element(
        attributes=(
            "background-color", "background-position", "background-position-x", "background-position-y",
            "background-repeat", "background-size", "background-url", "border", "border-bottom",
            "border-left", "border-radius", "border-right", "border-top", "direction", "full-width",
            "gutter", "padding", "padding-bottom", "padding-left", "padding-right", "padding-top",
            "text-align", "text-padding"
        ),
        children=("mj-column", "mj-group", "mj-raw"),
    ),
    "mj-spacer": Element(
        attributes=(
            "border", "border-bottom", "border-left", "border-right", "border-top",
            "container-background-color", "height", "padding", "padding-bottom", "padding-left",
            "padding-right", "padding-top"
        ),
        children=(),
    ),
    "mj-text": Element(
        attributes=(
            "align", "background-color", "color", "container-background-color", "font-family", "font-size",
            "font-style", "font-weight", "height", "letter-spacing", "line-height", "padding",
            "padding-bottom", "padding-left", "padding-right", "padding-top", "text-decoration",
            "text-transform", "vertical-align"
        ),
        children=(), ending=True,
    ),
    "mj-table": Element(
        attributes=(
            "align", "border", "cellpadding", "cellspacing", "color", "container-background-color",
            "font-family", "font-size", "font-weight", "line-height", "padding", "padding-bottom",
            "padding-left", "padding-right", "padding-top", "role", "table-layout", "vertical-align",
            "width"
        ),
        children=(), ending=True,
    ),
    "mj-wrapper": Element(
        attributes=(
            "background-color", "background-position", "background-position-x", "background-position-y",
            "background-repeat", "background-size", "background-url", "border", "border-bottom",
            "border-left", "border-radius", "border-right", "border-top", "direction", "full-width", "gap",
            "gutter", "padding", "padding-bottom", "padding-left", "padding-right", "padding-top",
            "text-align", "text-padding"
        ),
        children=("mj-hero", "mj-raw", "mj-section"),
    ),
    "mj-social": Element(
        attributes=(
            "align", "border", "border-radius", "color", "container-background-color", "font-family",
            "font-size", "font-style", "font-weight", "icon-height", "icon-padding", "icon-size",
            "inner-padding", "line-height", "mode", "padding", "padding-bottom", "padding-left",
            "padding-right", "padding-top", "table-layout", "text-decoration", "text-padding",
            "vertical-align"
        ),
        children=("mj-social-element", "mj-raw"),
    ),
    "mj-social-element": Element(
        attributes=(
            "align", "alt", "background-color", "border", "border-radius", "color", "font-family",
            "font-size", "font-style", "font-weight", "href", "icon-height", "icon-padding",
            "icon-position", "icon-size", "line-height", "name", "padding", "padding-bottom",
            "padding-left", "padding-right", "padding-top", "rel", "sizes", "src", "srcset", "target",
            "text-decoration", "text-padding", "title", "vertical-align"
        ),
        children=(), ending=True,
    ),
    "mj-navbar": Element(
        attributes=(
            "align", "base-url", "hamburger", "ico-align", "ico-close", "ico-color", "ico-font-family",
            "ico-font-size", "ico-line-height", "ico-open", "ico-padding", "ico-padding-bottom",
            "ico-padding-left", "ico-padding-right", "ico-padding-top", "ico-text-decoration",
            "ico-text-transform", "padding", "padding-bottom", "padding-left", "padding-right",
            "padding-top"
        ),
        children=("mj-navbar-link", "mj-raw"),
    ),
    "mj-navbar-link": Element(
        attributes=(
            "color", "font-family", "font-size", "font-style", "font-weight", "href", "letter-spacing",
            "line-height", "name", "padding", "padding-bottom", "padding-left", "padding-right",
            "padding-top", "rel", "target", "text-decoration", "text-transform"
        ),
        children=(), ending=True,
    ),
    "mj-accordion": Element(
        attributes=(
            "border", "container-background-color", "font-family", "icon-align", "icon-height",
            "icon-position", "icon-unwrapped-alt", "icon-unwrapped-url", "icon-width", "icon-wrapped-alt",
            "icon-wrapped-url", "padding", "padding-bottom", "padding-left", "padding-right", "padding-top"
        ),
        children=("mj-accordion-element", "mj-raw"),
    ),
    "mj-accordion-element": Element(
        attributes=(
            "background-color", "border", "font-family", "icon-align", "icon-height", "icon-position",
            "icon-unwrapped-alt", "icon-unwrapped-url", "icon-width", "icon-wrapped-alt", "icon-wrapped-url"
        ),
        children=("mj-accordion-title", "mj-accordion-text", "mj-raw"),
    ),
    "mj-accordion-text": Element(
        attributes=(
            "background-color", "color", "font-family", "font-size", "font-weight", "letter-spacing",
            "line-height", "padding", "padding-bottom", "padding-left", "padding-right", "padding-top"
        ),
        children=(), ending=True,
    ),
    "mj-accordion-title": Element(
        attributes=(
            "background-color", "color", "font-family", "font-size", "font-weight", "padding",
            "padding-bottom", "padding-left", "padding-right", "padding-top"
        ),
        children=(), ending=True,
    ),
    "mj-carousel": Element(
        attributes=(
            "align", "border-radius", "container-background-color", "icon-width", "left-icon", "padding",
            "padding-bottom", "padding-left", "padding-right", "padding-top", "right-icon", "tb-border",
            "tb-border-radius", "tb-hover-border-color", "tb-selected-border-color", "tb-width",
            "thumbnails"
        ),
        children=("mj-carousel-image",),
    ),
    "mj-carousel-image": Element(
        attributes=(
            "alt", "border-radius", "href", "rel", "src", "target", "tb-border", "tb-border-radius",
            "thumbnails-src", "title"
        ),
        children=(), ending=True,
    ),
}

DEFAULTS_TAGS = frozenset({"mj-all", "mj-class"})
"""Tags that exist only inside ``mj-attributes``: ``mj-all`` takes any element's attributes,
``mj-class`` a ``name`` and any element's attributes."""

ANY_ATTRIBUTE = frozenset(name for element in ELEMENTS.values() for name in element.attributes)
"""Every attribute some element takes: what ``mj-all`` and ``mj-class`` may set."""
