"""Forms of registration and of the profile's security settings."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from idp.forms import (
    REQUIRED,
    NewPasswordForm,
    current_password_field,
    email_field,
    phone_field,
    sms_code_field,
)

_NAME = re.compile(r"^[^\W\d_]+(?:[ '’ʼ.\-][^\W\d_]+)*\.?$")


class PersonName:
    """Accept letters of any alphabet, with spaces, hyphens and apostrophes between them."""

    def __call__(self, form, field) -> None:
        if not _NAME.match((field.data or "").strip()):
            raise ValidationError(_l("Use letters only; hyphens, apostrophes and spaces may join them."))


def name_field(label) -> StringField:
    return StringField(
        label,
        [DataRequired(REQUIRED), Length(max=100), PersonName()],
        filters=[lambda value: value.strip() if value else value],
    )


class PhoneForm(FlaskForm):
    phone = phone_field()


class DetailsForm(FlaskForm):
    last_name = name_field(_l("Last name"))
    first_name = name_field(_l("First name"))
    email = email_field()
    accept_offer = BooleanField(
        _l("I accept the terms of the offer"),
        [DataRequired(_l("Accept the terms of the offer to continue."))],
    )


class EmailForm(FlaskForm):
    email = email_field(_l("New e-mail"))


class ChangePasswordForm(NewPasswordForm):
    current_password = current_password_field()


class ChangeEmailForm(FlaskForm):
    email = email_field(_l("New e-mail"))
    current_password = current_password_field()


class ChangePhoneForm(FlaskForm):
    phone = phone_field(_l("New phone number"))
    current_password = current_password_field()


class ConfirmPasswordForm(FlaskForm):
    current_password = current_password_field()


class TotpEnrolForm(FlaskForm):
    code = sms_code_field()
    current_password = current_password_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.code.label.text = _l("Code from the authenticator app")
