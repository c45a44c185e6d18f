"""Assemble a template's MJML document from its blocks (once per template).

Each block's ``[[ params ]]`` are filled in now; recipient tokens stay as
Jinja tags. A block with a ``show_if`` condition is wrapped in
``<mj-raw>{% if _blocks[i] %}</mj-raw> ... <mj-raw>{% endif %}</mj-raw>``;
the flags are computed per recipient in Python, which is also how the engine
knows which blocks each email shows.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError

from renderer.base.errors import TemplateError
from renderer.compile.isolate import isolate_tokens
from renderer.compile.links import tag_links, utm_config
from renderer.compile.phrases import phrase_copy
from renderer.compile.validate import Origin, Written
from renderer.content.loader import BlockSpec, BlockUse, TemplateSpec
from renderer.content.locales import DEFAULT_LANGUAGE, Catalog, plural_categories
from renderer.sandbox.environments import BLOCK_FLAGS, TOKENS, assembly_environment, html_environment
from renderer.sandbox.guard import check_template

_ASSEMBLY = assembly_environment()
_HTML = html_environment()


@functools.lru_cache(maxsize=2048)
def _assembly_template(source: str) -> jinja2.Template:
    """A compile-time template, compiled once per source: every language of every
    template fills the same block bodies, parameters and messages."""
    return _ASSEMBLY.from_string(source)


@dataclass(frozen=True)
class AssembledBlock:
    name: str
    path: str
    condition: str | None


@dataclass(frozen=True)
class Assembled:
    """A template's Jinja-in-MJML document plus what the render step needs."""

    name: str
    mjml: str
    blocks: tuple[AssembledBlock, ...]
    tokens: frozenset[str] = frozenset()
    """Every token the template reads (subject, preheader, blocks, show_ifs)."""
    subject: str = ""
    preheader: str = ""
    """Subject and preheader with their ``[[ ... ]]`` (messages, brand) filled in."""
    language: str = DEFAULT_LANGUAGE
    origins: tuple[Origin, ...] = ()
    """Where each block, the theme and the layout landed in ``mjml``, for errors about a tag."""
    untranslated: tuple[str, ...] = ()
    """Message ids the blocks used that the language's file lacks (they fell back to English)."""


def _condition(*parts: str | None) -> str | None:
    present = [p.strip() for p in parts if p and p.strip()]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return " and ".join(f"({p})" for p in present)


def _hidden_unless(hidable: list[str], reads: set[str], condition: str | None) -> list[str]:
    """The ``hide_block`` requirements a block reads: each becomes part of its ``show_if``.

    A block whose own ``show_if`` is already that token (``cart_items``:
    ``CartItems``) keeps its condition as it is, so its HTML does not change.
    """
    return [token for token in hidable if token in reads and (condition or "").strip() != token]


def _mirror(value: str) -> str:
    """A CSS box shorthand with left and right swapped (``0 0 0 20px`` -> ``0 20px 0 0``)."""
    parts = str(value).split()
    if len(parts) == 4:
        parts[1], parts[3] = parts[3], parts[1]
    return " ".join(parts)


def compile_globals(brand: dict[str, Any], catalog: Catalog | None) -> dict[str, Any]:
    """What ``[[ ... ]]`` may use besides a block's parameters: brand, messages, direction."""
    language = catalog.language if catalog is not None else DEFAULT_LANGUAGE
    rtl = catalog is not None and catalog.direction == "rtl"
    helpers: dict[str, Any] = {
        "brand": brand, "lang": language, "dir": "rtl" if rtl else "ltr",
        "start": "right" if rtl else "left", "end": "left" if rtl else "right",
        "mirror": _mirror if rtl else str,
        "arrow": "&larr;" if rtl else "&rarr;",
    }

    fallbacks: list[str] = []

    def t(message_id: str, **values: Any) -> str:
        if catalog is None:
            raise TemplateError(f"message {message_id!r} used, but there is no locales folder")
        text = catalog.text(message_id)
        if catalog.fell_back(message_id) and message_id not in fallbacks:
            fallbacks.append(message_id)
        return filled(message_id, text, values)

    def filled(message_id: str, text: str, values: dict[str, Any]) -> str:
        if "[[" not in text and "[%" not in text:
            return text
        try:
            return _assembly_template(text).render({**helpers, **values})
        except jinja2.TemplateError as error:
            raise TemplateError(f"message {message_id!r}: {error}", catalog.origins.get(message_id)) from None

    def plural(message_id: str, count: str) -> str:
        """A message whose words follow a number: one form per plural category of the
        language, chosen per recipient by the token ``count`` (``CartItemsMore``)."""
        if catalog is None:
            raise TemplateError(f"message {message_id!r} used, but there is no locales folder")
        if not count.isidentifier():
            raise TemplateError(f"plural({message_id!r}, ...): the count must be a token name, not {count!r}")
        forms = {category: filled(f"{message_id}.{category}", text, {})
                 for category, text in catalog.plural_texts(message_id).items()}
        branches = [(category, forms[category]) for category in plural_categories(language)[:-1]
                    if category in forms]
        if not branches:
            return forms["other"]
        chosen = f"{count}|plural_form({language!r})"
        parts = [f"{{% if {chosen} == {category!r} %}}{text}" if index == 0
                 else f"{{% elif {chosen} == {category!r} %}}{text}"
                 for index, (category, text) in enumerate(branches)]
        return "".join(parts) + f"{{% else %}}{forms['other']}{{% endif %}}"

    helpers["t"] = t
    helpers["plural"] = plural
    helpers["_fallbacks"] = fallbacks
    return helpers


