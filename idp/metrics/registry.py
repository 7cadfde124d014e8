"""What a scrape reads: this process's metrics, or every worker's in multiprocess mode.

Gunicorn runs several worker processes. With ``PROMETHEUS_MULTIPROC_DIR`` set (an empty folder,
set before the app is imported) each writes its metrics there, a scrape of any worker adds them
up, and gunicorn's ``child_exit`` hook calls ``mark_process_dead(worker.pid)``. Without it, the
metrics are this process's own (prometheus-client's default registry, with the process collectors).
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The folder of multiprocess mode, or None when each process reports alone."""
    return os.environ.get(MULTIPROCESS_DIR) or None


def scrape_registry() -> CollectorRegistry:
    """A registry of everything a scrape shows (built per scrape: scrapes are rare)."""
    from idp.metrics.collectors import DeliveryCollector  # the app's models: imported late

    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # the default registry is a collector of everything in it
    registry.register(DeliveryCollector())
    return registry


def render() -> bytes:
    """The Prometheus text exposition of ``scrape_registry`` (in an app context)."""
    return generate_latest(scrape_registry())


def mark_process_dead(pid: int) -> None:
    """Forget the live gauges of a worker that exited (gunicorn's ``child_exit`` hook); its
    counters stay, so totals never go down. Does nothing outside multiprocess mode."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)
