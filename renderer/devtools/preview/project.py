"""What the preview shows: the content folders, their fixtures, and one render per request.

Everything here is plain Python with no web framework in sight, so the pages
(:mod:`renderer.devtools.preview.pages`) and the routes (:mod:`renderer.devtools.preview.app`)
stay thin. A render never raises for broken content or bad input: the
outcome carries the error, because the preview's job is to show it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from renderer.audience.triggers import Skip, consent_skip
from renderer.base.errors import InvalidInput, Problem, RendererError, RequiredTokenEmpty, TemplateNotFound
from renderer.base.models import RenderedEmail, parse_request
from renderer.content.experiments import HOLDOUT
from renderer.content.fixtures import FIXTURE_NOW, FixtureSet
from renderer.content.layout import ContentLayout
from renderer.content.loader import load_template
from renderer.content.locales import DEFAULT_LANGUAGE
from renderer.engine import Engine

log = logging.getLogger(__name__)

AUTO = "auto"
"""Recommendations choice: the profile's own payload, else ``default.json``."""
NONE = "none"
"""Recommendations choice: no payload at all (the template's fallbacks show)."""
CUSTOM = "custom-"
"""Prefix of a pasted profile's name: ``custom-`` and a short content hash."""


@dataclass(frozen=True)
class Selection:
    """One email view: a template, a profile (fixture or pasted), a recommendations choice
    and, for a trigger template, an event fixture (``auto``: ``events/<event type>.json``)."""

    template: str
    profile: str
    recommendations: str = AUTO
    event: str = AUTO
    variants: str = ""
    """Forced experiment variants, ``hero_test=B;subject_test=winter`` (empty: as the recipient is assigned)."""

    @property
    def is_custom(self) -> bool:
        return self.profile.startswith(CUSTOM)

    @property
    def forced(self) -> dict[str, str] | None:
        """:attr:`variants` as ``force_variants`` (``None`` when empty)."""
        pairs = [part.partition("=") for part in self.variants.split(";") if part]
        return {key: name for key, _, name in pairs} or None

    def query(self, **changes: str) -> str:
        """The URL query string naming this selection (with ``changes`` applied)."""
        values = {"profile": self.profile, "recs": self.recommendations, "event": self.event,
                  "variants": self.variants, **changes}
        for key in ("recs", "event"):
            if values[key] == AUTO:
                del values[key]
        if not values["variants"]:
            del values["variants"]
        return urlencode(values)


@dataclass(frozen=True)
class VariantCard:
    """One outcome of one experiment in the email view's side-by-side row."""

    variant: str
    control: bool
    assigned: bool
    """The outcome this recipient gets (as assigned, or as forced in the selection)."""
    selection: Selection
    subject: str | None


@dataclass(frozen=True)
class VariantRow:
    key: str
    description: str
    cards: list[VariantCard]


@dataclass(frozen=True)
class Preview:
    """The outcome of rendering one selection: an email, or why there is none."""

    selection: Selection
    email: RenderedEmail | None = None
    content_error: RendererError | None = None
    problems: list[Problem] = field(default_factory=list)
    profile_text: str = ""
    event: str | None = None
    """The template's event type (``cart_abandoned``), when it is a trigger template."""
    trigger: Skip | None = None
    """Why this email would not be sent (a trigger's skip rule, or no consent), if it would not."""
    skipped: Skip | None = None
    """No email at all: a token the template ``requires:`` is empty for this recipient (the code and why)."""
    pending: bool = False
    """Not rendered yet: its template is still being compiled in the background (gallery cards only)."""


@dataclass(frozen=True)
class GalleryRow:
    """One template in the gallery: a preview per fixture profile, or the template's error."""

    template: str
    description: str = ""
    event: str | None = None
    error: RendererError | None = None
    previews: list[Preview] = field(default_factory=list)


class CustomProfiles:
    """Profiles pasted into the preview, kept in memory by content hash (newest 64)."""

    def __init__(self, limit: int = 64) -> None:
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, text: str) -> str:
        """Keep ``text`` and return its name (``custom-`` + 10 hex digits)."""
        name = CUSTOM + hashlib.sha256(text.encode()).hexdigest()[:10]
        with self._lock:
            self._texts[name] = text
            self._texts.move_to_end(name)
            while len(self._texts) > self._limit:
                self._texts.popitem(last=False)
        return name

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._texts.get(name)


