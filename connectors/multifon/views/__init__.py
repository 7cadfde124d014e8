"""The MultiFon Business cabinet (seed 004 §4), mounted by Business ID at /services/multifon."""

from connectors.multifon.views import cards, menu  # noqa: F401  (their routes join bp)
from connectors.multifon.views.blueprint import bp

__all__ = ["bp"]
