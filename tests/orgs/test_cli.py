"""``idp orgs``, ``idp staff`` and ``idp access``: the operator's provisioning from the command line."""

from __future__ import annotations

import json

import pytest

from idp.extensions import db
from idp.orgs.models import Membership, OrgAccount, Organisation, StaffMember
from idp.orgs.services import organisation_of
from tests.helpers.pages import is_signed_in, sign_in
from tests.helpers.records import db_rows
from tests.oauth.helpers import AuthorizationRequest, authorize, exchange, introspect, register_client
from tests.orgs import test_services as core
from tests.orgs.test_services import MF1, MF3, MF5, PEOPLE

world = core.world  # the fixture

OWNER_PHONE = "+380671002001"
TABLES = ("organisations", "org_accounts", "org_memberships", "staff_members", "service_links")


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def _orgs(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(o.country, o.number, o.name) for o in db.session.scalars(db.select(Organisation))]


def test_orgs_create_checks_the_number_and_names_the_owner(app, cli, users):
    owner = users.create(phone=OWNER_PHONE)
    result = cli.invoke(
        args=["orgs", "create", "--country", "ua", "--number", "3285 5961", "--name", "TOV Romashka"]
        + ["--owner-phone", "+380 67 100 2001"]
    )
    assert result.exit_code == 0, result.output
    assert "created: TOV Romashka, ЄДРПОУ 32855961 (UA)" in result.output
    assert f"owner: Olena Koval ({OWNER_PHONE})" in result.output
    assert _orgs(app) == [("UA", "32855961", "TOV Romashka")]
    with app.app_context():
        (row,) = db.session.scalars(db.select(Membership))
        assert (row.profile_id, row.role) == (owner.id, "owner")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "UA", "--number", "32855962"], "ЄДРПОУ 32855962 is not valid: check the digits."),
        (["--country", "RU", "--number", "32855961"], "A Russian registration number is an ИНН"),
        (["--country", "PL", "--number", "32855961"], "Invalid value for '--country'"),
        (["--country", "UA", "--number", "32855961", "--owner-phone", "+380679999999"], "no profile with"),
        (["--country", "UA", "--number", "32855961", "--owner-phone", "123"], "is not a valid phone number"),
    ],
)
def test_orgs_create_refuses_bad_input_and_creates_nothing(app, cli, args, message):
    result = cli.invoke(args=["orgs", "create", "--name", "X", *args])
    assert result.exit_code != 0 and message in result.output
    assert _orgs(app) == []


def test_orgs_create_twice_is_refused(app, cli):
    args = ["orgs", "create", "--country", "RU", "--number", "7707083893", "--name", "OOO Vasilek"]
    assert cli.invoke(args=args).exit_code == 0
    again = cli.invoke(args=args)
    assert again.exit_code == 1
    assert "An organisation with ИНН 7707083893 is already registered." in again.output
    assert len(_orgs(app)) == 1


def test_orgs_assign_by_id_or_number_and_refuses_another_organisations_account(app, cli, world):
    result = cli.invoke(args=["orgs", "assign", "multifon", MF5, "--org", "32855961"])
    assert result.exit_code == 0 and f"multifon account {MF5} belongs to TOV Romashka now." in result.output
    before = db_rows(app, TABLES)
    taken = cli.invoke(args=["orgs", "assign", "multifon", MF3, "--org", str(world.org_a)])
    assert taken.exit_code == 1 and "This account belongs to another organisation." in taken.output
    unknown = cli.invoke(args=["orgs", "assign", "fax", MF5, "--org", str(world.org_a)])
    assert unknown.exit_code == 1 and "There is no service fax." in unknown.output
    nobody = cli.invoke(args=["orgs", "assign", "multifon", MF5, "--org", "12345678"])
    assert nobody.exit_code == 1 and "no organisation '12345678'" in nobody.output
    assert db_rows(app, TABLES) == before
    with app.app_context():
        assert (
            organisation_of("multifon", MF5).id == world.org_a
            and organisation_of("multifon", MF3).id == world.org_b
        )


def test_orgs_add_member_with_a_role(app, cli, world):
    result = cli.invoke(
        args=["orgs", "add-member", "7707083893", "--phone", PEOPLE["outsider"][0], "--role", "admin"]
    )
    assert result.exit_code == 0 and "is admin of OOO Vasilek." in result.output
    with app.app_context():
        assert ("b", "outsider", "admin") in world.members()
    bad = cli.invoke(
        args=["orgs", "add-member", "7707083893", "--phone", PEOPLE["outsider"][0], "--role", "god"]
    )
    assert bad.exit_code == 2


def test_orgs_list_and_search(cli, world):
    listing = cli.invoke(args=["orgs", "list"])
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert len(lines) == 2
    assert "UA  32855961" in listing.output and "TOV Romashka" in listing.output
    assert "RU  7707083893" in listing.output and "OOO Vasilek" in listing.output
    by_name = cli.invoke(args=["orgs", "list", "--search", "romash"])
    assert "TOV Romashka" in by_name.output and "Vasilek" not in by_name.output
    by_number = cli.invoke(args=["orgs", "list", "--search", "77 0708 3893"])
    assert "OOO Vasilek" in by_number.output and "Romashka" not in by_number.output
    assert cli.invoke(args=["orgs", "list", "--search", "100%"]).output == ""


