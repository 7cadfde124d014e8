"""Business ID keeping a running Kamailio in step: what the connectors and cabinets change is what
the registrar enforces on the next REGISTER or INVITE, through the delivery worker's jobs."""

from __future__ import annotations

import re

import pytest

from connectors.iptel import accounts as iptel
from connectors.multifon.store import ProvisioningStore, provision
from idp.connectors.links import account_links
from idp.delivery.models import Message
from idp.delivery.worker import Worker
from idp.extensions import db
from idp.orgs.revocation import revoke_access
from idp.orgs.services import Actor
from idp.profiles.models import Profile
from idp.timeutil import utcnow
from tests.connectors.access import grant
from tests.helpers.pages import CabinetClient, sign_in
from tests.multifon.conftest import link_account
from tests.peers import sip
from tests.peers.fixtures import TcpProxy
from tests.peers.registrar import REALM, uas

SIP_PASSWORD, NEW_PASSWORD = "SipPassw0rd", "Fresh5ipPass"
OUTSIDE = {"caller": "380441234567", "caller_domain": "pstn.example"}


def registrar_settings(settings: dict, registrar, kamailio) -> dict:
    settings["IDP_REGISTRAR_DATABASE_URL"] = registrar.engine.url.render_as_string(hide_password=False)
    settings["IDP_REGISTRAR_RPC"] = f"unix:{kamailio.dir / 'kamailio_rpc.sock'}"
    return settings


@pytest.fixture
def settings(settings, registrar, kamailio):
    return registrar_settings(settings, registrar, kamailio)


def run_jobs(app) -> None:
    """Run the registrar's jobs as the delivery worker does, until none is due (an apply job may
    queue the dropping of registrations)."""
    with app.app_context():
        worker = Worker(app, name="test-registrar")
        while worker.run_once(channels=("job",)):
            pass


def number_of(registrar) -> tuple[str, str]:
    """A number no other test uses: its E.164 form and its SIP login."""
    login = registrar.new_number()
    return "+" + login, login


def test_ip_telephony_registers_after_its_first_password_change_only(app, registrar, kamailio, outbox):
    number, login = number_of(registrar)
    with app.app_context():
        iptel.connect(number, "office@example.com", "en")
    initial = re.search(
        r'letter-spacing:1px">([^<]+)</strong>', outbox.last("office@example.com").html
    ).group(1)
    run_jobs(app)
    assert sip.register(kamailio.address, login, initial, REALM) == 403  # inactive
    with app.app_context():
        iptel.set_password(iptel.find(number), NEW_PASSWORD, how="changed")
    run_jobs(app)
    assert sip.register(kamailio.address, login, NEW_PASSWORD, REALM) == 200
    assert sip.register(kamailio.address, login, initial, REALM) == 403


def test_a_disconnection_refuses_the_password_and_drops_the_binding(app, registrar, kamailio, sipp):
    number, login = number_of(registrar)
    with app.app_context():
        provision(number, SIP_PASSWORD)
    run_jobs(app)
    phone = uas(sipp, "uas_answer")
    assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM, contact_port=phone.port) == 200
    assert kamailio.bindings(login) == [f"sip:{login}@127.0.0.1:{phone.port}"]
    result = app.test_cli_runner().invoke(args=["services", "disconnect", "multifon", number])
    assert result.exit_code == 0, result.output
    run_jobs(app)
    assert kamailio.bindings(login) == []  # at once, not when the registration expires
    assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM) == 403


def test_a_revocation_with_a_new_sip_password_refuses_the_old_one(app, users, registrar, kamailio, outbox):
    number, login = number_of(registrar)
    with app.app_context():
        provision(number, SIP_PASSWORD)
    owner, colleague = users.create(), users.create()
    link_account(app, owner, number, number)
    grant(app, colleague, "multifon", number, number, "user")
    run_jobs(app)
    assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM) == 200
    with app.test_request_context():
        [held] = [row for row in account_links("multifon", number) if row.profile_id == colleague.id]
        revoke_access(Actor.person(db.session.get(Profile, owner.id)), held, "left", replace_password=True)
    new = re.search(r": (\S+)\n", outbox.last(number, "multifon_sip_password_replaced").text).group(1)
    run_jobs(app)
    assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM) == 403
    assert sip.register(kamailio.address, login, new, REALM) == 200


