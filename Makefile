# The two commands: `make run` (platform with demo data) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults; production sets SECRET_KEY and DEBUG=0 itself.
export DEBUG ?= 1

.PHONY: run serve test install install-dev install-semantic lint lock migrate demo worker beat bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs come from the locks (every package pinned); requirements*.txt hold the direct pins.
$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

$(VENV)/.dev: requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $(VENV)/.runtime $@

# Regenerate the locks after changing a pin in requirements.txt or requirements-dev.txt.
LOCK_OPTIONS := --quiet --strip-extras --no-emit-index-url --no-emit-find-links
lock: install-dev
	$(BIN)/pip-compile $(LOCK_OPTIONS) --output-file requirements.lock requirements.txt
	$(BIN)/pip-compile $(LOCK_OPTIONS) --output-file requirements-dev.lock requirements-dev.txt

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# Optional semantic mode for open comments; torch alone first so pip keeps the CPU build.
install-semantic: install
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements-semantic.txt

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The demo's e-mailed links point at the address `make run` serves on, unless configured.
demo: migrate
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/python manage.py seed_demo

run: demo
	@echo "Serving on http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/, API docs: http://$(HOST):$(PORT)/api/docs/)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-style web process: static files collected, gunicorn with WEB_WORKERS processes.
WEB_WORKERS ?= 4
serve: migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn cxsurvey.wsgi --workers $(WEB_WORKERS) --bind $(HOST):$(PORT) --access-logfile -

# Style, migrations, the layers (import-linter contracts in pyproject.toml) and types (mypy).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A cxsurvey worker --loglevel=info

beat: install
	$(BIN)/celery -A cxsurvey beat --loglevel=info --scheduler django_celery_beat.schedulers:DatabaseScheduler

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
