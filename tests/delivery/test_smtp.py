"""E-mail over SMTP against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from idp.delivery.services import send
from tests.delivery.worker_helpers import message_states, work_until, workers_running
from tests.helpers.pages import submit
from tests.peers.fixtures import wait_until


def _translated(app, lang: str, text: str) -> str:
    with app.test_request_context(), force_locale(lang):
        return gettext(text)


@pytest.mark.parametrize("lang", ["en", "uk", "ru"])
def test_confirmation_mail_arrives_multipart_in_the_users_language(
    smtp_server, app, client, users, outbox, lang
):
    profile = users.create(email="olena@example.com", locale=lang)
    with app.app_context():
        from idp.extensions import db
        from idp.profiles.models import Profile
        from idp.profiles.services import send_confirmation

        send_confirmation(db.session.get(Profile, profile.id))
    work_until(app, lambda s: s and all(v == "sent" for v in s.values()))
    (mail,) = smtp_server.to("olena@example.com")
    assert mail["Subject"] == _translated(app, lang, "Confirm your e-mail address")
    if lang != "en":
        assert mail["Subject"] != "Confirm your e-mail address"  # really translated
    assert mail["Content-Language"] == lang
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "multipart/alternative" in [part.get_content_type() for part in mail.walk()]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    link = "http://127.0.0.1:5000/email/confirm/"
    assert link in text and link in html  # built from IDP_ISSUER


def test_links_never_come_from_the_host_header(smtp_server, app, client, users):
    users.create(phone="+380671112233", email="host@example.com")
    client.environ_base["HTTP_HOST"] = "evil.example"  # every request claims another host
    page = submit(client, "/signin", {"identifier": "+380671112233", "password": "Corr3ctHorseBattery"})
    assert page.location == "/"
    page = submit(
        client, "/security/email", {"email": "new@example.com", "current_password": "Corr3ctHorseBattery"}
    )
    assert page.location == "/security"
    work_until(app, lambda s: any(v == "sent" for v in s.values()))
    (mail,) = smtp_server.to("new@example.com")
    body = mail.get_body(("plain",)).get_content()
    assert "evil.example" not in body and "http://127.0.0.1:5000/email/confirm/" in body


def test_smtp_down_then_up_loses_nothing(smtp_server, app):
    smtp_server.stop()
    with app.app_context():
        for i in range(3):
            send("email_test", f"user{i}@example.com", "en")
    with workers_running(app):
        wait_until(lambda: _errors(app), timeout=10)
        smtp_server.start()
        wait_until(lambda: set(message_states(app).values()) == {"sent"}, timeout=20)
    assert sorted(m["To"] for m in smtp_server.messages) == [f"user{i}@example.com" for i in range(3)]


def _errors(app) -> list[str]:
    from idp.delivery.models import Message
    from idp.extensions import db

    with app.app_context():
        return [m.last_error for m in db.session.scalars(db.select(Message)) if m.last_error]


def test_a_refused_recipient_fails_for_good_with_the_reason(smtp_server, app):
    smtp_server.refuse.add("nobody@example.com")
    with app.app_context():
        message_id = send("email_test", "nobody@example.com", "en").id
    work_until(app, lambda s: s[message_id] == "failed")
    assert "refused" in _errors(app)[0]
    assert smtp_server.messages == []


def test_mail_test_command_reports_acceptance(smtp_server, app):
    result = app.test_cli_runner().invoke(args=["mail", "test", "--to", "ops@example.com", "--wait", "10"])
    assert result.exit_code == 0, result.output
    assert "sent" in result.output
    assert len(smtp_server.to("ops@example.com")) == 1
