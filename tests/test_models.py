from __future__ import annotations

import pickle

import pytest

from renderer import InvalidInput, Profile, TemplateError, TemplateNotFound
from renderer.base.errors import CompileError, Problem, RendererError
from renderer.base.models import Event, parse, parse_products


def test_every_fixture_profile_and_event_validates(fixtures):
    for name in fixtures.profile_names():
        profile = parse(Profile, fixtures.profile(name), what="profile")
        assert profile.id
    for event_type in ("cart_abandoned", "browse_abandoned", "engaged_no_purchase"):
        assert parse(Event, fixtures.event(event_type), what="event").type == event_type


def test_minimal_profile_gets_defaults():
    profile = parse(Profile, {"id": "c1", "email": "a@example.com"}, what="profile")
    assert profile.locale == "en-US"
    assert profile.consent.email_marketing is True
    assert profile.orders == [] and profile.location.country is None


def test_errors_list_every_field_by_path():
    bad = {"email": "not-an-email", "orders": [{"id": "o1", "placed_at": "2026-01-01", "total": "lots"}],
           "location": {"country": "USA"}}
    with pytest.raises(InvalidInput) as caught:
        parse(Profile, bad, what="profile")
    locs = {p.loc for p in caught.value.problems}
    assert locs == {"id", "email", "orders.0.total", "location.country"}
    message = str(caught.value)
    assert "orders.0.total" in message and "id: Field required" in message


def test_wrong_type_names_the_field():
    with pytest.raises(InvalidInput, match=r"engagement\.opens"):
        parse(Profile, {"id": "c1", "email": "a@example.com", "engagement": {"opens": "many"}}, what="profile")


def test_unknown_field_is_rejected():
    with pytest.raises(InvalidInput, match="first_nme"):
        parse(Profile, {"id": "c1", "email": "a@example.com", "first_nme": "Ana"}, what="profile")


def test_naive_timestamps_are_taken_as_utc():
    profile = parse(Profile, {"id": "c", "email": "a@example.com", "signup_date": "2026-01-02T03:04:05"},
                    what="profile")
    assert profile.signup_date.utcoffset().total_seconds() == 0


def test_products_payload_errors_have_paths():
    with pytest.raises(InvalidInput, match=r"1\.price"):
        parse_products([{"id": "a", "name": "A", "url": "https://x", "price": 1},
                        {"id": "b", "name": "B", "url": "https://x", "price": -3}])


@pytest.mark.parametrize("error", [
    InvalidInput("profile", [Problem("email", "bad")]),
    TemplateError("broken", "blocks/hero.mjml", 4),
    CompileError("mjml failed", "templates/x.yaml"),
    TemplateNotFound("nope", "template", ["welcome"]),
])
def test_errors_survive_pickling_and_share_a_base(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert isinstance(copy, RendererError)


def test_errors_also_inherit_builtins():
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(TemplateNotFound, LookupError)
    assert str(TemplateError("bad tag", "blocks/x.mjml", 3)) == "blocks/x.mjml:3: bad tag"


def test_a_shared_payload_is_validated_once_and_again_when_it_changes():
    payload = [{"id": "P1", "name": "Mug", "url": "https://shop.example/p/1", "price": "5.00"},
               {"id": "P2", "name": "Jug", "url": "https://shop.example/p/2", "price": "7.00"}]
    parse_products(payload)  # a payload seen once is only noted
    first = parse_products(payload)
    assert parse_products(payload) is first, "the same unchanged list is not validated again"
    assert parse_products([dict(p) for p in payload]) is not first, "an equal copy is another payload"
    payload[1]["price"] = "9.50"  # changed in place between two renders
    changed = parse_products(payload)
    assert changed is not first and str(changed[1].price) == "9.50"
    payload[0]["price"] = "free"
    with pytest.raises(InvalidInput) as caught:
        parse_products(payload)
    assert [p.loc for p in caught.value.problems] == ["0.price"]
