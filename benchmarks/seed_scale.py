"""Seed a PostgreSQL database of its own with Business ID at scale, for benchmarks/scale_bench.py.

Not a test. Usage (see benchmarks/README.md):

    .venv/bin/python benchmarks/seed_scale.py            # 1,000,000 profiles, 1,000,000 service
                                                         # links, 5,000,000 audit events
    .venv/bin/python benchmarks/seed_scale.py --small    # a hundredth of each
    .venv/bin/python benchmarks/seed_scale.py --profiles 200000 --links 200000 --events 1000000

The database (default ``idp_scale``) is dropped and created through ``--pg-url``, so the tests'
database is never touched, and migrated with ``idp db upgrade`` (``--revision`` stops earlier, to
compare plans before a migration). Every row is made by the server itself (``INSERT ... SELECT``
over ``generate_series``): the secondary indexes of the big tables are dropped first and built
again afterwards, then ``ANALYZE``. What is made:

- profiles with Ukrainian mobile numbers, e-mail addresses and names; one Argon2id hash of
  ``SEED_PASSWORD`` (the app's default cost) is shared by all, nine in ten have a confirmed address;
- service links: most profiles own one MultiFon account, and one link in ten gives a second
  person the ``user`` role on an account somebody else owns;
- organisations: a few large ones (``--large-orgs`` of ``--large-members`` people, 20 accounts
  each), the rest with 1 to 10 people and up to 3 accounts; each holds its members' accounts;
- audit events, oldest first over a year: sign-ins and other events of profiles, and one in
  three naming an organisation (a third of those one of its accounts), the large ones more often,
  with the refs of what each names (idp.audit.refs).
"""

# ruff: noqa: S603, S608 - it runs the idp command; its SQL is built from integers and its own constants
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

SEED_PASSWORD = "Scale-Bench-2026"  # noqa: S105 - every seeded profile's password (a benchmark database)
BIG_TABLES = ("profiles", "service_links", "org_memberships", "org_accounts", "audit_events")
REFS = "audit_event_refs"  # what each audit event names (idp.audit.refs; migration 0015)
FIRST_NAMES = [
    "Олександр",
    "Андрій",
    "Дмитро",
    "Максим",
    "Іван",
    "Сергій",
    "Юрій",
    "Олег",
    "Тарас",
    "Богдан",
    "Василь",
    "Микола",
    "Петро",
    "Роман",
    "Олена",
    "Ірина",
    "Наталія",
    "Оксана",
    "Тетяна",
    "Юлія",
    "Марія",
    "Анна",
    "Катерина",
    "Світлана",
    "Людмила",
    "Галина",
    "Софія",
    "Дарина",
]
LAST_NAMES = [
    "Шевченко",
    "Коваленко",
    "Бондаренко",
    "Ткаченко",
    "Кравченко",
    "Олійник",
    "Шевчук",
    "Поліщук",
    "Бойко",
    "Мельник",
    "Лисенко",
    "Марченко",
    "Руденко",
    "Савченко",
    "Петренко",
    "Кузьменко",
    "Мороз",
    "Павленко",
    "Левченко",
    "Гончаренко",
    "Козак",
    "Романенко",
    "Клименко",
    "Ковальчук",
    "Павлюк",
    "Мартинюк",
    "Захарченко",
    "Іваненко",
    "Литвиненко",
    "Тимошенко",
    "Гаврилюк",
    "Сидоренко",
]
# FIRST_NAMES in Latin letters, for the addresses.
EMAIL_NAMES = [
    "oleksandr",
    "andrii",
    "dmytro",
    "maksym",
    "ivan",
    "serhii",
    "yurii",
    "oleh",
    "taras",
    "bohdan",
    "vasyl",
    "mykola",
    "petro",
    "roman",
    "olena",
    "iryna",
    "nataliia",
    "oksana",
    "tetiana",
    "yuliia",
    "mariia",
    "anna",
    "kateryna",
    "svitlana",
    "liudmyla",
    "halyna",
    "sofiia",
    "daryna",
]
OPERATORS = ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")
DOMAINS = ("gmail.com", "ukr.net", "i.ua", "meta.ua", "outlook.com", "example.com.ua")
WORDS = [
    "Агро",
    "Буд",
    "Віта",
    "Граніт",
    "Дніпро",
    "Євро",
    "Житло",
    "Злагода",
    "Інтер",
    "Кий",
    "Лан",
    "Мрія",
    "Нива",
    "Обрій",
    "Поділля",
    "Рось",
    "Світоч",
    "Трембіта",
    "Україна",
    "Форт",
    "Хмара",
    "Цукор",
    "Чумак",
    "Шлях",
    "Ясен",
]
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


