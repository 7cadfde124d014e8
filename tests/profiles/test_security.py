"""Security settings: every change needs the current password, is told by e-mail (or SMS to the old
number), and a password change ends the other sessions (seed 000)."""

from __future__ import annotations

import re

import pyotp
import pytest

from idp.extensions import db
from idp.profiles.models import RecoveryCode
from tests.helpers.pages import is_signed_in, recovery_codes_in, sign_in, submit, totp_secret
from tests.helpers.records import PASSWORD, db_rows, find_profile

WRONG_PASSWORD = "The current password is wrong."
NEW_PASSWORD = "Br4ndNewSecret"


@pytest.fixture
def me(client, users):
    """A signed-in profile."""
    profile = users.create()
    assert sign_in(client, profile.phone).location == "/"
    return profile


SETTINGS_PAGES = [
    "/security",
    "/security/password",
    "/security/email",
    "/security/phone",
    "/security/phone/code",
    "/security/sms",
    "/security/totp",
    "/security/totp/disable",
    "/security/recovery-codes",
]


def test_settings_need_a_signed_in_profile(client, subtests):
    for page in SETTINGS_PAGES:
        with subtests.test(page=page):
            response = client.get(page)
            assert response.status_code == 302
            assert response.location.startswith("/signin?next=")


def test_a_wrong_current_password_changes_nothing(app, client, me, outbox):
    before = db_rows(app)
    page = submit(
        client,
        "/security/password",
        {"current_password": "Not-my-passw0rd", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert page.status == 200 and page.errors == [WRONG_PASSWORD]
    assert db_rows(app) == before
    assert sign_in(app.test_client(), me.phone).location == "/"


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, me):
    other = app.test_client()
    sign_in(other, me.phone)
    page = submit(
        client,
        "/security/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow=True,
    )
    assert ("success", "Your password has been changed. Your other sessions were ended.") in page.flashes
    assert is_signed_in(client)
    assert not is_signed_in(other)
    assert sign_in(other, me.phone).errors == ["The phone number, e-mail or password is wrong."]
    assert sign_in(other, me.phone, NEW_PASSWORD).location == "/"


def test_the_password_change_notice_never_contains_a_password(client, me, outbox):
    submit(
        client,
        "/security/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    notice = outbox.last(me.email, "password_changed")
    for secret in (NEW_PASSWORD, PASSWORD):
        assert secret not in notice.text and secret not in (notice.html or "")
    assert "never sent by e-mail" in notice.text


def test_an_e_mail_change_needs_the_password_and_sends_only_the_link(app, client, me, outbox):
    page = submit(
        client, "/security/email", {"email": "new@example.com", "current_password": "Not-my-passw0rd"}
    )
    assert page.errors == [WRONG_PASSWORD]
    assert outbox.messages("new@example.com") == []
    page = submit(
        client, "/security/email", {"email": "New@Example.com", "current_password": PASSWORD}, follow=True
    )
    assert (
        "info",
        "We sent a confirmation link to new@example.com. The address changes when you follow it.",
    ) in page.flashes
    (link,) = outbox.messages("new@example.com")
    assert link.kind == "email_change_confirm"
    assert find_profile(app, me.phone).email == me.email
    assert outbox.messages(me.email) == []


def test_an_e_mail_change_tells_the_old_and_the_new_address(app, client, me, outbox):
    submit(client, "/security/email", {"email": "new@example.com", "current_password": PASSWORD})
    submit(client, outbox.link("new@example.com"))
    assert find_profile(app, me.phone).email == "new@example.com"
    assert outbox.last(me.email, "email_changed_old")
    assert outbox.last("new@example.com", "email_changed_new")
    assert sign_in(app.test_client(), "new@example.com").location == "/"
    assert sign_in(app.test_client(), me.email).errors == ["The phone number, e-mail or password is wrong."]


def test_a_phone_change_sends_a_code_to_the_new_number_and_a_notice_to_the_old(app, client, me, outbox):
    new = "+380501234567"
    page = submit(client, "/security/phone", {"phone": "+380 50 123 4567", "current_password": PASSWORD})
    assert page.location == "/security/phone/code"
    assert find_profile(app, me.phone) is not None  # nothing changes before the code
    page = submit(client, "/security/phone/code", {"code": outbox.code(new)}, follow=True)
    assert ("success", "The phone number of your profile has been changed.") in page.flashes
    assert find_profile(app, new).id == me.id
    notice = outbox.last(me.phone, "sms_phone_changed")
    assert "4567" in notice.text
    assert outbox.last(me.email, "phone_changed")
    assert sign_in(app.test_client(), new).location == "/"


def test_a_phone_change_needs_the_password(app, client, me, outbox):
    page = submit(
        client, "/security/phone", {"phone": "+380501234567", "current_password": "Not-my-passw0rd"}
    )
    assert page.errors == [WRONG_PASSWORD]
    assert outbox.messages("+380501234567") == []


def test_the_same_number_is_not_a_change(client, me, outbox):
    page = submit(client, "/security/phone", {"phone": me.phone, "current_password": PASSWORD})
    assert page.errors == ["This is already the number of your profile."]
    assert [m.kind for m in outbox.messages(me.phone)] == []


def test_a_taken_number_cannot_be_taken_over(app, client, me, users, outbox):
    taken = users.create().phone
    page = submit(client, "/security/phone", {"phone": taken, "current_password": PASSWORD})
    assert page.location == "/security/phone/code"  # the same answer as for a free number
    (message,) = outbox.messages(taken)
    assert message.kind == "sms_already_registered"
    assert not re.search(r"\d{6}", message.text)
    for code in ("000000", "123456"):
        assert submit(client, "/security/phone/code", {"code": code}).status == 200
    assert find_profile(app, me.phone).id == me.id
    assert find_profile(app, taken).id != me.id


def test_sms_two_factor_needs_the_password_and_is_told_by_e_mail(app, client, me, outbox):
    page = submit(client, "/security/sms", {"current_password": "Not-my-passw0rd"})
    assert page.errors == [WRONG_PASSWORD]
    assert not find_profile(app, me.phone).sms_2fa_enabled
    assert outbox.messages(me.email) == []
    page = submit(client, "/security/sms", {"current_password": PASSWORD})
    assert find_profile(app, me.phone).sms_2fa_enabled
    assert len(recovery_codes_in(page.text)) == 10  # the first factor brings recovery codes
    assert outbox.last(me.email, "two_factor_changed")
    page = submit(client, "/security/sms", {"current_password": PASSWORD})
    assert page.location == "/security"
    assert not find_profile(app, me.phone).sms_2fa_enabled
    assert len([m for m in outbox.messages(me.email) if m.kind == "two_factor_changed"]) == 2


def test_the_authenticator_app_needs_the_password_and_a_matching_code(app, client, me, outbox):
    secret = totp_secret(client)
    page = submit(
        client, "/security/totp", {"code": pyotp.TOTP(secret).now(), "current_password": "Not-my-passw0rd"}
    )
    assert page.errors == [WRONG_PASSWORD]
    code = pyotp.TOTP(pyotp.random_base32()).now()
    page = submit(client, "/security/totp", {"code": code, "current_password": PASSWORD})
    if code != pyotp.TOTP(secret).now():
        assert page.errors == [
            "The code does not match. Check the time on your phone and enter the newest code."
        ]
    assert find_profile(app, me.phone).totp_enabled_at is None
    assert outbox.messages(me.email) == []
    page = submit(client, "/security/totp", {"code": pyotp.TOTP(secret).now(), "current_password": PASSWORD})
    profile = find_profile(app, me.phone)
    assert profile.totp_enabled_at is not None and secret not in profile.totp_secret_encrypted
    assert outbox.last(me.email, "two_factor_changed")


def test_turning_the_authenticator_app_off_needs_the_password(app, client, me, outbox):
    secret = totp_secret(client)
    submit(client, "/security/totp", {"code": pyotp.TOTP(secret).now(), "current_password": PASSWORD})
    page = submit(client, "/security/totp/disable", {"current_password": "Not-my-passw0rd"})
    assert page.errors == [WRONG_PASSWORD]
    assert find_profile(app, me.phone).totp_enabled_at is not None
    page = submit(client, "/security/totp/disable", {"current_password": PASSWORD})
    assert page.location == "/security"
    assert find_profile(app, me.phone).totp_enabled_at is None
    assert len([m for m in outbox.messages(me.email) if m.kind == "two_factor_changed"]) == 2


def test_new_recovery_codes_need_the_password_and_replace_the_old(app, client, me):
    first = recovery_codes_in(submit(client, "/security/sms", {"current_password": PASSWORD}).text)
    page = submit(client, "/security/recovery-codes", {"current_password": "Not-my-passw0rd"})
    assert page.errors == [WRONG_PASSWORD] and not recovery_codes_in(page.text)
    second = recovery_codes_in(
        submit(client, "/security/recovery-codes", {"current_password": PASSWORD}).text
    )
    assert len(second) == 10 and not set(first) & set(second)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(RecoveryCode)) == 10


def test_wrong_current_passwords_are_throttled_like_sign_ins(client, me):
    for _ in range(3):
        page = submit(client, "/security/sms", {"current_password": "Not-my-passw0rd"})
        assert page.errors == [WRONG_PASSWORD]
    page = submit(client, "/security/sms", {"current_password": PASSWORD})
    assert page.errors == ["Too many failed attempts. Try again in 1 s."]


def test_an_address_another_profile_confirmed_cannot_be_moved_to(app, client, me, users, outbox):
    owner = users.create(email="taken@example.com")
    submit(client, "/security/email", {"email": "taken@example.com", "current_password": PASSWORD})
    page = submit(client, outbox.link("taken@example.com"))
    assert page.status == 409 and "This address is already in use" in page.text
    assert find_profile(app, me.phone).email == me.email
    assert find_profile(app, owner.phone).email == "taken@example.com"


# --- The name given at registration can be corrected ----------------------------------------------

NAME_PAGE = "/security/name"


def _name_change(client, last: str, first: str, password: str = PASSWORD, **kwargs):
    fields = {"last_name": last, "first_name": first, "current_password": password}
    return submit(client, NAME_PAGE, fields, **kwargs)


def test_the_name_is_changed_audited_told_by_e_mail_and_shown(app, client, me, outbox):
    from idp.audit.models import AuditEvent

    page = client.get(NAME_PAGE).get_data(as_text=True)
    assert 'value="Koval"' in page and 'value="Olena"' in page  # the current name, to correct
    assert 'name="csrf_token"' in page
    page = _name_change(client, "  Шевченко-Коваль ", "Олена", follow=True)
    assert ("success", "The name in your profile is now Олена Шевченко-Коваль.") in page.flashes
    profile = find_profile(app, me.phone)
    assert (profile.first_name, profile.last_name) == ("Олена", "Шевченко-Коваль")
    with app.app_context():
        events = [
            e.event for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.profile_id == me.id))
        ]
    assert events.count("profile.name_changed") == 1
    security = client.get("/security").get_data(as_text=True)
    assert "Name changed" in security and "Олена Шевченко-Коваль" in security
    assert 'href="/security/name"' in client.get("/").get_data(as_text=True)
    notice = outbox.last(me.email, "name_changed")
    assert notice.subject == "The name in your profile was changed"
    assert "Олена Шевченко-Коваль" in notice.text and "Олена Шевченко-Коваль" in notice.html


