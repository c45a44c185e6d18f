"""The Engine: owns content locations, compiled-template cache and defaults."""

from __future__ import annotations

import copy
import difflib
import functools
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from renderer.audience.personas import Personas, load_personas
from renderer.audience.predictive import Predictive, load_predictive
from renderer.audience.segments import RuleSet
from renderer.audience.triggers import DEFAULT_RULES, Skip, TriggerOutcome, TriggerRule, skip_reason
from renderer.base.errors import (
    ConfigError,
    InvalidInput,
    ModelFileError,
    PersonaFileError,
    Problem,
    RenderAborted,
    RendererError,
    RequiredTokenEmpty,
    TemplateError,
    TemplateNotFound,
    UnknownBlock,
)
from renderer.base.limits import DEFAULT_LIMITS, Limits
from renderer.base.models import Event, Product, Profile, RenderedEmail, parse_request
from renderer.compile.cache import CompileCache, default_folder
from renderer.compile.pipeline import CompiledTemplate, compile_template, reference_mjml, render_reference
from renderer.content.json_io import read_products
from renderer.content.layout import ContentLayout
from renderer.content.loader import (
    BlockSpec,
    BlockUse,
    TemplateSpec,
    content_fingerprint,
    fingerprint,
    load_block,
    load_brand,
    load_layout,
    load_template,
    load_theme,
    source_files,
    template_names,
)
from renderer.content.locales import (
    DEFAULT_LANGUAGE,
    available_languages,
    language_for,
    load_catalog,
    locale_files,
)
from renderer.content.reload import Reloading
from renderer.recipient.pipeline import Prepared, prepare, render_prepared
from renderer.sources.base import RecommendationSource, RecommendationUnavailable


