"""E-mail links: single use, 24 hours, signed, replaced by a newer address, confirmed only by a
POST (a GET by a link scanner changes nothing), and never for an address another profile owns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idp.extensions import db
from idp.profiles.models import EmailLink
from tests.helpers.pages import is_signed_in, register, sign_in, submit
from tests.helpers.records import PASSWORD, db_rows, find_profile

PHONE = "+380671234567"
EMAIL = "olena@example.com"
NOT_WORKING = "The link does not work"


def _flip(token: str, index: int) -> str:
    return token[:index] + ("x" if token[index] != "x" else "y") + token[index:][1:]


def confirm(client, path: str):
    return submit(client, path)


def test_the_link_confirms_the_address_and_signs_the_new_profile_in(client, outbox):
    register(client, outbox, PHONE, email=EMAIL)
    page = confirm(client, outbox.link(EMAIL))
    assert page.status == 302 and page.location == "/"
    assert find_profile(client.application, PHONE).email_verified_at is not None
    assert is_signed_in(client)


def test_the_link_is_built_from_the_issuer_not_the_host_header(client, outbox):
    submit(client, "/register", {"phone": PHONE}, headers={"Host": "evil.example"})
    register(client, outbox, PHONE, email=EMAIL)
    assert outbox.last(EMAIL, "email_confirm").text.count("http://127.0.0.1:5000/email/confirm/") == 1


def test_a_link_works_once(app, client, outbox):
    register(client, outbox, PHONE, email=EMAIL)
    link = outbox.link(EMAIL)
    assert confirm(client, link).location == "/"
    again = confirm(app.test_client(), link)
    assert again.status == 400 and NOT_WORKING in again.text


def test_a_link_works_for_24_hours(client, outbox, time_machine):
    register(client, outbox, PHONE, email=EMAIL)
    time_machine.move_to(datetime.now(UTC) + timedelta(hours=23, minutes=59))
    assert confirm(client, outbox.link(EMAIL)).location == "/"


def test_a_link_expires_after_24_hours(client, outbox, time_machine):
    register(client, outbox, PHONE, email=EMAIL)
    time_machine.move_to(datetime.now(UTC) + timedelta(hours=24, seconds=5))
    page = confirm(client, outbox.link(EMAIL))
    assert page.status == 400 and NOT_WORKING in page.text
    assert find_profile(client.application, PHONE).email_verified_at is None


TAMPERED = {
    "signature": lambda token: _flip(token, -10),  # not the last character: its padding bits
    "payload": lambda token: _flip(token, 3),
    "a character less": lambda token: token[:10] + token[11:],
    "a prefix": lambda token: "x" + token,
    "garbage": lambda token: "not-a-token",
    "very long": lambda token: "a" * 2000,
}


def test_a_tampered_link_does_not_work(client, outbox, subtests):
    register(client, outbox, PHONE, email=EMAIL)
    token = outbox.link(EMAIL).rsplit("/", 1)[1]
    for name, tamper in TAMPERED.items():
        with subtests.test(tampered=name):
            page = confirm(client, f"/email/confirm/{tamper(token)}")
            assert page.status == 400 and NOT_WORKING in page.text
            assert find_profile(client.application, PHONE).email_verified_at is None
    assert confirm(client, f"/email/confirm/{token}").location == "/"  # the real one still works


def test_a_link_signed_with_another_key_does_not_work(app, client, outbox):
    from itsdangerous import URLSafeTimedSerializer

    register(client, outbox, PHONE, email=EMAIL)
    with app.app_context():
        link_id = db.session.scalar(db.select(EmailLink.id))
    forged = URLSafeTimedSerializer("another-secret", salt="idp.email-link").dumps(
        {"id": link_id, "p": "confirm"}
    )
    page = confirm(client, f"/email/confirm/{forged}")
    assert page.status == 400
    assert find_profile(app, PHONE).email_verified_at is None


def test_changing_the_address_during_registration_kills_the_old_link(client, outbox):
    register(client, outbox, PHONE, email=EMAIL)
    old_link = outbox.link(EMAIL)
    page = submit(client, "/register/email/change", {"email": "fixed@example.com"}, page="/register/email")
    assert page.location == "/register/email"
    assert outbox.last("fixed@example.com", "email_confirm")
    assert confirm(client, old_link).status == 400
    assert find_profile(client.application, PHONE).email_verified_at is None
    assert confirm(client, outbox.link("fixed@example.com")).location == "/"
    assert find_profile(client.application, PHONE).email == "fixed@example.com"


def test_an_address_confirmed_by_another_profile_cannot_be_confirmed_again(app, client, outbox, users):
    users.create(email=EMAIL)
    register(client, outbox, PHONE, email=EMAIL)  # allowed: it reveals nothing
    page = confirm(client, outbox.link(EMAIL))
    assert page.status == 409
    assert "This address is already in use" in page.text
    assert find_profile(app, PHONE).email_verified_at is None
    assert not is_signed_in(client)


def test_opening_the_link_changes_nothing_until_the_button_is_pressed(app, client, outbox):
    register(client, outbox, PHONE, email=EMAIL)
    link = outbox.link(EMAIL)
    before = db_rows(app)
    scanner = app.test_client()
    for _ in range(3):
        response = scanner.get(link)
        assert response.status_code == 200
        assert "Confirm e-mail" in response.get_data(as_text=True)
    assert db_rows(app) == before
    assert not is_signed_in(scanner)
    assert confirm(client, link).location == "/"


def test_the_confirmation_needs_the_form_token(app, client, outbox):
    register(client, outbox, PHONE, email=EMAIL)
    link = outbox.link(EMAIL)
    response = client.post(link, data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert find_profile(app, PHONE).email_verified_at is None


def test_the_change_link_moves_the_address_and_tells_both(client, outbox, users):
    profile = users.create()
    sign_in(client, profile.phone)
    submit(client, "/security/email", {"email": "new@example.com", "current_password": PASSWORD})
    assert not outbox.messages(profile.email)  # nothing changes before the link is followed
    page = confirm(client, outbox.link("new@example.com", "email_change_confirm"))
    assert page.location == "/security"
    assert find_profile(client.application, profile.phone).email == "new@example.com"
    assert "new@example.com" in outbox.last(profile.email, "email_changed_old").text
    assert outbox.last("new@example.com", "email_changed_new")


def test_a_new_letter_replaces_the_link_of_the_old_one(client, outbox, time_machine):
    register(client, outbox, PHONE, email=EMAIL)
    first = outbox.link(EMAIL)
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=61))
    page = submit(client, "/register/email/resend", page="/register/email", follow=True)
    assert ("info", "We sent the letter again.") in page.flashes
    second = outbox.link(EMAIL)
    assert second != first
    assert confirm(client, first).status == 400
    assert confirm(client, second).location == "/"


def test_a_leftover_link_cannot_sign_in_after_the_address_is_confirmed(app, client, outbox, time_machine):
    register(client, outbox, PHONE, email=EMAIL)
    first = outbox.link(EMAIL)
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=61))
    submit(client, "/register/email/resend", page="/register/email")
    assert confirm(client, outbox.link(EMAIL)).location == "/"
    stranger = app.test_client()
    assert confirm(stranger, first).status == 400
    assert not is_signed_in(stranger)


def test_only_the_newest_change_link_changes_the_address(client, outbox, users):
    profile = users.create()
    sign_in(client, profile.phone)
    submit(client, "/security/email", {"email": "first@example.com", "current_password": PASSWORD})
    submit(client, "/security/email", {"email": "second@example.com", "current_password": PASSWORD})
    assert confirm(client, outbox.link("first@example.com")).status == 400
    assert find_profile(client.application, profile.phone).email == profile.email
    assert confirm(client, outbox.link("second@example.com")).location == "/security"
    assert find_profile(client.application, profile.phone).email == "second@example.com"
