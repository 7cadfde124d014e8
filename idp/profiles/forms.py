"""Forms of registration and of the profile's security settings."""

from __future__ import annotations

import re
import unicodedata

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
NAME_MAX_LENGTH = 100  # the columns of Profile.first_name and last_name
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn"}  # control, format (zero-width, bidi), unassigned


class PersonName:
    """Accept letters of any alphabet, with spaces, hyphens and apostrophes between them."""

    def __call__(self, form, field) -> None:
        value = field.data or ""
        if any(unicodedata.category(character) in _INVISIBLE for character in value):
            raise ValidationError(
                _l("The name has invisible or control characters. Type it again without them.")
            )
        if not _NAME.match(value.strip()):
            raise ValidationError(_l("Use letters only; hyphens, apostrophes and spaces may join them."))


def _tidy_name(value):
    """Trim the name and compose its letters (NFC: "й" typed as "и" and a breve is one letter)."""
    return unicodedata.normalize("NFC", value.strip()) if value else value


def name_field(label) -> StringField:
    return StringField(
        label,
        [
            DataRequired(REQUIRED),
            Length(max=NAME_MAX_LENGTH),
            PersonName(),
        ],
        filters=[_tidy_name],
        render_kw={"maxlength": NAME_MAX_LENGTH},
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


class ChangeNameForm(FlaskForm):
    last_name = name_field(_l("Last name"))
    first_name = name_field(_l("First name"))
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
