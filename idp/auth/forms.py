"""Forms of sign-in, the second step and password recovery."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from idp.forms import REQUIRED, phone_field
from idp.security.passwords import MAX_LENGTH


class SignInForm(FlaskForm):
    identifier = StringField(
        _l("Phone number or e-mail"),
        [DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        [DataRequired(REQUIRED), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class TotpForm(FlaskForm):
    code = StringField(
        _l("Code from the authenticator app"),
        [DataRequired(REQUIRED), Regexp(r"^\s*[0-9]{3}\s?[0-9]{3}\s*$", message=_l("The code is 6 digits."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        _l("Recovery code"),
        [
            DataRequired(REQUIRED),
            Length(min=10, max=16, message=_l("A recovery code looks like abcde-fghjk.")),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class RecoverPhoneForm(FlaskForm):
    phone = phone_field(_l("Phone number of the profile"))
