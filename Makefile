# Two commands for a newcomer on a fresh machine with Python 3.11:
#   make demo   install everything, start the local ERP (Tryton), the SparkLayer sandbox and Dagster on :3000
#   make test   install everything and run the whole test suite (SQLite and PostgreSQL)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever the packaging metadata (pyproject.toml, the setup.py shim) changes. Extras installed:
# demo (the SparkLayer sandbox; the demo and the tests need it) and dev (test, lint and dependency checks).
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.py | sha1sum | cut -c1-12)

.PHONY: install demo test lint erp sandbox bench clean

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[demo,dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	@test -f .env || cp .env.example .env
	$(BIN)/sparklayer-erp demo

# pytest runs in random order (pytest-randomly); the header prints the seed. Repeat an order with
#   make test PYTEST_ARGS='-p randomly --randomly-seed=<seed>'    (or PYTEST_ARGS='-p no:randomly')
test: install
	$(BIN)/ruff check .
	$(BIN)/deptry .
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/deptry .
	$(BIN)/lint-imports --no-logo --no-cache

erp: install
	$(BIN)/sparklayer-erp erp serve

sandbox: install
	$(BIN)/sparklayer-erp sandbox

bench: install
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf .data .dagster_home
