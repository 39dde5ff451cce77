"""Every shipped Envoy config is the builder's output, is accepted by the real Envoy, never fails
open, keeps admin on loopback and secrets out of its logs; mTLS and the Istio wiring carry real
round trips."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from extproc import envoy_config
from extproc.envoy_config import (
    DEFAULT_MAX_BODY_BYTES,
    TLS_DIR,
    ExtprocTLS,
    Upstream,
    ext_proc_enable_per_route,
    gateway_config,
    generated_files,
    stale_files,
    to_yaml,
)
from extproc.gateway import envoy_binary
from tests.chart import loopback
from tests.extproc.certs import make_certs

ROOT = Path(__file__).resolve().parents[2]
ENVOY_DIR = ROOT / "envoy"
CONFIGS = sorted(ENVOY_DIR.glob("*.yaml"))  # Envoy bootstraps
RESOURCES = sorted(ENVOY_DIR.glob("*/*.yaml"))  # Kubernetes resources (Istio, Envoy Gateway)
PII = "Mail jane.doe@example.com or call +1 415 555 0134."
ORIGINALS = ["jane.doe@example.com", "415 555 0134"]


def _ext_proc_filters(node: object) -> list[dict]:
    found = []
    if isinstance(node, dict):
        if str(node.get("@type", "")).endswith("ext_proc.v3.ExternalProcessor"):
            found.append(node)
        for value in node.values():
            found += _ext_proc_filters(value)
    elif isinstance(node, list):
        for value in node:
            found += _ext_proc_filters(value)
    return found


def _tls_files(folder: Path) -> dict[str, str]:
    """The placeholder certificate paths, mapped to certificates made now (never committed)."""
    certs = make_certs(folder)
    return {
        f"{TLS_DIR}/tls.crt": str(certs.client_cert),
        f"{TLS_DIR}/tls.key": str(certs.client_key),
        f"{TLS_DIR}/ca.crt": str(certs.ca),
    }


def test_there_are_configs() -> None:
    names = {p.name for p in CONFIGS}
    assert {"gateway.yaml", "gateway-mtls.yaml", "sidecar.yaml"} <= names
    assert {p.relative_to(ENVOY_DIR).as_posix() for p in RESOURCES} >= {
        "istio/sidecar-outbound.yaml",
        "istio/egress-gateway.yaml",
        "envoy-gateway/doppel.yaml",
    }


def test_generated_files_are_fresh() -> None:
    assert stale_files() == [], "run `make envoy-configs` (python -m extproc.envoy_config write)"
    assert set(generated_files()) >= {
        p.relative_to(ROOT).as_posix() for p in [*CONFIGS, *RESOURCES]
    }, "every file in envoy/ is generated"


def test_gateway_yaml_is_the_builders_output() -> None:
    assert (ENVOY_DIR / "gateway.yaml").read_text() == to_yaml(gateway_config()), (
        "envoy/gateway.yaml is stale: run `make envoy-configs`"
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_envoy_validates(path: Path, tmp_path: Path) -> None:
    text = path.read_text()
    # gateway-mtls.yaml names where the certificates are mounted; Envoy checks that they exist.
    for old, new in _tls_files(tmp_path).items():
        text = text.replace(old, new)
    config = tmp_path / path.name
    config.write_text(text)
    result = subprocess.run(
        [envoy_binary(), "--mode", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]


@pytest.mark.parametrize("path", CONFIGS + RESOURCES, ids=lambda p: p.name)
def test_fails_closed(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    filters = [f for d in docs for f in _ext_proc_filters(d)]
    policies = [
        p for d in docs if d.get("kind") == "EnvoyExtensionPolicy" for p in d["spec"]["extProc"]
    ]
    assert filters or policies, "no ext_proc filter"
    for f in filters:
        assert f.get("failure_mode_allow") is False
        assert f["message_timeout"] == "5s" and f["allow_mode_override"] is True
    for p in policies:
        assert p["failOpen"] is False and p["processingMode"]["allowModeOverride"] is True


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_admin_on_loopback_and_logs_without_secrets(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    text = json.dumps(config)
    commands = set()
    for log in _find(_find(config, "access_log"), "json_format"):
        commands |= set(log.values())
    assert commands, "no access log"
    for command in commands:
        # no request/response header but the request id and the method, no bodies, no query
        if command.startswith(("%REQ(", "%RESP(")):
            assert command in {"%REQ(X-REQUEST-ID)%", "%REQ(:METHOD)%", "%RESP(X-DOPPEL-ERROR)%"}
        assert "BODY" not in command and "QUERY" not in command
    assert "%PATH(NQ" in text


@pytest.mark.parametrize(
    "path", [p for p in CONFIGS if "istio" not in str(p)], ids=lambda p: p.name
)
def test_envoy_errors_are_json_and_doppel_refusals_pass_through(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    mappers = [m for lrc in _find(config, "local_reply_config") for m in lrc["mappers"]]
    assert mappers, "no local_reply_config: Envoy's own errors would be plain text"
    expressions = json.dumps(mappers)
    assert "startsWith('doppel_')" in expressions  # Doppel's JSON refusals are not rewrapped
    assert "doppel_unavailable" in expressions


def _find(node: Any, key: str) -> list[Any]:
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            found += [v] if k == key else _find(v, key)
    elif isinstance(node, list):
        for v in node:
            found += _find(v, key)
    return found


def test_body_limit_default_matches_doppel() -> None:
    from extproc.config import LimitsSection

    listener = gateway_config()["static_resources"]["listeners"][0]
    assert listener["per_connection_buffer_limit_bytes"] == DEFAULT_MAX_BODY_BYTES == 4 << 20
    assert LimitsSection().max_body_bytes == DEFAULT_MAX_BODY_BYTES
    listener = gateway_config(max_body_bytes=1234)["static_resources"]["listeners"][0]
    assert listener["per_connection_buffer_limit_bytes"] == 1234


def test_extra_upstreams_get_a_prefix_route_and_a_cluster() -> None:
    config = gateway_config(
        extra_upstreams={
            "groq": Upstream("https://api.groq.com/openai"),
            "vllm": Upstream("http://vllm.models:8000"),
        }
    )
    routes = _find(config, "routes")[0]
    by_prefix = {r["match"]["prefix"]: r["route"] for r in routes}
    assert by_prefix["/groq/"] == {
        "cluster": "groq",
        "host_rewrite_literal": "api.groq.com",
        "timeout": "600s",
        "prefix_rewrite": "/openai/",
    }
    assert by_prefix["/vllm/"]["host_rewrite_literal"] == "vllm.models:8000"
    assert list(by_prefix)[-1] == "/", "the catch-all OpenAI route stays last"
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    assert clusters["groq"]["transport_socket"]["typed_config"]["sni"] == "api.groq.com"
    assert "transport_socket" not in clusters["vllm"]


@pytest.mark.parametrize("name", ["v1", "openai", "Groq", "a_b", "", "-x"])
def test_extra_upstream_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError):
        gateway_config(extra_upstreams={name: Upstream("https://x.example")})


def test_extproc_cluster_uses_dns_for_names_and_mtls_when_asked() -> None:
    static = gateway_config()["static_resources"]["clusters"][0]
    assert static["type"] == "STATIC"
    config = gateway_config(extproc_host="doppel-headless.doppel.svc", extproc_tls=ExtprocTLS())
    cluster = config["static_resources"]["clusters"][0]
    assert cluster["type"] == "STRICT_DNS"
    tls = cluster["transport_socket"]["typed_config"]
    assert tls["sni"] == "doppel-headless.doppel.svc"
    assert tls["common_tls_context"]["tls_certificates"][0]["private_key"]["filename"] == (
        f"{TLS_DIR}/tls.key"
    )


def test_module_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    extra = "groq=https://api.groq.com/openai"
    assert envoy_config.main(["gateway", "--extra-upstream", extra]) == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert "groq" in {c["name"] for c in config["static_resources"]["clusters"]}
    assert envoy_config.main(["check"]) == 0


# --- real round trips ------------------------------------------------------------------------


def _echo_upstreams(provider_url: str) -> dict[str, Upstream]:
    return {name: Upstream(provider_url) for name in envoy_config.PROVIDERS}


def _chat(base: str, host: str | None = None) -> loopback.Reply:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": PII}]}).encode()
    headers = {"content-type": "application/json", **({"host": host} if host else {})}
    return loopback.http("POST", f"{base}/v1/chat/completions", body, headers)


@pytest.fixture
def provider():  # type: ignore[no-untyped-def]
    proc, url = loopback.start(["echo-provider", "--port", "0"], "echo provider")
    yield url
    loopback.stop(proc)


def _serve(env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return loopback.start(
        ["serve", "--port", "0"],
        "Doppel ext_proc server listening",
        env={"DOPPEL_ENGINE_MODEL": "false", "DOPPEL_MODEL": "0", **(env or {})},
    )


@pytest.mark.e2e
def test_mtls_gateway_round_trip(provider: str, tmp_path: Path) -> None:
    """envoy/gateway-mtls.yaml's settings against ``doppel serve`` requiring client certs."""
    certs = make_certs(tmp_path)
    doppel, address = _serve(
        {
            "DOPPEL_TLS_CERT_FILE": str(certs.server_cert),
            "DOPPEL_TLS_KEY_FILE": str(certs.server_key),
            "DOPPEL_TLS_CLIENT_CA_FILE": str(certs.ca),
        }
    )
    try:
        port = int(address.rsplit(":", 1)[1])
        shipped = yaml.safe_load((ENVOY_DIR / "gateway-mtls.yaml").read_text())
        config = gateway_config(
            extproc_tls=ExtprocTLS(server_name="localhost"), upstreams=_echo_upstreams(provider)
        )
        assert _find(shipped, "transport_socket")[0] == _find(config, "transport_socket")[0]
        tls = {
            f"{TLS_DIR}/tls.crt": str(certs.client_cert),
            f"{TLS_DIR}/tls.key": str(certs.client_key),
            f"{TLS_DIR}/ca.crt": str(certs.ca),
        }
        config = loopback.for_loopback(config, port, loopback.free_port(), tls)
        with loopback.run_envoy(config) as envoy:
            base = f"http://127.0.0.1:{envoy.ports['doppel_egress']}"
            reply = _chat(base)
            assert reply.status == 200, reply.body[:300]
            assert json.loads(reply.body)["choices"][0]["message"]["content"] == PII
            (sent,) = json.loads(loopback.http("GET", provider + "/_received").body)
            assert not [o for o in ORIGINALS if o in sent]

        # Envoy without a client certificate: Doppel refuses, the request fails closed.
        plain = gateway_config(upstreams=_echo_upstreams(provider))
        plain["static_resources"]["clusters"][0]["transport_socket"] = copy.deepcopy(
            config["static_resources"]["clusters"][0]["transport_socket"]
        )
        del plain["static_resources"]["clusters"][0]["transport_socket"]["typed_config"][
            "common_tls_context"
        ]["tls_certificates"]
        plain = loopback.for_loopback(plain, port, loopback.free_port())
        loopback.http("DELETE", provider + "/_received")
        with loopback.run_envoy(plain) as envoy:
            reply = _chat(f"http://127.0.0.1:{envoy.ports['doppel_egress']}")
            assert reply.status >= 500
        assert json.loads(loopback.http("GET", provider + "/_received").body) == []
    finally:
        loopback.stop(doppel)


