# Encoder Lens — the two commands the README promises:
#   make run    set up and start the app
#   make test   set up and run every test (core, pages, real browser)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup run test lint bench fixtures

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/streamlit run app.py

test: setup
	scripts/ensure_chromium.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-bench.txt
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# Parity fixtures are made in a separate reference environment (see tests/parity/README.md).
REFPY ?= /work/refvenv/bin/python
fixtures:
	$(REFPY) tests/parity/make_fixtures.py
