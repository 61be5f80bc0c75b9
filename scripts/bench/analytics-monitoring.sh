#!/usr/bin/env bash
# analytics-monitoring against real foundation, service-management and order-workflow on
# PostgreSQL (loopback, no gateway); figures in bench-results/am-*.txt:
#   - every analytics endpoint cached (a replica with the five-minute cache, warm) and uncached (a
#     second replica with CRM_ANALYTICS_CACHE_SECS=0, every request recomputed by the owner) over
#     BENCH_CUSTOMERS customers (1,000,000) and BENCH_ORDERS orders (500,000) in one organization:
#     the median of BENCH_REQUESTS requests each; the goal is cached ≤ 1/50 of uncached;
#   - log search at page 1 and page 1,000 (page_size 50) over BENCH_LOGS records (5,000,000) in the
#     SQLite log store, and the statistics over all of them.
# PROFILE=debug and small BENCH_* sizes make a quick smoke run of the script itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench-results
mkdir -p "$out"
PROFILE=${PROFILE:-release}
CUSTOMERS=${BENCH_CUSTOMERS:-1000000}
ORDERS=${BENCH_ORDERS:-500000}
LOGS=${BENCH_LOGS:-5000000}
REQUESTS=${BENCH_REQUESTS:-20}
PGURL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
FPORT=18481 SPORT=18482 OPORT=18483 APORT=18484 UPORT=18485
if [ -n "${BENCH_NO_BUILD:-}" ]; then
  : # the binaries as they are
elif [ "$PROFILE" = release ]; then
  cargo build -q --release -p crm-foundation -p crm-service-management -p crm-order-workflow -p crm-analytics-monitoring
else
  cargo build -q -p crm-foundation -p crm-service-management -p crm-order-workflow -p crm-analytics-monitoring
fi
bin=target/$PROFILE
for db in crm_bench_am_foundation crm_bench_am_sm crm_bench_am_ow crm_bench_am_am crm_bench_am_am2; do
  psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
data=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$data"' EXIT
wait_up() { for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return; sleep 0.1; done; echo "port $1 did not come up" >&2; exit 1; }
fnd=http://127.0.0.1:$FPORT
common=(CRM_DATA_DIR=$data RUST_LOG=warn CRM_AUDIT_INGEST_TOKEN=bench-ingest-token-0123456789
  CRM_AUDIT_INGEST_URL=$fnd/api/foundation/audit-logs/ingest CRM_FOUNDATION_URL=$fnd
  CRM_JWKS_URL=$fnd/api/foundation/auth/jwks.json CRM_PEER_TIMEOUT_MS=120000)
env "${common[@]}" DATABASE_URL="$PGURL/crm_bench_am_foundation" CRM_BIND_ADDR=127.0.0.1:$FPORT \
  CRM_ADMIN_EMAIL=bench@bantu.local CRM_ADMIN_PASSWORD=Bench12345 "$bin/crm-foundation" >"$out/am-foundation.log" 2>&1 &
pids+=($!)
wait_up $FPORT
env "${common[@]}" DATABASE_URL="$PGURL/crm_bench_am_sm" CRM_BIND_ADDR=127.0.0.1:$SPORT \
  "$bin/crm-service-management" >"$out/am-sm.log" 2>&1 &
pids+=($!)
env "${common[@]}" DATABASE_URL="$PGURL/crm_bench_am_ow" CRM_BIND_ADDR=127.0.0.1:$OPORT \
  CRM_SERVICE_MANAGEMENT_URL=http://127.0.0.1:$SPORT "$bin/crm-order-workflow" >"$out/am-ow.log" 2>&1 &
pids+=($!)
for port in $SPORT $OPORT; do wait_up "$port"; done
am_env=(CRM_SERVICE_MANAGEMENT_URL=http://127.0.0.1:$SPORT CRM_ORDER_WORKFLOW_URL=http://127.0.0.1:$OPORT
  CRM_ALERT_INTERVAL_SECS=0 CRM_MONITORED_SERVICES=foundation=$fnd)
env "${common[@]}" "${am_env[@]}" DATABASE_URL="$PGURL/crm_bench_am_am" CRM_BIND_ADDR=127.0.0.1:$APORT \
  "$bin/crm-analytics-monitoring" >"$out/am-am.log" 2>&1 &
pids+=($!)
# The second replica shares the data directory (and so the log store) but not the audit outbox,
# which one process holds at a time.
env "${common[@]}" "${am_env[@]}" DATABASE_URL="$PGURL/crm_bench_am_am2" CRM_BIND_ADDR=127.0.0.1:$UPORT \
  CRM_AUDIT_OUTBOX_DIR="$data/audit-outbox-uncached" CRM_ANALYTICS_CACHE_SECS=0 "$bin/crm-analytics-monitoring" >"$out/am-am-uncached.log" 2>&1 &
