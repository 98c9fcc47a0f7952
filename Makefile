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

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench.eventstore

clean:
	rm -rf $(VENV) .pacte .pytest_cache .mypy_cache .ruff_cache
