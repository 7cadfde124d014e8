"""Registration numbers of business customers (python-stdnum) and one organisation per number."""

from __future__ import annotations

import pytest

from idp.audit.models import AuditEvent
from idp.extensions import db
from idp.orgs.models import Organisation
from idp.orgs.numbers import InvalidNumber, parse
from idp.orgs.services import OrgError, create_organisation, find_organisation

VALID = [
    # country, typed, kind, digits, sole proprietor
    ("UA", "32855961", "edrpou", "32855961", False),
    ("UA", "00032129", "edrpou", "00032129", False),  # leading zeros are digits too
    ("UA", "1759013776", "rntrc", "1759013776", True),
    ("RU", "7707083893", "inn", "7707083893", False),
    ("RU", "500100732259", "inn", "500100732259", True),
    ("RU", "1027700132195", "ogrn", "1027700132195", False),
    ("RU", "304500116000157", "ogrnip", "304500116000157", True),
    # spaces and dashes as people type them, lower-case and padded country codes
    ("ua", " 3285 5961 ", "edrpou", "32855961", False),
    ("UA", "17-5901-3776", "rntrc", "1759013776", True),
    ("ru ", "77 07 08 38 93", "inn", "7707083893", False),
    ("RU", "1-02-77-00-13219-5", "ogrn", "1027700132195", False),
    ("RU", "3045 0011 6000 157", "ogrnip", "304500116000157", True),
]

LABELS = {
    "edrpou": "ЄДРПОУ",
    "rntrc": "РНОКПП",
    "inn": "ИНН",
    "ogrn": "ОГРН",
    "ogrnip": "ОГРНИП",
}


@pytest.mark.parametrize(("country", "typed", "kind", "digits", "sole"), VALID)
def test_valid_numbers_are_read_with_their_kind(app, country, typed, kind, digits, sole):
    with app.test_request_context():
        number = parse(country, typed)
    assert (number.country, number.kind, number.number) == (country.strip().upper(), kind, digits)
    assert number.sole_proprietor is sole
    assert number.label == f"{LABELS[kind]} {digits}"


WRONG_CHECKSUM = [
    ("UA", "32855962"),  # ЄДРПОУ, last digit changed
    ("UA", "1759013770"),  # РНОКПП
    ("RU", "7707083894"),  # ИНН of 10
    ("RU", "500100732250"),  # ИНН of 12
    ("RU", "1027700132196"),  # ОГРН
    ("RU", "304500116000158"),  # ОГРНИП
    ("RU", "104500116000157"),  # 15 digits that are not an ОГРНИП (must begin with 3)
]


@pytest.mark.parametrize(("country", "typed"), WRONG_CHECKSUM)
def test_a_wrong_check_digit_is_refused_and_named(app, country, typed):
    with app.test_request_context(), pytest.raises(InvalidNumber) as refused:
        parse(country, typed)
    assert str(refused.value).endswith(f"{typed} is not valid: check the digits.")


WRONG_SHAPE = [
    ("UA", "", "ЄДРПОУ of 8 digits"),
    ("UA", "1234567", "ЄДРПОУ of 8 digits"),
    ("UA", "123456789", "ЄДРПОУ of 8 digits"),
    ("UA", "3285596I", "ЄДРПОУ of 8 digits"),  # a letter I for a one
    ("UA", "7707083893 12", "ЄДРПОУ of 8 digits"),
    ("UA", "32.85.59.61", "ЄДРПОУ of 8 digits"),
    ("RU", "32855961", "ИНН of 10 or 12 digits"),  # a Ukrainian ЄДРПОУ is no Russian number
    ("RU", "12345678901", "ИНН of 10 or 12 digits"),
    ("RU", "12345678901234", "ИНН of 10 or 12 digits"),
    ("RU", "1234567890123456", "ИНН of 10 or 12 digits"),
]


@pytest.mark.parametrize(("country", "typed", "hint"), WRONG_SHAPE)
def test_a_number_of_no_kind_of_the_country_says_what_is_expected(app, country, typed, hint):
    with app.test_request_context(), pytest.raises(InvalidNumber) as refused:
        parse(country, typed)
    assert hint in str(refused.value)


def test_a_ukrainian_rnokpp_is_no_russian_number(app):
    # 10 digits are an ИНН in Russia, checked with the ИНН's check digit.
    with app.test_request_context():
        assert parse("UA", "1759013701").kind == "rntrc"
        with pytest.raises(InvalidNumber) as refused:
            parse("RU", "1759013701")
    assert "ИНН 1759013701 is not valid" in str(refused.value)


@pytest.mark.parametrize("country", ["", "PL", "UKR", "XX", None])
def test_only_ukraine_and_russia(app, country):
    with app.test_request_context(), pytest.raises(InvalidNumber) as refused:
        parse(country, "32855961")
    assert str(refused.value) == "Choose Ukraine or Russia."


def test_messages_are_in_the_pages_language(app):
    with app.test_request_context(headers={"Accept-Language": "uk"}), pytest.raises(InvalidNumber) as uk:
        parse("UA", "32855962")
    with app.test_request_context(headers={"Accept-Language": "ru"}), pytest.raises(InvalidNumber) as ru:
        parse("XX", "1")
    assert "32855962" in str(uk.value) and "check the digits" not in str(uk.value)
    assert str(ru.value) != "Choose Ukraine or Russia."


def _organisations(app) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        return [
            (o.country, o.number_kind, o.number, o.name)
            for o in db.session.scalars(db.select(Organisation).order_by(Organisation.id))
        ]


def test_create_organisation_stores_the_digits_and_audits(app):
    with app.test_request_context():
        org = create_organisation("ua", "3285-5961", "  TOV   Romashka ")
        assert find_organisation("UA", "32855961").id == org.id
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.event == "org.created"))
        assert event is not None and event.actor_profile_id is None
    assert _organisations(app) == [("UA", "edrpou", "32855961", "TOV Romashka")]


def test_one_organisation_per_country_and_number(app):
    with app.test_request_context():
        create_organisation("UA", "32855961", "TOV Romashka")
        with pytest.raises(OrgError) as refused:
            create_organisation("UA", "32 85 59 61", "Another name")
        assert str(refused.value) == "An organisation with ЄДРПОУ 32855961 is already registered."
    assert _organisations(app) == [("UA", "edrpou", "32855961", "TOV Romashka")]


def test_the_same_digits_in_another_country_are_another_organisation(app):
    # 10 digits valid both as a РНОКПП and as a Russian ИНН are two customers, one per country.
    both = "1000000080"
    assert _valid("UA", both) and _valid("RU", both)
    with app.test_request_context():
        create_organisation("UA", both, "FOP Koval")
        create_organisation("RU", both, "OOO Koval")
    assert [(c, k) for c, k, _, _ in _organisations(app)] == [("UA", "rntrc"), ("RU", "inn")]


def _valid(country: str, digits: str) -> bool:
    from stdnum.ru import inn
    from stdnum.ua import rntrc

    return (rntrc if country == "UA" else inn).is_valid(digits)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_an_organisation_needs_a_name(app, name):
    with app.test_request_context(), pytest.raises(OrgError) as refused:
        create_organisation("UA", "32855961", name)
    assert "name" in str(refused.value)
    assert _organisations(app) == []


def test_an_invalid_number_creates_nothing(app):
    with app.test_request_context(), pytest.raises(InvalidNumber):
        create_organisation("RU", "7707083894", "OOO Vasilek")
    assert _organisations(app) == []
