"""A softphone and the MultiFon Business cabinet: what is changed in the browser is what the SIP
registrar (Kamailio with the shipped configuration, sipp as the phone, the gateway and the callers)
enforces on the next REGISTER or INVITE, without a restart. The delivery worker's jobs carry each
change; the test runs them as ``idp worker`` would."""

from __future__ import annotations

import pytest

from tests.journeys.conftest import flash_texts, new_page, submit
from tests.journeys.test_multifon_cabinet import (
    CABINET,
    PASSWORD,
    change_sip_password,
    enter_cabinet,
    link_accounts,
    open_details,
    open_menu_item,
)
from tests.peers import sip
from tests.peers.kamailio import wait_for
from tests.peers.registrar import REALM, uas
from tests.registrar.test_product import registrar_settings, run_jobs

SIP_PASSWORD, NEW_SIP_PASSWORD = "SipPassw0rd", "Fresh5ipPass"


@pytest.fixture
def settings(settings, registrar, kamailio):
    return registrar_settings(settings, registrar, kamailio)


def _call(sipp, kamailio, to: str, caller: dict, auth=None, hold_ms: int = 0):
    scenario = "uac_auth_call" if auth else "uac_call"
    return sipp(scenario, remote=kamailio.address).start(
        service=to, hold_ms=hold_ms, auth=auth, keys=caller, timeout=20
    )


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "mobile"), [("ru", False), ("uk", True)], ids=["ru", "uk-mobile"])
def test_the_cabinets_settings_are_what_the_registrar_enforces(
    browser,
    live_server,
    app,
    users,
    registrar,
    kamailio,
    sipp,
    shot,
    text,
    lang,
    mobile,
):
    from connectors.multifon.store import provision

    login = registrar.new_number()
    number = "+" + login
    with app.app_context():
        provision(number, SIP_PASSWORD, routing="SIP", trunk_lines=2)
    run_jobs(app)
    phone = uas(sipp, "uas_answer")
    assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM, contact_port=phone.port) == 200
    assert kamailio.bindings(login) == [f"sip:{login}@127.0.0.1:{phone.port}"]

    profile = users.create(phone="+380671112233", password=PASSWORD, locale=lang)
    link_accounts(app, profile, number)
    page = new_page(browser, lang, mobile=mobile)
    enter_cabinet(page, live_server, profile)

    # The SIP password changed in the cabinet: the phone's registration is dropped at once, the
    # old password is refused from the next REGISTER, the new one registers.
    open_menu_item(page, "/password/change")
    change_sip_password(page, text, lang, NEW_SIP_PASSWORD)
    shot(page, "1-sip-password-changed")
    run_jobs(app)
    assert kamailio.bindings(login) == []
    assert sip.register(kamailio.address, login, SIP_PASSWORD, REALM) == 403
    assert sip.register(kamailio.address, login, NEW_SIP_PASSWORD, REALM, contact_port=phone.port) == 200

    # Incoming calls routed to GSM in the cabinet reach the GSM gateway, not the phone.
    open_details(page, "routing", "/routing")
    page.click("label.svc-choice:has(input[value='GSM'])")
    submit(page)
    page.wait_for_url("**" + CABINET)
    assert text(lang, "Incoming calls now go to %(routing)s.", routing="GSM") in flash_texts(page)
    run_jobs(app)
    gsm = uas(sipp, "uas_answer", port=kamailio.gsm_port)
    outside = {"caller": "380441234567", "caller_domain": "pstn.example"}
    caller = _call(sipp, kamailio, login, outside)
    assert caller.wait() == 0 and caller.final_status() == 200
    gsm.stop()
    phone.stop()
    assert [uri.split("@")[0] for uri in gsm.invites()] == [f"sip:{login}"] and phone.invites() == []

    # One trunk line set in the cabinet: a second simultaneous outgoing call is refused.
    open_details(page, "trunk-lines", "/trunk-lines")
    page.fill("#trunk_lines", "1")
    submit(page)
    page.wait_for_url("**" + CABINET)
    assert text(lang, "The trunk-line limit is now %(lines)d.", lines=1) in flash_texts(page)
    shot(page, "2-trunk-lines-changed")
    run_jobs(app)
    pstn = uas(sipp, "uas_answer", port=kamailio.pstn_port, calls=1)
    ours = {"caller": login, "caller_domain": REALM}
    first = _call(sipp, kamailio, "380441234567", ours, auth=(login, NEW_SIP_PASSWORD), hold_ms=3000)
    wait_for(lambda: pstn.invites(), 10, "the first call up")
    second = _call(sipp, kamailio, "380441234568", ours, auth=(login, NEW_SIP_PASSWORD))
    second.wait()
    assert second.final_status() == 403
    first.wait()
    assert first.final_status() == 200
    page.context.close()
