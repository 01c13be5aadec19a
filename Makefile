# Kyoso — `make run` serves the site with demo data; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PO_FILES := $(wildcard locale/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.DEFAULT_GOAL := help
.PHONY: help run serve migrate migration seed-demo test lint typecheck pytest format i18n i18n-compile chromium bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.runtime $@

locale/%/LC_MESSAGES/messages.mo: locale/%/LC_MESSAGES/messages.po | $(VENV)/.runtime
	$(BIN)/pybabel compile --use-fuzzy -d locale -D messages -l $* 2>&1 | grep -v '^compiling' || true
	@test -f $@

i18n-compile: $(MO_FILES) ## Compile the translation catalogues

i18n: $(VENV)/.runtime ## Extract UI strings, update the ja/en catalogues, compile them
	$(BIN)/pybabel extract -F babel.cfg -k _ --no-location --sort-output -o locale/messages.pot .
	$(BIN)/pybabel update -i locale/messages.pot -d locale -D messages -w 110 --ignore-obsolete
	$(MAKE) i18n-compile

migrate: $(VENV)/.runtime ## Apply database migrations
	$(BIN)/python -m app migrate

migration: $(VENV)/.runtime ## Generate a migration from table changes: make migration APP=challenges
	@test -n "$(APP)" || (echo "usage: make migration APP=<feature>"; exit 2)
	PICCOLO_CONF=app.piccolo_conf DATABASE_URL=sqlite:///$$(mktemp -d)/schema.sqlite3 \
	  $(BIN)/piccolo migrations new $(APP) --auto --auto_input=n

seed-demo: $(VENV)/.runtime ## Load demo data if the database has no users yet
	$(BIN)/python -m app seed-demo --if-empty

run: $(VENV)/.runtime i18n-compile migrate seed-demo ## Install, migrate, load demo data, serve on http://127.0.0.1:8000
	$(BIN)/uvicorn app.asgi:app --host $(HOST) --port $(PORT)

BROWSER_PACKAGES := chromium fonts-ipafont-gothic

chromium: ## Install Debian's Chromium and a Japanese font for browser tests (when root and missing)
	@if command -v chromium >/dev/null && fc-list :lang=ja 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null || \
	  (apt-get update -q >/dev/null && apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null); \
	else echo "Chromium is missing: install it (apt-get install $(BROWSER_PACKAGES)) for the browser tests."; fi

lint: $(VENV)/.dev ## ruff check, ruff format --check, and bandit (no high-severity finding in app/)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/bandit --quiet --recursive app --severity-level high

typecheck: $(VENV)/.dev ## mypy --strict on app/
	$(BIN)/mypy --strict app

pytest: $(VENV)/.dev i18n-compile chromium ## Run the test suite (DATABASE_URL selects PostgreSQL)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest ## Everything CI checks: lint, types, tests

format: $(VENV)/.dev ## Reformat the code
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

bench: $(VENV)/.runtime i18n-compile ## Measure rps and p95 of /healthz and the home page with wrk, then the 2-minute load
	$(BIN)/python bench/http_bench.py
	$(BIN)/python bench/load.py

clean: ## Remove the virtualenv and caches (keeps var/ and its data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
