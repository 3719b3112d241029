# Two commands for a newcomer on a fresh machine with Python 3.11:
#   make demo   install everything, start the local ERP (Tryton), the SparkLayer sandbox and Dagster on :3000
#   make test   install everything and run the whole test suite (SQLite and PostgreSQL)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.py | sha1sum | cut -c1-12)

.PHONY: install demo test lint erp sandbox bench clean

$(STAMP): setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	@test -f .env || cp .env.example .env
	$(BIN)/sparklayer-erp demo

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

erp: install
	$(BIN)/sparklayer-erp erp serve

sandbox: install
	$(BIN)/sparklayer-erp sandbox

bench: install
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf .data .dagster_home
