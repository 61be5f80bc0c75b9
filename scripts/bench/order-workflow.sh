#!/usr/bin/env bash
# order-workflow on PostgreSQL, release binaries on loopback behind the gateway (plain HTTP, rate
# limits off: the routing and the services, not the handshake); figures in bench-results/ow-*.txt:
#   - GET /leads?size=20 with 200,000 leads in one organization (wrk), and how many calls to
#     foundation and service-management one page makes once their answers are cached;
#   - lead conversion (POST /leads/{id}/convert-to-opportunity: a customer created in
#     service-management, then the opportunity and the lead in one transaction here), p50/p99 of
#     BENCH_CONVERSIONS conversions of distinct leads, one after another;
#   - order creation with three items (customer and products checked in service-management);
#   - GET /orders?size=20 with 500,000 orders, unfiltered and filtered by status and by customer;
#   - GET /orders/{id} of an order with 50 items;
#   - a 10 MB (10,000,000-byte) file uploaded to an order and downloaded again through the gateway: time, and how
#     far the service's peak RSS rises over its RSS before (streamed, so well under the size).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench-results
mkdir -p "$out"
DURATION=${BENCH_DURATION:-15s}
CONVERSIONS=${BENCH_CONVERSIONS:-300}
PGURL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
FPORT=18381 SPORT=18382 OPORT=18383 GPORT=18380
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build -q --release -p crm-foundation -p crm-service-management -p crm-order-workflow -p crm-gateway
for db in crm_bench_ow_foundation crm_bench_ow_sm crm_bench_ow_ow; do
  psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
data=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$data"' EXIT
wait_up() { for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return; sleep 0.1; done; echo "port $1 did not come up" >&2; exit 1; }
fnd=http://127.0.0.1:$FPORT
common=(CRM_DATA_DIR=$data RUST_LOG=warn CRM_AUDIT_INGEST_TOKEN=bench-ingest-token-0123456789
  CRM_AUDIT_INGEST_URL=$fnd/api/foundation/audit-logs/ingest CRM_FOUNDATION_URL=$fnd
  CRM_JWKS_URL=$fnd/api/foundation/auth/jwks.json)
env "${common[@]}" DATABASE_URL="$PGURL/crm_bench_ow_foundation" CRM_BIND_ADDR=127.0.0.1:$FPORT \
  CRM_ADMIN_EMAIL=bench@bantu.local CRM_ADMIN_PASSWORD=Bench12345 target/release/crm-foundation >"$out/ow-foundation.log" 2>&1 &
pids+=($!)
wait_up $FPORT
env "${common[@]}" DATABASE_URL="$PGURL/crm_bench_ow_sm" CRM_BIND_ADDR=127.0.0.1:$SPORT \
  target/release/crm-service-management >"$out/ow-sm.log" 2>&1 &
pids+=($!)
env "${common[@]}" DATABASE_URL="$PGURL/crm_bench_ow_ow" CRM_BIND_ADDR=127.0.0.1:$OPORT \
  CRM_SERVICE_MANAGEMENT_URL=http://127.0.0.1:$SPORT target/release/crm-order-workflow >"$out/ow-ow.log" 2>&1 &
pids+=($!)
ow_pid=$!
env "${common[@]}" CRM_BIND_ADDR=127.0.0.1:$GPORT CRM_TLS_ENABLED=false CRM_HTTP_REDIRECT=false CRM_RATELIMIT_ENABLED=false \
  CRM_SERVICE_URLS=foundation=$fnd,service-management=http://127.0.0.1:$SPORT,order-workflow=http://127.0.0.1:$OPORT \
  target/release/crm-gateway >"$out/ow-gateway.log" 2>&1 &
pids+=($!)
for port in $SPORT $OPORT $GPORT; do wait_up "$port"; done

