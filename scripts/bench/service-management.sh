#!/usr/bin/env bash
# service-management on PostgreSQL, release binaries on loopback, figures in
# bench-results/sm-*.txt:
#   - the catalogue through the gateway: p50/p99 and req/s of GET /products?size=20 and
#     GET /categories/tree with 10,000 products, and how many calls to foundation a page makes
#     (the gateway serves plain HTTP, TLS and rate limits off: the routing and the service, not
#     the handshake);
#   - customers: GET /customers?size=20 with 1,000,000 customers in one organization at page 1,
#     at page 50,000 and by cursor at the same depth; POST /sync/batch of 500 items.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench-results
mkdir -p "$out"
DURATION=${BENCH_DURATION:-15s}
PGURL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
FPORT=18281 SPORT=18282 GPORT=18280
cargo build -q --release -p crm-foundation -p crm-service-management -p crm-gateway
for db in crm_bench_cat_foundation crm_bench_cat_sm; do
  psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
data=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$data"' EXIT
common=(CRM_DATA_DIR=$data RUST_LOG=warn CRM_AUDIT_INGEST_TOKEN=bench-ingest-token-0123456789)
env "${common[@]}" DATABASE_URL="$PGURL/crm_bench_cat_foundation" CRM_BIND_ADDR=127.0.0.1:$FPORT \
  CRM_ADMIN_EMAIL=bench@bantu.local CRM_ADMIN_PASSWORD=Bench12345 target/release/crm-foundation >"$out/sm-foundation.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$FPORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
env "${common[@]}" DATABASE_URL="$PGURL/crm_bench_cat_sm" CRM_BIND_ADDR=127.0.0.1:$SPORT \
  CRM_FOUNDATION_URL=http://127.0.0.1:$FPORT CRM_JWKS_URL=http://127.0.0.1:$FPORT/api/foundation/auth/jwks.json \
  CRM_AUDIT_INGEST_URL=http://127.0.0.1:$FPORT/api/foundation/audit-logs/ingest \
  target/release/crm-service-management >"$out/sm-sm.log" 2>&1 &
pids+=($!)
sm_pid=$!
env "${common[@]}" CRM_BIND_ADDR=127.0.0.1:$GPORT CRM_TLS_ENABLED=false CRM_HTTP_REDIRECT=false CRM_RATELIMIT_ENABLED=false \
  CRM_SERVICE_URLS=foundation=http://127.0.0.1:$FPORT,service-management=http://127.0.0.1:$SPORT \
  CRM_JWKS_URL=http://127.0.0.1:$FPORT/api/foundation/auth/jwks.json target/release/crm-gateway >"$out/sm-gateway.log" 2>&1 &
pids+=($!)
for port in $SPORT $GPORT; do
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
done

echo "seeding 100 categories and 10,000 products"
psql -q "$PGURL/crm_bench_cat_sm" <<'SQL'
INSERT INTO product_categories (id, code, name, parent_id, display_order, is_active, created_at, updated_at, version)
SELECT gen_random_uuid(), 'CAT' || g, 'Category ' || g, NULL, g, true, now(), now(), 1 FROM generate_series(1, 100) g;
INSERT INTO products (id, name, code, category_id, is_urgent_available, price_cost_idr, price_channel_idr, price_direct_idr,
                      default_currency, exchange_rate, status, is_active, is_locked, created_at, updated_at, version)
SELECT gen_random_uuid(), 'Product ' || g, 'P' || g,
       (SELECT id FROM product_categories WHERE code = 'CAT' || (1 + g % 100)), false,
       1000000 + g, 1500000 + g, 2000000 + g, 'IDR', 2000, 'active', true, false,
       now() - (g || ' seconds')::interval, now(), 1
