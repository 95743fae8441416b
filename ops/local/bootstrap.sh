#!/usr/bin/env bash
# Install what the project needs and is missing: Debian packages, the Python venv, browser
# libraries from npm. Safe to run again; does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/../.."

APT_PACKAGES=(python3-venv postgresql-15 postgresql-15-postgis-3 postgresql-contrib gdal-bin libgdal32
  libgeos-c1v5 libproj25 redis-server gettext nodejs npm
  etcd-server haproxy  # etcd, haproxy: tests/ha/ runs the leader watch, tests/ops/ the proxy's rules, for real
  nftables  # tests/ha/: a blackholed database host, in a network namespace of the test's own
  pgbackrest  # tests/ha/test_backup_config.py: the backup configuration read by pgBackRest itself
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk)  # WeasyPrint: the month report's PDF, in Chinese
BROWSER_PACKAGES=(chromium fonts-noto-cjk)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

install_apt() {
  local wanted=("${APT_PACKAGES[@]}")
  [ "${WITH_BROWSER:-0}" = 1 ] && wanted+=("${BROWSER_PACKAGES[@]}")
  # node/npm may come from elsewhere (nvm, the image): only ask apt when the command is absent.
  command -v node >/dev/null && wanted=("${wanted[@]/nodejs}")
  command -v npm >/dev/null && wanted=("${wanted[@]/npm}")
  local missing
  missing=$(missing_packages ${wanted[@]})
  if [ -n "$missing" ]; then
    echo "== installing Debian packages: $missing"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q $missing
  fi
}

install_venv() {
  local stamp=.venv/.requirements.sha
  local want
  want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    python3 -m venv .venv
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== installing Python packages (requirements.txt)"
    .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
    echo "$want" > "$stamp"
  fi
}

install_npm() {
  local stamp=node_modules/.package-lock.sha
  local want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== installing browser libraries (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
}

# --- high availability (make drill): etcd, HAProxy, Redis Sentinel from Debian; Patroni 4 from PyPI
# in its own venv, since Debian's Patroni 3.0.2 lacks a data-loss fix (docs/platform-notes.md). Only on request
# (`bootstrap.sh ha`), so `make test` installs none of it.
HA_APT_PACKAGES=(python3-venv etcd-server etcd-client haproxy redis-sentinel
  nftables  # the drill's network partition (ops/ha/drill.py), rules in a table of its own
  pgbackrest  # WAL archiving, backups, point-in-time recovery (ops/ha/backup.py)
  gcc)  # the primary's lease module (ops/ha/lease/d120_lease.c); its headers: ops/ha/cluster.py
HA_VENV=var/ha-venv

install_ha() {
  local missing
  missing=$(missing_packages "${HA_APT_PACKAGES[@]}")
  if [ -n "$missing" ]; then
    echo "== installing Debian packages for the HA cluster: $missing"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends $missing
  fi
  local stamp=$HA_VENV/.requirements.sha want
  want=$(sha256sum ops/ha/requirements.txt | cut -d' ' -f1)
  # Debian's own Python, not a per-user one (pyenv under /root): Patroni runs as `postgres`,
  # which must be able to read the interpreter.
  if [ ! -x $HA_VENV/bin/python ] || { [ "$(id -u)" = 0 ] && ! runuser -u postgres -- $HA_VENV/bin/python -c ''; }; then
    rm -rf $HA_VENV
    /usr/bin/python3 -m venv $HA_VENV
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== installing Patroni (ops/ha/requirements.txt) into $HA_VENV"
    $HA_VENV/bin/pip install -q --disable-pip-version-check -r ops/ha/requirements.txt
    echo "$want" > "$stamp"
  fi
}

install_apt
install_venv
install_npm
if [ "${1:-}" = ha ]; then install_ha; fi
