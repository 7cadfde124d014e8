"""The portal's own login (seed 000): the initial password forces a new one before anything else,
"Forgot password?" by a single-use e-mailed link, uniform answers, and linking to the profile."""

from __future__ import annotations

import pytest
import time_machine

from connectors.iptel.models import ACTIVE, INACTIVE
from idp.extensions import db
from tests.helpers.pages import Page, link_through_sign_in, sign_in, submit, without_csrf_tokens
from tests.helpers.records import find_profile
from tests.iptel.conftest import BASE, EMAIL, NUMBER, PASSWORD

NEW = "MyOwnPassw0rd"


def service_login(client, password: str, login: str = "0442270001") -> Page:
    return submit(client, f"{BASE}/login", {"login": login, "password": password})


def test_initial_password_forces_a_new_one_then_the_account_is_linked(
    app, client, users, outbox, connected, account
):
    assert service_login(client, connected).location == f"{BASE}/activate"
    # Nothing else opens before the change: the cabinet and the linking page send back.
    assert client.get(f"{BASE}/link").headers["Location"] == f"{BASE}/login"
    page = submit(client, f"{BASE}/activate", {"password": connected, "confirm": connected})
    assert page.status == 200 and "not the initial one" in " ".join(page.errors)
    page = submit(client, f"{BASE}/activate", {"password": "short", "confirm": "short"})
    assert page.status == 200 and account().status == INACTIVE
    page = submit(client, f"{BASE}/activate", {"password": NEW, "confirm": NEW})
    assert page.location == f"{BASE}/link"
    assert account().status == ACTIVE
    letter = outbox.last(EMAIL, "iptel_activated")
    assert "44227000" in letter.text and NEW not in letter.text  # the SIP login, not the password
    # Link it by signing in with a business profile; the cabinet then opens without the password.
    profile = users.create()
    link_page = client.get(f"{BASE}/link").get_data(as_text=True)
    assert "+380 44 227 0001" in link_page
    assert link_through_sign_in(client, BASE, profile.phone).location == f"{BASE}/cabinet"
    assert "+380 44 227 0001" in client.get(f"{BASE}/cabinet").get_data(as_text=True)


def test_the_initial_password_is_refused_after_it_was_changed(app, client, connected):
    service_login(client, connected)
    submit(client, f"{BASE}/activate", {"password": NEW, "confirm": NEW})
    other = app.test_client()
    page = service_login(other, connected)
    assert page.status == 200 and page.errors == ["The account or its password is wrong."]
    assert service_login(other, NEW).location == f"{BASE}/link"


def test_activation_expires_and_cannot_be_reached_without_the_initial_password(client, connected):
    assert client.get(f"{BASE}/activate").headers["Location"] == f"{BASE}/login"
    with time_machine.travel(0, tick=False) as traveller:
        traveller.move_to("2026-11-24 10:00:00+00:00")
        service_login(client, connected)
        traveller.move_to("2026-11-24 10:16:00+00:00")
        assert client.get(f"{BASE}/activate").headers["Location"] == f"{BASE}/login"


def test_wrong_and_unknown_logins_get_the_same_answer(client, active):
    wrong = service_login(client, "Wr0ngPassword")
    unknown = service_login(client, PASSWORD, login="+380442279999")
    assert wrong.errors == unknown.errors == ["The account or its password is wrong."]
    assert service_login(client, PASSWORD).location == f"{BASE}/link"


def test_a_login_that_cannot_be_a_number_is_told_so(app, client, active):
    from connectors.iptel.connector import IptelConnector

    for typed in ("office", "044 227", "+380 44 227 000"):
        page = service_login(client, PASSWORD, login=typed)
        assert page.errors == [IptelConnector.login_errors["en"]], typed
    client.get("/lang/uk?next=/")
    assert service_login(client, PASSWORD, login="office").errors == [IptelConnector.login_errors["uk"]]
    # Nothing was counted against the account: its right password still opens it at once.
    assert service_login(client, PASSWORD, login="044 227 0001").location == f"{BASE}/link"


def test_forgot_password_echoes_the_number_as_it_was_typed(client, active):
    for typed, echoed in (
        ("+380 44 999 99 99", "+380 44 999 99 99"),  # unknown: not regrouped as "+380 4499 99999"
        ("  044 227 0001 ", "044 227 0001"),  # known: the same, only the spaces tidied
        ("380449999999", "380449999999"),
    ):
        page = submit(client, f"{BASE}/forgot", {"login": typed}, follow=True)
        assert "data-forgot-sent" in page.text
        assert f"If {echoed} has the service" in page.text, typed
    assert "4499 99999" not in page.text


def test_the_service_login_offers_forgot_password(client):
    page = client.get(f"{BASE}/login").get_data(as_text=True)
    assert f'href="{BASE}/forgot"' in page and "data-forgot-password" in page
    assert "data-forgot-password" not in client.get("/services/multifon/login").get_data(as_text=True)


def test_forgot_password_answers_the_same_for_any_number(client, outbox, active):
    known = submit(client, f"{BASE}/forgot", {"login": "+380 44 227 0001"}, follow=True)
    unknown = submit(client, f"{BASE}/forgot", {"login": "+380 44 227 9999"}, follow=True)

    def strip(text: str) -> str:
        return without_csrf_tokens(text).replace("+380 44 227 0001", "N").replace("+380 44 227 9999", "N")

    assert strip(known.text) == strip(unknown.text) and "data-forgot-sent" in known.text
    assert [m.kind for m in outbox.messages(EMAIL)] == ["iptel_reset_link"]
    invalid = submit(client, f"{BASE}/forgot", {"login": "12"})
    assert invalid.status == 200 and invalid.errors and not outbox.messages(EMAIL)[1:]


