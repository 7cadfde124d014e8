"""Forms of the operator's staff console: the search, the re-confirmation, the actions (each with
a reason for the audit log and an optional ticket number) and the audit log's filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from idp.forms import REQUIRED, current_password_field
from idp.orgs.revocation import REASON_LIMIT

TICKET_LIMIT = 64
KEEP, END = "keep", "end"


class SearchForm(FlaskForm):
    """The search box (a GET form: it changes nothing, so it carries no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Phone, e-mail, registration number, organisation or account"),
        [Length(max=100)],
        render_kw={"autocomplete": "off", "placeholder": "+380 67 100 0001", "type": "search"},
    )


class ConfirmPasswordForm(FlaskForm):
    current_password = current_password_field(_l("Your password"))


class ActionForm(FlaskForm):
    """What every action asks: why (into the audit log) and the ticket it was asked in, if any."""

    reason = TextAreaField(
        _l("Reason (goes into the audit log)"),
        [DataRequired(REQUIRED), Length(max=REASON_LIMIT)],
        render_kw={"rows": 2, "maxlength": REASON_LIMIT},
    )
    ticket = StringField(
        _l("Ticket number (optional)"),
        [
            Optional(),
            Length(max=TICKET_LIMIT),
            Regexp(r"^[\w#/.:-]+$", message=_l("Use letters, digits and - # / . : only.")),
        ],
        render_kw={"autocomplete": "off", "maxlength": TICKET_LIMIT},
    )

    @property
    def ticket_number(self) -> str | None:
        return (self.ticket.data or "").strip() or None


class RevokeAccessForm(ActionForm):
    replace_password = BooleanField(_l("Also replace the SIP password of this account"))


class RemoveMemberForm(ActionForm):
    replace_password = BooleanField(_l("Also replace the SIP password of the accounts this person could use"))


class ResetSecondFactorForm(ActionForm):
    # The label names the person; the view sets it.
    identity_checked = BooleanField("", [DataRequired(_l("Confirm that you checked the person's identity."))])


class TransferForm(ActionForm):
    new_owner = SelectField(_l("New owner"), validate_choice=False, choices=[])
    old_owner = RadioField(
        _l("The present owner"),
        choices=[
            SelectChoice(KEEP, _l("keeps the access as a user")),
            SelectChoice(END, _l("loses the access")),
        ],
        default=KEEP,
        validate_choice=False,
    )

    def validate_new_owner(self, field) -> None:
        if str(field.data) not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose one of the organisation's people."))

    def validate_old_owner(self, field) -> None:
        if field.data not in (KEEP, END):
            raise ValidationError(_l("Choose one of the options shown."))


EVENT_NAME = r"^[a-z0-9_.]*\*?$"


class AuditFilterForm(FlaskForm):
    """The audit log's filters (a GET form, as the search)."""

    class Meta:
        csrf = False

    profile = StringField(
        _l("Profile (phone or e-mail)"), [Optional(), Length(max=100)], render_kw={"autocomplete": "off"}
    )
    organisation = StringField(
        _l("Organisation (registration number)"),
        [Optional(), Length(max=20)],
        render_kw={"inputmode": "numeric"},
    )
    account = StringField(
        _l("Service account"), [Optional(), Length(max=64)], render_kw={"autocomplete": "off"}
    )
    actor = StringField(
        _l("Who did it (phone or e-mail)"), [Optional(), Length(max=100)], render_kw={"autocomplete": "off"}
    )
    event = StringField(
        _l("Event"),
        [Optional(), Length(max=64), Regexp(EVENT_NAME, message=_l("Choose an event from the list."))],
        render_kw={"list": "audit-events", "autocomplete": "off", "placeholder": "access.*"},
    )
    since = DateField(_l("From"), [Optional()])
    until = DateField(_l("To"), [Optional()])

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end of the period is before its start."))
