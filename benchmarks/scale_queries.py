"""The SQL that sign-in, userinfo, the staff console's search and the organisation pages issue on a
seeded database (benchmarks/seed_scale.py), each statement with PostgreSQL's plan and timing.

Not a test. Usage:

    .venv/bin/python benchmarks/scale_queries.py [--pg-database idp_scale] [--analyze] [--json FILE]

The real functions behind the pages run in an app context on the seeded database, with every
statement recorded through SQLAlchemy's ``before_cursor_execute`` event; each is then explained
(``EXPLAIN (FORMAT JSON)``, with ``ANALYZE`` and ``BUFFERS`` when asked) and a line per statement
says the page, the milliseconds and the scans of the plan (a "Seq Scan" on a big table is marked).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_scale import BIG_TABLES as SEEDED_TABLES  # noqa: E402
from seed_scale import REFS, REPO, pg_url  # noqa: E402

BIG_TABLES = {*SEEDED_TABLES, REFS}


@contextmanager
def recorded(engine: sqlalchemy.Engine) -> Iterator[list[tuple[str, object]]]:
    """Every (statement, parameters) the engine runs inside the block."""
    seen: list[tuple[str, object]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    sqlalchemy.event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", remember)


def scans(plan: dict) -> Iterator[dict]:
    """Every node of a JSON plan."""
    yield plan
    for child in plan.get("Plans", []):
        yield from scans(child)


def describe(node: dict) -> str:
    kind = node["Node Type"]
    where = node.get("Relation Name") or ""
    index = node.get("Index Name")
    return f"{kind}({where}{'/' + index if index else ''})"


def explain(connection, statement: str, parameters, analyze: bool) -> dict:
    """The plan of one statement, run through the driver with its own parameters."""
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    cursor = connection.connection.cursor()
    cursor.execute(f"EXPLAIN ({options}) {statement}", parameters)
    return cursor.fetchone()[0][0]


def seeded_people(connection) -> dict:
    """Ids and identifiers of seeded rows the pages are called with."""
    first = connection.exec_driver_sql
    owner = first(
        "SELECT m.profile_id, m.org_id FROM org_memberships m WHERE m.org_id = 1 AND m.role = 'owner'"
    ).one()
    someone = first(
        "SELECT id, phone, email FROM profiles WHERE id = (SELECT max(id) / 2 FROM profiles)"
    ).one()
    link = first("SELECT account, label FROM service_links ORDER BY id DESC LIMIT 1").one()
    org_name = first("SELECT name FROM organisations WHERE id = (SELECT max(id) FROM organisations)").scalar()
    small_org, small_owner = first(
        "SELECT org_id, profile_id FROM org_memberships WHERE role = 'owner' ORDER BY org_id DESC LIMIT 1"
    ).one()
    return {
        "owner_id": owner[0],
        "large_org": owner[1],
        "small_org": small_org,
        "small_owner_id": small_owner,
        "profile_id": someone[0],
        "phone": someone[1],
        "email": someone[2],
        "account": link[0],
        "label": link[1],
        "org_word": org_name.split()[-1].strip('"'),
    }


def scenarios(rows: dict) -> dict[str, Callable[[], object]]:
    """The work of each page, by the functions the views call (in an app context)."""
    from idp.auth.services import find_profile, normalize_identifier
    from idp.extensions import db
    from idp.oauth import claims
    from idp.orgs import pages
    from idp.orgs.people import people_page
    from idp.orgs.search import holders_of_each, search
    from idp.orgs.services import accounts_of
    from idp.profiles.models import Profile

    def staff_org(org) -> object:  # as idp.orgs.staff.pages.organisation
        return people_page(org), holders_of_each((row.connector, row.account) for row in accounts_of(org))

    def org_page(org_id: int, owner_id: int) -> Callable[[], object]:
        def page() -> object:
            owner = db.session.get(Profile, owner_id)
            scope = pages.load_scope(org_id, owner)
            return (
                pages.people(scope),
                pages.account_rows(scope),
                pages.invitation_rows(scope),
                pages.events(scope),
            )

        return page

    return {
        "sign-in by phone": lambda: find_profile(normalize_identifier(rows["phone"])),
        "sign-in by e-mail": lambda: find_profile(normalize_identifier(rows["email"].upper())),
        "userinfo": lambda: claims.userinfo(
            db.session.get(Profile, rows["profile_id"]), "openid profile email phone"
        ),
        "staff search: phone": lambda: search(rows["phone"].replace("+380", "0")),
        "staff search: e-mail": lambda: search(rows["email"].upper()),
        "staff search: name": lambda: search(rows["org_word"]),
        "staff search: account": lambda: search(rows["label"]),
        "organisation page (large)": org_page(rows["large_org"], rows["owner_id"]),
        "organisation page (small)": org_page(rows["small_org"], rows["small_owner_id"]),
        "staff organisation (large)": lambda: staff_org(
            db.session.get(pages.Organisation, rows["large_org"])
        ),
    }


def run(args) -> list[dict]:
    os.environ.update(
        {
            "IDP_ENV": "development",
            "IDP_SECRET_KEY": "scale-bench-secret-key-0123456789abcdef",
            "IDP_DATA_DIR": str(REPO / "test-artifacts" / "bench" / "scale-data"),
            "IDP_DATABASE_URL": pg_url(args.pg_url, args.pg_database),
            "IDP_LOG_LEVEL": "WARNING",
        }
    )
    from idp import create_app
    from idp.extensions import db

    app = create_app()
    report = []
    with app.test_request_context("/"), db.engine.connect() as connection:
        rows = seeded_people(connection)
        for name, call in scenarios(rows).items():
            with recorded(db.engine) as seen:
                t0 = time.perf_counter()
                call()
                elapsed = (time.perf_counter() - t0) * 1000
            db.session.rollback()
            unique = list(dict.fromkeys((s, json.dumps(p, default=str, sort_keys=True)) for s, p in seen))
            print(f"\n== {name}: {len(seen)} statements, {elapsed:.1f} ms in all")
            for statement, parameters in unique[: args.limit]:
                plan = explain(connection, statement, json.loads(parameters), args.analyze)
                nodes = [describe(n) for n in scans(plan["Plan"]) if "Relation Name" in n]
                bad = [
                    n
                    for n in scans(plan["Plan"])
                    if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES
                ]
                took = plan.get("Execution Time")
                line = " ".join(statement.split())
                print(
                    f"  {'SEQ ' if bad else '    '}{took if took is not None else '':>8} ms  "
                    f"{', '.join(nodes)}\n      {line[:220]}"
                )
                report.append(
                    {
                        "page": name,
                        "statement": line,
                        "scans": nodes,
                        "ms": took,
                        "seq_scan_on_big_table": bool(bad),
                    }
                )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-database", default="idp_scale")
    parser.add_argument("--analyze", action="store_true", help="EXPLAIN ANALYZE: run each statement")
    parser.add_argument("--limit", type=int, default=12, help="statements explained per page")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    report = run(args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
