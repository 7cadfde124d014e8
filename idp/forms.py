"""Fields and validators shared by every form; every message is localised."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError

from idp.security.passwords import MAX_LENGTH, broken_rules, rule_text
from idp.security.phones import InvalidPhone, normalize_phone

REQUIRED = _l("Fill in this field.")


class PhoneNumber:
    """Accept a valid phone number of any operator and keep it in E.164 in ``field.e164``."""

    def __call__(self, form, field) -> None:
        try:
            field.e164 = normalize_phone(field.data or "")
        except InvalidPhone as exc:
            raise ValidationError(
                _l("Enter a valid phone number with its country code, e.g. +380 44 123 4567.")
            ) from exc


class PasswordPolicy:
    """Reject passwords that break the rules of SPEC.md, naming each broken rule."""

    def __call__(self, form, field) -> None:
        broken = broken_rules(field.data or "")
        if broken:
            raise ValidationError(" ".join(rule_text(rule) for rule in broken))


class PrintableAscii:
    """SIP phones take passwords of printable Latin characters only."""

    def __call__(self, form, field) -> None:
        value = field.data or ""
        if not value.isascii() or not value.isprintable() or " " in value:
            raise ValidationError(_l("Use Latin letters, digits and punctuation, without spaces."))


def phone_field(label=None) -> StringField:
    return StringField(
        label or _l("Phone number"),
        [DataRequired(REQUIRED), Length(max=32), PhoneNumber()],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "placeholder": "+380 44 123 4567"},
    )


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def email_field(label=None) -> StringField:
    """An e-mail address field: required, of a sane length, and well-formed."""
    return StringField(
        label or _l("E-mail"),
        [
            DataRequired(REQUIRED),
            Length(max=254),
            Email(_l("Enter a valid e-mail address, e.g. name@company.com.")),
        ],
        filters=[_stripped],  # a phone's keyboard adds a space after an address it completes
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


def sms_code_field() -> StringField:
    return StringField(
        _l("Code from the SMS"),
        [DataRequired(REQUIRED), Regexp(r"^\s*[0-9]{6}\s*$", message=_l("The code is 6 digits."))],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "maxlength": 6,
            "pattern": "[0-9]*",
        },
    )


def current_password_field(label=None) -> PasswordField:
    """The field asking for the current password again before a change."""
    return PasswordField(
        label or _l("Current password"),
        [DataRequired(REQUIRED), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class NewPasswordForm(FlaskForm):
    """A new password entered twice, checked against the password rules."""

    password = PasswordField(
        _l("New password"),
        [DataRequired(REQUIRED), PasswordPolicy()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        [DataRequired(REQUIRED), EqualTo("password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class CodeForm(FlaskForm):
    """A form with the six-digit code of an SMS."""

    code = sms_code_field()


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""
