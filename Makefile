# Two entry points, both from a fresh machine with Python >= 3.11 and make:
#   make run   installs into .venv and starts the embedded stack (Temporal dev server + UI, PostgreSQL, worker, API)
#   make test  installs into .venv and runs the whole test suite (lint, types, unit, integration, end-to-end)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install lint bench clean browser oidc

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory oidc; fi
	$(BIN)/pacte dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The event store's tests also run on the machine's PostgreSQL when one answers at 127.0.0.1:5432 (CI has one).
LOCAL_PG := $(shell command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 && echo postgresql://postgres@127.0.0.1:5432/postgres)
PACTE_TEST_DATABASE_URL ?= $(LOCAL_PG)
export PACTE_TEST_DATABASE_URL

# The browser walkthrough runs in Debian's Chromium (Playwright drives it; it downloads no browser of its own).
# Missing, it is installed when this runs as root with apt (CI); otherwise make says what to install and stops.
CHROMIUM ?= $(or $(PACTE_CHROMIUM),$(shell command -v chromium 2>/dev/null))
browser:
	@if [ -z "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
	  else \
	    echo "The browser tests need Chromium: install Debian's package (sudo apt-get install chromium)," \
	         "or set PACTE_CHROMIUM to a Chromium binary."; exit 1; \
	  fi; \
	fi

# A real OpenID provider, ProConnect-shaped, for the sign-in tests and `pacte dev` (panva/oidc-provider on Node,
# pinned by pacte/oidc_provider/package-lock.json). The tests need it; `make run` installs it when npm is there
# (without Node, `pacte dev` offers the demo sign-in alone).
OIDC := pacte/oidc_provider
$(OIDC)/node_modules/.installed: $(OIDC)/package-lock.json
	@command -v npm >/dev/null || { echo "The sign-in tests run a local OpenID provider on Node.js: install node and npm."; exit 1; }
	cd $(OIDC) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

oidc: $(OIDC)/node_modules/.installed

# The suite's files run on two workers (pytest-xdist), each with its own databases, Temporal servers and browser;
# a file's tests stay together, in order, on one worker. PYTEST_WORKERS=0 runs everything in this process.
PYTEST_WORKERS ?= 2
test: lint browser oidc
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.eventstore

clean:
	rm -rf $(VENV) .pacte .pytest_cache .mypy_cache .ruff_cache
