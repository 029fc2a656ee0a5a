# Wattwatch: `make run` serves everything on this machine; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults for `make run`; production sets its own environment.
RUN_ENV := DEBUG=$${DEBUG:-1}
TEST_ENV := DEBUG=1 DB_CONN_MAX_AGE=0 SECRET_KEY=test-only-secret-key-that-is-long-enough-for-django-checks-1234567890

.PHONY: run test lint typecheck check check-deploy migrations-check venv clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# `make run` simulates the demo campus on an empty database and replays it live; REPLAY=0 turns replay off.
run: venv
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo --if-empty
	$(RUN_ENV) $(PY) manage.py train_baseline --if-missing
	$(RUN_ENV) REPLAY=$${REPLAY:-1} HOST=$(HOST) PORT=$(PORT) $(PY) -m config.serve

lint: venv
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(TEST_ENV) $(VENV)/bin/lint-imports  # apps import downward only, no cycles (.importlinter)

typecheck: venv
	$(TEST_ENV) $(PY) -m mypy .

migrations-check: venv
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

check-deploy: venv
	DEBUG=0 SECRET_KEY=$$(head -c 64 /dev/urandom | base64 | tr -d '\n/+=' | head -c 60) ALLOWED_HOSTS=wattwatch.example.org \
		$(PY) manage.py check --deploy --fail-level WARNING

check: lint typecheck migrations-check check-deploy

test: venv check
	$(TEST_ENV) $(PY) -m pytest

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
