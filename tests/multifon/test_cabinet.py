"""The cabinet's cards and details pages, and the two settings changed there (seed 004 §4)."""

from __future__ import annotations

import html
import json
import re

import pytest

from idp.audit.models import AuditEvent
from idp.extensions import db
from tests.multifon.conftest import BASE, LABEL, NUMBER, SECOND, SECOND_LABEL, SIP_PASSWORD, link_account

PAGES = [
    "/cabinet",
    "/balance",
    "/tariff",
    "/caller-id",
    "/routing",
    "/trunk-lines",
    "/statistics",
    "/password/remind",
    "/password/change",
    "/disconnect",
]


def _events(app, name: str) -> list[dict]:
    with app.app_context():
        return [
            json.loads(e.details)
            for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == name))
        ]


@pytest.mark.parametrize("path", PAGES)
def test_strangers_are_sent_to_the_service_login(client, path):
    """The login returns to the page asked for (tests/connectors/test_deep_links.py)."""
    response = client.get(BASE + path)
    assert response.status_code == 302
    expected = f"{BASE}/login" if path == "/cabinet" else f"{BASE}/login?next={BASE}{path}"
    assert response.headers["Location"] == expected


@pytest.mark.parametrize("path", PAGES)
def test_every_page_shows_the_header_menu_and_footer(cabinet, path):
    page = cabinet.get(path)
    assert page.status == 200
    assert f"data-sip-account>{LABEL}<" in page.text
    for item in (
        "Remind password",
        "Change password",
        "Disconnect the service",
        "Sign out",
        "MultiFon Business knowledge base",
        "Configurator",
        "https://multifon.example/knowledge-base",
        'action="/services/multifon/signout"',
    ):
        assert item in page.text, (path, item)
    assert "Switch account" not in page.text  # one linked account only
    assert 'style="' not in page.text and "<script>" not in page.text  # the CSP allows neither


def test_the_cabinet_shows_every_card_of_the_account(cabinet):
    page = cabinet.get()
    assert "-₽748,822.93" in page.text and "Service active" in page.text
    assert 'data-card="tariff"' in page.text and ">Basic<" in page.text
    assert "Not set" in page.text
    assert ">SIP<" in page.text and "Incoming calls go to SIP." in page.text
    assert "2 lines" in page.text
    assert page.text.count('class="svc-chart__bar"') == 30
    for path in ("/balance", "/tariff", "/caller-id", "/routing", "/trunk-lines", "/statistics"):
        assert f'href="{BASE}{path}"' in page.text


@pytest.mark.parametrize(
    ("lang", "negative", "positive", "zero", "status"),
    [
        ("en", "-₽748,822.93", "₽15,240.50", "₽0.00", "Service active"),
        ("uk", "-748\u00a0822,93\u00a0₽", "15\u00a0240,50\u00a0₽", "0,00\u00a0₽", "Послуга активна"),
        ("ru", "-748\u00a0822,93\u00a0₽", "15\u00a0240,50\u00a0₽", "0,00\u00a0₽", "Услуга активна"),
    ],
)
def test_money_is_written_as_the_pages_language_writes_it(
    app, cabinet, lang, negative, positive, zero, status
):
    """The rouble's own sign in every language, the minus where the language puts it (seed 004:
    "- 748 822,93 ₽"), and every place an amount is shown: the card, its details, the home card."""
    from connectors.multifon.store import provision

    cabinet.client.get(f"/lang/{lang}?next=/")
    for balance, written in (("-748822.93", negative), ("15240.50", positive), ("0", zero)):
        with app.app_context():
            provision(NUMBER, SIP_PASSWORD, balance=balance)
        pages = [
            cabinet.get("/balance").text,
            cabinet.get().text,
            cabinet.client.get("/").get_data(as_text=True),
        ]
        for text in map(html.unescape, pages):
            assert written in text, (lang, balance)
            assert "RUB" not in text and f"-{written}" not in text, (lang, balance)
    assert status in cabinet.get("/balance").text


def test_the_details_of_another_account_show_its_option_and_caller_id(app, cabinet):
    link_account(app, cabinet.profile, SECOND, SECOND_LABEL)
    choose = cabinet.client.get(f"{BASE}/choose").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', choose).group(1)
    link_id = re.search(rf'value="(\d+)" data-choose="\{SECOND}"', choose).group(1)
    cabinet.client.post(f"{BASE}/choose", data={"csrf_token": token, "link": link_id})
    assert "Business 500" in cabinet.get("/tariff").text
    assert "+7 (495) 123-45-67" in cabinet.get("/caller-id").text
    assert "₽1,500.00" in cabinet.get("/balance").text
    assert "Switch account" in cabinet.get().text


