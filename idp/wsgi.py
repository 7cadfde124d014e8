"""WSGI entry point for production servers: ``granian --interface wsgi idp.wsgi:app`` (or gunicorn)."""

from idp import create_app

app = create_app()
