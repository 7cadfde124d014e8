"""``Connector.provisioning``, ``check_provisioning`` and ``provision``: the hook the provisioning
API calls. Each connector's model refuses junk; what passes it is refused in the request's language
or stored exactly as ``idp multifon provision`` / ``idp iptel connect`` store it."""

from __future__ import annotations

import re
import typing

import pytest
from flask_babel import force_locale, gettext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from connectors.iptel.provisioning import ConnectIptel
from connectors.multifon.backend import ROUTINGS, STATUSES
from connectors.multifon.provisioning import ProvisionMultifon
from idp.connectors.registry import get as connector
from idp.connectors.sdk import Connector, ProvisioningRefused

MULTIFON = {
    "number": "+7 926 025-07-30",
    "sip_password": "SipPassw0rd",
    "balance": "-12.50",
    "currency": "RUB",
    "status": "blocked",
    "tariff_option": "Business 500",
    "caller_id": "+7 495 123-45-67",
    "routing": "SIP+GSM",
    "trunk_lines": 4,
}
MULTIFON_OPTIONS = [
    "--number",
    "+7 926 025-07-31",
    "--sip-password",
    "SipPassw0rd",
    "--balance",
    "-12.50",
    "--currency",
    "RUB",
    "--status",
    "blocked",
    "--tariff-option",
    "Business 500",
    "--caller-id",
    "+7 495 123-45-67",
    "--routing",
    "SIP+GSM",
    "--trunk-lines",
    "4",
]
IPTEL = {"number": "+380 44 227 0001", "email": "Office@Example.com", "language": "en"}
NUMBER_MSGID = "This is not a phone number. Give it with the country code, e.g. +7 926 025-07-30."


def _multifon_rows(app) -> dict[str, dict]:
    from connectors.multifon.store import accounts

    columns = ("balance_minor", "currency", "status", "tariff_option", "caller_id", "routing", "trunk_lines")
    with app.app_context():
        return {row.number: {name: getattr(row, name) for name in columns} for row in accounts()}


def _iptel_rows(app) -> dict[str, dict]:
    from connectors.iptel.accounts import accounts

    columns = ("email", "language", "forwarding_allowed", "status", "activated_at")
    with app.app_context():
        return {row.number: {name: getattr(row, name) for name in columns} for row in accounts()}


def _provision(app, connector_id: str, data: dict) -> str:
    with app.test_request_context():
        hook = connector(connector_id)
        return hook.provision(hook.provisioning.model_validate(data))


def test_each_built_in_connector_offers_its_model(app):
    with app.app_context():
        assert connector("multifon").provisioning is ProvisionMultifon
        assert connector("iptel").provisioning is ConnectIptel
    assert typing.get_args(ProvisionMultifon.model_fields["status"].annotation) == STATUSES
    assert typing.get_args(ProvisionMultifon.model_fields["routing"].annotation) == ROUTINGS


@pytest.mark.parametrize("model", [ProvisionMultifon, ConnectIptel])
def test_the_schema_is_closed_and_every_field_is_described(model):
    schema = model.model_json_schema()
    assert schema["additionalProperties"] is False
    assert [name for name, field in schema["properties"].items() if not field.get("description")] == []
    strings = [field for field in schema["properties"].values() if field.get("type") == "string"]
    assert strings and all({"maxLength", "pattern", "enum"} & set(field) for field in strings)


def test_the_sip_password_is_write_only_and_never_shown():
    field = ProvisionMultifon.model_json_schema()["properties"]["sip_password"]
    assert field["writeOnly"] is True and field["format"] == "password"
    values = ProvisionMultifon.model_validate(MULTIFON)
    assert "SipPassw0rd" not in repr(values) + values.model_dump_json() + str(values.model_dump())
    with pytest.raises(ValidationError) as refused:
        ProvisionMultifon.model_validate({**MULTIFON, "sip_password": " SipPassw0rd"})
    assert "SipPassw0rd" not in str(refused.value)


