"""The development outbox: every SMS and e-mail is stored encrypted, in the recipient's language,
and readable by a developer at /dev/outbox."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from idp import create_app
from idp.delivery.models import Message
from idp.delivery.services import outbox as stored_messages
from idp.extensions import db
from tests.helpers.pages import register, submit
from tests.helpers.records import translated
from tests.helpers.templates import share_compiled_templates

PHONE = "+380671234567"
EMAIL = "olena@example.com"


@pytest.fixture(autouse=True)
def english(settings):
    settings["IDP_DEFAULT_LOCALE"] = "en"


@pytest.fixture(autouse=True)
def compiled_templates(english, app):
    share_compiled_templates(app)


def test_message_bodies_are_encrypted_at_rest(app, client, outbox):
    register(client, outbox, PHONE, email=EMAIL)
    link = outbox.link(EMAIL)
    code = outbox.code(PHONE)
    with app.app_context():
        rows = db.session.execute(db.select(Message.body_encrypted, Message.html_encrypted)).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert link.rsplit("/", 1)[1] not in stored
    assert code not in stored
    assert "Olena" not in stored


def test_the_outbox_delivers_at_once(app, client, outbox):
    register(client, outbox, PHONE, until="code")
    (message,) = outbox.messages(PHONE)
    assert message.state == "delivered"


@pytest.mark.parametrize("locale", ["uk", "ru"])
def test_the_sms_code_is_in_the_language_of_the_page(app, client, outbox, locale):
    submit(client, "/register", {"phone": PHONE}, headers={"Accept-Language": locale})
    message = outbox.last(PHONE, "sms_code")
    assert message.locale == locale
    expected = translated(
        app,
        locale,
        "%(product)s registration code: %(code)s. Valid %(minutes)s min. Do not tell it to anyone.",
        product="Business ID",
        code=outbox.code(PHONE),
        minutes=5,
    )
    assert message.text == expected


def test_the_confirmation_letter_is_in_the_language_of_the_registration(app, client, outbox):
    client.get("/lang/ru?next=/register")
    register(client, outbox, PHONE, email=EMAIL)
    letter = outbox.last(EMAIL, "email_confirm")
    assert letter.locale == "ru"
    assert letter.subject == translated(app, "ru", "Confirm your e-mail address")
    assert letter.html and outbox.link(EMAIL) in letter.html


def test_the_dev_outbox_page_shows_the_newest_messages_first(app, client, outbox):
    register(client, outbox, PHONE, email=EMAIL)
    text = client.get("/dev/outbox").get_data(as_text=True)
    assert text.index(EMAIL) < text.index(outbox.code(PHONE))
    only_sms = client.get("/dev/outbox", query_string={"to": PHONE}).get_data(as_text=True)
    assert outbox.code(PHONE) in only_sms and "Confirm your e-mail" not in only_sms


def test_a_new_secrets_key_put_first_still_reads_older_messages(app, settings, client, outbox):
    register(client, outbox, PHONE, until="code")
    code = outbox.code(PHONE)
    old_key = app.config["IDP_SECRETS_KEY"]
    rotated = create_app({**settings, "IDP_SECRETS_KEY": f"{Fernet.generate_key().decode()},{old_key}"})
    try:
        with rotated.app_context():
            (entry,) = stored_messages(10, PHONE)
            assert code in entry.text
    finally:
        with rotated.app_context():
            db.session.remove()
            db.engine.dispose()
