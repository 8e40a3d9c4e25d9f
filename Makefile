# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test setup setup-dev db lint bench clean-venv

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11, 5), "Python >= 3.11.5 is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

## Create or upgrade the database, load the lessons, make sure an HR account exists.
db: setup
	$(FLASK) db upgrade
	$(FLASK) content sync
	$(FLASK) users ensure-hr

## Set up, initialise the SQLite database in instance/, and serve on http://127.0.0.1:$(PORT).
# Local runs are plain HTTP, so the session cookie may not require HTTPS here.
run: db
	TRAINING_SESSION_COOKIE_SECURE=false $(FLASK) run --host 127.0.0.1 --port $(PORT)

## Set up with dev dependencies and run the whole suite.
test: setup-dev
	$(BIN)/ruff check training tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmark the app under gunicorn against a bare Flask app on 10,000 employees (under 10 minutes).
bench: setup-dev
	$(BIN)/python benchmarks/bench.py

lint: setup-dev
	$(BIN)/ruff check training tests benchmarks
	$(BIN)/ruff format --check training tests benchmarks
	$(BIN)/mypy

clean-venv:
	rm -rf $(VENV)
