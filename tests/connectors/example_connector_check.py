"""Drive Business ID with the example connector installed (run by
tests/connectors/test_example_connector.py).

    PYTHONPATH=<where the package was installed>:<repo root> \\
        python tests/connectors/example_connector_check.py <tmp dir>

It runs in its own process so the connector's table and entry point never reach the test
process. It prints one JSON object: each check and whether it held; the exit status is 1 when one
did not.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

FAX_NUMBER = "+380 44 123 4567"
FAX_ACCOUNT = "380441234567"
FAX_PASSWORD = "Fax-line-secret-7"
PHONE = "+380671000001"


def main(tmp: Path) -> dict:
    import sqlalchemy
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_babel import force_locale, gettext
    from flask_migrate import upgrade

    from idp import create_app
    from idp.connectors import registry
    from idp.connectors.models import ServiceLink
    from idp.extensions import db
    from idp.oauth.claims import service_accounts
    from idp.profiles.models import Profile
    from idp.profiles.services import create_profile
    from tests.conftest import settings_for
    from tests.helpers.pages import link_through_sign_in, submit
    from tests.helpers.records import PASSWORD

    checks: dict[str, bool] = {}
    details: dict[str, object] = {}

    def check(name: str, held: bool, detail: object = None) -> None:
        checks[name] = bool(held)
        if not held and detail is not None:
            details[name] = detail

    app = create_app({**settings_for("sqlite", tmp), "IDP_DEFAULT_LOCALE": "en"})
    with app.app_context():
        connector = registry.get("fax")
        check(
            "discovered",
            connector is not None and type(connector).__module__ == "idp_fax_connector",
            sorted(registry.installed()),
        )
        # Its table comes from its own branch of the one Alembic history.
        upgrade(revision="heads")
        tables = set(sqlalchemy.inspect(db.engine).get_table_names())
        check("migrated", {"fax_mailboxes", "service_links"} <= tables, sorted(tables))
        versions = {
            row[0] for row in db.session.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
        }
        check("own_branch_head", "fax_0001" in versions, sorted(versions))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        fax_diff = [repr(d) for d in diff if "fax_" in repr(d)]
        check("model_matches_migration", fax_diff == [], fax_diff)
        # The operator provisions a number with the connector's own command.
        result = app.test_cli_runner().invoke(
            args=["fax", "add", FAX_NUMBER, "--email", "office@example.com", "--password", FAX_PASSWORD]
        )
        check("provisioned", result.exit_code == 0 and "+380441234567" in result.output, result.output)
        profile_id = create_profile(
            PHONE, "olena@example.com", "Olena", "Koval", PASSWORD, "en", email_verified=True
        ).id

    client = app.test_client()
    # It appears: its login page, with its name and account label.
    text = client.get("/services/fax/login").get_data(as_text=True)
    check("login_page", "Fax to e-mail" in text and "Fax number" in text)
    # It declares no forms of its name: a message that inflects it reads "the service «…»".
    text = client.get("/services/fax/login", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    check("name_without_forms", "облікового запису послуги «Факс на e-mail»" in text)
    wrong = submit(client, "/services/fax/login", {"login": FAX_NUMBER, "password": "wrong"})
    check("wrong_password_refused", "The account or its password is wrong." in wrong.errors, wrong.errors)
    # It links: the account's own credentials, then the profile's sign-in.
    page = submit(client, "/services/fax/login", {"login": "044 123 4567", "password": FAX_PASSWORD})
    check("service_login", page.location == "/services/fax/link", (page.location, page.errors))
    text = client.get("/services/fax/link").get_data(as_text=True)
    check("link_page", "+380 44 123 4567" in text and "/signin?next=" in text)
    page = link_through_sign_in(client, "/services/fax", PHONE, PASSWORD)
    check(
        "linked_redirects_to_cabinet", page.location == "/services/fax/cabinet", (page.location, page.errors)
    )
    with app.app_context():
        rows = [
            (r.profile_id, r.connector, r.account, r.role) for r in db.session.scalars(db.select(ServiceLink))
        ]
    check("service_link_row", rows == [(profile_id, "fax", FAX_ACCOUNT, "owner")], rows)
    # It renders: the cabinet, its form, the home card.
    text = client.get("/services/fax/cabinet").get_data(as_text=True)
    check(
        "cabinet",
        f'data-fax-cabinet="{FAX_ACCOUNT}"' in text
        and "office@example.com" in text
        and "is now linked to your business profile" in text,
    )
    page = submit(
        client,
        "/services/fax/cabinet",
        {"email": "faxes@example.com", "service_account": FAX_ACCOUNT},
        page="/services/fax/cabinet",
    )
    check("setting_saved", page.location == "/services/fax/cabinet", (page.location, page.errors))
    stale = submit(
        client, "/services/fax/cabinet", {"email": "stale@example.com", "service_account": "380441112233"}
    )
    check("stale_tab_refused", stale.location == "/services/fax/cabinet", stale.location)
    text = client.get("/services/fax/cabinet").get_data(as_text=True)
    check(
        "cabinet_shows_setting",
        "faxes@example.com" in text
        and "stale@example.com" not in text
        and "opened for another account" in text,
    )
    text = client.get("/").get_data(as_text=True)
    check(
        "home_card",
        'data-service-card="fax"' in text
        and "Fax +380 44 123 4567" in text
        and "faxes@example.com" in text
        and 'badge--ok">Delivers to e-mail<' in text,
    )
    with app.app_context():
        profile = db.session.get(Profile, profile_id)
        claim = [entry for entry in service_accounts(profile) if entry["connector"] == "fax"]
        details["claim"] = claim
        check(
            "services_claim",
            claim
            == [
                {
                    "connector": "fax",
                    "account": FAX_ACCOUNT,
                    "role": "owner",
                    "organisation": None,
                    "fax_number": "+380441234567",
                }
            ],
            claim,
        )
    # Its own catalogue joined the app's.
    with app.test_request_context(), force_locale("uk"):
        check("translated", gettext("Deliver faxes to") == "Надсилати факси на")
    # The operator disconnects the number: it stays linked and its card says so.
    runner = app.test_cli_runner()
    result = runner.invoke(args=["services", "disconnect", "fax", FAX_NUMBER])
    check("disconnected", result.exit_code == 0, result.output)
    text = client.get("/").get_data(as_text=True)
    check("home_card_disconnected", 'badge--off">Disconnected<' in text)
    # Unlinking ends the link, the claim entry and the cabinet.
    result = runner.invoke(args=["services", "unlink", "fax", FAX_NUMBER])
    check("unlink_command", result.exit_code == 0 and "1 link(s) ended" in result.output, result.output)
    with app.app_context():
        left = db.session.scalar(db.select(sqlalchemy.func.count()).select_from(ServiceLink))
        claim = service_accounts(db.session.get(Profile, profile_id))
    check("unlinked", left == 0 and claim == [], (left, claim))
    response = client.get("/services/fax/cabinet")
    check("cabinet_closed_after_unlink", response.status_code == 302, response.status_code)
    with app.app_context():
        db.engine.dispose()
    return {"ok": all(checks.values()), "checks": checks, "details": details}


if __name__ == "__main__":
    try:
        outcome = main(Path(sys.argv[1]))
    except Exception:  # noqa: BLE001  (report any failure as JSON for the test to show)
        outcome = {"ok": False, "error": traceback.format_exc()}
    print(json.dumps(outcome, ensure_ascii=False, default=str))
    sys.exit(0 if outcome["ok"] else 1)
