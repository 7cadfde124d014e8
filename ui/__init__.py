"""The shared look: layout, page templates, message templates and static assets.

Connectors extend ``layout.html`` and use the same cards, so every service looks like one product.
"""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
