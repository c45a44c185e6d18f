"""List-Unsubscribe headers (RFC 2369) with one-click POST (RFC 8058)."""

from __future__ import annotations

import pytest

from renderer.recipient.headers import ONE_CLICK, unsubscribe_headers

from conftest import PAIRS, fixture_request


@pytest.mark.parametrize("template,profile", PAIRS[:: max(1, len(PAIRS) // 8)])
def test_every_email_carries_one_click_unsubscribe_headers(engine, fixtures, template, profile):
    email = engine.render(template, **fixture_request(engine, template, profile))
    recipient = fixtures.profile(profile)["id"]
    # An email with experiments also names its variants (docs/experiments.md).
    variants = {"X-Variant": "; ".join(f"{k}={v}" for k, v in email.variants.items())} if email.variants else {}
    assert bool(variants) == bool(engine.compiled(template).spec.experiments)
    assert email.headers == {
        "List-Unsubscribe": f"<https://fernhill.example/email/unsubscribe?c={recipient}>, "
                            f"<mailto:unsubscribe@fernhill.example?subject=unsubscribe%20{recipient}>",
        "List-Unsubscribe-Post": ONE_CLICK,
        **variants,
    }
    # The header and the footer link are the same per-recipient URL.
    assert f'href="https://fernhill.example/email/unsubscribe?c={recipient}"' in email.html


def test_an_odd_id_stays_one_safe_header_line(engine):
    email = engine.render("welcome", profile={"id": "a b>\r\nBcc: x@evil.example", "email": "a@example.com"})
    value = email.headers["List-Unsubscribe"]
    assert "\r" not in value and "\n" not in value and " b" not in value
    assert "c=a%20b%3E%0D%0ABcc%3A%20x%40evil.example>" in value


def test_one_click_needs_an_https_url():
    assert unsubscribe_headers("http://x.example/u", None) == {"List-Unsubscribe": "<http://x.example/u>"}
    assert unsubscribe_headers(None, "mailto:u@x.example") == {"List-Unsubscribe": "<mailto:u@x.example>"}
    assert unsubscribe_headers(None, None) == {}


def test_without_a_mailto_pattern_only_the_url_is_given(content_copy):
    from renderer import Engine

    brand = content_copy / "blocks" / "brand.yaml"
    brand.write_text("\n".join(line for line in brand.read_text().splitlines()
                               if not line.startswith("unsubscribe_mailto")))
    engine = Engine(templates_dir=content_copy / "templates", blocks_dir=content_copy / "blocks")
    email = engine.render("welcome", profile={"id": "c1", "email": "a@example.com"})
    assert email.headers["List-Unsubscribe"] == "<https://fernhill.example/email/unsubscribe?c=c1>"
    assert email.headers["List-Unsubscribe-Post"] == ONE_CLICK


def test_the_variant_header_names_each_experiment_in_order():
    from renderer.audience.experiments import assign
    from renderer.content.experiments import Experiment
    from renderer.recipient.headers import email_headers

    experiments = {key: Experiment(key, ("A", "B"), (0.5, 0.5), "A", holdout=0.2) for key in ("b_test", "a_test")}
    experiments["c"] = Experiment("c", ("x-1", "y"), (0.5, 0.5), "y")
    forced = {"b_test": "holdout", "a_test": "B", "c": "x-1"}
    label = assign(experiments, "c-1001", forced)[2]
    assert email_headers({}, {}, label) == {"X-Variant": "b_test=holdout; a_test=B; c=x-1"}
    # As assigned: each experiment's outcome, in the template's order.
    outcomes, _, label = assign(experiments, "c-1001")
    assert label == "; ".join(f"{key}={outcome}" for key, outcome in outcomes.items())
    assert assign({"c": experiments["c"]}, "c-1001", {"c": "y"})[2] == "c=y"
    unsubscribe = {"UnsubscribeUrl": "https://x.example/u"}
    assert email_headers(unsubscribe, {"experiment_header": "X-Test"}, "a=A") == {
        **unsubscribe_headers("https://x.example/u", None), "X-Test": "a=A"}
    assert email_headers(unsubscribe, {"experiment_header": False}, "a=A") == unsubscribe_headers(
        "https://x.example/u", None)
    assert email_headers({}, {}, "") == {}
