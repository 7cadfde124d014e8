"""The cabinet of a fax number: where its faxes go."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from idp.connectors.sdk import (
    BackendUnavailable,
    cabinet_view,
    db,
    read_backend,
    write_backend,
)
from idp_fax_connector.accounts import FaxMailbox, mailbox_summary

# The blueprint is named like the connector id; Business ID mounts it under /services/fax.
bp = Blueprint("fax", __name__, template_folder="templates")


class DeliveryForm(FlaskForm):
    email = EmailField(_l("Deliver faxes to"), [DataRequired(), Email(), Length(max=254)])


@bp.route("/cabinet", methods=["GET", "POST"])
@cabinet_view
def cabinet(link):
    """The first page of the cabinet (``/services/fax/cabinet``), for the active fax number."""
    form = DeliveryForm()
    if form.validate_on_submit():

        def change():
            db.session.get(FaxMailbox, link.account).email = form.email.data
            db.session.commit()

        try:
            write_backend(change, "fax.delivery")
        except BackendUnavailable:
            flash(_("The fax service did not save the address. Try again later."), "error")
        else:
            flash(
                _("Faxes to %(number)s now go to %(email)s.", number=link.label, email=form.email.data),
                "success",
            )
            return redirect(url_for("fax.cabinet"))
    try:
        mailbox = read_backend(lambda: mailbox_summary(link.account), "fax.mailbox")
    except BackendUnavailable:
        mailbox = None  # the page still opens; the panel says the service is unavailable
    if mailbox is not None and not form.is_submitted():
        form.email.data = mailbox["email"]
    return render_template(
        "fax/cabinet.html",
        link=link,
        mailbox=mailbox,
        form=form,
        keep_days=current_app.config["IDP_FAX_KEEP_DAYS"],
    )