def test_statistics_list_thirty_days(cabinet):
    page = cabinet.get("/statistics")
    assert page.text.count("<tr><td>") == 30
    assert re.search(r"data-calls-total>\d+ calls in all<", page.text)


@pytest.mark.parametrize("routing", ["GSM", "SIP+GSM", "SIP"])
def test_the_routing_changes_shows_at_once_and_is_audited(app, cabinet, overview, routing):
    page = cabinet.post("/routing", {"routing": routing})
    assert ("success", f"Incoming calls now go to {routing}.") in page.flashes
    assert 'data-card="routing">' in page.text and f">{routing}<" in page.text
    assert overview().routing == routing
    assert _events(app, "multifon.routing_changed")[-1]["routing"] == routing


@pytest.mark.parametrize("routing", ["XYZ", "", "sip"])
def test_an_unknown_routing_is_refused(app, cabinet, overview, routing):
    page = cabinet.post("/routing", {"routing": routing}, follow=False)
    assert page.status == 200 and page.errors == ["Choose GSM, SIP or SIP+GSM."]
    assert overview().routing == "SIP"
    assert _events(app, "multifon.routing_changed") == []


def test_the_trunk_line_limit_changes(app, cabinet, overview):
    page = cabinet.post("/trunk-lines", {"trunk_lines": "5"})
    assert ("success", "The trunk-line limit is now 5.") in page.flashes
    assert "5 lines" in page.text
    assert overview().trunk_lines == 5
    assert _events(app, "multifon.trunk_lines_changed")[-1] == {
        "connector": "multifon",
        "account": NUMBER,
        "lines": 5,
        "previous": 2,
    }


@pytest.mark.parametrize("lines", ["0", "21", "abc", "", "-3", "2.5"])
def test_a_trunk_line_limit_out_of_range_is_refused(app, cabinet, overview, lines):
    page = cabinet.post("/trunk-lines", {"trunk_lines": lines}, follow=False)
    assert page.status == 200
    assert page.errors in (["Enter a whole number from 1 to 20."], ["Fill in this field."])
    assert overview().trunk_lines == 2
    assert _events(app, "multifon.trunk_lines_changed") == []


def test_the_trunk_line_error_is_translated(cabinet):
    cabinet.client.get("/lang/uk?next=/")
    page = cabinet.post("/trunk-lines", {"trunk_lines": "21"}, follow=False)
    assert page.errors and "Enter a whole number" not in page.errors[0]


def test_a_stale_tab_changes_nothing(app, cabinet, overview):
    page = cabinet.post("/routing", {"routing": "GSM"}, account=SECOND)
    assert page.flashes[0][0] == "error" and "another account" in page.flashes[0][1]
    page = cabinet.post("/trunk-lines", {"trunk_lines": "7"}, account=SECOND)
    assert page.flashes[0][0] == "error"
    assert overview().routing == "SIP" and overview().trunk_lines == 2
    assert overview(SECOND).routing == "GSM" and overview(SECOND).trunk_lines == 5


def test_every_cabinet_form_names_its_account(cabinet):
    for path in ("/routing", "/trunk-lines", "/password/remind", "/password/change", "/disconnect"):
        text = cabinet.get(path).text
        # The layout's own forms: the account menu's sign-out and the language switch.
        layout = text.count('action="/signout"') + text.count('class="langs"')
        forms = text.count("<form") - layout
        assert text.count(f'name="service_account" value="{NUMBER}"') == forms, path
        assert text.count('name="csrf_token"') == forms + layout, path


def test_the_profile_home_shows_the_account_card(cabinet):
    home = cabinet.client.get("/").get_data(as_text=True)
    assert 'data-service-card="multifon"' in home
    assert LABEL in home and "-₽748,822.93" in home and "Service active" in home


def test_the_services_claim_tells_the_status(app, cabinet):
    from idp.connectors.links import links_of
    from idp.connectors.registry import get

    with app.app_context():
        [row] = links_of(cabinet.profile.id, "multifon")
        assert get("multifon").claims(row) == {"service": "multifon", "status": "active"}
