"""The Helm chart: lints, renders, validates offline against Kubernetes and CRD schemas, renders
exactly the builder's Envoy bootstrap and mesh resources, and that bootstrap passes Envoy's
validation and carries a real round trip on loopback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from extproc.envoy_config import (
    PROVIDERS,
    TLS_DIR,
    ExtprocTLS,
    Upstream,
    envoy_gateway_resources,
    gateway_config,
    istio_egress_gateway_resources,
    istio_sidecar_resources,
)
from extproc.gateway import envoy_binary
from tests.chart import loopback
from tests.chart.conftest import (
    ALL_VALUES,
    CHART,
    NAMESPACE,
    RELEASE,
    bootstrap,
    crd_check,
    find,
    helm,
    render,
)
from tests.chart.crd_schemas import SCHEMAS
from tests.extproc.certs import make_certs

HERE = Path(__file__).parent
VALUES = {
    "default": [],
    "all-features": [ALL_VALUES],
    "istio-only": [HERE / "values-istio.yaml"],
    "envoy-gateway-only": [HERE / "values-envoy-gateway.yaml"],
    "mtls-secrets": [HERE / "values-mtls-secrets.yaml"],
}
WITH_GATEWAY = ["default", "all-features", "mtls-secrets"]
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schema known.
K8S_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
CORE_GROUPS = {"v1", "apps/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1"}
# CRD kinds without a published schema package: checked by crd_schemas.SCHEMAS alone.
NO_CRD_PACKAGE = {"Backend", "EnvoyExtensionPolicy"}
EXTPROC_HOST = f"{RELEASE}-headless.{NAMESPACE}.svc.cluster.local"
SERVICE_HOST = f"{RELEASE}.{NAMESPACE}.svc.cluster.local"


@pytest.fixture(params=list(VALUES), scope="module")
def docs(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(VALUES[request.param])  # type: ignore[return-value]


@pytest.mark.parametrize("name", list(VALUES))
def test_lints(name: str) -> None:
    args = ["lint", "--strict", str(CHART), "--namespace", NAMESPACE]
    for path in VALUES[name]:
        args += ["-f", str(path)]
    helm(*args)


def test_renders_every_feature(all_docs: list[dict[str, Any]]) -> None:
    kinds = {d["kind"] for d in all_docs}
    assert kinds >= {
        "Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler",
        "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor", "Certificate", "EnvoyFilter",
        "ServiceEntry", "DestinationRule", "VirtualService", "Gateway", "HTTPRoute", "Backend",
        "BackendTLSPolicy", "EnvoyExtensionPolicy", "ServiceAccount",
    }  # fmt: skip
    for doc in all_docs:
        assert doc["metadata"].get("namespace"), f"{doc['kind']} {doc['metadata']['name']}"
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "doppel"


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_manifests_validate_against_kubernetes(docs: list[dict[str, Any]], version: str) -> None:
    core = [d for d in docs if d["apiVersion"] in CORE_GROUPS]
    assert core
    for doc in core:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']} (k8s {version}): {err}")


def test_custom_resources_match_their_crds(docs: list[dict[str, Any]]) -> None:
    custom = [d for d in docs if d["apiVersion"] not in CORE_GROUPS]
    if not custom:
        return
    results = crd_check(custom)
    for doc, result in zip(custom, results, strict=True):
        where = f"{doc['apiVersion']} {doc['kind']} {doc['metadata']['name']}"
        if doc["kind"] in NO_CRD_PACKAGE:
            assert result == "no-schema", where
        else:
            assert result is None, f"{where}: {result}"
        schema = SCHEMAS.get((doc["apiVersion"], doc["kind"]))
        assert schema is not None, f"{where}: no schema of its fields"
        errors = [
            f"{e.json_path}: {e.message}"
            for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)
        ]
        assert not errors, f"{where}: {errors}"


def test_crd_checks_catch_mistakes(all_docs: list[dict[str, Any]]) -> None:
    """The checks above are not vacuous: a wrong enum and an unknown field both fail."""
    (envoy_filter, *_) = find(all_docs, "EnvoyFilter")
    bad_enum = json.loads(json.dumps(envoy_filter))
    bad_enum["spec"]["configPatches"][0]["applyTo"] = "HTTP_FILTR"
    assert crd_check([bad_enum]) != [None]
    (policy,) = find(all_docs, "EnvoyExtensionPolicy")
    typo = json.loads(json.dumps(policy))
    typo["spec"]["extProc"][0]["failOpn"] = False
    schema = SCHEMAS[(typo["apiVersion"], typo["kind"])]
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(typo))


# --- the gateway bootstrap is the builder's ------------------------------------------------------


def _expected_bootstrap(values: dict[str, Any]) -> dict[str, Any]:
    gateway = values.get("gateway", {})
    extra = {u["name"]: Upstream(u["url"]) for u in gateway.get("extraUpstreams", [])}
    mtls = values.get("mtls", {}).get("enabled", False)
    return gateway_config(
        listen_host="0.0.0.0",
        listen_port=gateway.get("port", 10000),
        extproc_host=EXTPROC_HOST,
        extproc_port=50051,
        admin_port=9901,
        extra_upstreams=extra,
        message_timeout_s=gateway.get("messageTimeoutSeconds", 5),
        max_body_bytes=values.get("limits", {}).get("maxBodyBytes", 4 * 1024 * 1024),
        max_connections=gateway.get("maxConnections", 10000),
        extproc_tls=ExtprocTLS(server_name=SERVICE_HOST) if mtls else None,
        ops_host="0.0.0.0",
        ops_port=gateway.get("opsPort", 9902),
    )


@pytest.mark.parametrize("name", WITH_GATEWAY)
def test_chart_bootstrap_is_the_builders(name: str) -> None:
    values: dict[str, Any] = {}
    for path in VALUES[name]:
        values.update(yaml.safe_load(Path(path).read_text()))
    rendered = bootstrap(render(VALUES[name]))  # type: ignore[arg-type]
    assert rendered == _expected_bootstrap(values)


def test_chart_bootstrap_follows_values() -> None:
    sets = {
        "gateway.port": "8080",
        "gateway.maxConnections": "500",
        "gateway.messageTimeoutSeconds": "2.5",
        "limits.maxBodyBytes": "1048576",
        "gateway.extraUpstreams": json.dumps(
            [{"name": "local", "url": "http://ollama.models:11434/"}]
        ),
    }
    rendered = bootstrap(render(sets=sets))  # type: ignore[arg-type]
    assert rendered == _expected_bootstrap(
        {
            "gateway": {
                "port": 8080,
                "maxConnections": 500,
                "messageTimeoutSeconds": 2.5,
                "extraUpstreams": [{"name": "local", "url": "http://ollama.models:11434/"}],
            },
            "limits": {"maxBodyBytes": 1048576},
        }
    )


def _envoy_validate(config: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [envoy_binary(), "--mode", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]


def _tls_files(tmp_path: Path) -> dict[str, str]:
    certs = make_certs(tmp_path)
    return {
        f"{TLS_DIR}/tls.crt": str(certs.client_cert),
        f"{TLS_DIR}/tls.key": str(certs.client_key),
        f"{TLS_DIR}/ca.crt": str(certs.ca),
    }


@pytest.mark.parametrize("name", WITH_GATEWAY)
def test_chart_bootstrap_passes_envoy_validation(name: str, tmp_path: Path) -> None:
    config = bootstrap(render(VALUES[name]))  # type: ignore[arg-type]
    # The mTLS variant names the mounted Secret's files; Envoy checks that they exist.
    text = yaml.safe_dump(config)
    for old, new in _tls_files(tmp_path).items():
        text = text.replace(old, new)
    _envoy_validate(yaml.safe_load(text), tmp_path)


def test_istio_and_envoy_gateway_resources_are_the_builders(
    all_docs: list[dict[str, Any]],
) -> None:
    values = yaml.safe_load(ALL_VALUES.read_text())
    providers = dict(PROVIDERS)
    providers.update(
        (u["name"], Upstream(u["url"]))
        for u in values["gateway"]["extraUpstreams"]
        if u["url"].startswith("https://")
    )
    expected = (
        istio_sidecar_resources(
            app_namespace="my-app", doppel_service=RELEASE, doppel_namespace=NAMESPACE,
            providers=providers,
        )
        + istio_egress_gateway_resources(
            doppel_service=RELEASE, doppel_namespace=NAMESPACE, providers=providers
        )
        + envoy_gateway_resources(
            namespace=NAMESPACE, gateway="eg", gateway_namespace="envoy-gateway-system",
            doppel_service=RELEASE, providers=providers,
        )
    )  # fmt: skip

    def key(doc: dict[str, Any]) -> tuple[str, str, str, str]:
        meta = doc["metadata"]
        return (doc["apiVersion"], doc["kind"], meta["namespace"], meta["name"])

    rendered = {key(d): d["spec"] for d in all_docs if d["apiVersion"] not in CORE_GROUPS}
    rendered = {k: v for k, v in rendered.items() if k[1] not in {"Certificate", "ServiceMonitor"}}
    want = {key(d): d["spec"] for d in expected}
    assert rendered.keys() == want.keys()
    for k, spec in want.items():
        assert rendered[k] == spec, k


# --- what a platform team checks in a review ---------------------------------------------


def _containers(docs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (d["spec"]["template"]["spec"], c)
        for d in find(docs, "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    ]


def test_pods_are_locked_down(docs: list[dict[str, Any]]) -> None:
    for pod, container in _containers(docs):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        assert pod["topologySpreadConstraints"]
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert container["readinessProbe"] and container["livenessProbe"]


def test_doppel_service_and_probes_speak_grpc(default_docs: list[dict[str, Any]]) -> None:
    (svc,) = find(default_docs, "Service", RELEASE)
    grpc_port = next(p for p in svc["spec"]["ports"] if p["name"] == "grpc")
    assert grpc_port["appProtocol"] == "grpc"
    (headless,) = find(default_docs, "Service", f"{RELEASE}-headless")
    assert headless["spec"]["clusterIP"] == "None"
    (deploy,) = find(default_docs, "Deployment", RELEASE)
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == 50051


def test_doppel_config_matches_the_gateway(default_docs: list[dict[str, Any]]) -> None:
    (cm,) = find(default_docs, "ConfigMap", RELEASE)
    config = yaml.safe_load(cm["data"]["config.yaml"])
    listener = bootstrap(default_docs)["static_resources"]["listeners"][0]
    assert config["limits"]["max_body_bytes"] == listener["per_connection_buffer_limit_bytes"]
    assert config["limits"]["max_body_bytes"] == 4 * 1024 * 1024
    assert config["server"] == {"host": "0.0.0.0", "port": 50051}
    assert config["key_file"] == "/etc/doppel/key/key"


def test_mtls_mounts_certificates_on_both_sides(all_docs: list[dict[str, Any]]) -> None:
    (cm,) = find(all_docs, "ConfigMap", RELEASE)
    tls = yaml.safe_load(cm["data"]["config.yaml"])["tls"]
    assert tls["client_ca_file"], "Doppel must require client certificates"
    secrets = {c["secretName"] for c in (d["spec"] for d in find(all_docs, "Certificate"))}
    for deploy in find(all_docs, "Deployment"):
        volumes = {v["name"]: v for v in deploy["spec"]["template"]["spec"]["volumes"]}
        assert volumes["tls"]["secret"]["secretName"] in secrets


def test_existing_secret_is_used_and_not_created() -> None:
    docs = render(sets={"key.existingSecret": '"my-key"', "key.secretKey": '"hmac"'})
    assert not find(docs, "Secret")  # type: ignore[arg-type]
    (deploy,) = find(docs, "Deployment", RELEASE)  # type: ignore[arg-type]
    volumes = {v["name"]: v for v in deploy["spec"]["template"]["spec"]["volumes"]}
    assert volumes["key"]["secret"]["secretName"] == "my-key"
    (cm,) = find(docs, "ConfigMap", RELEASE)  # type: ignore[arg-type]
    assert yaml.safe_load(cm["data"]["config.yaml"])["key_file"] == "/etc/doppel/key/hmac"


def test_generated_key_is_long_and_random(default_docs: list[dict[str, Any]]) -> None:
    import base64

    (secret,) = find(default_docs, "Secret")
    assert len(base64.b64decode(secret["data"]["key"])) == 64


def test_gateway_can_be_turned_off() -> None:
    docs = render(sets={"gateway.enabled": "false"})
    assert not [d for d in docs if "gateway" in d["metadata"]["name"]]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "sets",
    [
        {"gateway.extraUpstreams": '[{"name": "v1", "url": "https://x.example"}]'},
        {"gateway.extraUpstreams": '[{"name": "openai", "url": "https://x.example"}]'},
        {"gateway.extraUpstreams": '[{"name": "Bad_Name", "url": "https://x.example"}]'},
        {"gateway.extraUpstreams": '[{"name": "ok", "url": "ftp://x.example"}]'},
        {"gateway.extraUpstreams": '[{"name": "ok"}]'},
        {"limits.maxBodyBytes": "0"},
        {"gateway.prot": "80"},
        {"mtls.enabled": "true"},  # cert-manager without an issuer
    ],
    ids=lambda s: json.dumps(s),
)
def test_values_are_checked(sets: dict[str, str]) -> None:
    result = render(sets=sets, check=False)
    assert isinstance(result, subprocess.CompletedProcess), f"{sets} was accepted"


# --- a real round trip through the chart's bootstrap -------------------------------------------

PII_MESSAGE = (
    "Write to Jane at jane.doe@example.com or call +1 415 555 0134 about card 4111 1111 1111 1111."
)
ORIGINALS = ["jane.doe@example.com", "415 555 0134", "4111 1111 1111 1111"]


@pytest.mark.e2e
def test_chart_bootstrap_round_trip_on_loopback() -> None:
    provider, provider_url = loopback.start(["echo-provider", "--port", "0"], "echo provider")
    doppel = None
    try:
        doppel, address = loopback.start(
            ["serve", "--port", "0"],
            "Doppel ext_proc server listening",
            # patterns catch what this test sends; the NER model is not what is under test
            env={"DOPPEL_ENGINE_MODEL": "false", "DOPPEL_MODEL": "0"},
        )
        extra = json.dumps([{"name": "echo", "url": provider_url}])
        docs = render(sets={"gateway.extraUpstreams": extra})
        config = loopback.for_loopback(
            bootstrap(docs),  # type: ignore[arg-type]
            doppel_port=int(address.rsplit(":", 1)[1]),
            admin_port=loopback.free_port(),
        )
        with loopback.run_envoy(config) as envoy:
            base = f"http://127.0.0.1:{envoy.ports['doppel_egress']}"
            body = json.dumps(
                {"model": "gpt-4o", "messages": [{"role": "user", "content": PII_MESSAGE}]}
            ).encode()
            reply = loopback.http(
                "POST", f"{base}/echo/v1/chat/completions?key=query-secret", body,
                {"content-type": "application/json", "authorization": "Bearer sk-test-secret"},
            )  # fmt: skip
            assert reply.status == 200, reply.body[:500]
            answer = json.loads(reply.body)["choices"][0]["message"]["content"]
            assert answer == PII_MESSAGE, "the client gets its own data back"
            received = json.loads(loopback.http("GET", provider_url + "/_received").body)
            assert len(received) == 1
            for original in ORIGINALS:
                assert original not in received[0], f"{original} reached the provider"

            ops = f"http://127.0.0.1:{envoy.ports['doppel_ops']}"
            assert loopback.http("GET", f"{ops}/ready").status == 200
            stats = loopback.http("GET", f"{ops}/stats/prometheus")
            assert stats.status == 200 and b"envoy_cluster_upstream_rq" in stats.body
            assert loopback.http("POST", f"{ops}/quitquitquit").status == 404
            assert envoy.proc.poll() is None

            too_big = b'{"messages": [{"role": "user", "content": "' + b"x" * (5 << 20) + b'"}]}'
            assert loopback.http("POST", f"{base}/echo/v1/chat/completions", too_big,
                                 {"content-type": "application/json"}).status == 413  # fmt: skip
        access = [json.loads(line) for line in envoy.output.splitlines() if line.startswith("{")]
        chat = [a for a in access if a["upstream_cluster"] == "echo" and a["status"] == 200]
        # the path as sent upstream (after the /echo/ prefix is stripped), never the query
        assert chat and chat[0]["path"] == "/v1/chat/completions"
        assert chat[0]["request_id"]
        for secret in ["query-secret", "sk-test-secret", *ORIGINALS]:
            assert secret not in envoy.output, f"{secret} in the access log"
    finally:
        if doppel is not None:
            loopback.stop(doppel)
        loopback.stop(provider)


@pytest.mark.parametrize("name", list(VALUES))
def test_notes_render(name: str) -> None:
    args = ["install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client"]
    for path in VALUES[name]:
        args += ["-f", str(path)]
    notes = helm(*args).stdout.split("NOTES:", 1)[1]
    if name in WITH_GATEWAY:
        assert "OPENAI_BASE_URL=http://doppel-gateway.doppel.svc.cluster.local/v1" in notes
    else:
        assert "OPENAI_BASE_URL=http://" in notes


def test_dockerfile_is_what_the_chart_runs(default_docs: list[dict[str, Any]]) -> None:
    dockerfile = (CHART.parents[1] / "Dockerfile").read_text()
    assert dockerfile.count("\nFROM ") >= 2, "multi-stage"
    (deploy,) = find(default_docs, "Deployment", RELEASE)
    pod = deploy["spec"]["template"]["spec"]
    assert f"USER {pod['securityContext']['runAsUser']}:" in dockerfile
    assert 'ENTRYPOINT ["doppel"]' in dockerfile
    assert pod["containers"][0]["args"][0] == "serve"
    repository = pod["containers"][0]["image"].split(":")[0]
    assert repository in dockerfile, "the chart's default image is built from this Dockerfile"
    ignored = (CHART.parents[1] / ".dockerignore").read_text().split()
    assert {".venv", ".git", "tests"} <= set(ignored)


@pytest.mark.e2e
def test_mtls_readiness_probe_asks_doppel_over_mtls(
    all_docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The kubelet cannot probe gRPC over mTLS; the chart's exec probe does, and it works."""
    import sys

    (deploy,) = find(all_docs, "Deployment", RELEASE)
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    command = container["readinessProbe"]["exec"]["command"]
    assert command[:2] == ["python", "-c"]
    certs = make_certs(tmp_path)
    folder = tmp_path / "mounted"
    folder.mkdir()
    for name, source in [("ca.crt", certs.ca), ("tls.crt", certs.client_cert),
                         ("tls.key", certs.client_key)]:  # fmt: skip
        (folder / name).write_bytes(source.read_bytes())
    doppel, address = loopback.start(
        ["serve", "--port", "0"],
        "Doppel ext_proc server listening",
        env={
            "DOPPEL_ENGINE_MODEL": "false",
            "DOPPEL_MODEL": "0",
            "DOPPEL_TLS_CERT_FILE": str(certs.server_cert),
            "DOPPEL_TLS_KEY_FILE": str(certs.server_key),
            "DOPPEL_TLS_CLIENT_CA_FILE": str(certs.ca),
        },
    )
    try:
        script = (
            command[2]
            .replace("/etc/doppel/tls/", f"{folder}/")
            .replace("127.0.0.1:50051", address)
            .replace(SERVICE_HOST, "localhost")
        )
        probe = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
        assert probe.returncode == 0, probe.stderr.decode()[-2000:]
    finally:
        loopback.stop(doppel)
    probe = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert probe.returncode != 0, "a stopped Doppel must fail the probe"


def test_mounted_secrets_are_readable_by_the_container_user(docs: list[dict[str, Any]]) -> None:
    """Secret files are root-owned; only fsGroup (group read) lets a non-root user read them."""
    for deploy in find(docs, "Deployment"):
        pod = deploy["spec"]["template"]["spec"]
        secrets = [v for v in pod["volumes"] if "secret" in v]
        if secrets:
            assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
