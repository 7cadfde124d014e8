"""The IP-telephony portal (seed 000), mounted by Business ID at /services/iptel."""

from connectors.iptel.views import cabinet, portal  # noqa: F401  (their routes join bp)
from connectors.iptel.views.blueprint import bp

__all__ = ["bp"]
