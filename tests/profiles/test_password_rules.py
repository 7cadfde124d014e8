"""Password rules (SPEC, seed 004 §1): 8..128 characters, upper- and lower-case Latin letters and a
digit (configurable, on by default), no common password, each broken rule named; Argon2id hashes
with at least OWASP's parameters."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from argon2.low_level import Type

from tests.helpers.pages import register, submit
from tests.helpers.records import db_rows, find_profile

PHONE = "+380671234567"
LENGTH = "At least 8 characters, at most 128."
UPPER = "At least one capital Latin letter (A–Z)."
LOWER = "At least one lower-case Latin letter (a–z)."
DIGIT = "At least one digit (0–9)."
COMMON = "Not a commonly used password."
# The suite hashes cheaply (tests/conftest.py); these tests ask for the product's own defaults.
OWASP_COST = pytest.mark.idp_settings(IDP_PASSWORD_HASH_MEMORY_KIB=19456, IDP_PASSWORD_HASH_ITERATIONS=2)


@pytest.fixture
def at_password_step(client, outbox):
    register(client, outbox, PHONE, until="password")
    return client


def choose(client, password: str, confirm: str | None = None):
    return submit(
        client,
        "/register/password",
        {"password": password, "confirm": password if confirm is None else confirm},
    )


BROKEN = [
    ("Sh0rtPw", LENGTH),  # 7 characters
    ("Aa1" + "x" * 126, LENGTH),  # 129 characters
    ("lowercase2fox", UPPER),
    ("UPPERCASE2FOX", LOWER),
    ("NoDigitsInHere", DIGIT),
    ("ПАРОЛЬпароль2", f"{UPPER} {LOWER}"),  # Cyrillic letters are not the Latin ones
    ("Password1", COMMON),
    ("Qwerty123", COMMON),
]


def test_each_broken_rule_is_named(app, at_password_step, subtests):
    before = db_rows(app)
    for password, message in BROKEN:
        with subtests.test(password=password[:16]):
            page = choose(at_password_step, password)
            assert page.status == 200
            assert page.errors == [message]
            assert db_rows(app) == before
    assert find_profile(app, PHONE) is None


def test_every_broken_rule_is_listed_together(at_password_step):
    page = choose(at_password_step, "abc")
    assert page.errors == [" ".join([LENGTH, UPPER, DIGIT])]


def test_eight_characters_are_enough(at_password_step):
    assert choose(at_password_step, "Qwxz8rtv").location == "/register/email"


def test_a_hundred_and_twenty_eight_characters_are_allowed(at_password_step):
    assert choose(at_password_step, "Aa1" + "x" * 125).location == "/register/email"


def test_the_two_entries_must_match(at_password_step):
    page = choose(at_password_step, "Corr3ctHorseBattery", "Corr3ctHorseBatterz")
    assert page.errors == ["The passwords do not match."]


@pytest.mark.idp_settings(IDP_PASSWORD_COMPOSITION=False)
def test_the_composition_rule_can_be_turned_off(app, at_password_step):
    assert choose(at_password_step, "justlowercaseletters").location == "/register/email"


@pytest.mark.idp_settings(IDP_PASSWORD_COMPOSITION=False)
@pytest.mark.parametrize(("password", "message"), [("short", LENGTH), ("password", COMMON)])
def test_length_and_blocklist_stay_without_composition(at_password_step, password, message):
    assert choose(at_password_step, password).errors == [message]


@pytest.mark.idp_settings(IDP_PASSWORD_MIN_LENGTH=12)
def test_the_minimum_length_is_configurable(at_password_step):
    assert choose(at_password_step, "Abcdefgh123").errors == ["At least 12 characters, at most 128."]


def _listed_rules(client) -> list[str]:
    import re

    return re.findall(r'data-rule="(\w+)"', client.get("/register/password").get_data(as_text=True))


def test_the_page_lists_the_rules(at_password_step):
    assert _listed_rules(at_password_step) == ["length", "upper", "lower", "digit", "common"]


@pytest.mark.idp_settings(IDP_PASSWORD_COMPOSITION=False)
def test_the_page_lists_only_the_rules_in_force(at_password_step):
    assert _listed_rules(at_password_step) == ["length", "common"]


@OWASP_COST
def test_passwords_are_stored_as_argon2id_with_owasp_parameters(app, client, outbox):
    register(client, outbox, PHONE, password="Corr3ctHorseBattery")
    stored = find_profile(app, PHONE).password_hash
    assert stored.startswith("$argon2id$")
    assert "Corr3ctHorseBattery" not in str(db_rows(app))
    parameters = extract_parameters(stored)
    assert parameters.type is Type.ID
    assert parameters.memory_cost >= 19456
    assert parameters.time_cost >= 2
    assert parameters.parallelism == 1


@OWASP_COST
def test_profiles_made_by_the_service_are_hashed_the_same_way(users):
    parameters = extract_parameters(users.create().password_hash)
    assert (parameters.type, parameters.parallelism) == (Type.ID, 1)
    assert parameters.memory_cost >= 19456 and parameters.time_cost >= 2


def test_a_hash_of_other_parameters_is_redone_at_the_next_sign_in(app, users, client):
    from tests.helpers.pages import sign_in
    from tests.helpers.records import PASSWORD

    profile = users.create()
    with app.app_context():
        app.config["IDP_PASSWORD_HASH_MEMORY_KIB"] = 19456
        app.config["IDP_PASSWORD_HASH_ITERATIONS"] = 2
    sign_in(client, profile.phone, PASSWORD)
    parameters = extract_parameters(find_profile(app, profile.phone).password_hash)
    assert (parameters.memory_cost, parameters.time_cost) == (19456, 2)


def test_production_refuses_a_cost_below_owasp():
    from idp.config import SETTINGS, validate_config

    values = {setting.name: setting.default for setting in SETTINGS}
    values.update(IDP_ENV="production", IDP_PASSWORD_HASH_MEMORY_KIB=4096)
    assert any(problem.startswith("IDP_PASSWORD_HASH_") for problem in validate_config(values))
