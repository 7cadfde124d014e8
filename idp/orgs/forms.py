"""Forms of the organisation pages: every action asks for the person's password again, or for
a code sent by SMS to their phone instead (``code``, once they asked for one).

The choices (accounts, roles, people) are set by the view from what the person may do; a posted
value outside them is refused on its field with a message, never looked up.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from idp.forms import REQUIRED
from idp.i18n import LANGUAGE_NAMES
from idp.orgs.revocation import REASON_LIMIT
from idp.security.passwords import MAX_LENGTH

NOT_OFFERED = _l("Choose one of the options shown.")


class Offered:
    """Refuse a value that is not among the field's choices, with a message of ours."""

    def __init__(self, message=NOT_OFFERED):
        self.message = message

    def __call__(self, form, field) -> None:
        allowed = {str(choice.value) for choice in (field.choices or [])}
        values = field.data if isinstance(field.data, list) else [field.data]
        if any(str(value) not in allowed for value in values):
            raise ValidationError(self.message)


def options(pairs) -> list[SelectChoice]:
    """Choices of a field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def choice_field(cls, label, message=NOT_OFFERED, **kwargs):
    """A radio or select field checked by ``Offered`` instead of WTForms' own message."""
    return cls(label, [DataRequired(REQUIRED), Offered(message)], validate_choice=False, choices=[], **kwargs)


def reason_field() -> TextAreaField:
    return TextAreaField(
        _l("Reason (goes into the audit log)"),
        [DataRequired(REQUIRED), Length(max=REASON_LIMIT)],
        render_kw={"rows": 2, "maxlength": REASON_LIMIT},
    )


def replace_password_field() -> BooleanField:
    return BooleanField(_l("Also replace the SIP password of the accounts this person could use"))


class ConfirmForm(FlaskForm):
    """An action that needs nothing but the confirmation: the password, or the SMS code (which
    of the two is required is the view's to check)."""

    current_password = PasswordField(
        _l("Your password"), [Length(max=MAX_LENGTH)], render_kw={"autocomplete": "current-password"}
    )
    code = StringField(
        _l("Code from the SMS"),
        [Optional(), Regexp(r"^\s*[0-9]{6}\s*$", message=_l("The code is 6 digits."))],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "maxlength": 6,
            "pattern": "[0-9]*",
        },
    )


class InviteForm(ConfirmForm):
    channel = choice_field(RadioField, _l("Send the invitation"), default="sms")
    address = StringField(
        _l("Phone number or e-mail"),
        [DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "off", "placeholder": "+380 44 123 4567 / name@company.com"},
    )
    accounts = SelectMultipleField(
        _l("Accounts"),
        [DataRequired(_l("Choose at least one account.")), Offered(_l("Choose among the accounts shown."))],
        validate_choice=False,
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    role = choice_field(RadioField, _l("Role"), _l("You cannot give this role."))
    language = SelectField(
        _l("Language of the message"),
        [Offered()],
        choices=options(LANGUAGE_NAMES.items()),
        validate_choice=False,
    )


class AccountRoleForm(ConfirmForm):
    role = choice_field(RadioField, _l("New role"), _l("You cannot give this role."))


class RevokeForm(ConfirmForm):
    reason = reason_field()
    replace_password = replace_password_field()


class MemberRoleForm(ConfirmForm):
    role = choice_field(RadioField, _l("Role in the organisation"), _l("You cannot give this role."))


class TransferForm(ConfirmForm):
    new_owner = choice_field(SelectField, _l("New owner"), _l("Choose one of the organisation's people."))
    old_owner = choice_field(RadioField, _l("The present owner"), default="keep")
    reason = reason_field()
