"""Minimal strict schemas of the custom-resource fields Doppel's manifests use.

The @kubernetes-models validators (crd_check.mjs) check types, enums and required fields against
the real CRD schemas but let unknown fields through, which the API server would silently prune;
Envoy Gateway has no such package at all. These schemas list the fields Doppel uses, as the
CRDs (Istio 1.2x, Gateway API 1.4, Envoy Gateway 1.5, cert-manager 1.x, prometheus-operator)
define them, and reject any other field: a typo fails here instead of vanishing in a cluster.
"""

from __future__ import annotations

from typing import Any

STR: dict[str, Any] = {"type": "string", "minLength": 1}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
PORT: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 65535}
DURATION: dict[str, Any] = {"type": "string", "pattern": r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"}
LABELS: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
FREE: dict[str, Any] = {"type": "object"}  # an Envoy config inside a patch: Envoy checks it


def obj(required: tuple[str, ...] = (), **props: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": props,
    }


def arr(items: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": min_items}


def enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


METADATA = obj(("name", "namespace"), name=STR, namespace=STR, labels=LABELS, annotations=LABELS)


def resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return obj(
        ("apiVersion", "kind", "metadata", "spec"),
        apiVersion={"const": api_version},
        kind={"const": kind},
        metadata=METADATA,
        spec=spec,
    )


# --- Istio -------------------------------------------------------------------------------------
_ISTIO_PORT_SELECTOR = obj(("number",), number=PORT)
_CLIENT_TLS = obj(
    ("mode",),
    mode=enum("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"),
    sni=STR,
    subjectAltNames=arr(STR),
)
_TRAFFIC_POLICY = obj(
    portLevelSettings=arr(obj(("port",), port=_ISTIO_PORT_SELECTOR, tls=_CLIENT_TLS), 1),
)
_DESTINATION = obj(("host",), host=STR, subset=STR, port=_ISTIO_PORT_SELECTOR)
_CONTEXT = enum("ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY")

ISTIO = {
    ("networking.istio.io/v1", "ServiceEntry"): resource(
        "networking.istio.io/v1",
        "ServiceEntry",
        obj(
            ("hosts",),
            hosts=arr(STR, 1),
            location=enum("MESH_EXTERNAL", "MESH_INTERNAL"),
            resolution=enum("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"),
            ports=arr(
                obj(
                    ("number", "name", "protocol"),
                    number=PORT,
                    name=STR,
                    protocol=enum("HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP"),
                    targetPort=PORT,
                ),
                1,
            ),
        ),
    ),
    ("networking.istio.io/v1", "DestinationRule"): resource(
        "networking.istio.io/v1",
        "DestinationRule",
        obj(
            ("host",),
            host=STR,
            exportTo=arr(STR),
            trafficPolicy=_TRAFFIC_POLICY,
            subsets=arr(obj(("name",), name=STR, trafficPolicy=_TRAFFIC_POLICY)),
        ),
    ),
    ("networking.istio.io/v1", "Gateway"): resource(
        "networking.istio.io/v1",
        "Gateway",
        obj(
            ("selector", "servers"),
            selector=LABELS,
            servers=arr(
                obj(
                    ("port", "hosts"),
                    port=obj(("number", "name", "protocol"), number=PORT, name=STR,
                             protocol=enum("HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP")),
                    hosts=arr(STR, 1),
                    tls=obj(("mode",), mode=enum("PASSTHROUGH", "SIMPLE", "MUTUAL",
                                                 "AUTO_PASSTHROUGH", "ISTIO_MUTUAL")),
                ),
                1,
            ),
        ),
    ),
    ("networking.istio.io/v1", "VirtualService"): resource(
        "networking.istio.io/v1",
        "VirtualService",
        obj(
            ("hosts",),
            hosts=arr(STR, 1),
            gateways=arr(STR),
            exportTo=arr(STR),
            http=arr(
                obj(
                    ("route",),
                    match=arr(obj(gateways=arr(STR), port=PORT)),
                    route=arr(obj(("destination",), destination=_DESTINATION), 1),
                    timeout=DURATION,
                ),
                1,
            ),
        ),
    ),
    ("networking.istio.io/v1alpha3", "EnvoyFilter"): resource(
        "networking.istio.io/v1alpha3",
        "EnvoyFilter",
        obj(
            ("configPatches",),
            workloadSelector=obj(("labels",), labels=LABELS),
            configPatches=arr(
                obj(
                    ("applyTo", "match", "patch"),
                    applyTo=enum("HTTP_FILTER", "VIRTUAL_HOST"),
                    match=obj(
                        ("context",),
                        context=_CONTEXT,
                        listener=obj(
                            portNumber=PORT,
                            filterChain=obj(
                                filter=obj(("name",), name=STR, subFilter=obj(("name",), name=STR))
                            ),
                        ),
                        routeConfiguration=obj(vhost=obj(("name",), name=STR)),
                    ),
                    patch=obj(
                        ("operation", "value"),
                        operation=enum("MERGE", "INSERT_BEFORE", "INSERT_AFTER", "ADD"),
                        value=FREE,
                    ),
                ),
                1,
            ),
        ),
    ),
}

# --- Gateway API and Envoy Gateway ---------------------------------------------------------------
_POLICY_TARGET = obj(("group", "kind", "name"), group=STR, kind=STR, name=STR, sectionName=STR)
_BACKEND_REF = obj(("name",), group=STR, kind=STR, name=STR, namespace=STR, port=PORT)

GATEWAY = {
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): resource(
        "gateway.networking.k8s.io/v1",
        "HTTPRoute",
        obj(
            ("parentRefs", "rules"),
            parentRefs=arr(obj(("name",), name=STR, namespace=STR, sectionName=STR), 1),
            rules=arr(
                obj(
                    ("matches", "backendRefs"),
                    matches=arr(
                        obj(
                            ("path",),
                            path=obj(("type", "value"), type=enum("PathPrefix", "Exact"),
                                     value={"type": "string", "pattern": "^/"}),
                        ),
                        1,
                    ),
                    filters=arr(
                        obj(
                            ("type", "urlRewrite"),
                            type={"const": "URLRewrite"},
                            urlRewrite=obj(
                                hostname=STR,
                                path=obj(("type", "replacePrefixMatch"),
                                         type={"const": "ReplacePrefixMatch"},
                                         replacePrefixMatch={"type": "string", "pattern": "^/"}),
                            ),
                        )
                    ),
                    backendRefs=arr(_BACKEND_REF, 1),
                    timeouts=obj(request=DURATION),
                ),
                1,
            ),
        ),
    ),
    ("gateway.networking.k8s.io/v1", "BackendTLSPolicy"): resource(
        "gateway.networking.k8s.io/v1",
        "BackendTLSPolicy",
        obj(
            ("targetRefs", "validation"),
            targetRefs=arr(_POLICY_TARGET, 1),
            validation=obj(
                ("hostname",), hostname=STR, wellKnownCACertificates=enum("System")
            ),
        ),
    ),
    ("gateway.envoyproxy.io/v1alpha1", "Backend"): resource(
        "gateway.envoyproxy.io/v1alpha1",
        "Backend",
        obj(
            ("endpoints",),
            endpoints=arr(obj(fqdn=obj(("hostname", "port"), hostname=STR, port=PORT)), 1),
        ),
    ),
    ("gateway.envoyproxy.io/v1alpha1", "EnvoyExtensionPolicy"): resource(
        "gateway.envoyproxy.io/v1alpha1",
        "EnvoyExtensionPolicy",
        obj(
            ("targetRefs",),
            targetRefs=arr(
                obj(("group", "kind", "name"), group={"const": "gateway.networking.k8s.io"},
                    kind=enum("Gateway", "HTTPRoute", "GRPCRoute"), name=STR),
                1,
            ),
            extProc=arr(
                obj(
                    ("backendRefs",),
                    backendRefs=arr(_BACKEND_REF, 1),
                    failOpen=BOOL,
                    messageTimeout=DURATION,
                    processingMode=obj(
                        allowModeOverride=BOOL,
                        request=obj(body=enum("Streamed", "Buffered", "BufferedPartial",
                                              "FullDuplexStreamed")),
                        response=obj(body=enum("Streamed", "Buffered", "BufferedPartial",
                                               "FullDuplexStreamed")),
                    ),
                ),
                1,
            ),
        ),
    ),
}

# --- cert-manager and prometheus-operator ---------------------------------------------
OTHER = {
    ("cert-manager.io/v1", "Certificate"): resource(
        "cert-manager.io/v1",
        "Certificate",
        obj(
            ("secretName", "issuerRef"),
            secretName=STR,
            commonName=STR,
            duration=STR,
            renewBefore=STR,
            dnsNames=arr(STR, 1),
            usages=arr(enum("server auth", "client auth", "digital signature",
                            "key encipherment")),
            privateKey=obj(algorithm=enum("RSA", "ECDSA", "Ed25519"), size=INT,
                           rotationPolicy=enum("Never", "Always")),
            issuerRef=obj(("name",), name=STR, kind=STR, group=STR),
        ),
    ),
    ("monitoring.coreos.com/v1", "ServiceMonitor"): resource(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        obj(
            ("selector", "endpoints"),
            selector=obj(("matchLabels",), matchLabels=LABELS),
            endpoints=arr(
                obj(("port",), port=STR, path=STR, interval=DURATION, scrapeTimeout=DURATION), 1
            ),
        ),
    ),
}

SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {**ISTIO, **GATEWAY, **OTHER}
