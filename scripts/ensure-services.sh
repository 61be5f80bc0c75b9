#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis the tests use are running; starts them when stopped. Installs
# SecantusDB (a MongoDB-wire server, which the log-store tests start themselves) into ./.venv.
# Honour TEST_POSTGRES_URL / TEST_REDIS_URL when they point elsewhere.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if [ -z "${TEST_POSTGRES_URL:-}" ] && ! pg_up; then
  echo "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
fi

if [ -z "${TEST_REDIS_URL:-}" ] && ! redis_up; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
fi

# SecantusDB, the MongoDB-wire server the log-store tests start themselves, in ./.venv.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
if ! "$venv/bin/python" -c 'import secantus' >/dev/null 2>&1; then
  echo "installing SecantusDB into .venv"
  python="$(command -v python3.11 || command -v python3)"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --pre secantusdb
  "$venv/bin/python" -c 'import secantus' || { echo "SecantusDB did not install into $venv" >&2; exit 1; }
fi
