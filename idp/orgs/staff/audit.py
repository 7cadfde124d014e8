"""The audit log in the console: /staff/audit (filtered, paged) and /staff/audit.csv (exported)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _

from idp.audit.labels import EVENT_LABELS
from idp.orgs import audit_log
from idp.orgs.search import account_candidates, find_profile
from idp.orgs.services import resolve_organisation
from idp.orgs.staff.blueprint import bp
from idp.orgs.staff.guard import staff_view
from idp.orgs.staff.present import other_details
from idp.orgs.staff_forms import AuditFilterForm
from idp.timeutil import utcnow

FILTER_FIELDS = ("profile", "organisation", "account", "actor", "event", "since", "until")


def _utc(day: date) -> datetime:
    """The start of ``day`` in the product's time zone, as naive UTC."""
    local = datetime.combine(day, time(), ZoneInfo(current_app.config["IDP_TIMEZONE"]))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _filters(form: AuditFilterForm) -> audit_log.Filters | None:
    """The filters the form names; None (with the reason on its field) when one names nobody."""
    filters = audit_log.Filters(event=(form.event.data or "").strip())
    for field, attribute in ((form.profile, "profile_id"), (form.actor, "actor_id")):
        if field.data and field.data.strip():
            found = find_profile(field.data)
            if found is None:
                field.errors.append(_("There is no profile with this phone number or e-mail."))
                return None
            setattr(filters, attribute, found.id)
    if form.organisation.data and form.organisation.data.strip():
        filters.org = resolve_organisation(form.organisation.data)
        if filters.org is None:
            form.organisation.errors.append(_("There is no organisation with this registration number."))
            return None
    if form.account.data and form.account.data.strip():
        filters.accounts = account_candidates(form.account.data)
    filters.since = _utc(form.since.data) if form.since.data else None
    filters.until = _utc(form.until.data + timedelta(days=1)) if form.until.data else None
    return filters


def _read_form() -> tuple[AuditFilterForm, audit_log.Filters | None]:
    form = AuditFilterForm(request.args)
    valid = form.validate()
    return form, (_filters(form) if valid else None)


@bp.get("/audit")
@staff_view()
def audit():
    """The log, newest first, 50 events a page."""
    form, filters = _read_form()
    before = request.args.get("before", type=int)
    entries, older = audit_log.page(filters, before) if filters is not None else ([], None)
    kept = {name: request.args[name] for name in FILTER_FIELDS if request.args.get(name)}
    return render_template(
        "staff/audit.html",
        form=form,
        entries=entries,
        older_url=url_for("staff.audit", before=older, **kept) if older else None,
        newest_url=url_for("staff.audit", **kept) if before else None,
        csv_url=url_for("staff.audit_csv", **kept),
        events=sorted(EVENT_LABELS),
        other_details=other_details,
    )


@bp.get("/audit.csv")
@staff_view()
def audit_csv():
    """The filtered log as a CSV file (every event, not only a page)."""
    form, filters = _read_form()
    if filters is None:
        return audit()
    name = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        stream_with_context(audit_log.csv_lines(filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
