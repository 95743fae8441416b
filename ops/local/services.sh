#!/usr/bin/env bash
# Embedded default (docs/decisions/0010-embedded-default.md): when DATABASE_URL / REDIS_URL are not set, run a local
# PostgreSQL + PostGIS and a local Redis with their data under var/, on free loopback ports,
# and write var/env for the Makefile to source. `services.sh start|stop|status`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VAR="$ROOT/var"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGDATA="$VAR/pg/data"
PGRUN="$VAR/pg/run"
REDISDIR="$VAR/redis"
ENVFILE="$VAR/env"
mkdir -p "$VAR"

# PostgreSQL refuses to run as root: run it as the `postgres` user then.
if [ "$(id -u)" = 0 ]; then PGUSER_OS=postgres; else PGUSER_OS=$(id -un); fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

free_port() { "$ROOT/.venv/bin/python" "$ROOT/ops/local/free_port.py" "$@"; }

read_state() { [ -f "$VAR/ports" ] && . "$VAR/ports" || true; }

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

redis_running() {
  [ -f "$REDISDIR/redis.pid" ] && kill -0 "$(cat "$REDISDIR/redis.pid")" 2>/dev/null
}

start_postgres() {
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    echo "== creating local PostgreSQL cluster in var/pg"
    mkdir -p "$PGDATA" "$PGRUN"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$VAR/pg"
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$VAR/pg/.pw"
    chmod 600 "$VAR/pg/.pw"
    cp "$VAR/pg/.pw" "$VAR/pg/run/.pwfile"
    [ "$(id -u)" = 0 ] && chown postgres "$VAR/pg/run/.pwfile"
    as_pg "$PGBIN/initdb" -D "$PGDATA" -U dispatch120 --auth=scram-sha-256 \
      --pwfile="$VAR/pg/run/.pwfile" -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$VAR/pg/run/.pwfile"
  fi
  if ! pg_running; then
    PG_PORT=${PG_PORT:-$(free_port 55432)}
    echo "== starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$VAR/pg/server.log" -w -t 60 start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGRUN \
          -c fsync=${PG_FSYNC:-on} -c max_connections=200 -c shared_buffers=256MB" >/dev/null
  fi
  PG_PORT=$(sed -n 4p "$PGDATA/postmaster.pid")
}

ensure_database() {
  local pw
  pw=$(cat "$VAR/pg/.pw")
  export PGPASSWORD="$pw"
  local psql=("$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U dispatch120 -d postgres -qtAX)
  if [ -z "$("${psql[@]}" -c "select 1 from pg_database where datname='dispatch120'")" ]; then
    "${psql[@]}" -c "create database dispatch120"
  fi
  "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U dispatch120 -d dispatch120 -qtAX \
    -c "create extension if not exists postgis; create extension if not exists pg_trgm;"
  # The test database is made from template1: give it PostGIS too, so test runs need no
  # CREATE EXTENSION race and work for a non-superuser deployment as well.
  "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U dispatch120 -d template1 -qtAX \
    -c "create extension if not exists postgis; create extension if not exists pg_trgm;"
  unset PGPASSWORD
}

start_redis() {
  mkdir -p "$REDISDIR"
  if ! redis_running; then
    REDIS_PORT=$(free_port 56379)
    # Redis answers only with its password, even on loopback: another local user or a page
    # that tricks a browser into talking to it gets nothing.
    REDIS_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
    echo "== starting Redis on 127.0.0.1:$REDIS_PORT"
    (umask 077; printf 'port %s\nrequirepass %s\n' "$REDIS_PORT" "$REDIS_PASSWORD" > "$REDISDIR/redis.conf")
    redis-server "$REDISDIR/redis.conf" --bind 127.0.0.1 --dir "$REDISDIR" --daemonize yes \
      --pidfile "$REDISDIR/redis.pid" --logfile "$REDISDIR/redis.log" --save "" --appendonly no
    for _ in $(seq 50); do redis_running && break; sleep 0.1; done
    (umask 077; printf 'REDIS_PORT=%s\nREDIS_PASSWORD=%s\n' "$REDIS_PORT" "$REDIS_PASSWORD" > "$REDISDIR/port")
  fi
  . "$REDISDIR/port"
}

# This installation's own SECRET_KEY, made once: daphne refuses the published development key.
secret_key() {
  if [ ! -s "$VAR/secret_key" ]; then
    (umask 077; head -c 48 /dev/urandom | base64 | tr -d '/+=\n' > "$VAR/secret_key")
  fi
  cat "$VAR/secret_key"
}

# The key that seals stored secrets (hospitals/secrets.py), made once.
data_key() {
  if [ ! -s "$VAR/data_key" ]; then
    (umask 077; "$ROOT/.venv/bin/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$VAR/data_key")
  fi
  cat "$VAR/data_key"
}

write_env() {
  local pw
  pw=$(cat "$VAR/pg/.pw")
  {
    echo "# Written by ops/local/services.sh for the embedded PostgreSQL and Redis."
    echo "export DATABASE_URL='postgres://dispatch120:$pw@127.0.0.1:$PG_PORT/dispatch120'"
    echo "export REDIS_URL='redis://${REDIS_PASSWORD:+:$REDIS_PASSWORD@}127.0.0.1:$REDIS_PORT/0'"
    echo "export SECRET_KEY='$(secret_key)'"
    echo "export DATA_ENCRYPTION_KEY='$(data_key)'"
  } > "$ENVFILE"
}

stop_all() {
  if pg_running; then as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null && echo "PostgreSQL stopped"; fi
  if redis_running; then kill "$(cat "$REDISDIR/redis.pid")" && echo "Redis stopped"; fi
  rm -f "$ENVFILE"
}

case "${1:-start}" in
  start)
    if [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}${REDIS_SENTINELS:-}" ]; then
      echo "== using DATABASE_URL and REDIS_URL from the environment"
      { echo "export DATABASE_URL='$DATABASE_URL'"; echo "export REDIS_URL='${REDIS_URL:-}'"
        echo "export SECRET_KEY='${SECRET_KEY:-$(secret_key)}'"
        echo "export DATA_ENCRYPTION_KEY='${DATA_ENCRYPTION_KEY:-$(data_key)}'"; } > "$ENVFILE"
      exit 0
    fi
    start_postgres
    ensure_database
    start_redis
    write_env
    ;;
  stop) stop_all ;;
  status)
    pg_running && echo "PostgreSQL: running" || echo "PostgreSQL: stopped"
    redis_running && echo "Redis: running" || echo "Redis: stopped"
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