class Engine:
    """Compile templates once, render them per recipient.

    Args:
        content: a content project folder (``renderer init DIR`` makes one) or a
            :class:`ContentLayout`; default ``$RENDERER_CONTENT``, else the
            bundled demo brand. The options below override one part of it.
        templates_dir: folder of ``*.yaml`` templates (default: ``templates/`` of the content).
        blocks_dir: folder of ``*.mjml`` blocks, ``_theme.mjml`` and ``brand.yaml``
            (default: ``blocks/`` of the content).
        segments_file: the segment rules (YAML; default: ``segments.yaml`` of the
            content; no rules when that file does not exist).
        recommendations: a RecommendationSource asked for products when a render
            is given none (e.g. ``HttpRecommendationSource``); a payload passed to
            ``render`` always wins. Without a source, templates use their fallback.
        personas: a personas model file (``renderer segments fit``); each recipient then
            gets its nearest persona as ``Persona`` and a ``persona:<slug>`` segment.
        predictive: a predictive model file (``renderer segments fit-predictive``); rules
            then see ``churn_probability``, ``expected_value`` and their deciles, and
            templates ``PredictedChurn`` and ``PredictedValue`` (docs/predictive.md).
        limits: caps on what one email shows (names, subject, cart items, products);
            see ``renderer.base.limits.Limits`` and docs/security.md.
        locales_dir: folder of ``<lang>.yaml`` message files (default: ``locales/`` beside
            the blocks folder); each template compiles once per language it is rendered in.
        auto_reload: recompile a template (or reload the rules or personas) when a file changes.
        reload_interval: seconds between checks of the files' modification times.
        compile_cache: a folder where compiled templates are kept between processes
            (``renderer/compile/cache.py``); ``None`` or ``True``: ``$RENDERER_COMPILE_CACHE``,
            else ``~/.cache/renderer/compiled``; ``False``: compile in every process.

    Raises:
        RendererError: a folder or file given does not exist.
        PersonaFileError: the personas file is broken or was fitted with another feature window.
        ModelFileError: the predictive model file is broken or was fitted with another feature window.

    Example:
        >>> engine = Engine()
        >>> email = engine.render("welcome", profile={"id": "c1", "email": "a@example.com"})
        >>> email.subject
        'Welcome to Fernhill'
        >>> Engine(content="my-brand").template_names()  # doctest: +SKIP
    """

    def __init__(self, content: str | Path | ContentLayout | None = None, *,
                 templates_dir: str | Path | None = None,
                 blocks_dir: str | Path | None = None, segments_file: str | Path | None = None,
                 recommendations: RecommendationSource | None = None,
                 personas: str | Path | None = None, predictive: str | Path | None = None,
                 limits: Limits | None = None,
                 locales_dir: str | Path | None = None,
                 auto_reload: bool = True, reload_interval: float = 1.0,
                 compile_cache: str | Path | bool | None = None) -> None:
        self.layout = ContentLayout.at(content, templates=templates_dir, blocks=blocks_dir,
                                       locales=locales_dir, segments=segments_file)
        if segments_file and not self.layout.segments.is_file():
            raise RendererError(f"segments_file {str(segments_file)!r} does not exist")
        for label, given, folder in (("templates_dir", templates_dir, self.layout.templates),
                                     ("blocks_dir", blocks_dir, self.layout.blocks)):
            if folder.is_dir():
                continue
            if given:
                raise RendererError(f"{label} {str(given)!r} is not a folder")
            raise RendererError(f"content {str(self.layout.root)!r} has no {folder.name}/ folder: pass "
                                "Engine(content=DIR) or set RENDERER_CONTENT (renderer init DIR makes one)")
        if reload_interval < 0:
            raise ConfigError("reload_interval must be >= 0")
        self.auto_reload = auto_reload
        self.reload_interval = reload_interval
        self._interval = reload_interval if auto_reload else None
        if recommendations is not None and not isinstance(recommendations, RecommendationSource):
            raise TypeError("recommendations must have a fetch(profile, limit) method")
        self.recommendations = recommendations
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError("limits must be a renderer.base.limits.Limits")
        self.limits = limits or DEFAULT_LIMITS
        self._personas_path = Path(personas) if personas else None
        self._predictive_path = Path(predictive) if predictive else None
        folder = default_folder() if compile_cache is None or compile_cache is True else compile_cache or None
        self.compile_cache = CompileCache(folder) if folder is not None else None
        self._init_caches()
        self.personas()  # a broken or mismatched personas file fails here, not at the first render
        self.predictive()  # and so does a predictive model file

    def _init_caches(self) -> None:
        """Every cache of content: each one the same reload mechanism (``content/reload.py``)."""
        interval, layout = self._interval, self.layout
        self._lock = threading.Lock()  # one compile at a time
        self._cache: dict[tuple[str, str], Reloading[CompiledTemplate]] = {}
        self._rules = Reloading(lambda: [layout.segments], lambda _: RuleSet.load(layout.segments)
                                if layout.segments.exists() else RuleSet.empty(), interval=interval)
        self._languages = Reloading(lambda: [layout.locales], lambda _: available_languages(layout.locales),
                                    interval=interval)
        self._triggers = Reloading(self._template_files, lambda _: self._find_triggers(), interval=interval)
        self._bestsellers = Reloading(lambda: [layout.bestsellers], lambda _: read_products(layout.bestsellers)
                                      if layout.bestsellers.exists() else [], interval=interval)
        path = self._personas_path
        self._personas = Reloading(lambda: [path], lambda _: load_personas(path), interval=interval) \
            if path is not None else None
        model = self._predictive_path
        self._predictive = Reloading(lambda: [model], lambda _: load_predictive(model), interval=interval) \
            if model is not None else None

    def _template_entry(self, name: str, language: str) -> Reloading[CompiledTemplate]:
        return Reloading(lambda: self._template_sources(name, language),
                         lambda previous: self._compile(name, language, previous), interval=self._interval)

    def personas(self) -> Personas | None:
        """The personas model (reloaded when its file changes), or ``None`` when not configured.

        Raises:
            PersonaFileError: the file is broken, or its feature window differs from the rules'.
        """
        if self._personas is None:
            return None
        personas = self._personas.get()
        window = self.rules().config.window_days
        if personas.window_days != window:
            raise PersonaFileError(f"fitted with a {personas.window_days}-day feature window, but the "
                                   f"segment rules use {window} days; fit the personas again", personas.path)
        return personas

    def predictive(self) -> Predictive | None:
        """The predictive model (reloaded when its file changes), or ``None`` when not configured.

        Raises:
            ModelFileError: the file is broken, or its feature window differs from the rules'.
        """
        if self._predictive is None:
            return None
        model = self._predictive.get()
        window = self.rules().config.window_days
        if model.window_days != window:
            raise ModelFileError(f"fitted with a {model.window_days}-day feature window, but the "
                                 f"segment rules use {window} days; fit the model again", model.path)
        return model

    def config(self) -> dict[str, Any]:
        """Keyword arguments that build an equivalent Engine (e.g. in a worker process).

        The recommendation source is included as is; worker processes make their
        own copy of it (see ``batch.init_worker``), so each has its own HTTP
        session, cache and circuit breaker.
        """
        return {
            "content": self.layout,
            "personas": str(self._personas_path) if self._personas_path is not None else None,
            "predictive": str(self._predictive_path) if self._predictive_path is not None else None,
            "recommendations": self.recommendations,
            "limits": self.limits,
            "auto_reload": self.auto_reload,
            "reload_interval": self.reload_interval,
            "compile_cache": self.compile_cache.folder if self.compile_cache is not None else False,
        }

    def for_worker(self, recommendations: RecommendationSource | None) -> Engine:
        """A copy for a forked worker process: the compiled templates, rules and
        personas already loaded, with ``recommendations`` as its source and a lock of its own."""
        twin = copy.copy(self)
        twin.recommendations = recommendations
        # Caches of its own (with locks of their own: the parent's may have been held by
        # another thread at fork), holding what the parent already loaded.
        twin._init_caches()
        for name in ("_rules", "_languages", "_triggers", "_bestsellers", "_personas", "_predictive"):
            if getattr(self, name) is not None:
                getattr(twin, name).adopt(getattr(self, name))
        for (name, language), entry in self._cache.items():
            twin._cache[(name, language)] = twin._template_entry(name, language)
            twin._cache[(name, language)].adopt(entry)
        return twin

    def content_hash(self) -> str:
        """A digest of this engine's content (templates, blocks, rules, personas), as on disk now.

        Two engines with equal hashes render the same emails from the same
        inputs; batch workers compare it with the job's before rendering.
        """
        return content_fingerprint(self.layout, personas_file=self._personas_path,
                                   predictive_file=self._predictive_path)

    def template_names(self) -> list[str]:
        """Names of every template in the templates folder."""
        return template_names(self.layout)

    def rules(self) -> RuleSet:
        """The segment rules, reloaded when the file changes.

        Raises:
            TemplateError: the rules file is broken (rule name and line).
        """
        return self._rules.get()

    def brand(self) -> dict[str, Any]:
        return load_brand(self.layout)

    def languages(self) -> frozenset[str]:
        """Languages with a locale file (re-listed when a locale file is added or removed)."""
        return self._languages.get()

    def language_for(self, locale: Any) -> str:
        """The language a recipient's email is compiled in: their locale's, if translated, else English."""
        return language_for(locale, self.languages()) if isinstance(locale, str) else DEFAULT_LANGUAGE

    def compiled(self, name: str, language: str = DEFAULT_LANGUAGE) -> CompiledTemplate:
        """The compiled template in ``language``, from cache while its files are unchanged.

        Each language is compiled on first use (a few tens of milliseconds),
        so that its fixed strings cost a recipient nothing.

        Raises:
            TemplateNotFound: no such template.
            TemplateError: a file of the template is broken (file and line).
        """
        if not isinstance(name, str):
            raise TemplateNotFound(repr(name), "template", self.template_names())
        entry = self._cache.get((name, language))
        if entry is not None:
            return entry.get()
        entry = self._cache.setdefault((name, language), self._template_entry(name, language))
        try:
            return entry.get()
        except RendererError:
            if entry.current is None:  # never built: an unknown name must not stay in the cache
                self._cache.pop((name, language), None)
            raise

    def is_compiled(self, name: str, language: str = DEFAULT_LANGUAGE) -> bool:
        """Whether :meth:`compiled` would answer from its cache now, without compiling.

        Costs a few ``stat`` calls at most; the preview uses it to show what is
        ready at once and leave the rest to its background compiler.
        """
        entry = self._cache.get((name, language))
        return entry is not None and entry.fresh()

    def _template_sources(self, name: str, language: str) -> list[Path]:
        return source_files(self.layout, load_template(self.layout, name)) + locale_files(self.layout.locales, language)

    def _compile(self, name: str, language: str, previous: CompiledTemplate | None) -> CompiledTemplate:
        with self._lock:
            spec = load_template(self.layout, name)
            digest = fingerprint(source_files(self.layout, spec) + locale_files(self.layout.locales, language))
            if previous is not None and previous.fingerprint == digest:
                return previous  # touched, not changed
            build = functools.partial(self._compile_now, spec, digest, language)
            if self.compile_cache is None:
                return build()
            return self.compile_cache.compiled(digest, name, language, build)

    def _compile_now(self, spec: TemplateSpec, digest: str, language: str) -> CompiledTemplate:
        blocks = {use.block: self._block(spec, use) for use in spec.blocks}
        catalog = load_catalog(self.layout.locales, language)
        return compile_template(spec, blocks, load_theme(self.layout), load_brand(self.layout), digest,
                                catalog, load_layout(self.layout), theme_path=str(self.layout.theme),
                                layout_path=str(self.layout.layout))

    def _block(self, spec: TemplateSpec, use: BlockUse) -> BlockSpec:
        """The block a template entry names; an unknown name is told at the template's line."""
        try:
            return load_block(self.layout, use.block)
        except TemplateNotFound as error:
            close = difflib.get_close_matches(use.block, error.available, n=1)
            raise UnknownBlock(use.block, error.available, str(spec.path), use.line,
                               close[0] if close else None) from None

    def prepare(self, template: str, *, profile: Profile | dict[str, Any],
                recommendations: list[Product] | list[dict[str, Any]] | None = None,
                event: Event | dict[str, Any] | None = None, now: datetime | None = None,
                require_recommendations: bool | None = None,
                transactional: bool = False,
                force_variants: dict[str, str] | None = None) -> tuple[CompiledTemplate, Prepared]:
        """Validate a request and build its context without rendering it (see :meth:`render`)."""
        locale = profile.locale if isinstance(profile, Profile) else \
            profile.get("locale", "en-US") if isinstance(profile, dict) else None
        compiled = self.compiled(template, self.language_for(locale))
        policy = compiled.spec.recommendations
        required = policy.required if require_recommendations is None else require_recommendations

        def fetch(recipient: Profile) -> tuple[list[Product], list[str]]:
            return self._fetch_recommendations(compiled, recipient, required)

        prepared = prepare(
            compiled, profile, recommendations=recommendations, event=event,
            now=now or datetime.now(timezone.utc), brand=self._brand_for(compiled), rules=self.rules(),
            fetch=fetch, personas=self.personas(), limits=self.limits, transactional=transactional,
            predictive=self.predictive(),
            force_variants=force_variants,
        )
        return compiled, prepared

    def validate(self, profile: Profile | dict[str, Any], *, event: Event | dict[str, Any] | None = None,
                 recommendations: list[Product] | list[dict[str, Any]] | None = None,
                 ) -> tuple[Profile, Event | None, list[Product] | None]:
        """Validate a request's inputs once, as :meth:`render` does, to render them with several templates.

        Histories and lists are cut to this engine's ``limits`` first (the
        profile keeps its cut notes, which every render of it warns about
        again). Give the models to :meth:`render`: they are used as they
        are, not validated again (about a third of a render's time).

        Raises:
            InvalidInput: every problem of the three, by field path (``profile.orders.0.total``).
        """
        return parse_request("render request", profile, event, recommendations, limits=self.limits)

    def bestsellers(self) -> list[Product]:
        """The brand's fallback products (``blocks/bestsellers.json``, reloaded when it changes), or none."""
        return self._bestsellers.get()

    def _fetch_recommendations(self, compiled: CompiledTemplate, profile: Profile,
                               required: bool) -> tuple[list[Product], list[str]]:
        policy = compiled.spec.recommendations
        fallback = self.bestsellers() if policy.fallback == "bestsellers" else []
        if self.recommendations is None:
            if required:
                raise RenderAborted("recommendations_required",
                                    "recommendations are required, but none were given and no source is configured")
            return fallback, []
        try:
            return list(self.recommendations.fetch(profile, policy.limit)), []
        except RecommendationUnavailable as error:
            reason = error.reason  # the source's RecommendationUnavailable
        except Exception as error:  # a broken source must not break the render
            reason = f"the source failed: {type(error).__name__}"
        if required:
            raise RenderAborted("recommendations_unavailable", f"recommendations unavailable: {reason}")
        used = (f"fallback used: bestsellers ({len(fallback)} products)" if fallback
                else "fallback: the blocks that list them are hidden")
        return fallback, [f"recommendations unavailable: {reason}; {used}"]

    def _brand_for(self, compiled: CompiledTemplate) -> dict[str, Any]:
        # The brand file is one of the template's sources, so the cached
        # compiled template is always as fresh as the brand it was built with.
        return compiled.brand

    def render(self, template: str, *, profile: Profile | dict[str, Any],
               recommendations: list[Product] | list[dict[str, Any]] | None = None,
               event: Event | dict[str, Any] | None = None,
               now: datetime | None = None, require_recommendations: bool | None = None,
               transactional: bool = False, force_variants: dict[str, str] | None = None) -> RenderedEmail:
        """Render one email for one recipient.

        Args:
            template: a template name (``welcome``, ``abandoned_cart``, ...).
            profile: the recipient, as a dict or :class:`Profile`.
            recommendations: products to recommend, as dicts or :class:`Product`.
            event: the triggering event, if any (its cart feeds ``CartItems``).
            now: the render's clock; defaults to the current UTC time.
            require_recommendations: abort instead of falling back when no
                recommendations can be had (default: the template's policy).
            transactional: mail the recipient whatever their marketing consent
                (receipts, password resets). By default a recipient whose
                ``consent.email_marketing`` is false gets no email: the render
                is aborted with the code ``no_consent``, before any recommendation
                is fetched, the same policy ``render_many``, ``renderer batch``
                and triggers apply.
            force_variants: experiment -> variant (or ``"holdout"``) for QA, e.g.
                ``{"hero_test": "B"}``; other experiments are assigned from the
                recipient's id, the same in every render (``docs/experiments.md``).
                The email's ``variants`` says what it got.

        Raises:
            InvalidInput: bad profile, payload, event or ``force_variants``; every problem by field path.
            RenderAborted: no consent (``no_consent``), recommendations were
                required and could not be had, or a token the template
                ``requires:`` is empty (``required_token_empty``, a ``RequiredTokenEmpty``).
            TemplateNotFound, TemplateError, CompileError: content problems.
        """
        compiled, prepared = self.prepare(template, profile=profile, recommendations=recommendations,
                                          event=event, now=now, require_recommendations=require_recommendations,
                                          transactional=transactional, force_variants=force_variants)
        return render_prepared(compiled, prepared)

    def trigger_templates(self) -> dict[str, str]:
        """Event type -> the template that declares it with ``event:``.

        Looked up again only when a template file changes, not per event.

        Raises:
            TemplateError: two templates declare the same event.
        """
        return self._triggers.get()

    def _template_files(self) -> list[Path]:
        return [self.layout.templates, *(self.layout.templates / f"{name}.yaml" for name in self.template_names())]

    def _find_triggers(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in self.template_names():
            event_type = load_template(self.layout, name).event
            if event_type is None:
                continue
            if event_type in found:
                raise TemplateError(f"templates {found[event_type]!r} and {name!r} both declare event "
                                    f"{event_type!r}", str(self.layout.templates / f"{name}.yaml"))
            found[event_type] = name
        return found

    def trigger_skip(self, profile: Profile, event: Event, now: datetime,
                     rules: dict[str, TriggerRule] | None = None) -> Skip | None:
        """Why a trigger would send nothing for this profile and event (``None``: it would send).

        The skip rules :meth:`render_event` runs, for callers that show the
        decision beside an email (the preview) without rendering it twice.
        """
        return skip_reason(profile, event, now, (rules or DEFAULT_RULES).get(event.type, TriggerRule()))

    def render_event(self, *, profile: Profile | dict[str, Any], event: Event | dict[str, Any],
                     now: datetime | None = None,
                     recommendations: list[Product] | list[dict[str, Any]] | None = None,
                     rules: dict[str, TriggerRule] | None = None) -> TriggerOutcome:
        """Decide and render an automation trigger: an email, or a skip with a reason code.

        The event's type picks the template (the one whose ``event:`` names it);
        the skip rules in ``renderer.audience.triggers`` run first. Recommendations come
        from the payload, else from the engine's source (never what is in the cart).

        A token the template ``requires:`` that is empty for this recipient (a
        cart whose items are all sold out) is a skip too, with the code
        ``required_token_empty``.

        Raises:
            InvalidInput: bad profile or event (every problem by field path).
            TemplateNotFound: no template declares this event type.
            RequiredTokenEmpty: a required token with ``on_missing: abort`` is empty.
        """
        recipient, happened, _ = parse_request("trigger", profile, event, limits=self.limits)
        if happened is None:
            raise InvalidInput("trigger", [Problem("event", "Field required", "missing")])
        templates = self.trigger_templates()
        if happened.type not in templates:
            raise TemplateNotFound(happened.type, "template for event", sorted(templates))
        template = templates[happened.type]
        now = now or datetime.now(timezone.utc)
        skip = self.trigger_skip(recipient, happened, now, rules)
        if skip is not None:
            return TriggerOutcome(happened.type, template, skip=skip)
        try:
            email = self.render(template, profile=recipient, event=happened, now=now,
                                recommendations=recommendations)
        except RequiredTokenEmpty as error:
            if error.on_missing == "abort":
                raise
            return TriggerOutcome(happened.type, template, skip=Skip(error.code, error.message))
        return TriggerOutcome(happened.type, template, email=email)

    def render_reference(self, template: str, *, profile: Profile | dict[str, Any],
                         recommendations: list[Product] | list[dict[str, Any]] | None = None,
                         event: Event | dict[str, Any] | None = None,
                         now: datetime | None = None, force_variants: dict[str, str] | None = None) -> str:
        """The slow per-recipient path (Jinja -> MJML -> inline): a test oracle."""
        compiled, context = self._reference_context(template, profile=profile, recommendations=recommendations,
                                                    event=event, now=now, force_variants=force_variants)
        return render_reference(compiled, context)

    def reference_mjml(self, template: str, *, profile: Profile | dict[str, Any],
                       recommendations: list[Product] | list[dict[str, Any]] | None = None,
                       event: Event | dict[str, Any] | None = None,
                       now: datetime | None = None, force_variants: dict[str, str] | None = None) -> str:
        """The MJML the reference path compiles for this recipient (after its Jinja pass)."""
        compiled, context = self._reference_context(template, profile=profile, recommendations=recommendations,
                                                    event=event, now=now, force_variants=force_variants)
        return reference_mjml(compiled, context)

    def _reference_context(self, template: str, **request: Any) -> tuple[CompiledTemplate, dict[str, Any]]:
        compiled, prepared = self.prepare(template, **request)
        context = prepared.context
        email = render_prepared(compiled, prepared)
        context.update(Subject=email.subject, Preheader=email.preheader)
        return compiled, context
