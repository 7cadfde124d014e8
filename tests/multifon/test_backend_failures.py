"""A backend that fails or is too slow degrades only the MultiFon panels, never the pages."""

from __future__ import annotations

import pytest

from tests.helpers.pages import submit
from tests.multifon.conftest import BASE, LABEL, NUMBER

UNAVAILABLE = "MultiFon Business is not answering right now"
BACKENDS = [
    pytest.param("tests.multifon.backends:failing", id="raises"),
    pytest.param("tests.multifon.backends:slow", id="too-slow"),
]


@pytest.fixture(params=BACKENDS)
def settings(settings, request):
    settings["IDP_MULTIFON_BACKEND"] = request.param
    settings["IDP_CONNECTOR_TIMEOUT_SECONDS"] = 1
    return settings


def test_the_cabinet_says_the_service_is_unavailable(cabinet):
    page = cabinet.get()
    assert page.status == 200
    assert UNAVAILABLE in page.text and "data-statistics-unavailable" in page.text
    assert f"data-sip-account>{LABEL}<" in page.text  # the header and menu still work
    assert 'data-card="balance"' not in page.text


def test_the_profile_home_still_renders_with_a_degraded_card(cabinet):
    home = cabinet.client.get("/")
    text = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "service-card--degraded" in text and LABEL in text
    assert "The balance and settings of this account are unavailable right now." in text
    assert "Olena Koval" in text  # the profile's own cards are there


def test_a_change_is_refused_with_a_clear_message(cabinet):
    # The form was opened before the backend went down: its token comes from any other form.
    page = submit(
        cabinet.client,
        f"{BASE}/trunk-lines",
        {"service_account": NUMBER, "trunk_lines": "5"},
        page="/security/password",
        follow=True,
    )
    assert (
        "error",
        "MultiFon Business is not answering right now; nothing was changed. Try again in a few minutes.",
    ) in page.flashes
