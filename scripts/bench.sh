#!/usr/bin/env bash
# Benchmarks, reported as figures (never as pass/fail tests):
#   - access-token verifications/s on one core (micro-benchmark)
#   - the argon2id ceiling: verifications/s on one core and on all cores (micro-benchmark)
#   - foundation (release) on PostgreSQL: idle RSS, login requests/s, p50/p99 of
#     GET /api/foundation/users?size=20 and of GET /api/foundation/users/{id} with 10,000 users,
#     and RSS before, during and after a login storm over those 10,000 accounts, driven by wrk on
#     loopback.
#   - the whole sale across all five processes through the gateway (scripts/bench/sale.sh): 16
#     clients for 60 s, sales/s, p50/p99 per step, errors, each process's RSS idle and under load.
# BENCH_SKIP_MICRO=1, BENCH_SKIP_SM=1, BENCH_SKIP_OW=1, BENCH_SKIP_WS=1, BENCH_SKIP_AM=1,
# BENCH_SKIP_SALE=1 and BENCH_SKIP_GATEWAY=1 leave out the micro-benchmarks, service-management
# (scripts/bench/service-management.sh), order-workflow (scripts/bench/order-workflow.sh), its
# notification sockets (scripts/bench/ws.sh), analytics-monitoring
# (scripts/bench/analytics-monitoring.sh), the whole sale (scripts/bench/sale.sh) and the gateway.
# The load generator shares the machine's cores with the server; compare figures from one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
out=bench-results
mkdir -p "$out"
DURATION=${BENCH_DURATION:-15s}
PORT=${BENCH_PORT:-18181}
PGURL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
DB=crm_bench_foundation

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)"
  (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk)) \
    || { echo "wrk is required for the HTTP benchmarks" >&2; exit 1; }
fi

if [ -z "${BENCH_SKIP_MICRO:-}" ]; then
  echo "== micro-benchmarks"
  cargo bench -q -p crm-common --bench jwt_verify 2>/dev/null | tee "$out/jwt_verify.txt"
  cargo bench -q -p crm-foundation --bench argon2 2>/dev/null | tee "$out/argon2.txt"
else
  : >"$out/jwt_verify.txt"
  : >"$out/argon2.txt"
fi

echo "== foundation on PostgreSQL"
cargo build -q --release -p crm-foundation
psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
data=$(mktemp -d)
CRM_DATA_DIR=$data DATABASE_URL="$PGURL/$DB" CRM_BIND_ADDR=127.0.0.1:$PORT RUST_LOG=warn \
  CRM_ADMIN_EMAIL=bench@bantu.local CRM_ADMIN_PASSWORD=Bench12345 CRM_LOGIN_MAX_FAILURES_PER_IP=1000000 \
  target/release/crm-foundation >"$out/foundation.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 2
idle_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

echo "seeding 10,000 users"
psql -q "$PGURL/$DB" <<'SQL'
INSERT INTO users (id, username, email, password_hash, is_active, is_locked, created_at, updated_at, version)
SELECT gen_random_uuid(), 'user' || g, 'user' || g || '@bench.local',
       (SELECT password_hash FROM users WHERE email = 'bench@bantu.local'), true, false,
       now() - (g || ' seconds')::interval, now(), 1
FROM generate_series(1, 10000) g;
INSERT INTO organization_employees (id, user_id, organization_id, is_primary, is_manager, is_decision_maker, is_active, created_at, updated_at)
SELECT gen_random_uuid(), id, '00000000-0000-0000-0000-000000000001', true, false, false, true, now(), now()
FROM users WHERE email LIKE '%@bench.local';
INSERT INTO user_roles (user_id, role_id, created_at)
SELECT u.id, r.id, now() FROM users u, roles r WHERE u.email LIKE '%@bench.local' AND r.code = 'SALES';
ANALYZE;
SQL

token=$(curl -fsS "http://127.0.0.1:$PORT/api/foundation/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@bantu.local","password":"Bench12345"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')

echo "== GET /api/foundation/users?size=20 (wrk -t2 -c16 -d$DURATION)"
wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$PORT/api/foundation/users?size=20" | tee "$out/users_list.txt"
load_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)

