"""Every shipped Envoy config is accepted by the real Envoy and never fails open."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from extproc.envoy_config import gateway_config, to_yaml
from extproc.gateway import envoy_binary

ENVOY_DIR = Path(__file__).resolve().parents[2] / "envoy"
CONFIGS = sorted(ENVOY_DIR.glob("*.yaml"))


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


def test_there_are_configs() -> None:
    assert CONFIGS


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_envoy_validates(path: Path) -> None:
    result = subprocess.run(
        [envoy_binary(), "--mode", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_fails_closed(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    filters = [f for d in docs for f in _ext_proc_filters(d)]
    assert filters, "no ext_proc filter"
    for f in filters:
        assert f.get("failure_mode_allow") is False


def test_gateway_yaml_is_the_builders_output() -> None:
    assert (ENVOY_DIR / "gateway.yaml").read_text() == to_yaml(gateway_config()), (
        "envoy/gateway.yaml is stale: run `doppel envoy-config > envoy/gateway.yaml`"
    )
