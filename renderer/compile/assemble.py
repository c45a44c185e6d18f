"""Assemble a template's MJML document from its blocks (once per template).

Each block's ``[[ params ]]`` are filled in now; recipient tokens stay as
Jinja tags. A block with a ``show_if`` condition is wrapped in
``<mj-raw>{% if _blocks[i] %}</mj-raw> ... <mj-raw>{% endif %}</mj-raw>``;
the flags are computed per recipient in Python, which is also how the engine
knows which blocks each email shows.

Experiments (``content/experiments.py``) cost a recipient one branch each:
a subject or preheader that differs per variant becomes an if-chain over
``_variants``; a block whose parameters differ is filled once per variant
and only the part of its MJML that differs becomes an if-chain, so the
control's HTML is what it was without the experiment. Where that part
holds MJML tags, is not text, or the experiment tags links with its
variant (``utm: true``), the block is copied once per variant instead, each
copy shown to its variant (a block condition, as ``variant: B`` is).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, replace
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError

from renderer.base.errors import TemplateError
from renderer.compile.isolate import isolate_tokens
from renderer.compile.links import UtmConfig, tag_links, utm_config
from renderer.compile.phrases import phrase_copy
from renderer.compile.validate import Origin, Written
from renderer.content.experiments import HOLDOUT, Experiment, Varied
from renderer.content.loader import BlockSpec, BlockUse, TemplateSpec
from renderer.content.locales import DEFAULT_LANGUAGE, Catalog, plural_categories
from renderer.sandbox.environments import BLOCK_FLAGS, TOKENS, VARIANTS, assembly_environment, html_environment
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
    variant: tuple[str, tuple[str, ...]] | None = None
    """The experiment and the variants this block (or copy of a block) is shown to; ``None``: everyone."""
    entry: int = 0
    """Its entry in the template's ``blocks:`` (copies of one entry per variant share it)."""


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
    return sorted(meta.find_undeclared_variables(tree) - TOKENS - set(extra) - {BLOCK_FLAGS, VARIANTS})


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