@pytest.mark.parametrize(
    "junk",
    [
        {"unknown": "x"},
        {"number": ""},
        {"number": "7" * 33},
        {"sip_password": ""},
        {"sip_password": " padded"},
        {"sip_password": "x" * 129},
        {"sip_password": 12345678},
        {"balance": "lots"},
        {"balance": "1.005"},
        {"balance": 12.5},
        {"currency": "rub"},
        {"status": "deleted"},
        {"tariff_option": ""},
        {"tariff_option": "x" * 101},
        {"routing": "VOIP"},
        {"trunk_lines": 0},
        {"trunk_lines": 21},
        {"trunk_lines": "4"},
        {"trunk_lines": True},
    ],
)
def test_the_multifon_model_refuses_junk(junk):
    with pytest.raises(ValidationError):
        ProvisionMultifon.model_validate({**MULTIFON, **junk})


@pytest.mark.parametrize(
    "junk",
    [
        {"unknown": "x"},
        {"number": ""},
        {"email": "x" * 255},
        {"language": "de"},
        {"forwarding_allowed": "yes"},
        {"forwarding_allowed": 1},
        {"email": None},
    ],
)
def test_the_iptel_model_refuses_junk(junk):
    with pytest.raises(ValidationError):
        ConnectIptel.model_validate({**IPTEL, **junk})


def test_multifon_provision_stores_what_the_command_stores(app):
    from connectors.multifon.store import ProvisioningStore

    result = app.test_cli_runner().invoke(args=["multifon", "provision", *MULTIFON_OPTIONS])
    assert result.exit_code == 0, result.output
    assert _provision(app, "multifon", MULTIFON) == "+79260250730"
    rows = _multifon_rows(app)
    assert rows["+79260250730"] == rows["+79260250731"]
    assert rows["+79260250730"]["balance_minor"] == -1250
    with app.app_context():
        assert ProvisioningStore().verify("+79260250730", "SipPassw0rd")


def test_multifon_provision_updates_the_account_with_this_number(app):
    from connectors.multifon.store import ProvisioningStore

    _provision(app, "multifon", MULTIFON)
    key = _provision(
        app, "multifon", {"number": "89260250730", "sip_password": "N3wSipPass", "trunk_lines": 9}
    )
    assert key == "+79260250730"
    rows = _multifon_rows(app)
    assert list(rows) == ["+79260250730"]
    assert (
        rows[key]["trunk_lines"] == 9 and rows[key]["status"] == "active" and rows[key]["caller_id"] is None
    )
    with app.app_context():
        assert ProvisioningStore().verify(key, "N3wSipPass")
        assert not ProvisioningStore().verify(key, "SipPassw0rd")


def test_iptel_provision_connects_as_the_command_does(app, outbox):
    options = ["--number", "+380 44 227 0002", "--email", "office@example.com", "--language", "en"]
    result = app.test_cli_runner().invoke(args=["iptel", "connect", *options, "--no-forwarding"])
    assert result.exit_code == 0, result.output
    key = _provision(app, "iptel", {**IPTEL, "forwarding_allowed": False})
    assert key == "+380442270001"
    rows = _iptel_rows(app)
    assert rows["+380442270001"] == rows["+380442270002"]
    assert rows[key]["email"] == "office@example.com" and rows[key]["status"] == "inactive"
    letters = [
        entry for entry in outbox.messages("office@example.com") if entry.kind == "iptel_initial_password"
    ]
    assert len(letters) == 2


def test_check_provisioning_stores_and_sends_nothing(app, outbox):
    with app.test_request_context():
        multifon, iptel = connector("multifon"), connector("iptel")
        assert multifon.check_provisioning(ProvisionMultifon.model_validate(MULTIFON)) == "+79260250730"
        assert iptel.check_provisioning(ConnectIptel.model_validate(IPTEL)) == "+380442270001"
    assert _multifon_rows(app) == {} and _iptel_rows(app) == {}
    assert outbox.messages() == []


MULTIFON_REFUSALS = [
    ({"number": "12345"}, "number", NUMBER_MSGID),
    ({"caller_id": "abc"}, "caller_id", NUMBER_MSGID),
    ({"currency": "XYZ"}, "currency", "This is not an ISO 4217 currency code."),
    (
        {"sip_password": "Sip\x07Passw0rd"},
        "sip_password",
        "The SIP password may hold printable characters only, with no spaces around it.",
    ),
]
IPTEL_REFUSALS = [
    (
        {"number": "12345"},
        "number",
        "This is not a phone number. Give it with the country code, e.g. +380 44 123 4567.",
    ),
    ({"email": "not an address"}, "email", "This is not an e-mail address."),
]


