"""The ``doppel`` command: serve, gateway, echo-provider, detect, mask, restore, demo,
envoy-config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence

from engine import build_engine


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from extproc import logs
    from extproc.config import load

    config = load(args.config)
    if args.command == "serve":  # the gateway picks its own loopback port for the server
        server = config.server
        if args.host is not None:
            server = replace(server, host=args.host)
        if args.port is not None:
            server = replace(server, port=args.port)
        config = replace(config, server=server)
    logs.setup("INFO" if args.verbose else config.log.level, config.log.format)
    return config


def _serve(args: argparse.Namespace) -> int:
    from extproc.config import ConfigError
    from extproc.server import run

    try:
        config = _config(args)
    except ConfigError as exc:
        print(f"doppel serve: {exc}", file=sys.stderr)
        return 2

    def ready(address: str) -> None:
        print(f"Doppel ext_proc server listening on {address}", flush=True)

    try:
        return asyncio.run(run(config, args.config, on_ready=ready))
    except (OSError, ConfigError) as exc:
        print(f"doppel serve: {exc}", file=sys.stderr)
        return 1


def _gateway(args: argparse.Namespace) -> int:
    from extproc.config import ConfigError
    from extproc.gateway import run_gateway
    from extproc.server import engine_from

    def ready(url: str) -> None:
        print(f"Doppel gateway listening on {url}", flush=True)

    try:
        config = _config(args)
        return asyncio.run(
            run_gateway(
                engine_from(config),
                config=config,
                upstream=args.upstream,
                host=args.host,
                port=args.port,
                on_ready=ready,
                extra_upstreams=_extra_upstreams(args.extra_upstream),
            )
        )
    except ConfigError as exc:
        print(f"doppel gateway: {exc}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print(f"doppel gateway: {exc}", file=sys.stderr)
        return 1


def _extra_upstreams(items: list[str]):  # type: ignore[no-untyped-def]
    from extproc.envoy_config import Upstream

    out = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise ValueError(f"--extra-upstream takes NAME=URL, got {item!r}")
        out[name] = Upstream(url)
    return out


def _echo_provider(args: argparse.Namespace) -> int:
    from extproc.echo_provider import make_server

    server, _ = make_server(args.host, args.port)
    print(f"echo provider listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _detect(args: argparse.Namespace) -> int:
    """JSON lines in, JSON lines out, one for one, streaming."""
    engine = build_engine()
    status = 0
    for number, line in enumerate(sys.stdin, start=1):
        try:
            record = json.loads(line)
            text = record["text"]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            # keep the output aligned with the input; never echo the line (it may hold PII)
            out = {
                "entities": [],
                "error": f"line {number} is not a JSON object with a text string",
            }
            status = 1
        else:
            out = {
                "entities": [
                    {"start": s.start, "end": s.end, "type": s.type, "score": round(s.score, 4)}
                    for s in engine.detect(text)
                ]
            }
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return status


def _mask(args: argparse.Namespace) -> int:
    if args.remote:
        return _remote("mask", _remote_mask, args)
    sys.stdout.write(build_engine().session().mask(sys.stdin.read()))
    return 0


def _remote_mask(args: argparse.Namespace) -> None:
    """Mask on a remote server (doppel.v1.Privacy); the session token goes to stderr or a file."""
    import os

    from extproc.direct import connect, remote_mask

    with connect(args.remote, args.ca_file) as channel:
        masked, token = remote_mask(channel, sys.stdin.read())
    sys.stdout.write(masked)
    if args.session_out:
        fd = os.open(args.session_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
    else:
        print(token, file=sys.stderr)


def _restore(args: argparse.Namespace) -> int:
    return _remote("restore", _remote_restore, args)


def _remote_restore(args: argparse.Namespace) -> None:
    """Stream stdin through RestoreStream; restored text is written as soon as it is certain."""
    import codecs
    from pathlib import Path

    from extproc.direct import connect, remote_restore

    token = args.session or Path(args.session_file).read_text().strip()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def chunks() -> Iterator[str]:
        while block := sys.stdin.buffer.read1(64 * 1024):
            yield decoder.decode(block)
        yield decoder.decode(b"", final=True)

    with connect(args.remote, args.ca_file) as channel:
        for text in remote_restore(channel, token, chunks()):
            sys.stdout.write(text)
            sys.stdout.flush()


def _remote(name: str, call: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> int:
    import grpc

    try:
        call(args)
    except grpc.RpcError as exc:  # the server's messages never quote a text
        print(f"doppel {name}: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    except OSError as exc:  # the session file
        print(f"doppel {name}: {exc}", file=sys.stderr)
        return 1
    return 0


def _envoy_config(args: argparse.Namespace) -> int:
    from extproc.envoy_config import gateway_config, to_yaml

    sys.stdout.write(to_yaml(gateway_config(listen_port=args.port, extproc_port=args.extproc_port)))
    return 0


def _catalog(args: argparse.Namespace) -> int:
    from engine.catalog import catalog, markdown

    sys.stdout.write(markdown(catalog()))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from extproc.demo import main as demo

    return demo()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="doppel", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the ext_proc gRPC server")
    s.add_argument("--config", help="YAML configuration file (default: $DOPPEL_CONFIG)")
    s.add_argument("--host", help="listen address (default from config: 127.0.0.1)")
    s.add_argument("--port", type=int, help="listen port (default from config: 50051)")
    s.set_defaults(func=_serve)

    g = sub.add_parser("gateway", help="run Doppel and Envoy as an egress gateway")
    g.add_argument(
        "--upstream",
        default="providers",
        help="'providers' (the real APIs over TLS), 'echo' (the bundled echo "
        "provider) or a base URL that every provider route goes to",
    )
    g.add_argument("--config", help="YAML configuration file (default: $DOPPEL_CONFIG)")
    g.add_argument(
        "--extra-upstream",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="also serve an OpenAI-compatible host under /NAME/ (repeatable), "
        "e.g. groq=https://api.groq.com/openai",
    )
    g.add_argument("--host", default="127.0.0.1", help="gateway listen address")
    g.add_argument("--port", type=int, default=10000, help="gateway port (0: any free port)")
    g.set_defaults(func=_gateway)

    e = sub.add_parser("echo-provider", help="run the stand-in LLM provider")
    e.add_argument("--host", default="127.0.0.1")
    e.add_argument("--port", type=int, default=8080)
    e.set_defaults(func=_echo_provider)

    d = sub.add_parser("detect", help='JSON lines {"text": ...} in, entity lines out')
    d.set_defaults(func=_detect)

    m = sub.add_parser("mask", help="text in, masked text out")
    m.add_argument("--remote", metavar="HOST:PORT", help="mask on a Doppel direct API server")
    m.add_argument(
        "--session-out",
        metavar="FILE",
        help="with --remote: write the session token here (mode 0600) instead of to stderr",
    )
    m.add_argument("--ca-file", help="with --remote: use TLS, trusting this CA bundle")
    m.set_defaults(func=_mask)

    r = sub.add_parser("restore", help="text in, originals of a remote session back in, out")
    r.add_argument(
        "--remote",
        metavar="HOST:PORT",
        required=True,
        help="the Doppel direct API server that masked it",
    )
    token = r.add_mutually_exclusive_group(required=True)
    token.add_argument("--session", metavar="TOKEN", help="the session token from doppel mask")
    token.add_argument(
        "--session-file",
        metavar="FILE",
        help="read the session token from FILE (keeps it out of the process list)",
    )
    r.add_argument("--ca-file", help="use TLS, trusting this CA bundle")
    r.set_defaults(func=_restore)

    sub.add_parser("demo", help="show a leak-free round trip through the gateway").set_defaults(
        func=_demo
    )

    sub.add_parser("catalog", help="print the entity catalog (markdown)").set_defaults(
        func=_catalog
    )

    c = sub.add_parser("envoy-config", help="print the gateway's Envoy configuration")
    c.add_argument("--port", type=int, default=10000)
    c.add_argument("--extproc-port", type=int, default=50051)
    c.set_defaults(func=_envoy_config)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