def _jinja_text(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def variant_test(experiment: Experiment, names: tuple[str, ...]) -> str:
    """The Jinja test that a recipient sees one of ``names`` of ``experiment``.

    ``_variants`` holds each recipient's outcome, ``holdout`` included, so a holdout
    (who is shown the control's content) passes the test wherever the control does.
    """
    if experiment.control in names:
        names = (*names, HOLDOUT)
    chosen = f"{VARIANTS}[{_jinja_text(experiment.key)}]"
    if len(names) == 1:
        return f"{chosen} == {_jinja_text(names[0])}"
    return f"{chosen} in ({', '.join(_jinja_text(n) for n in names)},)"


def variant_chain(experiment: Experiment, texts: dict[str, str]) -> str:
    """One text per variant as an if-chain over the recipient's variant; the control's is the ``else``."""
    control = texts[experiment.control]
    branches = [(name, text) for name, text in texts.items() if name != experiment.control and text != control]
    if not branches:
        return control
    parts = [f"{{% {'if' if i == 0 else 'elif'} {variant_test(experiment, (name,))} %}}{text}"
             for i, (name, text) in enumerate(branches)]
    return "".join(parts) + f"{{% else %}}{control}{{% endif %}}"


def _balanced(text: str) -> bool:
    return text.count("{{") == text.count("}}") and text.count("{%") == text.count("%}") \
        and text.count("{#") == text.count("#}")


def _inline_branch(experiment: Experiment, bodies: dict[str, str]) -> str | None:
    """The variants' bodies as one body that branches only where they differ, if that is safe.

    The branch must sit in text between tags (no MJML tag inside it) or
    wholly inside one attribute value, and split no Jinja tag; else ``None``.
    """
    texts = list(bodies.values())
    start = len(texts[0])
    for other in texts[1:]:
        start = min(start, next((i for i, (a, b) in enumerate(zip(texts[0], other)) if a != b),
                                min(len(texts[0]), len(other))))
    start = max(texts[0].rfind(">", 0, start), texts[0].rfind('"', 0, start)) + 1
    end = min(len(t) - start for t in texts)  # the longest common suffix no part of the prefix
    for other in texts[1:]:
        end = min(end, next((i for i, (a, b) in enumerate(zip(reversed(texts[0]), reversed(other))) if a != b),
                            end))
    tails = [t[len(t) - end:] for t in texts]
    cut = min((i for i, c in enumerate(tails[0]) if c in '<"'), default=len(tails[0]))
    end -= cut
    prefix, suffix = texts[0][:start], texts[0][len(texts[0]) - end:] if end else ""
    middles = {name: body[start:len(body) - end] for name, body in bodies.items()}
    in_attribute = prefix.endswith('"')
    for middle in middles.values():
        if "<mj-" in middle or "</mj-" in middle or (in_attribute and any(c in middle for c in '"<>')):
            return None
    if not _balanced(prefix) or not _balanced(suffix) or not all(_balanced(m) for m in middles.values()):
        return None
    return prefix + variant_chain(experiment, middles) + suffix


def _block_experiment(use: BlockUse, spec: TemplateSpec) -> Experiment | None:
    keys = {value.experiment for value in use.params.values() if isinstance(value, Varied)}
    if len(keys) > 1:
        raise TemplateError(f"block {use.block!r}: its parameters vary by {', '.join(sorted(keys))}; a block "
                            "varies by one experiment (use two entries with variant: instead)",
                            str(spec.path), use.line)
    return spec.experiments[keys.pop()] if keys else None


def _variant_bodies(use: BlockUse, block: BlockSpec, spec: TemplateSpec, helpers: dict[str, Any],
                    utm: UtmConfig | None, content: str
                    ) -> list[tuple[str, str | None, tuple[str, tuple[str, ...]] | None]]:
    """A block entry's filled, link-tagged MJML: one body, or one copy per variant (see the module's doc).

    Each is (body, the block's own filled ``show_if``, the experiment and variants it is shown to).
    """
    experiment = _block_experiment(use, spec)
    shown = use.variant
    if experiment is not None and shown is not None and shown[0] != experiment.key:
        raise TemplateError(f"block {use.block!r} is shown to variants of {shown[0]} but its parameters vary by "
                            f"{experiment.key}", str(spec.path), use.line)
    key = experiment.key if experiment is not None else shown[0] if shown is not None else None
    if key is None:
        body, condition = _fill_params(block, use.params, helpers, str(spec.path), use.line)
        return [(tag_links(body, utm, content) if utm is not None else body, condition, None)]
    experiment = spec.experiments[key]
    tagged = experiment.utm and utm is not None
    filled: dict[str, tuple[str, str | None]] = {}
    for name in shown[1] if shown is not None else experiment.variants:
        params = {p: value.value(name) if isinstance(value, Varied) else value for p, value in use.params.items()}
        body, condition = _fill_params(block, params, helpers, str(spec.path), use.line)
        if utm is not None:
            body = tag_links(body, utm, f"{key}-{name}" if tagged else content)
        filled[name] = (body, condition)
    conditions = {condition for _, condition in filled.values()}
    bodies = {name: body for name, (body, _) in filled.items()}
    if not tagged and len(conditions) == 1:
        condition = conditions.pop()
        if len(set(bodies.values())) == 1:
            return [(next(iter(bodies.values())), condition, shown)]
        joined = _inline_branch(experiment, bodies) if shown is None else None
        if joined is not None:
            return [(joined, condition, None)]
    return [(body, condition, (key, (name,))) for name, (body, condition) in filled.items()]


def _add_block(spec: TemplateSpec, use: BlockUse, block: BlockSpec, body: str, block_condition: str | None,
               variant: tuple[str, tuple[str, ...]] | None, index: int, defaults: set[str], hidable: list[str],
               tokens: set[str], parts: list[str], assembled: list[AssembledBlock], *, lang: str
               ) -> tuple[str, tuple[Written, ...], int]:
    """Check one block's filled body, wrap it in its condition and add it to the document; return its piece."""
    try:
        reads = check_tokens(body, filename=str(block.path), first_line=block.source_line, extra=defaults)
    except TemplateError as error:
        # Told where the text was typed: the template's parameter, or else the block.
        raise _parameter_error(use, body, str(spec.path), defaults) or TemplateError(
            f"{error.message} (block {block.name!r} as used at {spec.path}:{use.line})",
            error.filename, error.lineno) from None
    tokens |= reads
    # Prices, dates and names keep their own direction; CJK copy breaks between phrases.
    body = phrase_copy(isolate_tokens(body), lang)
    condition = _condition(block_condition, use.show_if, *_hidden_unless(hidable, reads, block_condition),
                           variant_test(spec.experiments[variant[0]], variant[1]) if variant is not None else None)
    if condition is not None:
        try:
            _HTML.compile_expression(condition)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(
                f"block {block.name!r}: show_if {condition!r} is not a valid expression: {error.message}",
                str(spec.path), use.line,
            ) from None
        tokens |= check_tokens("{{ " + condition + " }}", filename=str(spec.path), extra=defaults)
        body = (f"<mj-raw>{{% if {BLOCK_FLAGS}[{index}] %}}</mj-raw>\n{body.strip()}\n"
                "<mj-raw>{% endif %}</mj-raw>")
    parts.append(f"<!-- block: {block.name} -->\n{body.strip()}")
    given = tuple(Written(str(spec.path), text, use.param_lines.get(name, use.line or 1))
                  for name, value in use.params.items()
                  for text in ([v for _, v in value.values] if isinstance(value, Varied) else [value])
                  if isinstance(text, str))
    assembled.append(AssembledBlock(block.name, str(block.path), condition, variant))
    return _piece(body, (Written(str(block.path), block.source, block.source_line), *given))


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
    subject, preheader = (variant_chain(spec.experiments[text.experiment],
                                        {name: fill(str(value), helpers, str(spec.path)) for name, value in text.values})
                          if isinstance(text, Varied) else fill(text, helpers, str(spec.path))
                          for text in (spec.subject, spec.preheader))
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
    for entry, use in enumerate(spec.blocks):
        block = blocks[use.block]
        uses[block.name] = uses.get(block.name, 0) + 1
        content = block.name if uses[block.name] == 1 else f"{block.name}-{uses[block.name]}"
        for body, block_condition, variant in _variant_bodies(use, block, spec, helpers, utm, content):
            index = len(assembled_blocks)
            pieces.append(_add_block(spec, use, block, body, block_condition, variant, index, defaults, hidable,
                                     tokens, parts, assembled_blocks, lang=helpers["lang"]))
            assembled_blocks[-1] = replace(assembled_blocks[-1], entry=entry)
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
