"""IP telephony keeps e-mail addresses in the one form of every address in Business ID (trimmed,
lower case throughout), and a migration brings the addresses stored before into it (issue 15)."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask_migrate import upgrade

from idp import create_app
from idp.extensions import db
from tests.conftest import _drop_schema, _recreate_schema, postgres_url, settings_for
from tests.iptel.conftest import EMAIL, NUMBER, PASSWORD

MIXED = "  Office.Manager@Example.COM "
LOWER = "office.manager@example.com"


def test_a_connection_keeps_the_address_in_lower_case(app, outbox, account):
    from connectors.iptel.accounts import connect

    with app.app_context():
        connect(NUMBER, MIXED, "en")
    assert account().email == LOWER
    letter = outbox.last("OFFICE.manager@example.com", "iptel_initial_password")  # any case finds it
    assert letter.recipient == LOWER


def test_a_new_address_in_mixed_case_is_the_same_address(app, cabinet, outbox, account):
    page = cabinet.post("/email", {"email": EMAIL.upper(), "current_password": PASSWORD})
    assert page.errors == ["This is already the e-mail address of the account."]
    page = cabinet.post("/email", {"email": MIXED, "current_password": PASSWORD}, follow=False)
    assert page.location == "/services/iptel/cabinet", page.errors
    letter = outbox.last(LOWER, "iptel_email_confirm")
    assert letter.recipient == LOWER
    link = outbox.link(LOWER, "iptel_email_confirm")
    cabinet.post(link.removeprefix("/services/iptel"), {}, follow=True)
    assert account().email == LOWER


def test_the_cli_connects_a_mixed_case_address_in_lower_case(app, outbox, account):
    result = app.test_cli_runner().invoke(
        args=[
            "iptel",
            "connect",
            "--number",
            "044 227 0001",
            "--email",
            "Office@Example.com",
            "--language",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    assert account().email == "office@example.com"


def _migrated_database(backend, tmp_path):
    settings = settings_for(backend, tmp_path)
    schema = f"idp_iptel_case_{os.getpid()}"
    if backend == "postgresql":
        _recreate_schema(schema)
        settings["IDP_DATABASE_URL"] = postgres_url(schema)
    return create_app(settings), schema


def test_the_migration_lower_cases_the_addresses_stored_before(backend, tmp_path):
    app, schema = _migrated_database(backend, tmp_path)
    now = "2026-01-05 10:00:00"
    with app.app_context():
        upgrade(revision="iptel_0001")
        with db.engine.begin() as conn:
            for row_id, number, email in (
                (1, "+380442270001", "Office.Manager@Example.COM"),
                (2, "+380442270002", "office.manager@example.com"),  # the same address, twice
                (3, "+380442270003", "plain@example.com"),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO iptel_accounts (id, number, email, language, password_sealed, "
                        "status, forwarding_allowed, created_at, updated_at) VALUES (:id, :number, "
                        ":email, 'en', 'x', 'active', true, :now, :now)"
                    ),
                    {"id": row_id, "number": number, "email": email, "now": now},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO iptel_links (id, account_id, purpose, email, created_at) "
                    "VALUES ('link-1', 1, 'email', 'New.Box@Example.com', :now)"
                ),
                {"now": now},
            )
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            emails = conn.execute(sa.text("SELECT email FROM iptel_accounts ORDER BY id")).scalars().all()
            link = conn.execute(sa.text("SELECT email FROM iptel_links")).scalar_one()
        db.engine.dispose()
    if backend == "postgresql":
        _drop_schema(schema)
    assert emails == [LOWER, LOWER, "plain@example.com"]
    assert link == "new.box@example.com"
