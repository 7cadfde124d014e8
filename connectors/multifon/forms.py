"""The cabinet's forms; every value is checked on the server and every message is localised."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, ValidationError

from connectors.multifon.backend import ROUTINGS, TRUNK_LINES_MAX, TRUNK_LINES_MIN
from idp.connectors.sdk import (
    REQUIRED,
    NewPasswordForm,
    PasswordPolicy,
    PrintableAscii,
    current_password_field,
)


class RoutingForm(FlaskForm):
    # The template draws one radio button per routing; the server accepts only those values.
    routing = StringField(
        _l("Incoming calls"),
        [DataRequired(_l("Choose GSM, SIP or SIP+GSM.")), AnyOf(ROUTINGS, _l("Choose GSM, SIP or SIP+GSM."))],
    )


class TrunkLinesRange:
    """Accept a whole number of trunk lines within the platform's limits."""

    def __call__(self, form, field) -> None:
        text = (field.data or "").strip()
        if not text.isdigit() or not TRUNK_LINES_MIN <= int(text) <= TRUNK_LINES_MAX:
            raise ValidationError(
                _l("Enter a whole number from %(min)d to %(max)d.", min=TRUNK_LINES_MIN, max=TRUNK_LINES_MAX)
            )
        field.lines = int(text)


class TrunkLinesForm(FlaskForm):
    trunk_lines = StringField(
        _l("Trunk lines"),
        [DataRequired(REQUIRED), TrunkLinesRange()],
        render_kw={"inputmode": "numeric", "type": "number", "min": TRUNK_LINES_MIN, "max": TRUNK_LINES_MAX},
    )


class ConfirmWithPasswordForm(FlaskForm):
    current_password = current_password_field(_l("Password of your business profile"))


class ChangeSipPasswordForm(NewPasswordForm):
    """The new SIP password twice, under the password rules; the profile's password confirms."""

    password = PasswordField(
        _l("New SIP password"),
        [DataRequired(REQUIRED), PasswordPolicy(), PrintableAscii()],
        render_kw={"autocomplete": "new-password"},
    )
    current_password = current_password_field(_l("Password of your business profile"))