@pytest.mark.parametrize(
    ("last", "first", "message"),
    [
        ("", "Olena", "Fill in this field."),
        ("Koval", "   ", "Fill in this field."),
        ("K" * 101, "Olena", "Field cannot be longer than 100 characters."),
        ("Koval", "Ole\x07na", "The name has invisible or control characters. Type it again without them."),
        ("Koval", "Olena\u200b", "The name has invisible or control characters. Type it again without them."),
        ("Ko\nval", "Olena", "The name has invisible or control characters. Type it again without them."),
        ("Koval", "Olena2", "Use letters only; hyphens, apostrophes and spaces may join them."),
        ("Koval", "<b>Olena</b>", "Use letters only; hyphens, apostrophes and spaces may join them."),
    ],
)
def test_a_bad_name_is_refused_with_its_reason_and_changes_nothing(
    app, client, me, outbox, last, first, message
):
    before = db_rows(app)
    page = _name_change(client, last, first)
    assert page.status == 200 and page.errors == [message]
    assert db_rows(app) == before
    assert outbox.messages(me.email) == []


def test_the_name_page_speaks_the_persons_language(app, client, me):
    from tests.helpers.records import translated

    for lang in ("uk", "ru"):
        submit(client, f"/lang/{lang}", page="/security")
        page = _name_change(client, "Koval", "Ole\x07na")
        wanted = translated(
            app, lang, "The name has invisible or control characters. Type it again without them."
        )
        assert page.errors == [wanted] and not wanted.isascii(), lang
        (too_long,) = _name_change(client, "K" * 101, "Olena").errors
        assert "100" in too_long and not too_long.isascii(), (lang, too_long)
        assert find_profile(app, me.phone).first_name == "Olena"


