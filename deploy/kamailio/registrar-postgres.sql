-- The registrar database on PostgreSQL: Business ID writes it, Kamailio may only read it.
-- Run as a superuser:  psql -v kamailio_password="'…'" -v idp_password="'…'" -f registrar-postgres.sql
-- A database of its own: Kamailio's db_postgres cannot choose a schema (no search_path in its URL).
CREATE DATABASE registrar;
\connect registrar
CREATE ROLE idp_registrar LOGIN PASSWORD :idp_password;
CREATE ROLE kamailio LOGIN PASSWORD :kamailio_password;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO idp_registrar;
GRANT USAGE ON SCHEMA public TO kamailio;
-- The table as idp/registrar/schema.py makes it (Business ID also creates it when it is missing).
CREATE TABLE subscriber (
    id SERIAL PRIMARY KEY,
    username VARCHAR(64) NOT NULL DEFAULT '',
    domain VARCHAR(64) NOT NULL DEFAULT '',
    password VARCHAR(64) NOT NULL DEFAULT '',
    ha1 VARCHAR(128) NOT NULL DEFAULT '',
    ha1b VARCHAR(128) NOT NULL DEFAULT '',
    ha1_sha256 VARCHAR(64) NOT NULL DEFAULT '',
    service VARCHAR(32) NOT NULL DEFAULT '',
    account VARCHAR(128) NOT NULL DEFAULT '',
    routing VARCHAR(8) NOT NULL DEFAULT 'SIP',
    trunk_lines INTEGER NOT NULL DEFAULT 0,
    forward_all VARCHAR(32) NOT NULL DEFAULT '',
    forward_busy VARCHAR(32) NOT NULL DEFAULT '',
    forward_no_answer VARCHAR(32) NOT NULL DEFAULT '',
    no_answer_seconds INTEGER NOT NULL DEFAULT 20,
    forward_unreachable VARCHAR(32) NOT NULL DEFAULT '',
    CONSTRAINT subscriber_account_idx UNIQUE (username, domain),
    CONSTRAINT subscriber_service_account_idx UNIQUE (service, account)
);
ALTER TABLE subscriber OWNER TO idp_registrar;
GRANT SELECT ON subscriber TO kamailio;
