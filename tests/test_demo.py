"""A second ``idp demo`` prints what is true now, not what the first one made."""

from __future__ import annotations

from connectors.iptel.accounts import find, set_password
from connectors.iptel.demo import CONNECTED, LINKED
from connectors.iptel.demo import DEMO_PASSWORD as IPTEL_PASSWORD
from connectors.multifon.demo import DEMO_SIP_PASSWORD
from connectors.multifon.store import ProvisioningStore
from idp.demo import DEMO_PASSWORD, DEMO_PHONE
from idp.extensions import db
from idp.profiles.services import find_by_phone
from idp.security.passwords import hash_password


def test_a_first_demo_tells_the_initial_passwords(app):
    output = app.test_cli_runner().invoke(args=["demo"]).output
    assert f"password    {DEMO_PASSWORD}" in output
    assert f"(password {IPTEL_PASSWORD})" in output
    assert "its initial password was e-mailed to demo@business-id.example" in output
    assert f"and SIP password  {DEMO_SIP_PASSWORD}" in output
    assert f"sign in with +380441234568 and password {DEMO_PASSWORD}" in output


def test_a_second_demo_tells_what_changed_since(app):
    cli = app.test_cli_runner()
    cli.invoke(args=["demo"])
    with app.app_context():
        set_password(find(CONNECTED), "Activated9Pass", how="changed")
        set_password(find(LINKED), "Changed9Pass", how="changed")
        ProvisioningStore().set_sip_password("+79260250730", "Changed9Sip")
        ProvisioningStore().set_sip_password("+79260250732", "Changed9Sip")
        find_by_phone(DEMO_PHONE).password_hash = hash_password("Mine9Password")
        db.session.commit()
    output = cli.invoke(args=["demo"]).output
    profile_part = output.split("Organisation")[0]
    assert DEMO_PASSWORD not in profile_part and IPTEL_PASSWORD not in output
    assert DEMO_SIP_PASSWORD not in output
    assert "initial password" not in output
    assert "+380 44 227 0002 was activated with its own password" in output
    assert "its password was changed in the cabinet" in output
    assert "+7 (926) 025-07-30 (SIP password changed), +7 (926) 025-07-31" in output
    assert "its SIP password (it was changed since the demo made it)" in output
    assert "password    the one you set" in output
    assert f"sign in with +380441234568 and password {DEMO_PASSWORD}" in output  # not changed
