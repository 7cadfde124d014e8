"""The MultiFon Business cabinet (seed 004 §4), mounted by Business ID at /services/multifon."""

from flask import Blueprint

from connectors.multifon.presenting import template_helpers

bp = Blueprint("multifon", __name__, template_folder="../templates")
bp.context_processor(template_helpers)

from connectors.multifon.views import cards, menu  # noqa: E402,F401  (their routes join bp)
