# Two commands on a fresh machine: `make demo` (set up, then run the main job on synthetic
# data) and `make test` (set up, then lint and run the tests). Set-up happens once, in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/famlink nightly --persons 10000 --workdir data/demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/synth_speed.py

clean:
	rm -rf $(VENV) data build .pytest_cache
