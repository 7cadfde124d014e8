"""A new SIP password when somebody's access is taken away (J8): by SMS to the service number."""

from __future__ import annotations

import json
import re

from connectors.multifon.store import ProvisioningStore
from idp.audit.models import AuditEvent
from idp.connectors.registry import get
from idp.extensions import db
from idp.security.passwords import broken_rules
from tests.connectors.access import events, grant
from tests.multifon.conftest import LABEL, NUMBER, SECOND, SECOND_PASSWORD, SIP_PASSWORD, link_account

KIND = "multifon_sip_password_replaced"


def _replace(app, number: str = NUMBER, **request) -> bool:
    with app.test_request_context(**request):
        return get("multifon").replace_password(number)


def _new_password(outbox, number: str = NUMBER) -> str:
    return re.search(r": (\S+)\n", outbox.last(number, KIND).text).group(1)


def _verifies(app, number: str, password: str) -> bool:
    with app.app_context():
        return ProvisioningStore().verify(number, password)


def test_the_new_password_goes_by_sms_to_the_service_number(app, accounts, outbox):
    assert _replace(app) is True
    sms = outbox.last(NUMBER, KIND)
    assert (
        sms.channel == "sms" and "+7 (926) 025-07-30" in sms.text and "SIP password was replaced" in sms.text
    )
    password = _new_password(outbox)
    with app.app_context():
        assert broken_rules(password) == [] and len(password) >= 12
    assert _verifies(app, NUMBER, password) and not _verifies(app, NUMBER, SIP_PASSWORD)
    assert _verifies(app, SECOND, SECOND_PASSWORD)  # only this account
    [event] = events(app, "multifon.sip_password_replaced")
    assert event == {"connector": "multifon", "account": NUMBER}
    with app.app_context():
        assert all(password not in row.details for row in db.session.scalars(db.select(AuditEvent)))


def test_each_replacement_is_a_new_random_password(app, accounts, outbox):
    assert _replace(app) and _replace(app)
    first, second = (re.search(r": (\S+)\n", m.text).group(1) for m in outbox.messages(NUMBER)[:2])
    assert first != second and _verifies(app, NUMBER, first) and not _verifies(app, NUMBER, second)


def test_the_sms_is_in_the_language_of_the_page_that_asked(app, accounts, outbox):
    assert _replace(app, headers={"Accept-Language": "uk"})
    text = outbox.last(NUMBER, KIND).text
    assert "Новий SIP-пароль:" in text and "МультиФон Бізнес" in text


def test_a_disconnected_or_unknown_account_is_not_replaced(app, accounts, outbox):
    with app.app_context():
        ProvisioningStore().disconnect(NUMBER)
    assert _replace(app) is False
    assert _replace(app, "+79269999999") is False
    assert outbox.messages(NUMBER) == [] and _verifies(app, NUMBER, SIP_PASSWORD)
    assert events(app, "multifon.sip_password_replaced") == []


def test_a_backend_that_fails_replaces_nothing(app, accounts, outbox, caplog):
    from tests.multifon.backends import FailingBackend

    app.extensions["multifon_backend"] = FailingBackend()
    assert _replace(app) is False
    assert outbox.messages(NUMBER) == [] and events(app, "multifon.sip_password_replaced") == []
    assert "could not be replaced" in caplog.text


def test_revoking_a_colleague_with_a_new_password_replaces_it(app, users, accounts, outbox):
    from idp.connectors.links import account_links
    from idp.orgs.revocation import revoke_access
    from idp.orgs.services import Actor
    from idp.profiles.models import Profile

    owner, colleague = users.create(), users.create()
    link_account(app, owner, NUMBER, LABEL)
    grant(app, colleague, "multifon", NUMBER, LABEL, "user")
    with app.test_request_context():
        [held] = [row for row in account_links("multifon", NUMBER) if row.profile_id == colleague.id]
        done = revoke_access(
            Actor.person(db.session.get(Profile, owner.id)), held, "left", replace_password=True
        )
        assert done.passwords_replaced == [LABEL]
        assert [row.profile_id for row in account_links("multifon", NUMBER)] == [owner.id]
    password = _new_password(outbox)
    assert _verifies(app, NUMBER, password) and not _verifies(app, NUMBER, SIP_PASSWORD)
    assert outbox.messages(colleague.phone) == []  # never to the person who lost access
    [revoked] = events(app, "access.revoked")
    assert revoked["replace_password"] is True
    [replaced] = events(app, "access.sip_password_replaced")  # after the revocation's commit
    assert (replaced["connector"], replaced["account"]) == ("multifon", NUMBER)
    assert json.dumps(replaced).find(password) == -1
    assert json.dumps(revoked).find(password) == -1