class PreviewProject:
    """The content being previewed, an Engine over it, and the pasted profiles.

    Args:
        paths: where templates, blocks, segment rules, fixtures and assets live.
        reload_interval: how often (seconds) the Engine re-checks file times;
            small, so a saved file shows up within the live reload's second.
    """

    def __init__(self, paths: ContentLayout, *, reload_interval: float = 0.2, engine: Engine | None = None) -> None:
        self.paths = paths
        self.engine = engine or Engine(paths, reload_interval=reload_interval)
        self.fixtures = FixtureSet(paths.fixtures)
        self.custom = CustomProfiles()
        self._compile_errors: dict[tuple[str, str], RendererError] = {}

    def template_names(self) -> list[str]:
        return self.engine.template_names()

    def profile_names(self) -> list[str]:
        return self.fixtures.profile_names()

    def recommendation_names(self) -> list[str]:
        return sorted(p.stem for p in (self.paths.fixtures / "recommendations").glob("*.json"))

    def event_names(self, event_type: str | None = None) -> list[str]:
        """Event fixtures (``fixtures/events/*.json``); for a type, ``<type>.json`` and its
        variants named ``<type>_<case>.json`` (``cart_abandoned_stale``)."""
        names = sorted(p.stem for p in (self.paths.fixtures / "events").glob("*.json"))
        if event_type is None:
            return names
        return [name for name in names if name == event_type or name.startswith(f"{event_type}_")]

    def assets_url(self) -> str:
        """The brand's CDN prefix for images; empty while the brand file is broken."""
        try:
            return str(self.engine.brand().get("assets_url") or "")
        except RendererError:
            return ""

    def check(self, selection: Selection) -> None:
        """Refuse names that are not in the content (they also never reach a file path).

        Raises:
            TemplateNotFound: unknown template, fixture profile, pasted profile or payload.
        """
        templates = self.template_names()
        if selection.template not in templates:
            raise TemplateNotFound(selection.template, "template", templates)
        if selection.is_custom:
            if self.custom.get(selection.profile) is None:
                raise TemplateNotFound(selection.profile, "pasted profile (the server was restarted?)")
        elif selection.profile not in (profiles := self.profile_names()):
            raise TemplateNotFound(selection.profile, "profile", profiles)
        payloads = self.recommendation_names()
        if selection.recommendations not in (AUTO, NONE, *payloads):
            raise TemplateNotFound(selection.recommendations, "recommendations payload", payloads)
        events = self.event_names()
        if selection.event not in (AUTO, *events):
            raise TemplateNotFound(selection.event, "event fixture", events)

    def render(self, selection: Selection) -> Preview:
        """Render one selection at the fixtures' clock; errors are returned, not raised.

        Raises:
            TemplateNotFound: the selection names something that does not exist.
        """
        self.check(selection)
        profile_text = self._profile_text(selection)
        try:
            compiled = self.engine.compiled(selection.template)
        except RendererError as error:
            return Preview(selection, content_error=error, profile_text=profile_text)
        event_type = compiled.spec.event
        try:
            profile = _parse_json(profile_text, "profile")
            # A variant of another event type (the template was switched) falls back to this type's own.
            choice = selection.event if selection.event in self.event_names(event_type) else AUTO
            # Validated once here: the render and the trigger's skip rules both read the models.
            recipient, event, recommendations = parse_request(
                "render request", profile, self._event(event_type, choice, selection.profile),
                self._recommendations(selection), limits=self.engine.limits)
            # Shown whatever the consent; the chip below says when it would not be sent.
            email = self.engine.render(selection.template, profile=recipient, recommendations=recommendations,
                                       event=event, now=FIXTURE_NOW, transactional=True,
                                       force_variants=selection.forced)
        except InvalidInput as error:
            return Preview(selection, problems=error.problems, profile_text=profile_text, event=event_type)
        except RequiredTokenEmpty as error:
            trigger = consent_skip(recipient) if event is None else \
                self.engine.trigger_skip(recipient, event, FIXTURE_NOW)
            return Preview(selection, skipped=Skip(error.code, error.message), profile_text=profile_text,
                           event=event_type, trigger=trigger)
        except RendererError as error:
            return Preview(selection, content_error=error, profile_text=profile_text, event=event_type)
        # The email is shown either way; this says whether the trigger would send it.
        trigger = consent_skip(recipient) if event is None else self.engine.trigger_skip(recipient, event, FIXTURE_NOW)
        return Preview(selection, email=email, profile_text=profile_text, event=event_type, trigger=trigger)

    def variant_views(self, preview: Preview) -> list[VariantRow]:
        """For an email with experiments: each experiment with every outcome of it side by side
        (the recipient's other experiments as assigned), rendered for the same selection."""
        email = preview.email
        if email is None or not email.variants:
            return []
        experiments = self.engine.compiled(preview.selection.template).spec.experiments
        forced = preview.selection.forced or {}
        rows = []
        for key, experiment in experiments.items():
            outcomes = [*experiment.variants, *((HOLDOUT,) if experiment.holdout else ())]
            cards = []
            for outcome in outcomes:
                chosen = {**forced, key: outcome}
                selection = replace(preview.selection, variants=";".join(f"{k}={v}" for k, v in chosen.items()))
                rendered = self.render(selection)
                cards.append(VariantCard(outcome, outcome == experiment.control, outcome == email.variants.get(key),
                                         selection, rendered.email.subject if rendered.email else None))
            rows.append(VariantRow(key, experiment.description, cards))
        return rows

    def gallery(self, *, ready_only: bool = False) -> list[GalleryRow]:
        """Every template rendered for every fixture profile, in name order.

        Args:
            ready_only: render only the cards whose template is already compiled
                in the profile's language; the others come back ``pending`` (or
                with the error the background compiler met), so the page
                answers at once on a cold start.
        """
        rows = []
        profiles = self.profile_names()
        languages = self._fixture_languages(profiles)
        for template in self.template_names():
            try:
                spec = load_template(self.engine.layout, template) if ready_only else self.engine.compiled(template).spec
            except RendererError as error:
                rows.append(GalleryRow(template, error=error))
                continue
            error = self._compile_errors.get((template, DEFAULT_LANGUAGE)) if ready_only else None
            if error is not None:
                rows.append(GalleryRow(template, error=error))
                continue
            previews = [self._card(Selection(template, profile), languages[profile], ready_only)
                        for profile in profiles]
            rows.append(GalleryRow(template, spec.description, spec.event, previews=previews))
        return rows

    def compile_queue(self) -> list[tuple[str, str]]:
        """The (template, language) pairs the gallery shows that are neither compiled nor
        known broken, in the gallery's order: English first, then each fixture's language."""
        fixture_languages = set(self._fixture_languages(self.profile_names()).values())
        languages = [DEFAULT_LANGUAGE] + sorted(fixture_languages - {DEFAULT_LANGUAGE})
        return [(template, language) for template in self.template_names() for language in languages
                if (template, language) not in self._compile_errors
                and not self.engine.is_compiled(template, language)]

    def compile(self, template: str, language: str) -> None:
        """Compile one template in one language, keeping the error for the gallery if it fails."""
        try:
            self.engine.compiled(template, language)
        except RendererError as error:
            self._compile_errors[(template, language)] = error
        except Exception as error:  # a bug: shown on its card (and logged) rather than retried forever
            log.exception("compiling %s (%s) failed", template, language)
            self._compile_errors[(template, language)] = RendererError(f"compiling failed: {error!r}")
        else:
            self._compile_errors.pop((template, language), None)

    def content_changed(self) -> None:
        """Forget the compile errors seen so far: the files behind them may be fixed."""
        self._compile_errors.clear()

    def _card(self, selection: Selection, language: str, ready_only: bool) -> Preview:
        key = (selection.template, language)
        if not ready_only or self.engine.is_compiled(*key):
            return self.render(selection)
        error = self._compile_errors.get(key)
        return Preview(selection, content_error=error, pending=error is None,
                       profile_text=self._profile_text(selection))

    def _fixture_languages(self, profiles: list[str]) -> dict[str, str]:
        """The language each fixture profile's email is compiled in (English when unreadable)."""
        languages = {}
        for name in profiles:
            try:
                locale = json.loads(self._profile_text(Selection("", name))).get("locale")
            except (ValueError, AttributeError):
                locale = None
            languages[name] = self.engine.language_for(locale)
        return languages

    def _profile_text(self, selection: Selection) -> str:
        if selection.is_custom:
            return self.custom.get(selection.profile) or ""
        return (self.paths.fixtures / "profiles" / f"{selection.profile}.json").read_text(encoding="utf-8")

    def _recommendations(self, selection: Selection) -> list[dict[str, Any]] | None:
        choice = selection.recommendations
        if choice == NONE:
            return None
        folder = self.paths.fixtures / "recommendations"
        if choice == AUTO:
            own = folder / f"{selection.profile}.json"
            choice = selection.profile if not selection.is_custom and own.is_file() else "default"
        path = folder / f"{choice}.json"
        if not path.is_file():
            return None
        return _parse_json(path.read_text(encoding="utf-8"), self.paths.display(path))

    def _event(self, event_type: str | None, choice: str = AUTO, profile: str | None = None) -> dict[str, Any] | None:
        if not event_type:
            return None
        name = event_type if choice == AUTO else choice
        path = self.paths.fixtures / "events" / f"{name}.json"
        own = self.paths.fixtures / "events" / str(profile) / f"{event_type}.json"
        if choice == AUTO and profile and not profile.startswith(CUSTOM) and own.is_file():
            path = own  # the profile's own cart, in its currency
        if not path.is_file():
            raise InvalidInput("event", [Problem(self.paths.display(path),
                                                 f"the template's event {event_type!r} has no fixture file")])
        return _parse_json(path.read_text(encoding="utf-8"), self.paths.display(path))


def _parse_json(text: str, what: str) -> Any:
    """Parse JSON; a syntax error becomes an input problem naming the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(what, [Problem(f"{what} (line {error.lineno}, column {error.colno})",
                                          f"not valid JSON: {error.msg}", "json_invalid")]) from None
