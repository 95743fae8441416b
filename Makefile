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
	$(ENV) $(PY) manage.py create_demo_users
	@echo "== serving on http://127.0.0.1:$(DEMO_PORT)  (Ctrl-C stops)"
	$(ENV) DEMO_MODE=1 .venv/bin/daphne -b 127.0.0.1 -p $(DEMO_PORT) dispatch.asgi:application

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

test: export WITH_BROWSER=1
test: export CHANNEL_PREFIX=d120test
test: setup messages lint
	$(ENV) $(PY) manage.py makemigrations --check --dry-run
	$(ENV) .venv/bin/pytest $(PYTEST_ARGS)
