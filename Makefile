# Encoder Lens — the two commands the README promises:
#   make run    set up and start the app
#   make test   set up and run every check and test (lint, format, types, core, pages, real browser)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/pip install --disable-pip-version-check -q

.PHONY: setup run dev test lint typecheck bench fixtures weights-pack

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-nodeps.txt requirements-dev.txt pyproject.toml
	$(PIP) -r requirements-dev.txt
	$(PIP) --no-deps -r requirements-nodeps.txt
	$(PIP) --no-deps -e .
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/streamlit run app.py

# for editing the app: reload on save (watches the project folder, so it costs CPU while it runs)
dev: setup
	$(BIN)/streamlit run app.py --server.fileWatcherType auto --server.runOnSave true

test: setup
	scripts/ensure_chromium.sh
	scripts/ensure_postgres.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

bench: setup
	$(PIP) -r requirements-bench.txt
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# Parity fixtures are made in a separate reference environment (see tests/parity/README.md).
REFPY ?= /work/refvenv/bin/python
fixtures:
	$(REFPY) tests/parity/make_fixtures.py

# A folder of checked official weights for a classroom with no network (see vision_core/weights.py):
#   make weights-pack WEIGHTS_DIR=/media/usb/encoder-lens-weights [ENCODERS="dino_vits16 resnet50"]
# then, on the classroom machine: ENCODER_LENS_WEIGHTS=/media/usb/encoder-lens-weights make run
WEIGHTS_DIR ?= weights-pack
ENCODERS ?=
weights-pack: setup
	$(BIN)/python -m vision_core.weights prepare $(WEIGHTS_DIR) $(ENCODERS)