echo "== POST /api/foundation/auth/login (wrk -t2 -c8 -d$DURATION)"
wrk -t2 -c8 -d"$DURATION" --latency -s scripts/bench/login.lua \
  "http://127.0.0.1:$PORT/api/foundation/auth/login" | tee "$out/login.txt"

user_id=$(psql -tA "$PGURL/$DB" -c "SELECT id FROM users WHERE email = 'user5000@bench.local'")
echo "== GET /api/foundation/users/{id} (wrk -t2 -c16 -d$DURATION)"
wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$PORT/api/foundation/users/$user_id" | tee "$out/user_get.txt"

# A login storm over all 10,000 accounts, RSS sampled every 0.2 s; then 10 s of quiet.
sleep 2
before_storm_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
(while kill -0 $pid 2>/dev/null; do awk '/VmRSS/ {print $2}' /proc/$pid/status; sleep 0.2; done) >"$out/storm_rss.txt" &
sampler=$!
echo "== login storm, 10,000 accounts (wrk -t2 -c16 -d$DURATION)"
wrk -t2 -c16 -d"$DURATION" --latency -s scripts/bench/login-rotating.lua \
  "http://127.0.0.1:$PORT/api/foundation/auth/login" | tee "$out/login_storm.txt"
kill $sampler 2>/dev/null || true
storm_kb=$(sort -n "$out/storm_rss.txt" | tail -1)
sleep 10
after_storm_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

{
  echo "foundation idle RSS: $((idle_kb / 1024)) MiB"
  echo "foundation peak RSS under the list load: $((load_kb / 1024)) MiB"
  grep -hE "^(jwt_verify|argon2id)" "$out/jwt_verify.txt" "$out/argon2.txt" || true
  echo "users?size=20 (10,000 users, PostgreSQL): $(awk '/Requests\/sec/ {print $2}' "$out/users_list.txt") req/s," \
    "p50 $(awk '$1=="50%" {print $2}' "$out/users_list.txt"), p99 $(awk '$1=="99%" {print $2}' "$out/users_list.txt")"
  echo "login: $(awk '/Requests\/sec/ {print $2}' "$out/login.txt") req/s," \
    "p50 $(awk '$1=="50%" {print $2}' "$out/login.txt"), p99 $(awk '$1=="99%" {print $2}' "$out/login.txt")"
  echo "users/{id} (PostgreSQL, wrk -t2 -c16): $(awk '/Requests\/sec/ {print $2}' "$out/user_get.txt") req/s," \
    "p50 $(awk '$1=="50%" {print $2}' "$out/user_get.txt"), p99 $(awk '$1=="99%" {print $2}' "$out/user_get.txt")"
  echo "login storm over 10,000 accounts (wrk -t2 -c16): $(awk '/Requests\/sec/ {print $2}' "$out/login_storm.txt") req/s," \
    "$(awk '/Non-2xx/ {n = $NF} END {print n + 0}' "$out/login_storm.txt") non-2xx"
  echo "foundation RSS before the storm / peak during it / 10 s after: $((before_storm_kb / 1024)) /" \
    "$((storm_kb / 1024)) / $((after_storm_kb / 1024)) MiB"
} | tee "$out/summary.txt"

kill $pid 2>/dev/null || true
if [ -z "${BENCH_SKIP_SM:-}" ]; then
  echo "== service-management"
  scripts/bench/service-management.sh
fi
if [ -z "${BENCH_SKIP_OW:-}" ]; then
  echo "== order-workflow"
  scripts/bench/order-workflow.sh
fi
if [ -z "${BENCH_SKIP_WS:-}" ]; then
  echo "== order-workflow notification sockets"
  scripts/bench/ws.sh
fi
if [ -z "${BENCH_SKIP_AM:-}" ]; then
  echo "== analytics-monitoring"
  scripts/bench/analytics-monitoring.sh
fi
if [ -z "${BENCH_SKIP_SALE:-}" ]; then
  echo "== the whole sale across the services"
  scripts/bench/sale.sh
fi
if [ -z "${BENCH_SKIP_GATEWAY:-}" ]; then
  echo "== gateway vs nginx"
  scripts/bench-gateway.sh
fi