token=$(curl -fsS "$fnd/api/foundation/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@bantu.local","password":"Bench12345"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')
admin=$(curl -fsS "$fnd/api/foundation/auth/me" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
gw=http://127.0.0.1:$GPORT/api/order-workflow
auth=(-H "Authorization: Bearer $token" -H 'content-type: application/json')

echo "seeding 200,000 leads in the BANTU organization"
psql -q "$PGURL/crm_bench_ow_ow" <<SQL
INSERT INTO leads (id, organization_id, name, company_name, phone, owner_user_id, status, level, is_in_public_pool,
                   created_by, created_at, updated_at, version)
SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'Lead ' || g, 'PT Company ' || g,
       '0812' || lpad(g::text, 8, '0'), '$admin', (ARRAY['new','contacted','qualified'])[1 + g % 3], '5',
       g % 10 = 0, '$admin', now() - (g || ' seconds')::interval, now(), 1
FROM generate_series(1, 200000) g;
ANALYZE leads;
SQL

# Calls to the peers per page: their request counters before and after 100 warm pages.
calls() { # port route-regex
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v re="$2" '/^http_requests_total/ && $0 ~ re {s += $NF} END {print s + 0}'
}
curl -fsS "$gw/leads?size=20" "${auth[@]}" >/dev/null
f_before=$(calls $FPORT 'route="/api/foundation/(auth/principal|lookup)')
s_before=$(calls $SPORT 'route="/api/service-management/')
for _ in $(seq 1 100); do curl -fsS "$gw/leads?size=20" "${auth[@]}" >/dev/null; done
f_after=$(calls $FPORT 'route="/api/foundation/(auth/principal|lookup)')
s_after=$(calls $SPORT 'route="/api/service-management/')

echo "== GET /api/order-workflow/leads?size=20 through the gateway (wrk -t2 -c16 -d$DURATION)"
wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$gw/leads?size=20" | tee "$out/ow-leads.txt"

echo "== $CONVERSIONS conversions of distinct leads through the gateway, one after another"
psql -qtA "$PGURL/crm_bench_ow_ow" -c "SELECT id FROM leads WHERE status <> 'converted' AND NOT is_in_public_pool ORDER BY created_at DESC LIMIT $CONVERSIONS" >"$data/leads.txt"
: >"$data/convert.txt"
while read -r lead; do
  curl -fsS -o /dev/null -w '%{time_total}\n' "$gw/leads/$lead/convert-to-opportunity" "${auth[@]}" \
    -d '{"opportunity_name":"Bench deal","amount":1000}' >>"$data/convert.txt"
done <"$data/leads.txt"
conv=$(sort -n "$data/convert.txt" | awk '{a[NR]=$1} END {printf "p50 %.1f ms, p99 %.1f ms, max %.1f ms", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000}')

echo "== order creation with three items through the gateway"
sm=http://127.0.0.1:$GPORT/api/service-management
customer=$(psql -qtA "$PGURL/crm_bench_ow_ow" -c "SELECT customer_id FROM leads WHERE customer_id IS NOT NULL LIMIT 1")
: >"$data/orders.txt"
for n in $(seq 1 100); do
  curl -fsS -o /dev/null -w '%{time_total}\n' "$gw/orders" "${auth[@]}" -d "{\"title\":\"Bench order $n\",\"customer_id\":\"$customer\",
    \"order_items\":[{\"product_name\":\"KITAS\",\"unit_price\":5000},{\"product_name\":\"Translation\",\"quantity\":3,\"unit_price\":100},
    {\"product_name\":\"Courier\",\"unit_price\":50}]}" >>"$data/orders.txt"
done
orders=$(sort -n "$data/orders.txt" | awk '{a[NR]=$1} END {printf "p50 %.1f ms, p99 %.1f ms", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000}')
echo "seeding 500,000 orders over 1,000 customers"
psql -q "$PGURL/crm_bench_ow_ow" <<SQL
INSERT INTO orders (id, organization_id, order_number, title, customer_id, customer_name, sales_user_id,
                    total_amount, final_amount, status_code, created_by, created_at, updated_at)
SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'ORD-BENCH-' || lpad(g::text, 7, '0'),
       'Order ' || g, ('00000000-0000-0000-0000-' || lpad((g % 1000)::text, 12, '0'))::uuid, 'Customer ' || (g % 1000),
       '$admin', 100, 100, (ARRAY['submitted','approved','assigned','processing','completed','cancelled'])[1 + g % 6],
       '$admin', now() - (g || ' seconds')::interval, now()
FROM generate_series(1, 500000) g;
ANALYZE orders;
SQL
bench_list() { # name query
  wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$gw/orders?$2" >"$out/ow-$1.txt"
  echo "$(awk '/Requests\/sec/ {print $2}' "$out/ow-$1.txt") req/s, p50 $(awk '$1=="50%" {print $2}' "$out/ow-$1.txt"), p99 $(awk '$1=="99%" {print $2}' "$out/ow-$1.txt")"
}
echo "== GET /orders?size=20 over 500,000 orders"
list_all=$(bench_list orders "size=20")
list_status=$(bench_list orders-status "size=20&status_code=processing")
list_customer=$(bench_list orders-customer "size=20&customer_id=00000000-0000-0000-0000-000000000007")

echo "== GET /orders/{id} with 50 items"
items=$(python3 -c 'import json; print(json.dumps([{"product_name": f"Item {n}", "quantity": 1 + n % 3, "unit_price": 10 * n} for n in range(1, 51)]))')
big=$(curl -fsS "$gw/orders" "${auth[@]}" -d "{\"title\":\"Fifty items\",\"customer_id\":\"$customer\",\"order_items\":$items}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$gw/orders/$big" >"$out/ow-order-detail.txt"
detail="$(awk '/Requests\/sec/ {print $2}' "$out/ow-order-detail.txt") req/s, p50 $(awk '$1=="50%" {print $2}' "$out/ow-order-detail.txt"), p99 $(awk '$1=="99%" {print $2}' "$out/ow-order-detail.txt")"

echo "== a 10 MB file up and down through the gateway"
{ printf '%%PDF-1.4\n'; head -c 9999990 /dev/urandom; } >"$data/big.pdf"
rss() { awk -v k="$1:" '$1 == k {print $2}' /proc/$ow_pid/status; }
echo 5 >/proc/$ow_pid/clear_refs 2>/dev/null || true # resets VmHWM to the current RSS
up_before=$(rss VmRSS)
up=$(curl -fsS -o "$data/up.json" -w '%{time_total}' "$gw/orders/$big/files" -H "Authorization: Bearer $token" \
  -F "file=@$data/big.pdf;type=application/pdf" -F file_category=document)
up_peak=$(rss VmHWM)
file=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["id"])' "$data/up.json")
echo 5 >/proc/$ow_pid/clear_refs 2>/dev/null || true
down_before=$(rss VmRSS)
down=$(curl -fsS -o "$data/down.pdf" -w '%{time_total}' "$gw/orders/$big/files/$file/download" -H "Authorization: Bearer $token")
down_peak=$(rss VmHWM)
cmp -s "$data/big.pdf" "$data/down.pdf" || { echo "the downloaded file differs from the uploaded one" >&2; exit 1; }
ow_kb=$(awk '/VmHWM/ {print $2}' /proc/$ow_pid/status)
{
  f="$out/ow-leads.txt"
  echo "leads?size=20 (200,000 leads, PostgreSQL, via gateway): $(awk '/Requests\/sec/ {print $2}' "$f") req/s," \
    "p50 $(awk '$1=="50%" {print $2}' "$f"), p99 $(awk '$1=="99%" {print $2}' "$f")"
  echo "calls per warm lead page: foundation $(( (f_after - f_before) )) / 100, service-management $(( (s_after - s_before) )) / 100"
  echo "lead conversion via gateway ($CONVERSIONS distinct leads, sequential): $conv"
  echo "order creation, three items, via gateway (100 sequential): $orders"
  echo "orders?size=20 (500,000 orders): $list_all; status filter: $list_status; customer filter: $list_customer"
  echo "order detail with 50 items: $detail"
  echo "10 MB upload via gateway: ${up}s, service peak RSS +$(( (up_peak - up_before) / 1024 )) MiB over $((up_before / 1024)) MiB"
  echo "10 MB download via gateway: ${down}s, service peak RSS +$(( (down_peak - down_before) / 1024 )) MiB over $((down_before / 1024)) MiB"
  echo "order-workflow RSS high-water mark since the last reset: $((ow_kb / 1024)) MiB"
} | tee "$out/ow-summary.txt"
