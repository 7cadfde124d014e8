"""The MultiFon Business login takes the service number as people in Russia type it, and a login
that cannot be a number is told so, not "wrong password" (issue 15)."""

from __future__ import annotations

import re

import pytest

from idp.audit.models import AuditEvent
from idp.extensions import db
from tests.helpers.pages import Page, submit
from tests.multifon.conftest import LABEL, NUMBER, SIP_PASSWORD

LOGIN = "/services/multifon/login"


def service_login(client, login: str, password: str = SIP_PASSWORD) -> Page:
    return submit(client, LOGIN, {"login": login, "password": password})


def failed_logins(app) -> int:
    with app.app_context():
        query = db.select(db.func.count()).where(AuditEvent.event == "service.signin_failed")
        return db.session.scalar(query)


@pytest.mark.parametrize(
    "typed",
    [
        "8 (926) 025-07-30",
        "89260250730",
        "9260250730",
        "8-926-025-07-30",
        "+7 926 025-07-30",
        "79260250730",
        "+7 (926) 025 07 30",
    ],
)
def test_the_number_in_the_forms_people_in_russia_type_is_the_account(client, accounts, typed):
    page = service_login(client, typed)
    assert page.location == "/services/multifon/link", page.errors
    assert LABEL in client.get(page.location).get_data(as_text=True)


@pytest.mark.idp_settings(IDP_DEFAULT_REGION="UA")
def test_the_service_reads_numbers_as_russian_whatever_the_profiles_region(app, client, accounts):
    assert app.config["IDP_MULTIFON_NUMBER_REGION"] == "RU"
    assert service_login(client, "8 (926) 025-07-30").location == "/services/multifon/link"
    # A profile's own number is still read as Ukrainian: 067 … is a Kyivstar number.
    from idp.auth.services import normalize_identifier

    with app.test_request_context():
        assert normalize_identifier("067 123 4567") == "+380671234567"


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "This is not a MultiFon Business number."),
        ("uk", "Це не номер МультиФон Бізнес."),
        ("ru", "Это не номер МультиФон Бизнес."),
    ],
)
def test_a_login_that_cannot_be_a_number_is_told_so_and_counts_no_failure(app, client, accounts, lang, said):
    client.get(f"/lang/{lang}?next=/")
    for typed in ("office", "926 025", "+7 926", "8 (926) 025-07-3O"):
        page = service_login(client, typed)
        assert page.status == 200 and page.location is None
        assert len(page.errors) == 1 and page.errors[0].startswith(said), (typed, page.errors)
        assert "8 926 025-07-30" in page.errors[0]  # it says what the numbers look like
        assert re.search(r'<input aria-invalid="true"[^>]* name="login"', page.text)  # on the login field
    # Nothing was tried, so nothing was counted: no failure audited, no throttling of the account
    # (three failures would have made the right password wait).
    assert failed_logins(app) == 0
    assert service_login(client, NUMBER).location == "/services/multifon/link"


def test_a_wrong_password_of_a_number_is_still_a_wrong_password(app, client, accounts):
    page = service_login(client, "8 (926) 025-07-30", "WrongPassw0rd")
    assert page.errors == ["The account or its password is wrong."]
    unknown = service_login(client, "8 (926) 025-99-99", "WrongPassw0rd")
    assert unknown.errors == page.errors  # an unknown number answers alike
    assert failed_logins(app) == 2


@pytest.mark.idp_settings(IDP_MULTIFON_NUMBER_REGION="UA")
def test_the_region_is_a_setting(app, client, accounts):
    assert service_login(client, "89260250730").errors[0].startswith("This is not a MultiFon")
    assert service_login(client, "+7 926 025-07-30").location == "/services/multifon/link"


def test_a_region_that_is_none_is_refused():
    from connectors.multifon.settings import SETTINGS
    from idp.config import read_settings

    values, problems = read_settings(SETTINGS, {"IDP_MULTIFON_NUMBER_REGION": "Russia"})
    assert len(problems) == 1 and "IDP_MULTIFON_NUMBER_REGION" in problems[0] and "ISO 3166" in problems[0]
    assert read_settings(SETTINGS, {})[0]["IDP_MULTIFON_NUMBER_REGION"] == "RU"
