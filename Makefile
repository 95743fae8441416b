# The README's commands. Everything a fresh Debian 12 machine needs is installed by these.
SHELL := /bin/bash
PY := .venv/bin/python
ENV := . var/env &&
DEMO_PORT ?= 8000

.PHONY: demo test setup services stop lint check-migrations messages drill bench

setup:
	bash ops/local/bootstrap.sh
	bash ops/local/services.sh start

services:
	bash ops/local/services.sh start

stop:
	bash ops/local/services.sh stop

messages:
	$(PY) manage.py compilemessages -v 0 --ignore=.venv --ignore=node_modules --ignore=var

demo: setup messages
	$(ENV) $(PY) manage.py migrate --noinput -v 0
	$(ENV) $(PY) manage.py make_demo_city --if-missing
	$(ENV) DEMO_MODE=1 $(PY) manage.py create_demo_users
	$(ENV) $(PY) manage.py make_demo_history
	@echo "== serving on http://127.0.0.1:$(DEMO_PORT), the simulator makes the city live (Ctrl-C stops all)"
	$(ENV) export DEMO_MODE=1 && \
	  { $(PY) manage.py run_workers > var/workers.log 2>&1 & echo $$! > var/workers.pid; } && \
	  { $(PY) manage.py simulate --base-url http://127.0.0.1:$(DEMO_PORT) --pace 4 > var/simulator.log 2>&1 & \
	    echo $$! > var/simulator.pid; } && \
	  trap 'kill $$(cat var/simulator.pid var/workers.pid) 2>/dev/null' EXIT && \
	  ACCESS_LOG_FILE=var/access.log .venv/bin/daphne --access-log /dev/null -b 127.0.0.1 -p $(DEMO_PORT) dispatch.asgi:application

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache
	.venv/bin/mypy

test: export WITH_BROWSER=1
test: export CHANNEL_PREFIX=d120test
test: setup messages lint
	$(ENV) $(PY) manage.py makemigrations --check --dry-run
	$(ENV) .venv/bin/pytest $(PYTEST_ARGS)

# The failover drill (ops/ha/drill.py, ops/ha/RUNBOOK.md): installs etcd, HAProxy, Redis Sentinel
# and Patroni if missing, starts the whole HA topology under a temporary directory, kills each
# part in turn and prints one line per scenario and one JSON line last. Exit 1 if anything
# acknowledged was lost or doubled.
drill:
	bash ops/local/bootstrap.sh ha
	$(PY) ops/ha/drill.py $(DRILL_ARGS)