def test_orgs_show_lists_people_accounts_and_invitations(app, cli, world):
    from idp.orgs.invitations import SMS, invite

    with app.test_request_context():
        invite(world.actor("admin"), world.org(), SMS, "+380671009999", [("multifon", MF1)], "viewer", "en")
    result = cli.invoke(args=["orgs", "show", str(world.org_a)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("TOV Romashka (UA 32855961, active)")
    assert f"owner   Olena Koval  {PEOPLE['owner'][0]}  {PEOPLE['owner'][1]}" in out
    assert f"admin   Olena Koval  {PEOPLE['admin'][0]}" in out
    assert f"owner #{world.ids['owner']}, user #{world.ids['member']}, viewer #{world.ids['viewer']}" in out
    assert "(nobody)" in out  # MF4
    assert "pending  viewer  +380 67 100 9999" in out
    assert "OOO Vasilek" not in out and PEOPLE["b_owner"][0] not in out
    assert cli.invoke(args=["orgs", "show", "424242"]).exit_code == 1


def test_staff_grant_list_and_revoke(app, cli, users):
    users.create(phone=OWNER_PHONE)
    granted = cli.invoke(args=["staff", "grant", "--phone", OWNER_PHONE, "--role", "manager"])
    assert granted.exit_code == 0 and "has the staff role manager." in granted.output
    assert "must turn on a second factor" in granted.output
    regranted = cli.invoke(args=["staff", "grant", "--phone", OWNER_PHONE, "--role", "security"])
    assert regranted.exit_code == 0
    listing = cli.invoke(args=["staff", "list"])
    assert listing.output.strip() == f"security  Olena Koval  {OWNER_PHONE}"
    with app.app_context():
        assert [(s.role) for s in db.session.scalars(db.select(StaffMember))] == ["security"]
    assert "staff role taken away." in cli.invoke(args=["staff", "revoke", "--phone", OWNER_PHONE]).output
    assert "had no staff role." in cli.invoke(args=["staff", "revoke", "--phone", OWNER_PHONE]).output
    assert cli.invoke(args=["staff", "list"]).output == ""
    bad = cli.invoke(args=["staff", "grant", "--phone", OWNER_PHONE, "--role", "admin"])
    assert bad.exit_code == 2
    nobody = cli.invoke(args=["staff", "grant", "--phone", "+380679999999", "--role", "support"])
    assert nobody.exit_code == 1 and "no profile with the number" in nobody.output


def test_access_revoke_runs_the_cascade_as_the_operator(app, cli, world, outbox):
    rp = register_client(app)
    http = app.test_client()
    sign_in(http, PEOPLE["member"][0])
    request = AuthorizationRequest(rp, scope="openid services")
    tokens = exchange(http, request, authorize(http, request)["code"]).get_json()
    result = cli.invoke(
        args=["access", "revoke", "multifon", MF1, "--phone", PEOPLE["member"][0], "--reason", "Left"]
    )
    assert result.exit_code == 0, result.output
    assert "Access taken away; 1 session(s) ended." in result.output
    assert not is_signed_in(http)
    assert introspect(app.test_client(), rp, tokens["access_token"])["active"] is False
    with app.app_context():
        assert world.link("member", MF1) is None
        (event,) = world.events("access.revoked")
        assert event.actor_profile_id is None and json.loads(event.details)["by"] == "operator"
    assert "+7 (926) 025-07-30" in outbox.last(PEOPLE["member"][1], "access_revoked").text
    again = cli.invoke(
        args=["access", "revoke", "multifon", MF1, "--phone", PEOPLE["member"][0], "--reason", "x"]
    )
    assert again.exit_code == 1 and "has no access to multifon account" in again.output


def test_access_revoke_needs_a_reason(app, cli, world):
    before = db_rows(app, TABLES)
    result = cli.invoke(
        args=["access", "revoke", "multifon", MF1, "--phone", PEOPLE["member"][0], "--reason", " "]
    )
    assert result.exit_code == 1 and "Say why access is taken away" in result.output
    assert db_rows(app, TABLES) == before


def test_the_operator_may_take_an_owners_access(app, cli, world):
    result = cli.invoke(
        args=["access", "revoke", "multifon", MF1, "--phone", PEOPLE["owner"][0], "--reason", "Fraud"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert world.link("owner", MF1) is None
        assert db.session.scalar(db.select(db.func.count()).select_from(OrgAccount)) == 4


def test_a_number_registered_in_both_countries_needs_the_id(app, cli):
    """10 digits that are a РНОКПП in Ukraine and an ИНН in Russia name two customers."""
    both = "1000000080"
    for country in ("UA", "RU"):
        created = cli.invoke(
            args=["orgs", "create", "--country", country, "--number", both, "--name", country]
        )
        assert created.exit_code == 0, created.output
    before = db_rows(app, TABLES)
    ambiguous = cli.invoke(args=["orgs", "assign", "multifon", MF5, "--org", both])
    assert ambiguous.exit_code == 1 and "give its id or registration number" in ambiguous.output
    assert db_rows(app, TABLES) == before
    with app.app_context():
        ru = db.session.scalar(db.select(Organisation.id).where(Organisation.country == "RU"))
    assert cli.invoke(args=["orgs", "assign", "multifon", MF5, "--org", str(ru)]).exit_code == 0
    with app.app_context():
        assert organisation_of("multifon", MF5).country == "RU"
