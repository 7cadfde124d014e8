"""The cabinet's main page, each card's details page, and the two settings a person changes there."""

from __future__ import annotations

from flask import flash, request
from flask_babel import gettext as _

from connectors.multifon.backend import ROUTINGS, TRUNK_LINES_MAX, TRUNK_LINES_MIN
from connectors.multifon.forms import RoutingForm, TrunkLinesForm
from connectors.multifon.presenting import ROUTING_TEXTS, chart
from connectors.multifon.service import backend
from connectors.multifon.views.blueprint import bp
from connectors.multifon.views.common import (
    audit,
    backend_unavailable_text,
    load_overview,
    page,
    refusal,
    to_cabinet,
)
from idp.connectors.sdk import (
    VIEWER,
    BackendUnavailable,
    cabinet_view,
    read_backend,
    write_backend,
)

STATISTICS_DAYS = 30


def _calls_per_day(link):
    number = link.account
    try:
        return read_backend(
            lambda: backend().calls_per_day(number, STATISTICS_DAYS), "multifon.calls_per_day"
        )
    except BackendUnavailable:
        return None


@bp.get("/cabinet")
@cabinet_view(role=VIEWER)
def cabinet(link):
    """The main page: balance and status, tariffing, caller ID, routing, trunk lines, statistics."""
    days = _calls_per_day(link)
    return page(
        "cabinet.html",
        link,
        load_overview(link),
        days=days,
        bars=chart(days) if days else None,
        routing_texts=ROUTING_TEXTS,
    )


@bp.get("/balance")
@cabinet_view(role=VIEWER)
def balance(link):
    """Details of the balance and the service's status."""
    return page("balance.html", link, load_overview(link))


@bp.get("/tariff")
@cabinet_view(role=VIEWER)
def tariff(link):
    """Details of the tariffing: basic, or the active tariff option."""
    return page("tariff.html", link, load_overview(link))


@bp.get("/caller-id")
@cabinet_view(role=VIEWER)
def caller_id(link):
    """Details of the number shown on outgoing calls (AON)."""
    return page("caller_id.html", link, load_overview(link))


@bp.get("/statistics")
@cabinet_view(role=VIEWER)
def statistics(link):
    """Calls per day of the last 30 days, as a chart and a table."""
    days = _calls_per_day(link)
    return page("statistics.html", link, load_overview(link), days=days, bars=chart(days) if days else None)


# The two settings: every role sees them, a user or the owner changes them (``cabinet_view``'s
# default: a page for every role, its form for USER).
@bp.route("/routing", methods=["GET", "POST"])
@cabinet_view
def routing(link):
    """Where incoming calls go: GSM, SIP or both (seed 004 §4)."""
    overview = load_overview(link)
    if request.method == "POST" and (refused := refusal(overview)):
        return refused  # whatever was sent: nothing changes, and the cabinet tells why
    form = RoutingForm(routing=overview.routing) if overview and request.method == "GET" else RoutingForm()
    if form.validate_on_submit():
        chosen = form.routing.data
        if _changed(lambda: backend().set_routing(link.account, chosen), "multifon.set_routing"):
            audit("multifon.routing_changed", link, routing=chosen, previous=overview.routing)
            flash(_("Incoming calls now go to %(routing)s.", routing=chosen), "success")
            return to_cabinet()
    return page("routing.html", link, overview, form=form, routings=ROUTINGS, routing_texts=ROUTING_TEXTS)


@bp.route("/trunk-lines", methods=["GET", "POST"])
@cabinet_view
def trunk_lines(link):
    """The limit of simultaneous outgoing calls, 1..20 (seed 004 §4)."""
    overview = load_overview(link)
    form = (
        TrunkLinesForm(trunk_lines=str(overview.trunk_lines))
        if overview and request.method == "GET"
        else TrunkLinesForm()
    )
    if request.method == "POST" and (refused := refusal(overview)):
        return refused
    if form.validate_on_submit():
        lines = form.trunk_lines.lines
        if _changed(lambda: backend().set_trunk_lines(link.account, lines), "multifon.set_trunk_lines"):
            audit("multifon.trunk_lines_changed", link, lines=lines, previous=overview.trunk_lines)
            flash(_("The trunk-line limit is now %(lines)d.", lines=lines), "success")
            return to_cabinet()
    return page(
        "trunk_lines.html", link, overview, form=form, minimum=TRUNK_LINES_MIN, maximum=TRUNK_LINES_MAX
    )


def _changed(change, what: str) -> bool:
    """Make a change in the backend; on failure tell the person and return False."""
    try:
        write_backend(change, what)
    except BackendUnavailable:
        flash(backend_unavailable_text(), "error")
        return False
    return True
