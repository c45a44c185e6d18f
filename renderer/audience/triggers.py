"""Automation triggers: an event picks the template; rules decide send or skip.

Each event type maps to the template that declares it (``event: cart_abandoned``
in ``templates/abandoned_cart.yaml``). Before rendering, the skip rules run in
order; the first that applies names the reason, and no email is produced:

====================  ================================================================
code                  when
====================  ================================================================
no_consent            the profile has not consented to marketing email
event_too_recent      the event is younger than the trigger's wait (default 1 hour)
event_too_old         the event is older than the trigger's window (default 7 days)
empty_cart            a cart_abandoned event without items
no_viewed_products    a browse_abandoned event without products
purchased_after_event the customer ordered after the event
recent_buyer          an engaged_no_purchase event for someone who ordered within the window
sent_recently         the same trigger emailed this profile within its cooldown
====================  ================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from renderer.base.errors import ConfigError
from renderer.base.models import Event, Profile, RenderedEmail


@dataclass(frozen=True)
class TriggerRule:
    """Timing of one trigger."""

    wait: timedelta = timedelta(hours=1)
    window: timedelta = timedelta(days=7)
    cooldown: timedelta = timedelta(days=3)

    def __post_init__(self) -> None:
        if min(self.wait, self.window, self.cooldown) < timedelta(0) or self.wait >= self.window:
            raise ConfigError("trigger timings must be non-negative, with wait shorter than window")


DEFAULT_RULES: dict[str, TriggerRule] = {
    "cart_abandoned": TriggerRule(wait=timedelta(hours=1), window=timedelta(days=7), cooldown=timedelta(days=3)),
    "browse_abandoned": TriggerRule(wait=timedelta(hours=1), window=timedelta(days=7), cooldown=timedelta(days=7)),
    "engaged_no_purchase": TriggerRule(wait=timedelta(0), window=timedelta(days=14),
                                       cooldown=timedelta(days=30)),
}


@dataclass(frozen=True)
class Skip:
    """Why a trigger sent nothing."""

    code: str
    message: str


@dataclass(frozen=True)
class TriggerOutcome:
    """What a trigger did: an email, or a skip with its reason."""

    event_type: str
    template: str
    email: RenderedEmail | None = None
    skip: Skip | None = None

    @property
    def sent(self) -> bool:
        return self.email is not None


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def consent_skip(profile: Profile) -> Skip | None:
    """The consent policy, the one every render applies: no marketing email without consent.

    ``Engine.render`` raises it as :class:`RenderAborted`, ``render_many`` and
    ``renderer batch`` report it as a skipped record, triggers as their first
    skip rule. Transactional mail (``transactional=True``) is exempt.
    """
    if not profile.consent.email_marketing:
        return Skip("no_consent", "the recipient has not consented to marketing email")
    return None


def skip_reason(profile: Profile, event: Event, now: datetime, rule: TriggerRule) -> Skip | None:
    """The first skip rule that applies, or ``None`` when the email should go out."""
    age = now - event.occurred_at
    if skip := consent_skip(profile):
        return skip
    if age < rule.wait:
        return Skip("event_too_recent", f"the event is {_age(age)} old; this trigger waits {_age(rule.wait)}")
    if age > rule.window:
        return Skip("event_too_old", f"the event is {_age(age)} old; this trigger's window is {_age(rule.window)}")
    if event.type == "cart_abandoned" and not (event.cart and event.cart.items):
        return Skip("empty_cart", "the abandoned cart has no items")
    if event.type == "browse_abandoned" and not event.products:
        return Skip("no_viewed_products", "the browse event lists no products")
    bought = [o for o in profile.orders if o.placed_at > event.occurred_at]
    if bought:
        return Skip("purchased_after_event", f"the customer ordered after the event (order {bought[0].id})")
    if event.type == "engaged_no_purchase":
        recent = [o for o in profile.orders if event.occurred_at - rule.window <= o.placed_at <= event.occurred_at]
        if recent:
            return Skip("recent_buyer", f"the customer ordered within the {_age(rule.window)} before the event; "
                                        "this trigger is for engaged non-buyers")
    last = profile.last_sent.get(event.type)
    if last is not None and now - last < rule.cooldown:
        return Skip("sent_recently", f"this trigger emailed the recipient {_age(now - last)} ago; "
                                     f"the cooldown is {_age(rule.cooldown)}")
    return None
