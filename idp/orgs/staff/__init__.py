"""The operator's staff console: /staff (search, a profile's and an organisation's view, the
actions on them, and the audit log)."""

from __future__ import annotations

from idp.orgs.staff import actions, audit, confirm, pages  # noqa: F401  (register the views)
from idp.orgs.staff.blueprint import bp

__all__ = ["bp"]
