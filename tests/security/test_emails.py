"""One rule for e-mail addresses everywhere (issue 15): trimmed and lower-cased as a whole, the part
before the @ too, as Keycloak keeps them; so an address typed in any case is the same address on
every page, in every lookup and in the outbox."""

from __future__ import annotations

import pytest

from idp.extensions import db
from idp.profiles.models import Profile
from idp.security.emails import normalise_email
from tests.helpers.pages import register, sign_in, submit
from tests.helpers.records import PASSWORD

MIXED = " Olena.Koval@Example.COM "
LOWER = "olena.koval@example.com"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (MIXED, LOWER),
        ("OLENA@EXAMPLE.COM", "olena@example.com"),
        ("olena@example.com", "olena@example.com"),
        ("\tОлена@Приклад.УКР\n", "олена@приклад.укр"),
    ],
)
def test_an_address_has_one_form(typed, kept):
    assert normalise_email(typed) == kept
    assert normalise_email(kept) == kept


def test_registration_keeps_the_address_in_lower_case_and_any_case_signs_in(app, client, outbox):
    register(client, outbox, "+380671234567", email=MIXED)
    with app.app_context():
        profile = db.session.scalar(db.select(Profile).where(Profile.phone == "+380671234567"))
        assert profile.email == LOWER
    assert outbox.last("OLENA.KOVAL@example.com", "email_confirm").recipient == LOWER
    submit(client, outbox.link(LOWER, "email_confirm"), {})
    with app.app_context():
        assert db.session.get(Profile, profile.id).email_verified_at is not None
    other = app.test_client()
    assert sign_in(other, "Olena.KOVAL@example.com").location == "/"


def test_a_new_address_in_mixed_case_is_confirmed_in_lower_case(app, client, users, outbox):
    profile = users.create(email="user@example.com")
    sign_in(client, profile.phone)
    page = submit(client, "/security/email", {"email": MIXED, "current_password": PASSWORD}, follow=True)
    assert ("info", f"We sent a confirmation link to {LOWER}. The address changes when you follow it.") in [
        (kind, text.replace("&#39;", "'")) for kind, text in page.flashes
    ]
    assert outbox.last(LOWER, "email_change_confirm").recipient == LOWER


def test_every_letter_is_stored_for_the_address_in_its_one_form(app):
    from idp.delivery.services import outbox, send

    with app.test_request_context():
        send("email_test", "Dev.Team@Example.com", "en")
        send("sms_test", "+380671234567", "en")
        assert [m.recipient for m in outbox(10)] == ["+380671234567", "dev.team@example.com"]
        assert [m.recipient for m in outbox(10, "DEV.TEAM@EXAMPLE.COM")] == ["dev.team@example.com"]
        assert [m.recipient for m in outbox(10, "067 123 4567")] == ["+380671234567"]


def test_staff_search_and_invitations_read_an_address_alike(app, users):
    from idp.orgs.invitations import EMAIL, read_address
    from idp.orgs.search import find_profiles

    profile = users.create(email=MIXED)
    with app.app_context():
        assert [p.id for p in find_profiles("OLENA.koval@EXAMPLE.com")] == [profile.id]
        assert read_address(EMAIL, MIXED) == LOWER
