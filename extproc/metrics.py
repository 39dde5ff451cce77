"""Prometheus metrics: counts, types, sizes and timings — never values.

One registry per process (``REGISTRY``) so tests can read it without the global default one.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

REGISTRY = CollectorRegistry(auto_describe=True)

EXCHANGES = Counter(
    "doppel_exchanges",
    "HTTP exchanges processed, by API and outcome",
    ["api", "outcome"],
    registry=REGISTRY,
)
ENTITIES = Counter(
    "doppel_entities_masked",
    "Personal data items masked, by entity type",
    ["type"],
    registry=REGISTRY,
)
RESTORE_FAILURES = Counter(
    "doppel_restore_failures",
    "Answers passed on with doubles because restoring failed",
    ["api"],
    registry=REGISTRY,
)
VAULT_ERRORS = Counter(
    "doppel_vault_errors",
    "Vault reads or writes that failed (restoring degrades to the exchange)",
    registry=REGISTRY,
)
REJECTED = Counter(
    "doppel_rejected",
    "Requests refused before masking (overload, timeout)",
    ["reason"],
    registry=REGISTRY,
)
PHASE_SECONDS = Histogram(
    "doppel_phase_seconds",
    "Time Doppel spends on one ext_proc message, by phase",
    ["phase"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
PENDING = Gauge(
    "doppel_executor_pending", "Masking/restoring tasks queued or running", registry=REGISTRY
)
INFLIGHT = Gauge("doppel_exchanges_in_flight", "Open ext_proc streams", registry=REGISTRY)


def serve_metrics(host: str, port: int) -> int:
    """Expose ``/metrics`` over HTTP; returns the bound port."""
    server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    return int(server.server_address[1])
