"""The blueprint of the connector's pages; the view modules add their routes to it."""

from flask import Blueprint

from connectors.multifon.presenting import template_helpers

bp = Blueprint("multifon", __name__, template_folder="../templates")
bp.context_processor(template_helpers)
