"""Which backend serves MultiFon Business here: the built-in provisioning store, or the operator's
own system named by IDP_MULTIFON_BACKEND (``module:factory``, returning a ``MultifonBackend``)."""

from __future__ import annotations

import importlib

from flask import current_app

from connectors.multifon.backend import MultifonBackend
from connectors.multifon.store import ProvisioningStore


def build_backend(spec: str) -> MultifonBackend:
    """Build the backend named by IDP_MULTIFON_BACKEND ("" is the built-in provisioning store)."""
    if not spec:
        return ProvisioningStore()
    module_name, factory_name = spec.split(":")
    backend = getattr(importlib.import_module(module_name), factory_name)()
    if not isinstance(backend, MultifonBackend):
        raise TypeError(f"{spec} did not return a MultiFon backend")
    return backend


def backend() -> MultifonBackend:
    """The current app's MultiFon backend."""
    return current_app.extensions["multifon_backend"]
