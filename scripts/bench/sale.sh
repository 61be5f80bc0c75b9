#!/usr/bin/env bash
# The whole sale across the services (README's walk-through), through the gateway over HTTPS:
# all five release binaries on PostgreSQL, one fresh database per service, on loopback.
#   - each process's RSS idle (after start, before any load) and its peak under the load
#     (VmHWM reset after the idle reading; the goal is ≤ 40 MiB idle per service, ≤ 20 MiB for the
#     gateway);
#   - BENCH_SALE_CLIENTS clients (16) repeating the sale for BENCH_SALE_SECS seconds (60): log in;
#     a lead, its call, converted into a customer and an opportunity; a product on it, moved to
#     negotiation; converted into an order, approved; a payment stage, paid; an analytics read.
#     Completed sales per second, p50/p99 of each step, errors (goal: none).
# The load generator is scripts/bench/sale_client.py (Python standard library, threads). The
# gateway's rate limits are off (every client logs in as the administrator from one address).
# Figures in bench-results/sale*.txt. BENCH_NO_BUILD=1 uses the binaries as they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench-results
mkdir -p "$out"
CLIENTS=${BENCH_SALE_CLIENTS:-16}
SECS=${BENCH_SALE_SECS:-60}
PGURL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
FPORT=18581 SPORT=18582 OPORT=18583 APORT=18584 GPORT=18585 TPORT=18586
pg_isready -q -h 127.0.0.1 -p 5432 || scripts/ensure-services.sh
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build -q --release -p crm-foundation -p crm-service-management \
  -p crm-order-workflow -p crm-analytics-monitoring -p crm-gateway
for db in crm_bench_sale_foundation crm_bench_sale_sm crm_bench_sale_ow crm_bench_sale_am; do
  psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
data=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$data"' EXIT
wait_up() { for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return; sleep 0.1; done; echo "port $1 did not come up" >&2; exit 1; }
fnd=http://127.0.0.1:$FPORT sm=http://127.0.0.1:$SPORT ow=http://127.0.0.1:$OPORT am=http://127.0.0.1:$APORT
common=(RUST_LOG=warn CRM_AUDIT_INGEST_TOKEN=bench-ingest-token-0123456789
  CRM_AUDIT_INGEST_URL=$fnd/api/foundation/audit-logs/ingest CRM_FOUNDATION_URL=$fnd
  CRM_JWKS_URL=$fnd/api/foundation/auth/jwks.json)
mkdir -p "$data"/{f,s,o,a,g}
# Started as run-local.sh starts them: foundation first (the keys), then the services, the gateway last.
env "${common[@]}" CRM_DATA_DIR="$data/f" DATABASE_URL="$PGURL/crm_bench_sale_foundation" CRM_BIND_ADDR=127.0.0.1:$FPORT \
  CRM_ADMIN_EMAIL=bench@bantu.local CRM_ADMIN_PASSWORD=Bench12345 CRM_LOGIN_MAX_FAILURES_PER_IP=1000000 \
  target/release/crm-foundation >"$out/sale-foundation.log" 2>&1 &
f_pid=$!
pids+=($f_pid)
wait_up $FPORT
env "${common[@]}" CRM_DATA_DIR="$data/s" DATABASE_URL="$PGURL/crm_bench_sale_sm" CRM_BIND_ADDR=127.0.0.1:$SPORT \
  target/release/crm-service-management >"$out/sale-sm.log" 2>&1 &
s_pid=$!
pids+=($s_pid)
env "${common[@]}" CRM_DATA_DIR="$data/o" DATABASE_URL="$PGURL/crm_bench_sale_ow" CRM_BIND_ADDR=127.0.0.1:$OPORT \
  CRM_SERVICE_MANAGEMENT_URL=$sm target/release/crm-order-workflow >"$out/sale-ow.log" 2>&1 &
o_pid=$!
pids+=($o_pid)
env "${common[@]}" CRM_DATA_DIR="$data/a" DATABASE_URL="$PGURL/crm_bench_sale_am" CRM_BIND_ADDR=127.0.0.1:$APORT \
  CRM_SERVICE_MANAGEMENT_URL=$sm CRM_ORDER_WORKFLOW_URL=$ow \
  CRM_MONITORED_SERVICES=gateway=http://127.0.0.1:$GPORT,foundation=$fnd,service-management=$sm,order-workflow=$ow,analytics-monitoring=$am \
  target/release/crm-analytics-monitoring >"$out/sale-am.log" 2>&1 &
a_pid=$!
pids+=($a_pid)
for port in $SPORT $OPORT $APORT; do wait_up "$port"; done
env "${common[@]}" CRM_DATA_DIR="$data/g" CRM_BIND_ADDR=127.0.0.1:$GPORT CRM_TLS_BIND_ADDR=127.0.0.1:$TPORT \
  CRM_TLS_ENABLED=true CRM_HTTP_REDIRECT=false CRM_RATELIMIT_ENABLED=false \
  CRM_SERVICE_URLS=foundation=$fnd,service-management=$sm,order-workflow=$ow,analytics-monitoring=$am \
  target/release/crm-gateway >"$out/sale-gateway.log" 2>&1 &
g_pid=$!
pids+=($g_pid)
wait_up $GPORT

names=(foundation service-management order-workflow analytics-monitoring gateway)
procs=($f_pid $s_pid $o_pid $a_pid $g_pid)
rss() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# Idle: started, migrated, health answered, nothing asked yet; a few seconds to settle.
sleep 5
idle=()
for p in "${procs[@]}"; do
  idle+=("$(rss "$p" VmRSS)")
  echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true # resets VmHWM to the current RSS
done

echo "== the whole sale, $CLIENTS clients for $SECS s, through the gateway over HTTPS"
(while kill -0 "$g_pid" 2>/dev/null; do
  line=""
  for p in "${procs[@]}"; do line="$line $(rss "$p" VmRSS)"; done
  echo "$line"
  sleep 0.5
done) >"$out/sale-rss-samples.txt" &
sampler=$!
GW_TLS_PORT=$TPORT CLIENTS=$CLIENTS DURATION=$SECS ADMIN_EMAIL=bench@bantu.local ADMIN_PASSWORD=Bench12345 \
  REPORT="$out/sale-load.txt" python3 scripts/bench/sale_client.py
kill $sampler 2>/dev/null || true
sleep 10

{
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-22s %10s %14s %16s %14s\n' process "idle MiB" "peak MiB" "sampled max MiB" "10 s after MiB"
  for i in "${!names[@]}"; do
    p=${procs[$i]}
    sampled=$(awk -v c=$((i + 1)) '$c > m {m = $c} END {print m + 0}' "$out/sale-rss-samples.txt")
    awk -v n="${names[$i]}" -v i="${idle[$i]}" -v p="$(rss "$p" VmHWM)" -v s="$sampled" -v a="$(rss "$p" VmRSS)" \
      'BEGIN {printf "%-22s %10.1f %14.1f %16.1f %14.1f\n", n, i / 1024, p / 1024, s / 1024, a / 1024}'
  done
  echo "goal: each service ≤ 40 MiB idle, the gateway ≤ 20 MiB"
} | tee "$out/sale-rss.txt"
cat "$out/sale-load.txt" "$out/sale-rss.txt" >"$out/sale.txt"