def _cabinet(app, client, users, number: str, base: str) -> CabinetClient:
    profile = users.create()
    if base.endswith("multifon"):
        link_account(app, profile, number, number)
    else:
        _link_iptel(app, profile, number)
    assert sign_in(client, profile.phone).location == "/"
    client.get(f"{base}/")
    return CabinetClient(client, profile, number, base)


def _link_iptel(app, profile, number: str) -> None:
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link

    with app.app_context():
        link(db.session.get(Profile, profile.id), "iptel", VerifiedAccount(number, number))


def _incoming_call(sipp, kamailio, login: str) -> int | None:
    caller = sipp("uac_call", remote=kamailio.address).start(service=login, keys=OUTSIDE, timeout=20)
    caller.wait()
    return caller.final_status()


def test_the_cabinets_routing_applies_to_the_next_call(app, client, users, registrar, kamailio, sipp):
    number, login = number_of(registrar)
    with app.app_context():
        provision(number, SIP_PASSWORD, routing="SIP")
    cabinet = _cabinet(app, client, users, number, "/services/multifon")
    run_jobs(app)
    phone = uas(sipp, "uas_answer")
    assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM, contact_port=phone.port) == 200
    assert _incoming_call(sipp, kamailio, login) == 200
    phone.stop()
    assert len(phone.invites()) == 1
    page = cabinet.post("/routing", {"routing": "GSM"})
    assert page.flashes[-1][0] == "success", page.flashes
    run_jobs(app)
    gsm = uas(sipp, "uas_answer", port=kamailio.gsm_port)
    assert _incoming_call(sipp, kamailio, login) == 200
    gsm.stop()
    assert [uri.split("@")[0] for uri in gsm.invites()] == [f"sip:{login}"]


def test_forwarding_set_in_the_cabinet_forwards_the_next_call(app, client, users, registrar, kamailio, sipp):
    number, login = number_of(registrar)
    with app.app_context():
        iptel.create_active(number, "office@example.com", SIP_PASSWORD, "en")
    cabinet = _cabinet(app, client, users, number, "/services/iptel")
    fields = {"unconditional-number": "+380501112233", "unconditional-enabled": "y"}
    page = cabinet.post("/forwarding/unconditional", fields, page="/forwarding")
    assert page.flashes[-1][0] == "success", (page.status, page.errors)
    run_jobs(app)
    target = uas(sipp, "uas_answer", port=kamailio.pstn_port)
    assert _incoming_call(sipp, kamailio, login) == 200
    target.stop()
    assert [uri.split("@")[0] for uri in target.invites()] == ["sip:380501112233"]


def test_a_registrar_outage_during_a_password_change_loses_nothing(app, registrar, kamailio):
    if registrar.name != "postgresql":
        pytest.skip("a database server's outage: PostgreSQL (SQLite's: tests/registrar/test_sync.py)")
    number, login = number_of(registrar)
    port = registrar.engine.url.port or 5432
    proxy = TcpProxy(port)
    proxy.start()
    try:
        # Business ID reaches the registrar database through the proxy; Kamailio directly.
        app.config["IDP_REGISTRAR_DATABASE_URL"] = registrar.engine.url.set(port=proxy.port).render_as_string(
            hide_password=False
        )
        with app.app_context():
            provision(number, SIP_PASSWORD)
        run_jobs(app)
        assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM) == 200
        proxy.stop()
        with app.app_context():
            ProvisioningStore().set_sip_password(number, NEW_PASSWORD)  # the cabinet's change
        run_jobs(app)
        with app.app_context():
            [job] = db.session.scalars(db.select(Message).where(Message.state == "queued")).all()
            assert job.kind == "registrar.apply" and job.attempts == 1
            db.session.execute(db.update(Message).values(next_attempt_at=utcnow()))
            db.session.commit()
        assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM) == 200  # not yet applied
        proxy.start()
        run_jobs(app)
        assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM) == 403
        assert sip.register(kamailio.address, login, NEW_PASSWORD, REALM) == 200
    finally:
        proxy.close()
