"""gunicorn settings of one Business ID instance: ``gunicorn idp.wsgi:app -c deploy/gunicorn.conf.py``.

Every value can be set from the environment (the systemd unit's EnvironmentFile, the compose
file), so one file serves every host:

    GUNICORN_BIND      where to listen (default 127.0.0.1:8000; HAProxy reaches it there)
    WEB_CONCURRENCY    worker processes (default: one per CPU core)
    GUNICORN_THREADS   threads per worker (default 2)
    PROMETHEUS_MULTIPROC_DIR
                       an empty folder, writable by the service, where each worker process keeps
                       its Prometheus counters so that /metrics adds up all of them
                       (prometheus-client's multiprocess mode; systemd's RuntimeDirectory is a good
                       place: emptied at every start, as it must be)

Sizing (benchmarks/README.md): a worker is one Python process with one GIL, so processes, not
threads, add CPU. On SQLite one thread per worker was best; on PostgreSQL a second thread uses the
time a worker waits for the database. Start with one worker per core and 2 threads, and measure
with ``benchmarks/oidc_bench.py --workers N --threads M``. Each worker holds up to
2 × ``threads`` + 1 database connections (SQLAlchemy's pool: a machine request's own connection,
a client or generation read beside it, the generation check), so instances × workers ×
(2 × threads + 1) must stay below PostgreSQL's ``max_connections`` (or PgBouncer's pool).
HAProxy's ``maxconn`` per server should be
workers × threads: requests then wait in HAProxy's queue, where they can go to another instance,
rather than in this instance's socket backlog.
"""

from __future__ import annotations

import os

from idp.logs import gunicorn_logconfig

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# gthread: a worker keeps idle keep-alive connections in a poller and serves requests on its
# threads. ``sync`` would close the connection after every response.
worker_class = "gthread"

# Longer than HAProxy's idle server connections live (its pool-purge-delay, 5 s), so gunicorn never
# closes a connection HAProxy is about to reuse.
keepalive = 75
# A request that takes longer is stuck: the worker is killed and replaced.
timeout = 30
graceful_timeout = 30
# Recycle workers now and then (the jitter keeps them from restarting together).
max_requests = 10000
max_requests_jitter = 1000
# Each worker builds its own app: no database or Redis connection, and no thread (an in-process
# delivery worker, IDP_WORKER_IN_PROCESS), is made in the master and inherited across the fork.
preload_app = False

# No secret in any log line (idp.logs). The product writes its own line per request, so gunicorn's
# access log is off; set GUNICORN_ACCESS_LOG=- to have it as well.
logger_class = "idp.logs.RedactingGunicornLogger"
# In JSON format (IDP_LOG_FORMAT, json in production) gunicorn's own lines are JSON lines too.
logconfig_dict = gunicorn_logconfig()
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

proc_name = "business-id"
# X-Forwarded-For and -Proto are read by the app (IDP_TRUSTED_PROXIES=1 trusts HAProxy's), so
# gunicorn's forwarded_allow_ips keeps its default. Let only HAProxy reach GUNICORN_BIND.


def child_exit(server, worker):
    """Drop a dead worker's Prometheus counters (multiprocess mode), so /metrics forgets them."""
    try:
        from idp.metrics import mark_process_dead
    except ImportError:  # a release without idp.metrics
        return
    mark_process_dead(worker.pid)
