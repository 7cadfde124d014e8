"""The staff console's blueprint, and what its templates may use."""

from __future__ import annotations

from flask import Blueprint, g
from flask_babel import format_time

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.context_processor
def staff_context() -> dict:
    from idp.orgs.staff import guard, present

    return {
        "staff_may": guard.staff_may,
        "staff_role_name": present.staff_role_name,
        "staff_org_role": present.org_role_name,
        "staff_number": present.number_label,
        "staff_confirmed_until": g.get("staff_confirmed_until"),
        "my_staff_role": g.get("staff_role"),
        "staff_time": lambda value: format_time(value, "short"),
        "ACCESS": guard.ACCESS,
        "SESSIONS": guard.SESSIONS,
        "PROFILE": guard.PROFILE,
    }
