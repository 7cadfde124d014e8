"""The IP-telephony portal (seed 000), mounted by Business ID at /services/iptel."""

from flask import Blueprint

from connectors.iptel.presenting import template_helpers

bp = Blueprint("iptel", __name__, template_folder="../templates")
bp.context_processor(template_helpers)

from connectors.iptel.views import cabinet, portal  # noqa: E402,F401  (their routes join bp)
