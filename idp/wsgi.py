"""WSGI entry point for production servers: ``granian --interface wsgi idp.wsgi:app`` (or gunicorn)."""

import gc

from idp import create_app

app = create_app()
# What the app made at start lives as long as the process: out of the collector's sight, a full
# collection walks only what requests made (a shorter pause in the slowest requests).
gc.freeze()
