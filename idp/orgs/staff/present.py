"""How the staff console names roles, organisations and the details of audit events."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from idp.orgs.models import MANAGER, ORG_ADMIN, ORG_MEMBER, ORG_OWNER, SECURITY, SUPPORT, Organisation
from idp.orgs.numbers import KINDS

STAFF_ROLE_NAMES = {SUPPORT: _l("support"), MANAGER: _l("manager"), SECURITY: _l("security")}
ORG_ROLE_NAMES = {
    ORG_OWNER: _l("organisation owner"),
    ORG_ADMIN: _l("administrator"),
    ORG_MEMBER: _l("member"),
}
# Details every audit row shows on its own line, or never (ids the row names otherwise).
SHOWN_APART = ("reason", "why", "ticket")
HIDDEN = ("by",)


def staff_role_name(role: str | None) -> str:
    return str(STAFF_ROLE_NAMES.get(role or "", role or ""))


def org_role_name(role: str) -> str:
    return str(ORG_ROLE_NAMES.get(role, role))


def number_label(org: Organisation) -> str:
    """E.g. "ЄДРПОУ 32855961"."""
    kind = KINDS.get(org.number_kind)
    return f"{kind[0]} {org.number}" if kind else org.number


def other_details(details: dict[str, Any]) -> str:
    """An event's details but the reason and ticket, as "key: value" pairs for the log's rows."""
    parts = []
    for key, value in sorted(details.items()):
        if key in SHOWN_APART or key in HIDDEN or value in (None, "", []):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {shown}")
    return " · ".join(parts)
