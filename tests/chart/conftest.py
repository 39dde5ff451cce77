"""Helm, the CRD validators and rendering for the chart tests.

The tools live in .tools/ (``make tools``, helm/tools.sh). Without them the chart tests skip,
unless ``DOPPEL_CHART_CHECK=1`` (set by ``make chart-check``), where a missing tool fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "doppel"
TOOLS = Path(os.environ.get("DOPPEL_TOOLS", ROOT / ".tools"))
HELM = TOOLS / "bin" / "helm"
ALL_VALUES = Path(__file__).with_name("values-all.yaml")
NAMESPACE = "doppel"
RELEASE = "doppel"


def _missing(what: str) -> None:
    message = f"{what} is missing: run `make tools` (helm/tools.sh)"
    if os.environ.get("DOPPEL_CHART_CHECK") == "1":
        pytest.fail(message)
    pytest.skip(message)


def helm_binary() -> Path:
    if not os.access(HELM, os.X_OK):
        _missing(str(HELM))
    return HELM


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(helm_binary()), *args], capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return result


def render(
    values: Sequence[Path] = (), sets: dict[str, str] | None = None, *, check: bool = True
) -> list[dict[str, Any]] | subprocess.CompletedProcess[str]:
    """``helm template`` the chart; returns the manifests (or the failed process)."""
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for path in values:
        args += ["-f", str(path)]
    for key, value in (sets or {}).items():
        args += ["--set-json", f"{key}={value}"]
    result = helm(*args, check=check)
    if result.returncode != 0:
        return result
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def crd_check(docs: list[dict[str, Any]]) -> list[str | None]:
    """Each document against its CRD's schema (crd_check.mjs): None, an error, or 'no-schema'."""
    node = shutil.which("node")
    if node is None or not (TOOLS / "node_modules" / "@kubernetes-models").is_dir():
        _missing("node or .tools/node_modules/@kubernetes-models")
    result = subprocess.run(
        [node, str(Path(__file__).with_name("crd_check.mjs")), str(TOOLS)],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def default_docs() -> list[dict[str, Any]]:
    return render()  # type: ignore[return-value]


@pytest.fixture(scope="session")
def all_docs() -> list[dict[str, Any]]:
    return render([ALL_VALUES])  # type: ignore[return-value]


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def bootstrap(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The gateway Envoy's bootstrap from the rendered ConfigMap."""
    (cm,) = find(docs, "ConfigMap", f"{RELEASE}-gateway")
    return yaml.safe_load(cm["data"]["envoy.yaml"])