def test_a_name_change_needs_the_password_and_a_csrf_token(app, client, me, outbox):
    before = db_rows(app)
    assert _name_change(client, "Shevchenko", "Olena", password="Not-my-passw0rd").errors == [WRONG_PASSWORD]
    response = client.post(
        NAME_PAGE, data={"last_name": "Shevchenko", "first_name": "Olena", "current_password": PASSWORD}
    )
    assert response.status_code == 400 and "The form has expired" in response.get_data(as_text=True)
    assert db_rows(app) == before and outbox.messages(me.email) == []
    page = _name_change(client, "Koval", "Olena")
    assert page.errors == ["This is already the name in your profile."]
    assert db_rows(app) == before


def test_the_new_name_reaches_the_relying_services_next_token(app, client, users):
    from tests.oauth.helpers import refresh, register_client, signed_in_tokens, userinfo

    relying = register_client(app)
    profile, _request, tokens = signed_in_tokens(
        client, users, app, client=relying, scope="openid profile offline_access"
    )
    before = userinfo(client, tokens["access_token"]).get_json()
    assert (before["name"], before["given_name"], before["family_name"]) == ("Olena Koval", "Olena", "Koval")
    _name_change(client, "Шевченко", "Олена")
    fresh = refresh(client, relying, tokens["refresh_token"]).get_json()
    claims = userinfo(client, fresh["access_token"]).get_json()
    assert (claims["name"], claims["given_name"], claims["family_name"]) == (
        "Олена Шевченко",
        "Олена",
        "Шевченко",
    )
    assert claims["sub"] == before["sub"] and claims["updated_at"] >= before["updated_at"]
