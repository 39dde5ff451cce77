"""The floor the gateway benchmark compares against: ``doppel gateway`` exactly as shipped (the
same Envoy configuration, ext_proc server, exchange state machine, JSON codecs, logs), but with
an engine that has no detectors, so nothing is found, masked or restored. What a real gateway
adds on top of this is the cost of Doppel's work; this itself is the cost of Envoy + a Python
ext_proc.

    python -m bench.floor --upstream URL      # prints "Doppel gateway listening on URL"
"""

from __future__ import annotations

import argparse
import asyncio

from engine.doubles import Pseudonymizer
from engine.masking import Engine
from extproc import logs
from extproc.envoy_config import Upstream
from extproc.gateway import run_gateway


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--extra-upstream", action="append", default=[], metavar="NAME=URL")
    args = ap.parse_args()
    extra = {}
    for item in args.extra_upstream:
        name, _, url = item.partition("=")
        extra[name] = Upstream(url)
    logs.setup("INFO", "json")  # as `doppel gateway` does: one log line per exchange
    engine = Engine(detectors=[], pseudonymizer=Pseudonymizer(b"doppel-bench-floor"))

    def ready(url: str) -> None:
        print(f"Doppel gateway listening on {url}", flush=True)

    return asyncio.run(
        run_gateway(
            engine,
            upstream=args.upstream,
            host="127.0.0.1",
            port=args.port,
            on_ready=ready,
            extra_upstreams=extra,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
