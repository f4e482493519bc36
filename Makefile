# Two commands do everything on a fresh machine:
#   make run   - install what is needed, then start the app on the shipped weights
#   make test  - install what is needed, then run the whole test suite
# and a third builds the documentation site:
#   make docs  - install what is needed, then build docs/ into site/ (mkdocs build --strict)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
CHROMIUM := /usr/lib/chromium/chromium
ARGS ?=

.PHONY: run test test-fast docs install chromium lint format clean-venv

$(STAMP): requirements.txt requirements-docs.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright never downloads a browser here).
chromium:
	@test -x $(CHROMIUM) || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| (echo "could not install Debian's chromium: run 'apt-get install -y chromium' as root" && exit 1)

run: install
	$(PY) app.py $(ARGS)

test: install chromium
	$(PY) -m pytest -q $(ARGS)

test-fast: install
	$(PY) -m pytest -q -m "not slow and not browser" $(ARGS)

docs: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict $(ARGS)

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .
