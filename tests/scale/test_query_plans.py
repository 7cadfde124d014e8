"""The indexes that keep sign-in, userinfo, the staff console's search and the organisation pages
fast with millions of rows (issue 18), checked on PostgreSQL's plans.

Tens of thousands of rows are made by the server (``generate_series``) and analysed, enough for
the planner to prefer an index where one serves; then each page is asked for through the app, every
SELECT it issues is recorded (``before_cursor_execute``) and explained, with sequential scans
discouraged (``enable_seqscan = off``: what is cheapest at this size is not at millions). No node
of a plan may read a big table whole: no Seq Scan, and no index scan without an index condition (a
walk of the whole primary key, filtering). PostgreSQL only: SQLite has no plans to check.
"""

# ruff: noqa: S608 - the SQL is built from the module's own integers and names
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy

from idp.audit.refs import refs_of
from idp.extensions import db
from idp.oauth import claims
from idp.orgs.models import ORG_OWNER
from idp.profiles.models import Profile
from idp.security.passwords import hash_password
from idp.trigram import OPERATOR_CLASS
from tests.conftest import PG_URL
from tests.helpers.pages import sign_in, submit
from tests.helpers.records import PASSWORD

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="query plans are PostgreSQL's (IDP_TEST_DATABASE_URL)"),
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]

BIG_TABLES = {
    "profiles",
    "service_links",
    "org_memberships",
    "org_accounts",
    "audit_events",
    "audit_event_refs",
}
PROFILES, LINKS, ORGS, EVENTS = 20_000, 20_000, 1_500, 50_000
STAFF_ID, OWNER_ID, ORG_ID = 1, 2_000, 200  # the owner of organisation 200 (one of 1,500)


def phone(n: int) -> str:
    return f"+38067{2_000_000 + n}"


def email(n: int) -> str:
    return f"person.{n}@example.com"


SEED = [
    f"""INSERT INTO profiles (id, subject, phone, email, email_verified_at, last_name, first_name,
        password_hash, password_changed_at, locale, offer_version, offer_accepted_at, sms_2fa_enabled,
        created_at, updated_at)
    SELECT g, substr(md5(g::text), 1, 24), '+38067' || (2000000 + g), 'person.' || g || '@example.com',
        now(), 'Last' || g % 500, 'First' || g % 300, :hash, now(), 'en', '1', now(), g = {STAFF_ID},
        now(), now()
    FROM generate_series(1, {PROFILES}) g""",
    f"""INSERT INTO service_links (id, profile_id, connector, account, label, role, created_at)
    SELECT g, g, 'multifon', '+7926' || lpad(g::text, 7, '0'), '+7 (926) ' || lpad(g::text, 7, '0'),
        'owner', now()
    FROM generate_series(1, {LINKS}) g""",
    f"""INSERT INTO organisations (id, country, number_kind, number, name, status, created_at)
    SELECT k, 'UA', 'edrpou', (30000000 + k)::text, 'Organisation ' || k || ' Co', 'active', now()
    FROM generate_series(1, {ORGS}) k""",
    # Five people in each organisation: profiles 10k..10k+4 of organisation k (k = 200: 2000..2004).
    f"""INSERT INTO org_memberships (org_id, profile_id, role, created_at)
    SELECT k, k * 10 + i, CASE WHEN i = 0 THEN '{ORG_OWNER}' ELSE 'member' END, now()
    FROM generate_series(1, {ORGS}) k, generate_series(0, 4) i""",
    f"""INSERT INTO org_accounts (org_id, connector, account, created_at)
    SELECT k, 'multifon', '+7926' || lpad((k * 10)::text, 7, '0'), now() FROM generate_series(1, {ORGS}) k""",
    # A third of the events name an organisation (one in three of those its account too).
    f"""INSERT INTO audit_events (id, created_at, event, profile_id, actor_profile_id, ip, details)
    SELECT g, now() - ({EVENTS} - g) * interval '1 minute',
        CASE WHEN g % 3 = 0 THEN 'org.member_added' ELSE 'signin.succeeded' END,
        1 + g * 7 % {PROFILES}, CASE WHEN g % 3 = 0 THEN 1 + g % {PROFILES} END, '10.0.0.1',
        CASE WHEN g % 9 = 0 THEN '{{"connector": "multifon", "account": "+7926'
                || lpad((1 + g % {ORGS}) * 10 || '', 7, '0') || '", "org": ' || (1 + g % {ORGS}) || '}}'
             WHEN g % 3 = 0 THEN '{{"org": ' || (1 + g % {ORGS}) || ', "role": "member"}}'
             ELSE '{{}}' END
    FROM generate_series(1, {EVENTS}) g""",
    # What those events name, as record() keeps it (idp.audit.refs).
    f"""INSERT INTO audit_event_refs (event_id, ref)
    SELECT g, 'org:' || (1 + g % {ORGS}) FROM generate_series(3, {EVENTS}, 3) g
    UNION ALL
    SELECT g, 'account:multifon:+7926' || lpad((1 + g % {ORGS}) * 10 || '', 7, '0')
    FROM generate_series(9, {EVENTS}, 9) g""",
]
TRIGRAM_INDEXES = [("ix_organisations_name_trgm", "organisations", "name")]
TABLES = ["profiles", "service_links", "organisations", "org_memberships", "org_accounts", "audit_events"]


def create_missing_trigram_indexes(conn) -> None:
    """The trigram indexes a schema built from the models lacks when pg_trgm is off its search
    path (the tests' schemas), made as migration 0012 makes them: the operator class named with
    the extension's schema (the extension goes into ``public`` of the tests' database if missing)."""
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    schema = conn.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    for name, table, column in TRIGRAM_INDEXES:
        conn.exec_driver_sql(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} "{schema}".{OPERATOR_CLASS})'
        )


@pytest.fixture
def seeded(app):
    """The app's schema with tens of thousands of rows, analysed; profile 1 is a support staff
    member with SMS codes, profile 2000 owns organisation 200."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sqlalchemy.text(SEED[0]), {"hash": hash_password(PASSWORD)})
        for statement in SEED[1:]:
            conn.exec_driver_sql(statement.replace("%", "%%"))
        for table in TABLES:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.exec_driver_sql(
            f"INSERT INTO staff_members (profile_id, role, granted_at) VALUES ({STAFF_ID}, 'support', now())"
        )
        create_missing_trigram_indexes(conn)
        conn.exec_driver_sql("ANALYZE " + ", ".join([*TABLES, "audit_event_refs"]))
    return app


@contextmanager
def recorded(app) -> Iterator[list[tuple[str, object]]]:
    """The SELECTs the app's engine runs inside the block."""
    seen: list[tuple[str, object]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sqlalchemy.event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", remember)


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def whole_reads(app, statements: list[tuple[str, object]]) -> list[str]:
    """Each plan node that reads a big table whole, with its statement."""
    found = []
    with app.app_context(), db.engine.connect() as conn:
        cursor = conn.connection.cursor()
        # At tens of thousands of rows reading a table is often cheaper than any index; at millions
        # it is not. Told to avoid it, the planner still reads a table whole only where no index
        # serves the query.
        cursor.execute("SET enable_seqscan = off")
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0][0]["Plan"]
            for node in nodes(plan):
                table = node.get("Relation Name")
                unbounded = node["Node Type"] == "Seq Scan" or (
                    node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node
                )
                if table in BIG_TABLES and unbounded:
                    found.append(f"{node['Node Type']} on {table}: {' '.join(statement.split())[:300]}")
    return found


def signed_in(app, outbox, profile_id: int):
    client = app.test_client()
    page = sign_in(client, phone(profile_id))
    if page.location == "/signin/verify":
        page = submit(client, "/signin/verify", {"code": outbox.code(phone(profile_id))})
    assert page.status == 302 and page.location != "/signin/verify", page.errors
    return client


def staff_console(app, outbox):
    """The support staff member's browser, signed in and confirmed."""
    client = signed_in(app, outbox, STAFF_ID)
    assert submit(client, "/staff/confirm", {"current_password": PASSWORD}).location == "/staff/confirm/code"
    page = submit(client, "/staff/confirm/code", {"code": outbox.code(phone(STAFF_ID))})
    assert page.location == "/staff", page.errors
    return client


STAFF_SEARCHES = {  # what the staff member types, and what the page then shows
    "067 200 4321": "+380 67 200 4321",
    "PERSON.4321@example.com": "person.4321@example.com",
    "organisation 1234": "Organisation 1234 Co",
    "+7 (926) 0004321": "+7 (926) 000-43-21",
    "+79260004321": "+7 (926) 000-43-21",
}


def test_no_page_reads_a_big_table_whole(seeded, outbox):
    """Sign-in (by phone, by e-mail), userinfo, the staff console's search (phone, e-mail,
    organisation name, account label and id), the organisation page and the console's views of an
    organisation and a profile: every SELECT is served by an index."""
    pages: dict[str, list[tuple[str, object]]] = {}
    with recorded(seeded) as pages["sign-in by phone"]:
        signed_in(seeded, outbox, 4321)
    with recorded(seeded) as pages["sign-in by e-mail"]:
        assert sign_in(seeded.test_client(), email(4322).upper()).location == "/"
    with recorded(seeded) as pages["userinfo"], seeded.test_request_context("/userinfo"):
        info = claims.userinfo(db.session.get(Profile, 4321), "openid profile email phone")
        assert info["phone_number"] == phone(4321)
    staff = staff_console(seeded, outbox)
    for query, shown in STAFF_SEARCHES.items():
        with recorded(seeded) as pages[f"staff search {query!r}"]:
            response = staff.get("/staff", query_string={"q": query})
        assert response.status_code == 200 and shown in response.get_data(as_text=True), query
    with recorded(seeded) as pages["staff: organisation, profile"]:
        assert staff.get(f"/staff/orgs/{ORG_ID}").status_code == 200
        assert staff.get(f"/staff/profiles/{OWNER_ID}").status_code == 200
    owner = signed_in(seeded, outbox, OWNER_ID)
    with recorded(seeded) as pages["organisation page"]:
        response = owner.get(f"/org/{ORG_ID}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Organisation 200 Co" in text and "Last4" in text  # profile 2004
    assert any("audit_event_refs" in statement for statement, _ in pages["organisation page"])
    assert all(pages.values())
    # The seed's details and refs read as the app writes them, so the pages find its events.
    with seeded.app_context():
        details = db.session.scalar(sqlalchemy.text("SELECT details FROM audit_events WHERE id = 9"))
        refs = db.session.scalars(sqlalchemy.text("SELECT ref FROM audit_event_refs WHERE event_id = 9"))
        assert sorted(refs) == sorted(refs_of(json.loads(details)))
    assert details == json.dumps({"connector": "multifon", "account": "+79260000100", "org": 10})
    whole = {name: found for name, seen in pages.items() if (found := whole_reads(seeded, seen))}
    assert whole == {}
