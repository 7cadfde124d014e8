"""Compiled templates shared by the many apps of a test run (speed only)."""

from __future__ import annotations

from flask import Flask
from jinja2.bccache import BytecodeCache


class _MemoryBytecodeCache(BytecodeCache):
    """Jinja bytecode shared by the many apps of a test run (each app would compile every template
    again). Entries carry the source checksum, so an edited template is compiled afresh."""

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = _MemoryBytecodeCache()


def share_compiled_templates(app: Flask) -> None:
    """Let ``app`` reuse the templates other apps of this run have compiled (speed only)."""
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