pids+=($!)
for port in $APORT $UPORT; do wait_up "$port"; done

token=$(curl -fsS "$fnd/api/foundation/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@bantu.local","password":"Bench12345"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')
bantu=00000000-0000-0000-0000-000000000001

echo "seeding $CUSTOMERS customers and $ORDERS orders"
psql -q "$PGURL/crm_bench_am_sm" <<SQL
INSERT INTO customers (id, organization_id, name, code, customer_type, customer_source_type, is_locked,
                       created_at, updated_at, version, sync_seq)
SELECT gen_random_uuid(), '$bantu', 'Customer ' || g, 'C' || g, (ARRAY['individual','organization'])[1 + g % 2],
       (ARRAY['own','agent'])[1 + g % 3 / 2], false, now() - ((g % 400) || ' days')::interval, now(), 1, g
FROM generate_series(1, $CUSTOMERS) g;
ANALYZE customers;
SQL
psql -q "$PGURL/crm_bench_am_ow" <<SQL
INSERT INTO orders (id, organization_id, order_number, title, customer_id, sales_user_id, total_amount,
                    discount_amount, final_amount, currency_code, status_code, created_at, updated_at, version)
SELECT gen_random_uuid(), '$bantu', 'ORD' || g, 'Order ' || g, gen_random_uuid(), gen_random_uuid(), 1000 + g % 997,
       0, 1000 + g % 997, 'IDR', (ARRAY['submitted','approved','processing','completed','cancelled'])[1 + g % 5],
       now() - ((g % 400) || ' days')::interval, now() - ((g % 400) || ' days')::interval, 1
FROM generate_series(1, $ORDERS) g;
ANALYZE orders;
SQL

# The median of $REQUESTS requests' total time, in milliseconds.
median_ms() {
  for _ in $(seq 1 "$REQUESTS"); do
    curl -fsS -o /dev/null -w '%{time_total}\n' "$1" -H "Authorization: Bearer $token"
  done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)] * 1000}'
}

endpoints=(customers/summary "customers/trend?period=day" "customers/trend?period=month" orders/summary
  "orders/revenue?period=month" service-records/statistics users/activity organizations/summary
  opportunities/summary opportunities/funnel)
{
  echo "analytics over $CUSTOMERS customers and $ORDERS orders (PostgreSQL, $PROFILE; median of $REQUESTS requests)"
  printf '%-32s %12s %12s %8s\n' endpoint "uncached ms" "cached ms" ratio
  for e in "${endpoints[@]}"; do
    curl -fsS -o /dev/null "http://127.0.0.1:$APORT/api/analytics-monitoring/analytics/$e" -H "Authorization: Bearer $token"
    u=$(median_ms "http://127.0.0.1:$UPORT/api/analytics-monitoring/analytics/$e")
    c=$(median_ms "http://127.0.0.1:$APORT/api/analytics-monitoring/analytics/$e")
    printf '%-32s %12s %12s %8s\n' "$e" "$u" "$c" "$(awk -v u="$u" -v c="$c" 'BEGIN {printf "1/%.0f", u / (c > 0 ? c : 0.001)}')"
  done
} | tee "$out/am-analytics.txt"

# The log store every local service ships to: $data/logs.db, created by analytics-monitoring.
echo "seeding $LOGS log records"
python3 - "$data/logs.db" "$LOGS" <<'PY'
import sqlite3, sys, datetime
path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
t0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
services = ["foundation-service", "service-management-service", "order-workflow-service", "analytics-monitoring-service"]
levels = ["INFO"] * 16 + ["WARNING"] * 3 + ["ERROR"]
def rows():
    for i in range(n):
        t = (t0 + datetime.timedelta(milliseconds=i * 10)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
        yield (t, levels[i % 20], f"request {i} handled", services[i % 4], "crm::http", None, 1, "src/http.rs", "crm::http", 1, 1, None, None)
db.executemany("INSERT INTO app_logs (timestamp, level, message, service, name, function, line, file, module, thread, process, exception, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
db.commit()
PY
logs=http://127.0.0.1:$APORT/api/analytics-monitoring/logs
{
  echo "log search over $LOGS records (SQLite log store, $PROFILE; median of $REQUESTS requests)"
  echo "page 1:            $(median_ms "$logs/query?page=1&page_size=50") ms"
  echo "page 1000:         $(median_ms "$logs/query?page=1000&page_size=50") ms"
  echo "ERROR, page 1000:  $(median_ms "$logs/query?levels=ERROR&page=1000&page_size=50") ms"
  echo "statistics:        $(median_ms "$logs/statistics") ms"
} | tee "$out/am-logs.txt"
