"""The portal's forms; every value is checked on the server and every message is localised."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from connectors.iptel.forwarding import DEFAULT_DELAY, DELAYS
from idp.connectors.sdk import (
    REQUIRED,
    NewPasswordForm,
    PasswordPolicy,
    PrintableAscii,
    current_password_field,
    email_field,
    read_phone,
)


class ServiceNumber:
    """Accept the number of a service as it is typed; keep it in E.164 in ``field.e164``."""

    def __call__(self, form, field) -> None:
        field.e164 = read_phone(field.data)
        if field.e164 is None:
            raise ValidationError(
                _l("Enter a valid phone number with its country code, e.g. +380 44 123 4567.")
            )


class NewServicePasswordForm(NewPasswordForm):
    """The new password twice: the portal's and the SIP password, so Latin characters only."""

    password = PasswordField(
        _l("New password"),
        [DataRequired(REQUIRED), PasswordPolicy(), PrintableAscii()],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewServicePasswordForm):
    current_password = current_password_field(_l("Current password of the service"))


class ForgotPasswordForm(FlaskForm):
    login = StringField(
        _l("User name (your phone number)"),
        [DataRequired(REQUIRED), Length(max=32), ServiceNumber()],
        render_kw={"autocomplete": "username", "inputmode": "tel", "placeholder": "+380 44 123 4567"},
    )


class ChangeEmailForm(FlaskForm):
    email = email_field(_l("New e-mail"))
    current_password = current_password_field(_l("Current password of the service"))


class ForwardingForm(FlaskForm):
    """One forwarding condition: its number, whether it is on, and (no answer) the delay."""

    number = StringField(
        _l("Forward to"),
        [Length(max=32)],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "placeholder": "+380 67 123 4567"},
    )
    enabled = BooleanField(_l("On"))
    delay = SelectField(
        _l("Ring for"),
        coerce=int,
        default=DEFAULT_DELAY,
        choices=[SelectChoice(seconds, _l("%(num)s s", num=seconds)) for seconds in DELAYS],
    )