def say(message: str) -> None:
    print(f"[seed] {message}", file=sys.stderr, flush=True)


def pg_url(url: str, database: str) -> str:
    """``url`` with another database."""
    return urlsplit(url)._replace(path="/" + database).geturl()


def idp(env: dict[str, str], *arguments: str) -> str:
    """Run the ``idp`` command; raise with its output when it fails."""
    done = subprocess.run([str(BIN / "idp"), *arguments], env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"idp {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def sql_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def phone_sql(n: str) -> str:
    """The E.164 number of profile ``n``: +380, an operator code, seven digits."""
    operator = f"({sql_array(OPERATORS)})[1 + {n} % {len(OPERATORS)}]"
    return f"'+380' || {operator} || (2000000 + {n} / {len(OPERATORS)})::text"


def account_sql(n: str) -> str:
    """The MultiFon account (an E.164 number) of account ``n``."""
    return f"'+7926' || lpad({n}::text, 7, '0')"


def label_sql(n: str) -> str:
    """How a MultiFon account is shown: +7 (926) NNN-NN-NN."""
    digits = f"lpad({n}::text, 7, '0')"
    parts = (f"substr({digits}, {start}, {length})" for start, length in ((1, 3), (4, 2), (6, 2)))
    return "'+7 (926) ' || " + " || '-' || ".join(parts)


def password_hash() -> str:
    """One Argon2id hash of SEED_PASSWORD at the app's default (OWASP) cost."""
    from idp.security.passwords import OWASP_ITERATIONS, OWASP_MEMORY_KIB, _hasher_with

    return _hasher_with(OWASP_MEMORY_KIB, OWASP_ITERATIONS).hash(SEED_PASSWORD)


def scale_env(args) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    env.update(
        {
            "IDP_ENV": "development",
            "IDP_SECRET_KEY": "scale-bench-secret-key-0123456789abcdef",
            "IDP_DATA_DIR": str(REPO / "test-artifacts" / "bench" / "scale-data"),
            "IDP_LOG_LEVEL": "WARNING",
            "IDP_DATABASE_URL": pg_url(args.pg_url, args.pg_database),
        }
    )
    Path(env["IDP_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    return env


def fresh_database(args) -> None:
    engine = sqlalchemy.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.pg_database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{args.pg_database}"')
    engine.dispose()


def secondary_indexes(connection) -> list[tuple[str, str]]:
    """(name, definition) of the big tables' indexes that no constraint owns."""
    rows = connection.exec_driver_sql(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        f"AND i.tablename IN {(*BIG_TABLES, REFS)!r} AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
    )
    return [(name, definition) for name, definition in rows]


def statements(args, hashed: str) -> list[tuple[str, str]]:
    """(what, SQL) of every insert, in order."""
    n, links, orgs, events = args.profiles, args.links, args.orgs, args.events
    large, large_size = args.large_orgs, args.large_members
    first, last, domains, words, latin = (
        sql_array(tuple(v)) for v in (FIRST_NAMES, LAST_NAMES, DOMAINS, WORDS, EMAIL_NAMES)
    )
    owned = links - links // 10  # accounts with an owner; the rest of the links share them
    small_base = large * large_size  # profiles of the small organisations start after the large ones
    if n - small_base < orgs * 10 or owned > n * 2:
        raise SystemExit("too few profiles for these organisations and links")
    quoted_hash = hashed.replace("'", "''")
    return [
        (
            f"{n:,} profiles",
            f"""
            INSERT INTO profiles (id, subject, phone, email, email_verified_at, last_name, first_name,
                password_hash, password_changed_at, locale, offer_version, offer_accepted_at,
                sms_2fa_enabled, created_at, updated_at)
            SELECT g, substr(md5(g::text), 1, 24), {phone_sql("g")},
                ({latin})[1 + g % {len(FIRST_NAMES)}] || '.' || g || '@'
                    || ({domains})[1 + g % {len(DOMAINS)}],
                CASE WHEN g % 10 <> 0 THEN now() - interval '300 days' END,
                ({last})[1 + (g / 7) % {len(LAST_NAMES)}], ({first})[1 + g % {len(FIRST_NAMES)}],
                '{quoted_hash}', now() - interval '300 days', CASE WHEN g % 5 = 0 THEN 'ru' ELSE 'uk' END,
                '2025-01', now() - interval '1 year', false,
                now() - interval '1 year' + g * interval '1 second', now()
            FROM generate_series(1, {n}) g
            """,
        ),
        (
            f"{links:,} service links",
            f"""
            INSERT INTO service_links (id, profile_id, connector, account, label, role, created_at)
            SELECT g, 1 + (g - 1) % {n}, 'multifon', {account_sql("g")}, {label_sql("g")}, 'owner',
                now() - interval '200 days'
            FROM generate_series(1, {owned}) g
            UNION ALL
            SELECT g, 1 + (g - 1 + {n} / 2) % {n}, 'multifon', {account_sql(f"(g - {owned})")},
                {label_sql(f"(g - {owned})")}, 'user', now() - interval '100 days'
            FROM generate_series({owned + 1}, {links}) g
            """,
        ),
        (
            f"{orgs:,} organisations",
            f"""
            INSERT INTO organisations (id, country, number_kind, number, name, status, created_at)
            SELECT k, 'UA', 'edrpou', lpad((30000000 + k)::text, 8, '0'),
                'ТОВ "' || ({words})[1 + k % {len(WORDS)}] || ({words})[1 + (k / {len(WORDS)}) % {len(WORDS)}]
                    || ' ' || k || '"',
                'active', now() - interval '1 year'
            FROM generate_series(1, {orgs}) k
            """,
        ),
        (
            "memberships",
            f"""
            INSERT INTO org_memberships (org_id, profile_id, role, created_at)
            SELECT k, (k - 1) * {large_size} + i + 1,
                CASE WHEN i = 0 THEN 'owner' WHEN i < 5 THEN 'admin' ELSE 'member' END, now()
            FROM generate_series(1, {large}) k, generate_series(0, {large_size - 1}) i
            UNION ALL
            SELECT k, {small_base} + (k * 10 + i) % ({n} - {small_base}) + 1,
                CASE WHEN i = 0 THEN 'owner' WHEN i = 1 THEN 'admin' ELSE 'member' END, now()
            FROM generate_series({large + 1}, {orgs}) k, generate_series(0, 9) i
            WHERE i <= k % 10
            """,
        ),
        (
            "organisations' accounts (their members' own accounts)",
            f"""
            INSERT INTO org_accounts (org_id, connector, account, created_at)
            SELECT m.org_id, 'multifon', l.account, now()
            FROM org_memberships m JOIN service_links l ON l.profile_id = m.profile_id AND l.role = 'owner'
            WHERE m.id IN (
                SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY org_id ORDER BY id) AS r,
                    org_id FROM org_memberships) ranked
                WHERE r <= CASE WHEN org_id <= {large} THEN 20 ELSE 3 END)
            ON CONFLICT DO NOTHING
            """,
        ),
        (
            f"{events:,} audit events",
            f"""
            INSERT INTO audit_events (id, created_at, event, profile_id, actor_profile_id, ip, user_agent,
                details)
            SELECT g, now() - ({events} - g) * interval '6 seconds',
                CASE WHEN o IS NULL THEN
                    (ARRAY['signin.succeeded','signin.succeeded','signin.failed','session.ended',
                           'oauth.authorized','password.changed'])[1 + g % 6]
                WHEN g % 9 = 0 THEN 'access.granted' ELSE 'org.member_added' END,
                p, CASE WHEN o IS NULL THEN NULL ELSE p END,
                '10.' || (g % 250) || '.' || (g / 250 % 250) || '.' || (g % 7 + 1), '{USER_AGENT}',
                CASE WHEN o IS NULL THEN '{{}}'
                WHEN g % 9 = 0 THEN '{{"connector": "multifon", "account": "' || a.account || '", "org": '
                    || o || ', "role": "user"}}'
                ELSE '{{"org": ' || o || ', "role": "member"}}' END
            FROM (
                SELECT g, 1 + (g * 7919) % {n} AS p,
                    CASE WHEN g % 3 <> 0 THEN NULL WHEN g % 30 = 0 THEN 1 + (g / 30) % {large}
                         ELSE 1 + (g * 31) % {orgs} END AS o
                FROM generate_series(1::bigint, {events}) g
            ) e
            LEFT JOIN (SELECT DISTINCT ON (org_id) org_id, account FROM org_accounts
                       ORDER BY org_id, id) a ON a.org_id = e.o AND e.g % 9 = 0
            """,
        ),
        (
            "what those events name (their refs)",
            f"""
            INSERT INTO {REFS} (event_id, ref)
            SELECT id, 'org:' || (details::jsonb->>'org') FROM audit_events WHERE details LIKE '%"org": %'
            UNION ALL
            SELECT id, 'account:' || (details::jsonb->>'connector') || ':' || (details::jsonb->>'account')
            FROM audit_events WHERE details LIKE '%"connector": %'
            """,
        ),
    ]


def seed(args) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.monotonic()
    fresh_database(args)
    env = scale_env(args)
    idp(env, "db", "upgrade", args.revision)
    timings["migrate"] = time.monotonic() - started
    engine = sqlalchemy.create_engine(env["IDP_DATABASE_URL"])
    with engine.begin() as connection:
        connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        dropped = secondary_indexes(connection)
        for name, _definition in dropped:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        hashed = password_hash()
        has_refs = connection.exec_driver_sql(f"SELECT to_regclass('{REFS}')").scalar() is not None
        for what, sql in statements(args, hashed):
            if REFS in sql and not has_refs:  # seeded at a revision before migration 0015
                continue
            t0 = time.monotonic()
            connection.connection.cursor().execute(sql)  # no parameters: "%" is SQL's modulo
            timings[what] = time.monotonic() - t0
            say(f"{what}: {timings[what]:.1f} s")
        for table in BIG_TABLES + ("organisations",):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        t0 = time.monotonic()
        for _name, definition in dropped:
            connection.exec_driver_sql(definition)
        timings["indexes"] = time.monotonic() - t0
        say(f"{len(dropped)} secondary indexes built again: {timings['indexes']:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        t0 = time.monotonic()
        connection.exec_driver_sql("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.monotonic() - t0
        counts = {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            for table in BIG_TABLES + ("organisations",) + ((REFS,) if has_refs else ())
        }
        size = connection.exec_driver_sql(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).scalar()
    engine.dispose()
    timings["total"] = time.monotonic() - started
    say(f"rows: {counts}; database size {size}")
    return timings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=1_000_000, help="service links")
    parser.add_argument("--events", type=int, default=5_000_000, help="audit events")
    parser.add_argument("--orgs", type=int, default=20_000, help="organisations")
    parser.add_argument("--large-orgs", type=int, default=5, help="organisations of --large-members people")
    parser.add_argument("--large-members", type=int, default=5_000)
    parser.add_argument("--small", action="store_true", help="a hundredth of every count")
    parser.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="an existing database to connect to while creating --pg-database",
    )
    parser.add_argument("--pg-database", default="idp_scale", help="dropped and created (default idp_scale)")
    parser.add_argument("--revision", default="heads", help="migrate up to this revision (default heads)")
    args = parser.parse_args(argv)
    if args.small:
        for name in ("profiles", "links", "events", "orgs", "large_members"):
            setattr(args, name, max(1, getattr(args, name) // 100))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    timings = seed(args)
    print(f"seeded {args.pg_database} in {timings['total']:.1f} s")
    for what, seconds in timings.items():
        print(f"  {what:55} {seconds:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
