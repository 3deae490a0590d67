# Two commands on a fresh machine: `make demo` (set up, then run the main job on synthetic
# data) and `make test` (set up, then lint, install chromium if missing, and run the tests).
# Set-up happens once, in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-encryption lint chromium bench clean

# Prefect must never try to reach the internet, whatever the caller's environment.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Encryption at rest needs DuckDB 1.4.4 with the extension packages (pyproject's `encryption`
# extra): a second venv, so that the main one keeps DuckDB 2.0.
ENC_VENV := .venv-encryption
ENC_STAMP := $(ENC_VENV)/.installed

$(ENC_STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(ENC_VENV)
	$(ENC_VENV)/bin/pip install --quiet --upgrade pip
	$(ENC_VENV)/bin/pip install --quiet -e '.[test,encryption]'
	touch $(ENC_STAMP)

demo: $(STAMP)
	$(BIN)/famlink nightly --demo --persons 10000 --workdir data/demo

lint: $(STAMP)
	$(BIN)/ruff check .

# The browser tests (tests/test_browser.py) drive Debian's chromium, never a downloaded browser.
# Missing and run as root (CI): installed with apt. Missing otherwise: say what to install, and
# those tests skip. Already there: nothing, silently.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing Debian's chromium for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	      >/dev/null; \
	  else \
	    echo "make: chromium is missing, so the browser tests will skip;" \
	         "install it with: sudo apt-get install chromium"; \
	  fi; }

# After the main suite (where tests/test_encryption.py skips), the encryption tests on 1.4.4:
# about 20 s, plus about a minute to make .venv-encryption the first time.
test: lint chromium
	$(BIN)/python -m pytest
	$(MAKE) test-encryption

test-encryption: $(ENC_STAMP)
	$(ENC_VENV)/bin/python -m pytest tests/test_encryption.py

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,peers]'
	$(BIN)/python benchmarks/synth_speed.py
	$(BIN)/python benchmarks/ingest_speed.py
	$(BIN)/python benchmarks/linkage.py --records 1000000
	$(BIN)/python benchmarks/families_speed.py --persons 1000000

clean:
	rm -rf $(VENV) $(ENC_VENV) data build .pytest_cache
