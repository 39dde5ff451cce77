"""The Envoy configuration of the egress gateway, built as data.

One home for it: ``doppel gateway`` renders it with the ports and upstreams it needs, and
``envoy/gateway.yaml`` is this module's output with the defaults (a test keeps them equal), for
users who run Envoy themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
_TYPE = "type.googleapis.com/"
EXTPROC_CLUSTER = "doppel_extproc"


@dataclass(frozen=True)
class Upstream:
    """Where one provider's routes go: ``https://api.openai.com`` or ``http://127.0.0.1:8080/base``."""

    url: str

    @property
    def _parts(self):  # type: ignore[no-untyped-def]
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an http(s) URL with a host, got {self.url!r}")
        return parts

    @property
    def tls(self) -> bool:
        return self._parts.scheme == "https"

    @property
    def host(self) -> str:
        return self._parts.hostname  # type: ignore[return-value]

    @property
    def port(self) -> int:
        return self._parts.port or (443 if self.tls else 80)

    @property
    def base_path(self) -> str:
        return self._parts.path.rstrip("/")

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


PROVIDERS: dict[str, Upstream] = {
    "openai": Upstream("https://api.openai.com"),
    "anthropic": Upstream("https://api.anthropic.com"),
    "gemini": Upstream("https://generativelanguage.googleapis.com"),
    "mistral": Upstream("https://api.mistral.ai"),
}

# Unprefixed paths that identify a provider; everything else unprefixed goes to OpenAI, whose
# paths the OpenAI-compatible world shares. /<provider>/... always selects one explicitly.
_PATH_ROUTES: list[tuple[str, str]] = [
    ("/v1/messages", "anthropic"),
    ("/v1/complete", "anthropic"),
    ("/v1beta/", "gemini"),
    ("/", "openai"),
]


def _route(prefix: str, provider: str, upstream: Upstream, strip: bool) -> dict[str, Any]:
    base = upstream.base_path
    route: dict[str, Any] = {
        "cluster": provider,
        "host_rewrite_literal": upstream.host_header,
        "timeout": "600s",  # long answers; streams are bounded by idle timeouts instead
    }
    if strip:
        route["prefix_rewrite"] = base + "/"
    elif base:
        route["prefix_rewrite"] = base + prefix
    return {"match": {"prefix": prefix}, "route": route}


def _cluster(name: str, upstream: Upstream) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": name,
        "type": "LOGICAL_DNS",
        "dns_lookup_family": "V4_PREFERRED",
        "connect_timeout": "10s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {
                                        "address": upstream.host,
                                        "port_value": upstream.port,
                                    }
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }
    if upstream.tls:
        cluster["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": _TYPE + "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": upstream.host,
                "common_tls_context": {
                    "validation_context": {
                        "trusted_ca": {"filename": CA_BUNDLE},
                        "match_typed_subject_alt_names": [
                            {"san_type": "DNS", "matcher": {"exact": upstream.host}}
                        ],
                    }
                },
            },
        }
    return cluster


def gateway_config(
    *,
    listen_host: str = "127.0.0.1",
    listen_port: int = 10000,
    extproc_host: str = "127.0.0.1",
    extproc_port: int = 50051,
    admin_port: int = 9901,
    upstreams: dict[str, Upstream] | None = None,
    message_timeout_s: float = 5.0,
    max_body_bytes: int = 16 * 1024 * 1024,
    max_connections: int = 10000,
) -> dict[str, Any]:
    """Envoy as an egress gateway: every request and response passes Doppel's ext_proc."""
    upstreams = upstreams or PROVIDERS
    routes = [_route(f"/{name}/", name, up, strip=True) for name, up in upstreams.items()]
    routes += [_route(prefix, name, upstreams[name], strip=False) for prefix, name in _PATH_ROUTES]
    ext_proc = {
        "name": "envoy.filters.http.ext_proc",
        "typed_config": {
            "@type": _TYPE + "envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
            "grpc_service": {"envoy_grpc": {"cluster_name": EXTPROC_CLUSTER}, "timeout": "10s"},
            # Never let a request out unmasked because Doppel is down.
            "failure_mode_allow": False,
            # The 200 ms default is too short for model inference on a long prompt.
            "message_timeout": f"{message_timeout_s}s",
            "max_message_timeout": "30s",
            # Lets Doppel switch text/event-stream answers to STREAMED.
            "allow_mode_override": True,
            "processing_mode": {
                "request_header_mode": "SEND",
                "response_header_mode": "SEND",
                "request_body_mode": "BUFFERED",
                "response_body_mode": "BUFFERED",
                "request_trailer_mode": "SKIP",
                "response_trailer_mode": "SKIP",
            },
        },
    }
    hcm = {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": _TYPE
            + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "doppel_egress",
            "codec_type": "AUTO",
            "stream_idle_timeout": "300s",
            "route_config": {
                "name": "providers",
                "virtual_hosts": [{"name": "providers", "domains": ["*"], "routes": routes}],
            },
            "http_filters": [
                ext_proc,
                {
                    "name": "envoy.filters.http.router",
                    "typed_config": {
                        "@type": _TYPE + "envoy.extensions.filters.http.router.v3.Router",
                        # no x-envoy-* headers towards the provider
                        "suppress_envoy_headers": True,
                    },
                },
            ],
        },
    }
    extproc_cluster = {
        "name": EXTPROC_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        # ext_proc is gRPC: HTTP/2 or every request fails with 500.
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": _TYPE + "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": EXTPROC_CLUSTER,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {
                                        "address": extproc_host,
                                        "port_value": extproc_port,
                                    }
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }
    return {
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": _TYPE + "envoy.extensions.resource_monitors."
                        "downstream_connections.v3.DownstreamConnectionsConfig",
                        "max_active_downstream_connections": max_connections,
                    },
                }
            ]
        },
        "admin": {
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}
        },
        "static_resources": {
            "listeners": [
                {
                    "name": "doppel_egress",
                    "address": {
                        "socket_address": {"address": listen_host, "port_value": listen_port}
                    },
                    # BUFFERED bodies must fit; over it Envoy answers 413 before Doppel sees them.
                    "per_connection_buffer_limit_bytes": max_body_bytes,
                    "filter_chains": [{"filters": [hcm]}],
                }
            ],
            "clusters": [extproc_cluster] + [_cluster(name, up) for name, up in upstreams.items()],
        },
    }


def to_yaml(config: dict[str, Any]) -> str:
    header = (
        "# Generated by `doppel envoy-config` (extproc/envoy_config.py): edit that, then\n"
        "# regenerate. Envoy as an egress gateway on 127.0.0.1:10000 with Doppel's ext_proc\n"
        "# on 127.0.0.1:50051, forwarding to the providers over TLS.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, width=100)
