#!/usr/bin/env bash
# Property-based fuzzing of each service's API from its own OpenAPI document (schemathesis, from
# PyPI, in ./.venv): every operation, generated valid and invalid inputs, stateful sequences; the
# run fails on any 5xx or any error a service logs. Against a fresh foundation, service-management
# order-workflow and analytics-monitoring on temporary SQLite databases, logged in as the administrator.
# FUZZ_EXAMPLES sets the examples per operation (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check schemathesis
fi
cargo build -q -p crm-foundation -p crm-service-management -p crm-order-workflow -p crm-analytics-monitoring --bins
work=$(mktemp -d)
port=${FUZZ_PORT:-18181}
password=Fuzz-Admin-1
CRM_BIND_ADDR=127.0.0.1:$port CRM_DATA_DIR=$work DATABASE_URL=sqlite://$work/foundation.db \
  CRM_ADMIN_EMAIL=admin@fuzz.test CRM_ADMIN_PASSWORD=$password RUST_LOG=warn \
  CRM_LOGIN_MAX_FAILURES=1000000 CRM_LOGIN_MAX_FAILURES_PER_IP=1000000 \
  target/debug/crm-foundation > "$work/foundation.log" 2>&1 &
pid=$!
trap 'kill $pid ${sm_pid:-} ${ow_pid:-} ${am_pid:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.1; done
sm_port=$((port + 1))
CRM_BIND_ADDR=127.0.0.1:$sm_port CRM_DATA_DIR=$work DATABASE_URL=sqlite://$work/service-management.db \
  CRM_FOUNDATION_URL=$base CRM_JWKS_URL=$base/api/foundation/auth/jwks.json RUST_LOG=warn \
  CRM_AUDIT_INGEST_URL=$base/api/foundation/audit-logs/ingest \
  target/debug/crm-service-management > "$work/service-management.log" 2>&1 &
sm_pid=$!
sm=http://127.0.0.1:$sm_port
for _ in $(seq 100); do curl -fs "$sm/health" >/dev/null && break; sleep 0.1; done
ow_port=$((port + 2))
CRM_BIND_ADDR=127.0.0.1:$ow_port CRM_DATA_DIR=$work DATABASE_URL=sqlite://$work/order-workflow.db \
  CRM_FOUNDATION_URL=$base CRM_JWKS_URL=$base/api/foundation/auth/jwks.json RUST_LOG=warn \
  CRM_SERVICE_MANAGEMENT_URL=$sm CRM_AUDIT_INGEST_URL=$base/api/foundation/audit-logs/ingest \
  target/debug/crm-order-workflow > "$work/order-workflow.log" 2>&1 &
ow_pid=$!
ow=http://127.0.0.1:$ow_port
for _ in $(seq 100); do curl -fs "$ow/health" >/dev/null && break; sleep 0.1; done
am_port=$((port + 3))
CRM_BIND_ADDR=127.0.0.1:$am_port CRM_DATA_DIR=$work DATABASE_URL=sqlite://$work/analytics-monitoring.db \
  CRM_FOUNDATION_URL=$base CRM_JWKS_URL=$base/api/foundation/auth/jwks.json RUST_LOG=warn \
  CRM_SERVICE_MANAGEMENT_URL=$sm CRM_ORDER_WORKFLOW_URL=$ow CRM_AUDIT_INGEST_URL=$base/api/foundation/audit-logs/ingest \
  CRM_MONITORED_SERVICES=foundation=$base,service-management=$sm,order-workflow=$ow \
  target/debug/crm-analytics-monitoring > "$work/analytics-monitoring.log" 2>&1 &
am_pid=$!
am=http://127.0.0.1:$am_port
for _ in $(seq 100); do curl -fs "$am/health" >/dev/null && break; sleep 0.1; done
login() {
  curl -fs "$base/api/foundation/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"admin@fuzz.test\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])'
}
token=$(login)
# service-management and order-workflow first: the foundation run below may lock, delete or log
# out the administrator whose token every run uses.
"$venv/bin/schemathesis" run "$sm/api/service-management/openapi.json" --url "$sm" \
  -H "Authorization: Bearer $token" -c not_a_server_error -n "${FUZZ_EXAMPLES:-50}"
"$venv/bin/schemathesis" run "$ow/api/order-workflow/openapi.json" --url "$ow" \
  -H "Authorization: Bearer $token" -c not_a_server_error -n "${FUZZ_EXAMPLES:-50}"
"$venv/bin/schemathesis" run "$am/api/analytics-monitoring/openapi.json" --url "$am" \
  -H "Authorization: Bearer $token" -c not_a_server_error -n "${FUZZ_EXAMPLES:-50}"
# Logging out, refreshing, ending sessions or changing the password would end the run's own session.
"$venv/bin/schemathesis" run "$base/api/foundation/openapi.json" --url "$base" \
  -H "Authorization: Bearer $token" \
  --exclude-path-regex '/auth/(logout|refresh|sessions)|/users/\{user_id\}/(password|sessions)' \
  -c not_a_server_error -n "${FUZZ_EXAMPLES:-50}"
for svc in foundation service-management order-workflow analytics-monitoring; do
  if grep -q '"level":"ERROR"' "$work/$svc.log"; then
    echo "$svc logged errors during the run:" >&2
    grep '"level":"ERROR"' "$work/$svc.log" | head -20 >&2
    exit 1
  fi
done
