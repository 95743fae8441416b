# The README's commands. Everything a fresh Debian 12 machine needs is installed by these.
SHELL := /bin/bash
PY := .venv/bin/python
ENV := . var/env &&
DEMO_PORT ?= 8000

.PHONY: demo test setup services stop lint check-migrations messages drill restore-drill bench
.PHONY: site-drill promote-site-b

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

# The restore drill (ops/ha/restore_drill.py, RUNBOOK "Backups and point-in-time recovery"):
# pgBackRest backups under load, a failover, a careless DELETE, point-in-time recovery onto a
# fresh data directory; one JSON line with RPO and RTO. Exit 1 if a write acknowledged before
# the mistake is missing from the restored database.
restore-drill:
	bash ops/local/bootstrap.sh ha
	$(PY) ops/ha/restore_drill.py $(RESTORE_DRILL_ARGS)

# The site-loss drill (ops/ha/site_drill.py, RUNBOOK "Losing the whole site"): site A and site B's
# standby cluster under load, every process of site A killed, site B promoted with the one
# command; one JSON line with the acknowledged writes lost (RPO) and the RTO. Exit 1 if a write
# was applied twice or given up.
site-drill:
	bash ops/local/bootstrap.sh ha
	$(PY) ops/ha/site_drill.py $(SITE_DRILL_ARGS)

# Promote the second site once the first is lost (RUNBOOK "Losing the whole site"):
# SITE_DIR=<the drill's or cluster.py's directory>, or on real machines
# SITE_API=http://dbb1:8008,http://dbb2:8008 (site B's Patroni REST APIs; PGPASSWORD for the check
# that site A's primary is gone). PROMOTE_ARGS=--force only once site A is fenced.
promote-site-b:
	$(PY) ops/ha/second_site.py promote $(if $(SITE_API),--api $(SITE_API),--dir $(SITE_DIR)) $(PROMOTE_ARGS)

# The coverage study (ops/bench/coverage, docs/coverage-study.md): closest-idle against
# coverage-aware dispatch and move-up on the real Haikou network from ../shared/data (or
# $SHARED_DATA); a few minutes, one JSON line last. COVERAGE_ARGS=--quick for a short run.
.PHONY: bench-coverage
bench-coverage:
	$(PY) ops/bench/coverage $(COVERAGE_ARGS)

# The worst hour (ops/bench/surge, docs/targets.md): everything at once against a real daphne,
# the capacity search at 1,000 and 5,000 units, on one app node and on two behind HAProxy. One
# JSON line per step and one last per search; run it on a quiet machine. Each search stops at
# the first rate that fails.
.PHONY: bench-surge
bench-surge:
	$(ENV) $(PY) ops/bench/surge --search --units 1000 $(SURGE_ARGS)
	$(ENV) $(PY) ops/bench/surge --search --units 5000 $(SURGE_ARGS)
	$(ENV) $(PY) ops/bench/surge --search --units 1000 --apps 2 $(SURGE_ARGS)
	$(ENV) $(PY) ops/bench/surge --search --units 5000 --apps 2 $(SURGE_ARGS)

# The year report page (ops/bench/reports, docs/targets.md): a year of 1,000,000 incidents and
# their calls in a PostgreSQL cluster of its own, the page's requests over HTTP against a real
# daphne, cold (PostgreSQL restarted, page cache dropped) and warm; one JSON line last. A quick
# check: REPORTS_ARGS="--incidents 20000 --runs 1".
.PHONY: bench-reports
bench-reports:
	$(PY) ops/bench/reports $(REPORTS_ARGS)