def test_a_reset_link_sets_a_new_password_once(app, client, outbox, active, account):
    submit(client, f"{BASE}/forgot", {"login": NUMBER})
    link = outbox.link(EMAIL, "iptel_reset_link")
    page = submit(client, link, {"password": "short", "confirm": "short"})
    assert page.status == 200 and page.errors  # the rules, and the link still works
    page = submit(client, link, {"password": NEW, "confirm": NEW}, follow=True)
    assert ("success", "Your new password is set. Sign in with it.") in page.flashes
    notice = outbox.last(EMAIL, "iptel_password_changed")
    assert "restored" in notice.text and NEW not in notice.text
    assert client.get(link).status_code == 400  # reused
    assert "data-link-invalid" in client.get(link).get_data(as_text=True)
    assert service_login(app.test_client(), PASSWORD).errors
    assert service_login(app.test_client(), NEW).location == f"{BASE}/link"


def test_a_reset_link_expires_and_only_the_newest_works(client, outbox, active, settings):
    with time_machine.travel("2026-11-24 10:00:00+00:00", tick=False) as traveller:
        submit(client, f"{BASE}/forgot", {"login": NUMBER})
        first = outbox.link(EMAIL, "iptel_reset_link")
        submit(client, f"{BASE}/forgot", {"login": NUMBER})
        second = outbox.link(EMAIL, "iptel_reset_link")
        assert client.get(first).status_code == 400  # replaced by the newer letter
        assert client.get(second).status_code == 200
        traveller.move_to("2026-11-24 11:01:00+00:00")  # IDP_IPTEL_RESET_LINK_MINUTES = 60
        assert client.get(second).status_code == 400
        assert client.post(second, data={"password": NEW, "confirm": NEW}).status_code in (400, 302)


def test_reset_letters_are_limited_per_hour(client, outbox, active):
    for _ in range(5):
        submit(client, f"{BASE}/forgot", {"login": NUMBER})
    assert len(outbox.messages(EMAIL)) == 3  # IDP_IPTEL_RESETS_PER_HOUR


def test_a_reset_link_activates_an_account_still_on_its_initial_password(client, outbox, connected, account):
    submit(client, f"{BASE}/forgot", {"login": NUMBER})
    submit(client, outbox.link(EMAIL, "iptel_reset_link"), {"password": NEW, "confirm": NEW})
    assert account().status == ACTIVE
    assert outbox.last(EMAIL).kind == "iptel_activated"


@pytest.mark.parametrize("path", ["/reset/garbage", "/email/confirm/garbage"])
def test_forged_links_do_not_work(client, active, path):
    response = client.get(BASE + path)
    assert response.status_code == 400 and b"data-link-invalid" in response.data


def test_a_signed_in_profile_with_the_account_goes_straight_to_the_cabinet(app, client, users, active):
    from tests.iptel.conftest import link_account

    profile = users.create()
    link_account(app, profile)
    sign_in(client, profile.phone)
    assert service_login(client, PASSWORD).location == f"{BASE}/cabinet"
    assert find_profile(app, profile.phone) is not None


def test_a_password_a_sip_phone_cannot_take_is_refused_at_activation(client, connected, account):
    service_login(client, connected)
    page = submit(client, f"{BASE}/activate", {"password": "Пароль12Abc", "confirm": "Пароль12Abc"})
    assert page.status == 200
    assert "Use Latin letters, digits and punctuation, without spaces." in page.errors
    assert account().status == INACTIVE


def test_forgot_password_does_the_same_work_for_any_number(app, client, active):
    """The page stores one job whatever the number, and leaves the lookup to the worker."""
    from idp.delivery.models import Message

    def stored():
        with app.app_context():
            return [(m.channel, m.kind) for m in db.session.scalars(db.select(Message))]

    submit(client, f"{BASE}/forgot", {"login": "+380 44 227 0001"})
    submit(client, f"{BASE}/forgot", {"login": "+380 44 227 9999"})
    assert stored() == [("job", "iptel_reset_request")] * 2


def test_a_reset_ends_the_links_made_with_an_older_password(app, client, users, outbox, active, account):
    from tests.iptel.conftest import link_account

    intruder = users.create()  # linked the account while it had the old password
    link_account(app, intruder)
    submit(client, f"{BASE}/forgot", {"login": NUMBER})
    submit(client, outbox.link(EMAIL, "iptel_reset_link"), {"password": NEW, "confirm": NEW})
    with app.app_context():
        from idp.connectors.links import account_links

        assert account_links("iptel", NUMBER) == []
    notice = outbox.last(EMAIL, "iptel_links_ended")
    assert "that link has ended" in notice.text
    # The intruder's open cabinet is refused; the owner links the account next and owns it.
    intruder_browser = app.test_client()
    sign_in(intruder_browser, intruder.phone)
    assert intruder_browser.get(f"{BASE}/cabinet").headers["Location"] == f"{BASE}/"
    owner = users.create()
    owner_browser = app.test_client()
    assert service_login(owner_browser, NEW).location == f"{BASE}/link"
    assert link_through_sign_in(owner_browser, BASE, owner.phone).location == f"{BASE}/cabinet"
    with app.app_context():
        from idp.connectors.links import owner_of

        assert owner_of("iptel", NUMBER).profile_id == owner.id
