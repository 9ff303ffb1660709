# Common tasks. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(PY) -m flask --app workspace
POSTGRES_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: help install install-dev run demo test test-sqlite test-postgres lint format translations translations-compile system-deps assets bench bench-quick

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

install: $(VENV)/bin/python ## Install runtime dependencies into .venv and compile translations
	$(PIP) install -q -r requirements.txt
	$(FLASK) translate compile >/dev/null

install-dev: $(VENV)/bin/python ## Install test dependencies, chromium and npm packages
	$(PIP) install -q -r requirements-dev.txt
	$(FLASK) translate compile >/dev/null
	@command -v chromium >/dev/null && command -v redis-server >/dev/null && [ -d /usr/share/fonts/truetype/noto ] || $(MAKE) system-deps
	@[ -f node_modules/axe-core/axe.min.js ] || npm ci --no-audit --no-fund

system-deps: ## Debian packages: chromium (browser tests), redis-server (scale-out tests), fonts for PDF exports (Arabic, Chinese)
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium redis-server fonts-noto-core fonts-wqy-microhei >/dev/null

run: install ## Install, upgrade the database, seed the demo and serve on http://127.0.0.1:5000
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(PY) wsgi.py

demo: ## Seed the demo exchange (again with RESET=1)
	$(FLASK) seed-demo $(if $(RESET),--reset,)

test: install-dev ## Run the whole suite on SQLite, then again on PostgreSQL
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

# A run with failures is reported as it is, then its failed tests run once more on their own: a realtime test
# that failed only to a busy machine's timing shows up in the log as such, and a real failure fails twice.
AGAIN = || { echo "== some tests failed (above); running only those once more =="; $(1) $(PY) -m pytest --lf; }

test-sqlite: ## The suite on SQLite only
	$(PY) -m pytest $(call AGAIN,)

test-postgres: ## The suite on the PostgreSQL server at $(POSTGRES_TEST_URL)
	TEST_DATABASE_URL=$(POSTGRES_TEST_URL) $(PY) -m pytest $(call AGAIN,TEST_DATABASE_URL=$(POSTGRES_TEST_URL))

lint: ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: ## ruff format and autofix
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

translations: ## Extract strings and update every catalog
	$(FLASK) translate extract
	$(FLASK) translate update

translations-compile: ## Compile the catalogs (.mo)
	$(FLASK) translate compile

bench: ## Every benchmark scenario against the bare relay (about 20 minutes; see docs/benchmarks.md)
	$(PY) -m bench

bench-quick: ## A reduced run of every benchmark scenario (about a minute on an idle machine)
	$(PY) -m bench --quick