FROM generate_series(1, 10000) g;
ANALYZE;
SQL
token=$(curl -fsS "http://127.0.0.1:$FPORT/api/foundation/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@bantu.local","password":"Bench12345"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
gw=http://127.0.0.1:$GPORT/api/service-management

# Calls to foundation per page: its request counter before and after 100 pages (warm cache).
calls() { curl -fsS "http://127.0.0.1:$FPORT/metrics" | awk '/^http_requests_total/ && /route="\/api\/foundation\/(auth\/principal|lookup)/ {s += $NF} END {print s + 0}'; }
curl -fsS "$gw/products?size=20" -H "Authorization: Bearer $token" >/dev/null
before=$(calls)
for _ in $(seq 1 100); do curl -fsS "$gw/products?size=20" -H "Authorization: Bearer $token" >/dev/null; done
after=$(calls)

for target in "products?size=20" "categories/tree?include_products=true&is_active=true"; do
  name=$(echo "$target" | cut -d'?' -f1 | tr '/' '_')
  echo "== GET /api/service-management/$target through the gateway (wrk -t2 -c16 -d$DURATION)"
  wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$gw/$target" | tee "$out/sm-$name.txt"
done
echo "seeding 1,000,000 customers in the BANTU organization"
psql -q "$PGURL/crm_bench_cat_sm" <<'SQL'
INSERT INTO customers (id, organization_id, name, code, customer_type, customer_source_type, owner_user_id,
                       is_locked, created_at, updated_at, version, sync_seq)
SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'Customer ' || g, 'B' || g, 'individual', 'own',
       NULL, false, now() - (g || ' seconds')::interval, now(), 1, 0
FROM generate_series(1, 1000000) g;
ANALYZE customers;
SQL
# The cursor of the row just before page 50,000 (rows 999,981–1,000,000 of the newest-first order).
cursor=$(psql -qtA "$PGURL/crm_bench_cat_sm" -c "SELECT (extract(epoch FROM created_at) * 1000000)::bigint || '_' || replace(id::text, '-', '') FROM customers ORDER BY created_at DESC, id DESC OFFSET 999979 LIMIT 1")
sm=http://127.0.0.1:$SPORT/api/service-management
for target in "customers?size=20" "customers?size=20&page=50000" "customers?size=20&after=$cursor"; do
  name=$(echo "$target" | sed -E 's/.*(page|after)=.*/\1/; s/customers\?size=20/page1/')
  echo "== GET /api/service-management/$target (wrk -t2 -c16 -d$DURATION)"
  wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$sm/$target" | tee "$out/sm-customers-$name.txt"
done
src=$(curl -fsS "$sm/customer-sources" -H "Authorization: Bearer $token" | sed -E 's/.*"id":"([^"]+)".*/\1/' | head -c 36)
python3 - "$src" > "$data/batch.json" <<'PY'
import json, sys, uuid
items = [{"entity": "customer", "op": "upsert", "id": str(uuid.uuid4()),
          "data": {"name": f"Offline {i}", "source_id": sys.argv[1], "phone": "+62 812 0000 %04d" % i}} for i in range(500)]
print(json.dumps({"items": items}))
PY
batch_s=$(curl -fsS -o "$out/sm-sync-batch.json" -w '%{time_total}' "$sm/sync/batch" -H "Authorization: Bearer $token" \
  -H 'content-type: application/json' --data-binary @"$data/batch.json")
sm_kb=$(awk '/VmHWM/ {print $2}' /proc/$sm_pid/status)
{
  for name in products categories_tree; do
    f="$out/sm-$name.txt"
    echo "$name (10,000 products, PostgreSQL, via gateway): $(awk '/Requests\/sec/ {print $2}' "$f") req/s," \
      "p50 $(awk '$1=="50%" {print $2}' "$f"), p99 $(awk '$1=="99%" {print $2}' "$f")"
  done
  for name in page1 page after; do
    f="$out/sm-customers-$name.txt"
    echo "customers $name (1,000,000 customers): $(awk '/Requests\/sec/ {print $2}' "$f") req/s," \
      "p50 $(awk '$1=="50%" {print $2}' "$f"), p99 $(awk '$1=="99%" {print $2}' "$f")"
  done
  echo "POST /sync/batch of 500 new customers: ${batch_s} s ($(python3 -c "print(round(500 / $batch_s))") rows/s)"
  echo "calls to foundation for 100 warm product pages: $((after - before))"
  echo "service-management peak RSS: $((sm_kb / 1024)) MiB"
} | tee "$out/sm-summary.txt"