@pytest.mark.e2e
def test_istio_pattern_masks_only_the_enabled_virtual_host(provider: str) -> None:
    """The EnvoyFilter patches: ext_proc inserted disabled, then enabled per provider virtual
    host with an empty ExtProcPerRoute. Other traffic on the listener never reaches Doppel."""
    doppel, address = _serve()
    try:
        config = gateway_config(upstreams=_echo_upstreams(provider))
        hcm = _find(config, "http_filters")[0]
        hcm[0] = envoy_config.ext_proc_filter(disabled=True)
        vhosts = _find(config, "virtual_hosts")[0]
        provider_vhost = copy.deepcopy(vhosts[0])
        provider_vhost.update(
            name="provider",
            domains=["provider.test"],
            typed_per_filter_config=ext_proc_enable_per_route(),
        )
        vhosts.insert(0, provider_vhost)
        config = loopback.for_loopback(config, int(address.rsplit(":", 1)[1]), loopback.free_port())
        with loopback.run_envoy(config) as envoy:
            base = f"http://127.0.0.1:{envoy.ports['doppel_egress']}"
            assert _chat(base, host="provider.test").status == 200
            assert _chat(base, host="internal.test").status == 200
        masked, untouched = json.loads(loopback.http("GET", provider + "/_received").body)
        assert not [o for o in ORIGINALS if o in masked], "the provider host goes through Doppel"
        assert all(o in untouched for o in ORIGINALS), "other hosts do not"
    finally:
        loopback.stop(doppel)
