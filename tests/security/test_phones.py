"""Phone numbers: read as the people of a country type them, shown as phonenumbers formats them
(nationally, behind the country code), and anything that is not a valid number shown as it was
given, never regrouped (issue 15)."""

from __future__ import annotations

import pytest

from idp.security.phones import display_phone, read_phone
from tests.helpers.pages import register, sign_in


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+79260250741", "+7 (926) 025-07-41"),
        ("+74951234567", "+7 (495) 123-45-67"),
        ("+380441234567", "+380 44 123 4567"),
        ("+380671234567", "+380 67 123 4567"),
        ("+3804499999999", "+3804499999999"),  # one digit too many: not a number, shown as given
        ("+38044", "+38044"),
        ("office", "office"),
    ],
)
def test_a_number_is_shown_as_phonenumbers_formats_it_or_as_given(e164, shown):
    assert display_phone(e164) == shown


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("8 (926) 025-07-41", "RU", "+79260250741"),
        ("89260250741", "RU", "+79260250741"),
        ("9260250741", "RU", "+79260250741"),
        ("+7 926 025-07-41", "UA", "+79260250741"),
        ("79260250741", "UA", "+79260250741"),
        ("8 (926) 025-07-41", "UA", None),  # in Ukraine that is no number
        ("044 123 4567", "UA", "+380441234567"),
        ("044 123 4567", "RU", None),
        ("926 025", "RU", None),
    ],
)
def test_a_number_is_read_as_the_people_of_its_region_type_it(app, typed, region, e164):
    with app.app_context():
        assert read_phone(typed, region) == e164


def test_pages_show_the_number_formatted_however_it_was_typed(app, client, outbox, users):
    page = register(client, outbox, "0671234567", until="code")
    code_page = client.get(page.location).get_data(as_text=True)
    assert "+380 67 123 4567" in code_page and "0671234567" not in code_page
    users.create(phone="+380441234567")
    other = app.test_client()
    assert sign_in(other, "044 123 45 67").location == "/"
    assert "+380 44 123 4567" in other.get("/").get_data(as_text=True)
    assert "+380 44 123 4567" in other.get("/security").get_data(as_text=True)
