"""Audit events: recorded with the request's address and device, stored by the caller's commit,
listed newest first, and named in the person's language on the security page."""

from __future__ import annotations

import json

from flask_babel import force_locale

from idp.audit.labels import device_label, event_label
from idp.audit.models import AuditEvent, AuditRef
from idp.audit.refs import naming, newest_naming, org_ref
from idp.audit.services import recent_events, record
from idp.extensions import db
from tests.helpers.pages import sign_in

FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def test_an_event_carries_the_request_s_address_and_device(app, users):
    profile = users.create()
    with app.test_request_context(
        "/", environ_base={"REMOTE_ADDR": "192.0.2.7", "HTTP_USER_AGENT": FIREFOX_ON_LINUX}
    ):
        record("password.changed", profile.id, method="sms")
        db.session.commit()
        event = db.session.scalars(
            db.select(AuditEvent).where(
                AuditEvent.profile_id == profile.id, AuditEvent.event == "password.changed"
            )
        ).one()
        assert (event.ip, event.user_agent) == ("192.0.2.7", FIREFOX_ON_LINUX)
        assert json.loads(event.details) == {"method": "sms"}


def test_an_event_is_stored_only_with_the_caller_s_commit(app, users):
    profile = users.create()
    with app.app_context():
        before = [e.id for e in recent_events(profile.id)]
        record("signin.failed", profile.id)
        db.session.rollback()
        assert [e.id for e in recent_events(profile.id)] == before


def test_recent_events_are_the_profile_s_own_newest_first(app, users):
    mine, other = users.create(), users.create()
    with app.app_context():
        for event in ("signin.succeeded", "password.changed", "signout"):
            record(event, mine.id)
        record("signin.succeeded", other.id)
        db.session.commit()
        newest = ["signout", "password.changed", "signin.succeeded"]
        assert [e.event for e in recent_events(mine.id)][:3] == newest
        assert [e.event for e in recent_events(mine.id, limit=2)] == newest[:2]
        assert all(e.profile_id == mine.id for e in recent_events(mine.id))


def test_events_and_devices_are_named_in_the_person_s_language(app):
    with app.test_request_context():
        with force_locale("uk"):
            assert event_label("password.changed") == "Пароль змінено"
            assert device_label(None) == "Невідомий пристрій"
        with force_locale("en"):
            assert device_label(FIREFOX_ON_LINUX) == "Firefox on Linux"
            assert event_label("no.such.event") == "no.such.event"  # shown as it is, never an error


def test_the_security_page_shows_the_sign_in_event(client, users):
    sign_in(client, users.create().phone)
    assert "Signed in" in client.get("/security").get_data(as_text=True)


def test_an_event_keeps_a_ref_of_each_organisation_and_account_it_names(app, users):
    profile = users.create()
    with app.test_request_context("/"):
        granted = record("access.granted", profile.id, connector="multifon", account="+79260250730", org=7)
        invited = record("org.invited", profile.id, org=7, accounts=["multifon:+79260250730", "iptel:kyiv-1"])
        plain = record("signin.succeeded", profile.id, org="7", accounts="multifon:+1")
        db.session.commit()
        refs = {
            event: sorted(db.session.scalars(db.select(AuditRef.ref).filter_by(event_id=event)))
            for event in (granted, invited, plain)
        }
    assert refs[granted] == ["account:multifon:+79260250730", "org:7"]
    assert refs[invited] == ["account:iptel:kyiv-1", "account:multifon:+79260250730", "org:7"]
    assert refs[plain] == []  # an id as text, a list as text: not what the app writes


def test_the_newest_events_naming_any_of_some_refs_come_newest_first_and_page_back(app, users):
    profile = users.create()
    with app.test_request_context("/"):
        made = [record("org.member_added", profile.id, org=n % 3) for n in range(12)]
        db.session.commit()
        of_0_and_1 = [event_id for n, event_id in reversed(list(enumerate(made))) if n % 3 in (0, 1)]
        assert newest_naming([org_ref(0), org_ref(1), org_ref(0)], 5) == of_0_and_1[:5]
        assert newest_naming([org_ref(0), org_ref(1)], 5, before=of_0_and_1[4]) == of_0_and_1[5:]
        assert newest_naming([], 5) == [] and newest_naming([org_ref(99)], 5) == []
        found = db.session.scalars(
            db.select(AuditEvent.id).where(naming([org_ref(2)])).order_by(AuditEvent.id)
        )
        assert list(found) == [event_id for n, event_id in enumerate(made) if n % 3 == 2]


def test_events_recorded_without_refs_get_them_from_the_backfill_once(app):
    """As an instance of the release before migration 0015 records them during a rollout."""
    with app.app_context():
        old = [
            AuditEvent(event="org.member_added", details=json.dumps({"org": 5, "role": "member"})),
            AuditEvent(
                event="access.granted", details=json.dumps({"connector": "multifon", "account": "+1"})
            ),
            AuditEvent(event="signin.succeeded", details="{}"),
        ]
        db.session.add_all(old)
        db.session.commit()
        assert newest_naming([org_ref(5)], 5) == []
        runner = app.test_cli_runner()
        assert runner.invoke(args=["audit", "backfill-refs"]).output == "added 2 refs\n"
        assert newest_naming([org_ref(5)], 5) == [old[0].id]
        assert newest_naming(["account:multifon:+1"], 5) == [old[1].id]
        assert runner.invoke(args=["audit", "backfill-refs"]).output == "added 0 refs\n"


def test_hundreds_of_refs_are_read_in_one_query(app, users):
    """An organisation of hundreds of accounts (SQLite allows 500 terms in a compound SELECT)."""
    profile = users.create()
    with app.test_request_context("/"):
        named = record("access.granted", profile.id, connector="multifon", account="+79260000450", org=3)
        db.session.commit()
        refs = [org_ref(3), *(f"account:multifon:+7926{n:07d}" for n in range(600))]
        assert newest_naming(refs, 20) == [named]
        assert newest_naming(refs, 20, before=named) == []


def test_the_backfill_inserts_many_refs_in_pieces(app, monkeypatch):
    """Events naming many accounts each: more refs than one INSERT takes at once."""
    from idp.audit import refs

    monkeypatch.setattr(refs, "INSERTED_AT_ONCE", 7)
    with app.app_context():
        many = [f"multifon:+7926{n:07d}" for n in range(12)]
        db.session.add_all(
            AuditEvent(event="org.invited", details=json.dumps({"org": 9, "accounts": many}))
            for _ in range(3)
        )
        db.session.commit()
        assert refs.backfill() == 3 * 13
        assert len(newest_naming(["account:multifon:+79260000011"], 10)) == 3
