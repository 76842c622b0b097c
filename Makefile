# learn_assets: `make demo` and `make test` are all a newcomer needs (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster
PORT ?= 3000

.PHONY: install demo test test-fast lint format docs ui backfill bench clean dagster-home

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dagster-home:
	mkdir -p $(DAGSTER_HOME)
	ln -sf $(CURDIR)/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## Generate the last 7 days up to today into data/landing and build every asset (FAULTS=1: today
## is a day with faulty rows). Writes LEARN_START_DATE to .env, which `make ui` reads too.
demo: install dagster-home
	$(BIN)/learn-assets demo $(if $(FAULTS),--faults)

## Lint, then the whole test suite (what CI runs).
test: install lint
	$(BIN)/python -m pytest

## The quick loop: pure and in-process tests only (no whole-pipeline runs, CLI, servers, browser).
test-fast: install
	$(BIN)/python -m pytest -m "not slow" -q -n auto

lint: install
	$(BIN)/ruff check learn_assets learn_assets_tests bench
	$(BIN)/ruff format --check learn_assets learn_assets_tests bench

format: install
	$(BIN)/ruff check --fix learn_assets learn_assets_tests bench
	$(BIN)/ruff format learn_assets learn_assets_tests bench

## Regenerate the generated parts of the docs (contract rules, configuration table, columns).
docs: install
	$(BIN)/python -m learn_assets.docs

## Dagster UI (webserver and daemon) on http://127.0.0.1:$(PORT) over the same warehouse; stops
## first if the port is taken or a daemon already runs on this DAGSTER_HOME.
ui: install dagster-home
	@$(BIN)/learn-assets preflight --port $(PORT) --daemon
	$(BIN)/dagster dev -h 127.0.0.1 -p $(PORT) -w workspace.yaml

## Process a range of snapshots in one run: make backfill FROM=2026-11-01 TO=2026-11-07
backfill: install dagster-home
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD"; exit 2; }
	$(BIN)/learn-assets backfill --from '$(FROM)' --to '$(TO)'

## Benchmark against the DuckDB floor and pandas + pandera: make bench SIZE=S|M|L (not in make test).
## TENANTS=N: N tenants of SIZE (default M) one after the other and at once (bench/tenants.py).
bench: install
	$(if $(TENANTS),$(BIN)/python bench/tenants.py --size $(or $(SIZE),M) --tenants $(TENANTS),$(BIN)/python bench/run.py --size $(or $(SIZE),S))

clean:
	rm -rf data .dagster