@pytest.mark.parametrize("locale", ["uk", "ru", "en"])
@pytest.mark.parametrize(
    ("connector_id", "change", "field", "msgid"),
    [("multifon", *case) for case in MULTIFON_REFUSALS] + [("iptel", *case) for case in IPTEL_REFUSALS],
)
def test_a_refusal_names_the_field_in_the_request_language(
    app, outbox, connector_id, change, field, msgid, locale
):
    base = MULTIFON if connector_id == "multifon" else IPTEL
    with app.test_request_context(), force_locale(locale):
        hook = connector(connector_id)
        values = hook.provisioning.model_validate({**base, **change})
        for attempt in (hook.check_provisioning, hook.provision):
            with pytest.raises(ProvisioningRefused) as refused:
                attempt(values)
            assert refused.value.field == field
            assert refused.value.message == str(refused.value) == gettext(msgid)
    assert _multifon_rows(app) == {} and _iptel_rows(app) == {} and outbox.messages() == []


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("uk", "Це не номер телефону. Вкажіть його з кодом країни, напр. +7 926 025-07-30."),
        ("ru", "Это не номер телефона. Укажите его с кодом страны, напр. +7 926 025-07-30."),
    ],
)
def test_a_refusal_is_translated(app, locale, expected):
    with app.test_request_context(), force_locale(locale), pytest.raises(ProvisioningRefused) as refused:
        connector("multifon").check_provisioning(
            ProvisionMultifon.model_validate({**MULTIFON, "number": "1"})
        )
    assert refused.value.message == expected


def test_an_iptel_number_already_connected_is_refused(app, outbox):
    _provision(app, "iptel", IPTEL)
    with app.test_request_context(), force_locale("en"), pytest.raises(ProvisioningRefused) as refused:
        connector("iptel").provision(ConnectIptel.model_validate({**IPTEL, "email": "other@example.com"}))
    assert refused.value.field == "number" and "Forgot password?" in refused.value.message
    assert _iptel_rows(app)["+380442270001"]["email"] == "office@example.com"
    assert len(outbox.messages()) == 1


def test_a_disconnected_iptel_number_is_connected_afresh(app, outbox):
    from connectors.iptel.accounts import disconnect

    _provision(app, "iptel", IPTEL)
    with app.app_context():
        disconnect("+380442270001")
    assert _provision(app, "iptel", {**IPTEL, "email": "new@example.com"}) == "+380442270001"
    assert _iptel_rows(app)["+380442270001"]["email"] == "new@example.com"


def test_values_of_another_model_are_a_programming_error(app):
    with app.test_request_context(), pytest.raises(TypeError):
        connector("multifon").provision(ConnectIptel.model_validate(IPTEL))


class Nothing(BaseModel):
    pass


def test_a_connector_without_provisioning_says_so():
    class Plain(Connector):
        id = "plain"

        def verify_credentials(self, login, password):
            return None

        def disconnect(self, account):
            raise LookupError(account)

    plain = Plain()
    assert plain.provisioning is None
    for attempt in (plain.check_provisioning, plain.provision):
        with pytest.raises(NotImplementedError, match="'plain' cannot be provisioned by machine"):
            attempt(Nothing())


JSONISH = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=40)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    connector_id=st.sampled_from(["multifon", "iptel"]),
    junk=st.dictionaries(
        st.sampled_from([*ProvisionMultifon.model_fields, *ConnectIptel.model_fields, "x"]), JSONISH
    ),
)
def test_junk_is_refused_by_the_model_or_the_hook_and_never_crashes(app, connector_id, junk):
    with app.test_request_context(), force_locale("en"):
        hook = connector(connector_id)
        base = MULTIFON if connector_id == "multifon" else IPTEL
        try:
            values = hook.provisioning.model_validate({**base, **junk})
        except ValidationError:
            return
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}|refused: .+", _outcome(hook, values))


def _outcome(hook: Connector, values: BaseModel) -> str:
    """The account key that ``check_provisioning`` gives, or "refused: " and why."""
    try:
        return hook.check_provisioning(values)
    except ProvisioningRefused as refused:
        return f"refused: {refused.message}"
