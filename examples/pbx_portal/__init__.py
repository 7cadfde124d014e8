"""A virtual PBX portal: the demo relying service that signs people in with Business ID.

Run it from the repository root with ``python -m examples.pbx_portal`` after ``idp demo`` has
registered its client (``make run`` starts both).
"""

from examples.pbx_portal.app import create_app

__all__ = ["create_app"]
