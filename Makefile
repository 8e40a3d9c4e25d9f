# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

# Installs come from the lock files in requirements/ (pinned versions of everything); the
# project itself is installed on top without resolving again. `make lock` rewrites them.
JOBS ?= auto

.PHONY: run dev test setup setup-dev catalogs db lint bench bench-hr lock clean-venv ldap-tools pgbouncer-tool

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11, 5), "Python >= 3.11.5 is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml requirements/base.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/base.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed

# The UI's compiled catalogs (training/translations/*/LC_MESSAGES/messages.mo) are built, not
# committed: from each messages.po, whenever it is newer.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard training/translations/*/LC_MESSAGES/messages.po))

training/translations/%/LC_MESSAGES/messages.mo: training/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@

catalogs: $(CATALOGS)

setup: $(VENV)/.installed catalogs

setup-dev: $(VENV)/.installed-dev catalogs tests/scorm/node_modules/.installed tests/a11y/node_modules/.installed \
	tests/oidc/node_modules/.installed \
	.venv-ralph/.installed ldap-tools pgbouncer-tool

# Test-only: Debian's OpenLDAP server and tools, which tests/auth/slapd.py starts for the
# directory sign-in tests (as an unprivileged process on a free port). Installed if missing;
# as a user other than root, through sudo.
ldap-tools:
	@if ! [ -x /usr/sbin/slapd ] || ! command -v ldapadd >/dev/null 2>&1 \
		|| ! command -v openssl >/dev/null 2>&1; then \
		echo "== installing Debian slapd, ldap-utils and openssl for the directory sign-in tests"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils openssl >/dev/null; \
	fi

# Test-only: Debian's PgBouncer, which tests/app/test_pgbouncer.py starts in front of the test
# PostgreSQL in transaction mode (as an unprivileged process on a free port).
pgbouncer-tool:
	@if ! [ -x /usr/sbin/pgbouncer ]; then \
		echo "== installing Debian pgbouncer for the connection-pooler test"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
	fi

# Test-only: the ralph LRS and its xAPI models (ralph-malph), in a virtualenv of their own
# because ralph pins versions of click and others that the app's own lock does not share.
.venv-ralph/.installed: requirements/ralph.txt
	$(PYTHON) -m venv .venv-ralph
	.venv-ralph/bin/python -m pip install --quiet -r requirements/ralph.txt
	@touch $@

# Test-only JavaScript: a real SCORM 1.2 runtime and the SCORM 1.2 schemas, from npm.
tests/scorm/node_modules/.installed: tests/scorm/package.json tests/scorm/package-lock.json
	npm ci --prefix tests/scorm --no-audit --no-fund --ignore-scripts --silent
	@touch $@

# Test-only JavaScript: a real OpenID Provider (panva's oidc-provider), which tests/oidc starts.
tests/oidc/node_modules/.installed: tests/oidc/package.json tests/oidc/package-lock.json
	npm ci --prefix tests/oidc --no-audit --no-fund --ignore-scripts --silent
	@touch $@

# Test-only JavaScript: axe-core, the accessibility checker the browser tests inject in every page.
tests/a11y/node_modules/.installed: tests/a11y/package.json tests/a11y/package-lock.json
	npm ci --prefix tests/a11y --no-audit --no-fund --ignore-scripts --silent
	@touch $@

## Create or upgrade the database, load the lessons, make sure an HR account exists.
db: setup
	$(FLASK) db upgrade
	$(FLASK) content sync
	$(FLASK) users ensure-hr

## Set up, initialise the SQLite database in instance/, and serve on http://127.0.0.1:$(PORT)
## with gunicorn (the production server: several workers, no debugger).
# Local runs are plain HTTP, so the session cookie may not require HTTPS here.
WORKERS ?= 2
run: db
	TRAINING_SESSION_COOKIE_SECURE=false $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) \
		--workers $(WORKERS) --access-logfile - wsgi:app

## The same with Flask's development server: reloads on every change (never in production).
dev: db
	TRAINING_SESSION_COOKIE_SECURE=false $(FLASK) run --debug --host 127.0.0.1 --port $(PORT)

## Set up with dev dependencies and run the whole suite.
test: setup-dev
	$(BIN)/ruff check training tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(JOBS) $(PYTEST_ARGS)

## Benchmark: the app under gunicorn beside a bare hello app and a bare durable-insert app
## (interleaved blocks), the HR pages at 1,000 and 10,000 employees, `flask notify send` over
## 10,000 due reminders (SQLite about 13 minutes, PostgreSQL 30 on a loaded machine), then norm parsing at 1× and 100× (seconds).
## BENCH_ARGS=--quick: a cached 200/2,000-employee run under 90 s that exits 1 on a missed goal;
## --check fails the full run on a miss; --database-url postgresql+psycopg://… runs it on
## PostgreSQL with 4 workers; --employees 100000 the larger company. See benchmarks/README.md.
bench: setup-dev
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
	@case " $(BENCH_ARGS) " in *" --quick "*) ;; *) $(BIN)/python benchmarks/bench_norm.py ;; esac

## HR pages at 1,000 and 10,000 employees side by side (about 5 minutes; BENCH_ARGS=--check
## fails on a missed goal, --database-url postgresql+psycopg://… runs it on PostgreSQL).
bench-hr: setup-dev
	$(BIN)/python benchmarks/hr_scale.py $(BENCH_ARGS)

lint: setup-dev
	$(BIN)/ruff check training tests benchmarks
	$(BIN)/ruff format --check training tests benchmarks
	$(BIN)/mypy

## Re-resolve the dependencies of pyproject.toml into the lock files.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements/base.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--extra dev --output-file requirements/dev.txt pyproject.toml

clean-venv:
	rm -rf $(VENV)