def fill(source: str, values: dict[str, Any], filename: str, first_line: int = 1) -> str:
    """Fill ``[[ ... ]]`` in a piece of content (a theme, a subject, a parameter value) now."""
    if "[[" not in source and "[%" not in source:
        return source
    try:
        return _assembly_template(source).render(values)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(error.message or str(error), filename, first_line + (error.lineno or 1) - 1) from None
    except jinja2.UndefinedError as error:
        raise TemplateError(error.message or str(error), filename, first_line) from None
    except SecurityError as error:  # the sandbox refused something, or a budget ran out
        raise TemplateError(f"{type(error).__name__}: {error}", filename, first_line) from None


def _fill_params(block: BlockSpec, given: dict[str, Any], helpers: dict[str, Any],
                 template_path: str, line: int | None) -> tuple[str, str | None]:
    """Fill ``[[ params ]]`` into the block's body and its own ``show_if``."""
    unknown = sorted(set(given) - set(block.params))
    if unknown:
        allowed = ", ".join(sorted(block.params)) or "none"
        raise TemplateError(
            f"block {block.name!r} has no parameter {', '.join(unknown)} (its parameters: {allowed})",
            template_path, line,
        )
    values: dict[str, Any] = {}
    for name, spec in block.params.items():
        if name in given:
            value, where = given[name], (template_path, line or 1)
        elif spec.required:
            raise TemplateError(f"block {block.name!r} needs parameter {name!r}: {spec.doc}",
                                template_path, line)
        else:
            value, where = spec.default, (str(block.path), 1)
        if spec.choices is not None and value not in spec.choices:
            allowed = ", ".join(str(choice) for choice in spec.choices)
            raise TemplateError(f"block {block.name!r} parameter {name!r} is {value!r}; it takes one of: {allowed}",
                                *where)
        # A value may itself use messages and the brand: [[ t('product_grid.heading') ]].
        values[name] = fill(value, helpers, *where) if isinstance(value, str) else value
    try:
        check_template(_ASSEMBLY.parse(block.source), str(block.path), block.source_line)
        template = _assembly_template(block.source)
        body = template.render({**helpers, **values})
        condition = (_assembly_template(block.show_if).render({**helpers, **values})
                     if block.show_if else None)
        return body, condition
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(error.message or str(error), str(block.path),
                            block.source_line + (error.lineno or 1) - 1) from None
    except jinja2.UndefinedError as error:
        raise TemplateError(f"{error.message} (while filling parameters used from {template_path})",
                            str(block.path)) from None
    except TemplateError:
        raise
    except Exception as error:  # the sandbox refused something, or a filter failed on a parameter
        raise TemplateError(f"filling parameters used from {template_path} failed: "
                            f"{type(error).__name__}: {error}", str(block.path)) from None


def _parse(source: str, filename: str, first_line: int) -> nodes.Template:
    try:
        return _HTML.parse(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(error.message or str(error), filename,
                            first_line + (error.lineno or 1) - 1) from None


def _unknown(tree: nodes.Template, extra: frozenset[str] | set[str]) -> list[str]:
    return sorted(meta.find_undeclared_variables(tree) - TOKENS - set(extra) - {BLOCK_FLAGS})


def _unknown_token_error(tree: nodes.Template, unknown: list[str], known: set[str],
                         filename: str, first_line: int) -> TemplateError:
    lines = [n.lineno for n in tree.find_all(nodes.Name) if n.name in unknown and n.ctx == "load"]
    guesses = [(name, close[0]) for name in unknown if (close := difflib.get_close_matches(name, sorted(known), n=1))]
    if len(unknown) == 1 and guesses:
        hint = f" (did you mean {guesses[0][1]}?)"
    elif guesses:
        hint = " (did you mean " + ", ".join(f"{guess} for {name}" for name, guess in guesses) + "?)"
    else:
        hint = ""
    return TemplateError(
        f"unknown token{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}{hint}; "
        "known tokens are listed in docs/tokens.md (or add a default in the template's 'defaults:')",
        filename, first_line + min(lines) - 1 if lines else None,
    )


def check_tokens(source: str, *, filename: str, first_line: int = 1,
                 extra: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """Fail when a template uses a name that no recipient context defines; return the names used.

    Also refuses what the sandbox would refuse at render time (see ``guard.py``).
    An unknown token's error suggests the closest known one (``Firstname`` ->
    ``FirstName``).

    Raises:
        TemplateError: naming the unknown token or refused construct, the file and the line.
    """
    tree = _parse(source, filename, first_line)
    check_template(tree, filename, first_line)
    unknown = _unknown(tree, extra)
    if unknown:
        raise _unknown_token_error(tree, unknown, set(TOKENS) | set(extra), filename, first_line)
    return meta.find_undeclared_variables(tree)


def _parameter_error(use: BlockUse, body: str, template_path: str,
                     extra: frozenset[str] | set[str]) -> TemplateError | None:
    """The error of a block's body told at the template parameter that brought it in, if one did.

    A block prints its parameters, so an unknown token or refused construct
    typed in ``templates/NAME.yaml`` surfaces in the block's body: the
    parameter's own text is checked, and a problem it shares with the body
    is reported at the parameter's line.
    """
    try:
        body_unknown = set(_unknown(_HTML.parse(body), extra))
    except jinja2.TemplateSyntaxError:
        body_unknown = set()
    for name, value in use.params.items():
        if not isinstance(value, str) or "{" not in value:
            continue
        line = use.param_lines.get(name, use.line or 1)
        try:
            tree = _parse(value, template_path, line)
            check_template(tree, template_path, line)
        except TemplateError as error:
            return TemplateError(f"parameter {name!r} of block {use.block!r}: {error.message}",
                                 error.filename, error.lineno)
        shared = [token for token in _unknown(tree, extra) if token in body_unknown]
        if shared:
            error = _unknown_token_error(tree, shared, set(TOKENS) | set(extra), template_path, line)
            return TemplateError(f"parameter {name!r} of block {use.block!r}: {error.message}",
                                 error.filename, error.lineno)
    return None


def _piece(filled: str, texts: tuple[Written, ...]) -> tuple[str, tuple[Written, ...], int]:
    """A filled text as it goes into the document (stripped), its sources, and its first line's file line."""
    lead = filled[: len(filled) - len(filled.lstrip())].count("\n")
    return filled.strip(), texts, texts[0].first_line + lead


def _origins(document: str, pieces: list[tuple[str, tuple[Written, ...], int]],
             layout: Written | None) -> tuple[Origin, ...]:
    """Find each piece (theme, blocks in order) in the finished document."""
    found: list[Origin] = []
    position = 0
    for text, texts, line in pieces:
        start = document.find(text, position)
        if start < 0:  # a layout may place the body before the theme
            start = document.find(text)
        if text and start >= 0:
            found.append(Origin(start, start + len(text), texts, line))
            position = start + len(text)
    if layout is not None:
        found.append(Origin(0, len(document), (layout,)))
    return tuple(found)


def assemble(spec: TemplateSpec, blocks: dict[str, BlockSpec], theme: str,
             brand: dict[str, Any], catalog: Catalog | None = None, layout: str | None = None, *,
             theme_path: str = "the theme (_theme.mjml)",
             layout_path: str = "the layout (_layout.mjml)") -> Assembled:
    """Build the template's MJML document in the catalog's language, with Jinja tags for recipient data.

    ``layout`` is the content's own document skeleton (``blocks/_layout.mjml``),
    which places ``[[ theme ]]`` and ``[[ body ]]``; without one the built-in
    skeleton below is used. ``theme_path`` and ``layout_path`` name those files
    in errors.
    """
    defaults = set(spec.defaults)
    helpers = compile_globals(brand, catalog)
    subject = fill(spec.subject, helpers, str(spec.path))
    preheader = fill(spec.preheader, helpers, str(spec.path))
    tokens = check_tokens(subject, filename=str(spec.path), extra=defaults)
    tokens |= check_tokens(preheader, filename=str(spec.path), extra=defaults)
    hidable = [need.token for need in spec.requires if need.on_missing == "hide_block"]
    for need in spec.requires:
        if need.token in hidable and need.token in tokens:
            raise TemplateError(f"requires {need.token} with on_missing: hide_block, but the subject or preheader "
                                "reads it, and they cannot be hidden: use on_missing: skip, or leave it out of "
                                "the subject and preheader", str(spec.path), need.line)
    tokens |= {need.token for need in spec.requires}
    parts: list[str] = []
    pieces: list[tuple[str, tuple[Written, ...], int]] = []
    assembled_blocks: list[AssembledBlock] = []
    utm = utm_config(brand, spec.utm, template=spec.name, filename=str(spec.path))
    uses: dict[str, int] = {}
    for index, use in enumerate(spec.blocks):
        block = blocks[use.block]
        body, block_condition = _fill_params(block, use.params, helpers, str(spec.path), use.line)
        uses[block.name] = uses.get(block.name, 0) + 1
        if utm is not None:
            content = block.name if uses[block.name] == 1 else f"{block.name}-{uses[block.name]}"
            body = tag_links(body, utm, content)
        try:
            reads = check_tokens(body, filename=str(block.path), first_line=block.source_line, extra=defaults)
        except TemplateError as error:
            # Told where the text was typed: the template's parameter, or else the block.
            raise _parameter_error(use, body, str(spec.path), defaults) or TemplateError(
                f"{error.message} (block {block.name!r} as used at {spec.path}:{use.line})",
                error.filename, error.lineno) from None
        tokens |= reads
        # Prices, dates and names keep their own direction; CJK copy breaks between phrases.
        body = phrase_copy(isolate_tokens(body), helpers["lang"])
        condition = _condition(block_condition, use.show_if, *_hidden_unless(hidable, reads, block_condition))
        if condition is not None:
            try:
                _HTML.compile_expression(condition)
            except jinja2.TemplateSyntaxError as error:
                raise TemplateError(
                    f"block {block.name!r}: show_if {condition!r} is not a valid expression: {error.message}",
                    str(spec.path), use.line,
                ) from None
            tokens |= check_tokens("{{ " + condition + " }}", filename=str(spec.path), extra=defaults)
        if condition is not None:
            body = (f"<mj-raw>{{% if {BLOCK_FLAGS}[{index}] %}}</mj-raw>\n{body.strip()}\n"
                    "<mj-raw>{% endif %}</mj-raw>")
        parts.append(f"<!-- block: {block.name} -->\n{body.strip()}")
        given = tuple(Written(str(spec.path), value, use.param_lines.get(name, use.line or 1))
                      for name, value in use.params.items() if isinstance(value, str))
        pieces.append(_piece(body, (Written(str(block.path), block.source, block.source_line), *given)))
        assembled_blocks.append(AssembledBlock(block.name, str(block.path), condition))
    body_attrs = brand.get("body", {}) if isinstance(brand.get("body"), dict) else {}
    width = body_attrs.get("width", "600px")
    background = body_attrs.get("background_color", "#ffffff")
    filled_theme = fill(theme, helpers, theme_path)
    head = filled_theme.strip()
    if layout is not None:
        values = {**helpers, "theme": head, "body": "\n".join(parts), "width": width, "background": background}
        document = fill(layout, values, layout_path)
    else:
        document = (
            '<mjml lang="{{ Lang }}" dir="{{ Dir }}">\n<mj-head>\n'
            f"{head}\n"
            "<mj-title>{{ Subject }}</mj-title>\n<mj-preview>{{ Preheader }}</mj-preview>\n"
            "</mj-head>\n"
            f'<mj-body width="{width}" background-color="{background}" css-class="dm-page">\n'
            + "\n".join(parts)
            + "\n</mj-body>\n</mjml>\n"
        )
    origins = _origins(document, [_piece(filled_theme, (Written(theme_path, theme),)), *pieces],
                       Written(layout_path, layout) if layout is not None else None)
    return Assembled(spec.name, document, tuple(assembled_blocks), frozenset(tokens), subject, preheader,
                     helpers["lang"], origins=origins, untranslated=tuple(helpers["_fallbacks"]))
