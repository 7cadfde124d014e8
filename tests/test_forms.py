"""Bad input on every form: empty, far too long or malformed values get a clear message on the page
and change nothing; a forged or missing CSRF token gets the "form has expired" page and changes
nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest

from tests.helpers.pages import Page, csrf_token, is_signed_in, register, sign_in, submit, totp_secret
from tests.helpers.records import PASSWORD, db_rows

NEW_PASSWORD = "Br4ndNewSecret"
PHONE = "+380671234567"
OTHER_PHONE = "+380501234567"
LONG = "x" * 10_000
LONG_DIGITS = "1" * 10_000

REQUIRED = "Fill in this field."
BAD_PHONE = "Enter a valid phone number with its country code, e.g. +380 44 123 4567."
BAD_EMAIL = "Enter a valid e-mail address, e.g. name@company.com."
BAD_CODE = "The code is 6 digits."
BAD_NAME = "Use letters only; hyphens, apostrophes and spaces may join them."
INVISIBLE = "The name has invisible or control characters. Type it again without them."
PASSWORD_LENGTH = "At least 8 characters, at most 128."
MISMATCH = "The passwords do not match."
WRONG_CURRENT = "The current password is wrong."
WRONG_SIGNIN = "The phone number, e-mail or password is wrong."


def too_long(n: int) -> str:
    return f"Field cannot be longer than {n} characters."


# --- How to reach each form, and what valid input it takes -------------------------------------


def _anonymous(client, users, outbox) -> dict:
    return {}


def _signin(client, users, outbox) -> dict:
    return {"identifier": users.create().phone, "password": PASSWORD}


def _register_phone(client, users, outbox) -> dict:
    return {"phone": PHONE}


def _register_code(client, users, outbox) -> dict:
    register(client, outbox, PHONE, until="code")
    return {"code": outbox.code(PHONE)}


def _register_details(client, users, outbox) -> dict:
    register(client, outbox, PHONE, until="details")
    return {"last_name": "Koval", "first_name": "Olena", "email": "olena@example.com", "accept_offer": "y"}


def _register_password(client, users, outbox) -> dict:
    register(client, outbox, PHONE, until="password")
    return {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def _register_email(client, users, outbox) -> dict:
    register(client, outbox, PHONE)
    return {"email": "fixed@example.com"}


def _recover_phone(client, users, outbox) -> dict:
    return {"phone": users.create().phone}


def _recover_code(client, users, outbox) -> dict:
    phone = users.create().phone
    submit(client, "/recover", {"phone": phone})
    return {"code": outbox.code(phone)}


def _recover_password(client, users, outbox) -> dict:
    phone = users.create().phone
    submit(client, "/recover", {"phone": phone})
    submit(client, "/recover/code", {"code": outbox.code(phone)})
    return {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def _signed_in(client, users, outbox):
    profile = users.create()
    sign_in(client, profile.phone)
    return profile


def _security_password(client, users, outbox) -> dict:
    _signed_in(client, users, outbox)
    return {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def _security_email(client, users, outbox) -> dict:
    _signed_in(client, users, outbox)
    return {"email": "new@example.com", "current_password": PASSWORD}


def _security_name(client, users, outbox) -> dict:
    _signed_in(client, users, outbox)
    return {"last_name": "Shevchenko", "first_name": "Olena", "current_password": PASSWORD}


def _security_phone(client, users, outbox) -> dict:
    _signed_in(client, users, outbox)
    return {"phone": OTHER_PHONE, "current_password": PASSWORD}


def _security_phone_code(client, users, outbox) -> dict:
    _signed_in(client, users, outbox)
    submit(client, "/security/phone", {"phone": OTHER_PHONE, "current_password": PASSWORD})
    return {"code": outbox.code(OTHER_PHONE)}


def _security_password_only(client, users, outbox) -> dict:
    _signed_in(client, users, outbox)
    return {"current_password": PASSWORD}


def _security_totp(client, users, outbox) -> dict:
    _signed_in(client, users, outbox)
    return {"code": pyotp.TOTP(totp_secret(client)).now(), "current_password": PASSWORD}


def _signin_verify(client, users, outbox) -> dict:
    profile = users.create(sms_2fa_enabled=True)
    sign_in(client, profile.phone)
    return {"code": outbox.code(profile.phone)}


@dataclass(frozen=True)
class Form:
    url: str
    setup: Callable[..., dict]
    # (field, value, expected message) for each kind of bad input; None as value leaves it out.
    empty: tuple
    too_long: tuple
    malformed: tuple
    page: str | None = None
    invalid_status: int = 200


def _phone_cases(field="phone"):
    return dict(
        empty=((field, "", REQUIRED), (field, "   ", REQUIRED)),
        too_long=((field, LONG, too_long(32)), (field, LONG_DIGITS, BAD_PHONE)),
        malformed=(
            (field, "hello", BAD_PHONE),
            (field, "+380 67 123 45", BAD_PHONE),
            (field, "+1 555 0100", BAD_PHONE),
            (field, "<script>", BAD_PHONE),
        ),
    )


def _code_cases():
    return dict(
        empty=(("code", "", REQUIRED),),
        too_long=(("code", LONG_DIGITS, BAD_CODE),),
        malformed=(
            ("code", "12ab56", BAD_CODE),
            ("code", "12345", BAD_CODE),
            ("code", "1234567", BAD_CODE),
            ("code", "١٢٣٤٥٦", BAD_CODE),
        ),
    )


def _new_password_cases():
    return dict(
        empty=(("password", "", REQUIRED), ("confirm", "", REQUIRED)),
        too_long=(("password", LONG, PASSWORD_LENGTH),),
        malformed=(
            ("password", "short", PASSWORD_LENGTH),
            ("confirm", "Different1Pass", MISMATCH),
            ("password", "Password1", "Not a commonly used password."),
        ),
    )


def _current_password_cases():
    return dict(
        empty=(("current_password", "", REQUIRED),),
        too_long=(("current_password", LONG, too_long(128)),),
        malformed=(("current_password", "Not-my-passw0rd", WRONG_CURRENT),),
    )


def _email_cases():
    return dict(
        empty=(("email", "", REQUIRED),),
        too_long=(("email", LONG + "@example.com", too_long(254)),),
        malformed=(
            ("email", "not-an-email", BAD_EMAIL),
            ("email", "a@b", BAD_EMAIL),
            ("email", "two@@example.com", BAD_EMAIL),
        ),
    )


def _merge(*case_sets):
    merged = {"empty": (), "too_long": (), "malformed": ()}
    for cases in case_sets:
        for kind in merged:
            merged[kind] += cases[kind]
    return merged


FORMS = {
    "signin": Form(
        "/signin",
        _signin,
        empty=(("identifier", "", REQUIRED), ("password", "", REQUIRED)),
        too_long=(("identifier", LONG, too_long(254)), ("password", LONG, too_long(128))),
        malformed=(("identifier", "not a phone", WRONG_SIGNIN), ("identifier", "+380 67", WRONG_SIGNIN)),
    ),
    "register phone": Form("/register", _register_phone, **_phone_cases()),
    "register code": Form("/register/code", _register_code, **_code_cases()),
    "register details": Form(
        "/register/details",
        _register_details,
        empty=(
            ("last_name", "", REQUIRED),
            ("first_name", " ", REQUIRED),
            ("email", "", REQUIRED),
            ("accept_offer", None, "Accept the terms of the offer to continue."),
        ),
        too_long=(
            ("last_name", LONG, too_long(100)),
            ("first_name", LONG, too_long(100)),
            ("email", LONG + "@example.com", too_long(254)),
        ),
        malformed=(
            ("last_name", "R2D2", BAD_NAME),
            ("first_name", "<script>", BAD_NAME),
            ("first_name", "--", BAD_NAME),
            ("email", "not-an-email", BAD_EMAIL),
        ),
    ),
    "register password": Form("/register/password", _register_password, **_new_password_cases()),
    "register e-mail change": Form(
        "/register/email/change",
        _register_email,
        **_email_cases(),
        page="/register/email",
        invalid_status=400,
    ),
    "recover phone": Form("/recover", _recover_phone, **_phone_cases()),
    "recover code": Form("/recover/code", _recover_code, **_code_cases()),
    "recover password": Form("/recover/password", _recover_password, **_new_password_cases()),
    "security password": Form(
        "/security/password", _security_password, **_merge(_new_password_cases(), _current_password_cases())
    ),
    "security e-mail": Form(
        "/security/email", _security_email, **_merge(_email_cases(), _current_password_cases())
    ),
    "security name": Form(
        "/security/name",
        _security_name,
        **_merge(
            dict(
                empty=(("last_name", "", REQUIRED), ("first_name", " ", REQUIRED)),
                too_long=(("last_name", LONG, too_long(100)), ("first_name", LONG, too_long(100))),
                malformed=(
                    ("last_name", "R2D2", BAD_NAME),
                    ("first_name", "Ole\u0007na", INVISIBLE),
                    ("first_name", "Ole\u202ena", INVISIBLE),
                ),
            ),
            _current_password_cases(),
        ),
    ),
    "security phone": Form(
        "/security/phone", _security_phone, **_merge(_phone_cases(), _current_password_cases())
    ),
    "security phone code": Form("/security/phone/code", _security_phone_code, **_code_cases()),
    "security sms": Form("/security/sms", _security_password_only, **_current_password_cases()),
    "security totp": Form(
        "/security/totp", _security_totp, **_merge(_code_cases(), _current_password_cases())
    ),
    "security recovery codes": Form(
        "/security/recovery-codes", _security_password_only, **_current_password_cases()
    ),
    "sign-in second step": Form("/signin/verify", _signin_verify, **_code_cases()),
}


def _post(client, form: Form, data: dict) -> Page:
    return submit(client, form.url, {k: v for k, v in data.items() if v is not None}, page=form.page)


@pytest.mark.parametrize("name", list(FORMS))
def test_bad_input_is_explained_and_changes_nothing(app, client, users, outbox, subtests, name):
    form = FORMS[name]
    valid = form.setup(client, users, outbox)
    before = db_rows(app)
    for kind in ("empty", "too_long", "malformed"):
        for field, value, message in getattr(form, kind):
            with subtests.test(kind=kind, field=field, value=value[:20] if value else value):
                page = _post(client, form, {**valid, field: value})
                assert page.status == form.invalid_status
                assert "Traceback" not in page.text
                assert any(message in error for error in page.errors), page.errors
                assert db_rows(app) == before


# Forms that only carry a CSRF token (buttons); each would change something if it were accepted.
BUTTONS = {
    "sign out": ("/signout", _security_password_only),
    "end other sessions": ("/security/sessions/end-others", _security_password_only),
    "registration resend": ("/register/code/resend", _register_code),
    "recovery resend": ("/recover/resend", _recover_code),
    "phone resend": ("/security/phone/resend", _security_phone_code),
    "registration letter resend": ("/register/email/resend", _register_email),
}


def _expired_form(page: Page) -> bool:
    return page.status == 400 and "The form has expired" in page.text


@pytest.mark.parametrize("name", list(FORMS))
def test_a_form_without_its_token_changes_nothing(app, client, users, outbox, subtests, name):
    form = FORMS[name]
    valid = form.setup(client, users, outbox)
    signed_in = is_signed_in(client)
    before = db_rows(app)
    tokens = {
        "missing": None,
        "forged": "IjAxMjM0NTY3ODlhYmNkZWYi.Zz9f2A.forged-signature",
        "from another browser": csrf_token(app.test_client(), "/signin"),
    }
    for label, token in tokens.items():
        with subtests.test(token=label):
            data = dict(valid) if token is None else {**valid, "csrf_token": token}
            response = client.post(form.url, data=data)
            assert _expired_form(
                Page(response.status_code, response.location, response.get_data(as_text=True))
            )
            assert db_rows(app) == before
            assert is_signed_in(client) == signed_in


@pytest.mark.parametrize("name", list(BUTTONS))
def test_a_button_without_its_token_changes_nothing(app, client, users, outbox, time_machine, name):
    from datetime import UTC, datetime, timedelta

    url, setup = BUTTONS[name]
    setup(client, users, outbox)
    signed_in = is_signed_in(client)
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=61))  # past the resend wait
    before = db_rows(app)
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(url, data=data)
        assert _expired_form(Page(response.status_code, None, response.get_data(as_text=True)))
    assert db_rows(app) == before
    assert is_signed_in(client) == signed_in


def test_the_expired_form_page_is_localised(app, client):
    from tests.helpers.records import translated

    response = client.post(
        "/signin", data={"identifier": PHONE, "password": PASSWORD}, headers={"Accept-Language": "ru"}
    )
    assert response.status_code == 400
    expected = translated(app, "ru", "The form has expired")
    assert expected != "The form has expired" and expected in response.get_data(as_text=True)
