"""The provisioning API (``/api/v1``): importing this module registers every operation on ``bp``."""

from idp.api import access, audit, openapi, organisations, profiles, provisioning  # noqa: F401  (operations)
from idp.api.blueprint import bp, init_app

__all__ = ["bp", "init_app"]
