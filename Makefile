# The two commands of a fresh machine:  `make run`  (app on the embedded PostgreSQL + demo data)  and  `make test`.
# Everything they need is installed by the targets below; nothing is expected to be on the machine but python3.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test deps dev-deps chromium wrk migrate demo worker beat lint bench clean db-stop db-reset

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

deps: $(VENV)/.installed

dev-deps: $(VENV)/.installed-dev chromium wrk

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-liberation >/dev/null; }

# The load benchmark (make bench, and its test) drives gunicorn with Debian's wrk.
wrk:
	@command -v wrk >/dev/null || { \
	  echo "Installing Debian's wrk for the load benchmark"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

migrate: deps
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --if-empty

## make run: install, migrate, load demo data (first time), then serve on http://127.0.0.1:8000/ with the Celery worker
## and beat beside the web server (Procfile.dev, run by honcho; Ctrl-C stops all three). Without REDIS_URL the queue is
## files in var/celery/ (prm/filequeue.py); without EMAIL_URL email goes to var/mail/, shown at /dev/mailbox/.
run: demo
	@find "$${VAR_DIR:-var}/celery/processed" -type f -mmin +1440 -delete 2>/dev/null || true
	@echo
	@echo "Starting the web server, the Celery worker and beat (Ctrl-C stops all three):"
	@echo "  app      http://$(HOST):$(PORT)/   log in with a demo user printed above"
	@echo "  mailbox  http://$(HOST):$(PORT)/dev/mailbox/   email sent while EMAIL_URL is unset (files in var/mail/)"
	@echo
	HOST=$(HOST) SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	  $(VENV)/bin/honcho -f Procfile.dev start -p $(PORT)

## make test: install (incl. test tools and Chromium), then the whole suite, nothing skipped.
## Without DATABASE_URL it runs on the embedded PostgreSQL, without REDIS_URL on a private Redis (tests/with_redis.py);
## .ci/run sets both to the machine's own servers.
test: dev-deps
	$(PY) -m tests.with_redis $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .

## make worker / make beat: production-style, one process each (on REDIS_URL; run exactly one beat). `make run`
## starts both itself.
worker: deps
	$(VENV)/bin/celery -A prm worker --loglevel=INFO

beat: deps
	$(VENV)/bin/celery -A prm beat --loglevel=INFO --schedule /tmp/prm-celerybeat-schedule

## make bench: the benchmark suite (see docs/benchmarks.md), on DATABASE_URL or the embedded PostgreSQL.
bench: dev-deps wrk
	$(PY) manage.py bench $(BENCH_ARGS)

## The embedded PostgreSQL (used when DATABASE_URL is unset) keeps its data in .pgdata/ and keeps running between
## commands: db-stop stops it; db-reset stops it and deletes its data (the next command creates it afresh).
db-stop: deps
	$(PY) -c "from pathlib import Path; from prm import embedded; print('stopped' if embedded.stop(Path('.').resolve()) else 'not running')"

db-reset: db-stop
	rm -rf .pgdata .pgdata.lock

clean: db-stop
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache artifacts
