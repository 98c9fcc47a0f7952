# Two entry points, both from a fresh machine with Python >= 3.11 and make:
#   make run   installs into .venv and starts the embedded stack (Temporal dev server + UI, PostgreSQL, worker, API)
#   make test  installs into .venv and runs the whole test suite (lint, types, unit, integration, end-to-end)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/pacte dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The event store's tests also run on the machine's PostgreSQL when one answers at 127.0.0.1:5432 (CI has one).
LOCAL_PG := $(shell command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 && echo postgresql://postgres@127.0.0.1:5432/postgres)
PACTE_TEST_DATABASE_URL ?= $(LOCAL_PG)
export PACTE_TEST_DATABASE_URL

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.eventstore

clean:
	rm -rf $(VENV) .pacte .pytest_cache .mypy_cache .ruff_cache
