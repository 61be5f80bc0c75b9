#!/usr/bin/env bash
# Property-based fuzzing of foundation's API from its own OpenAPI document (schemathesis, from
# PyPI, in ./.venv): every operation, generated valid and invalid inputs, stateful sequences; the
# run fails on any 5xx. Against a fresh foundation on a temporary SQLite database, logged in as
# its administrator. FUZZ_EXAMPLES sets the examples per operation (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check schemathesis
fi
cargo build -q -p crm-foundation --bins
work=$(mktemp -d)
port=${FUZZ_PORT:-18181}
password=Fuzz-Admin-1
CRM_BIND_ADDR=127.0.0.1:$port CRM_DATA_DIR=$work DATABASE_URL=sqlite://$work/foundation.db \
  CRM_ADMIN_EMAIL=admin@fuzz.test CRM_ADMIN_PASSWORD=$password RUST_LOG=warn \
  CRM_LOGIN_MAX_FAILURES=1000000 CRM_LOGIN_MAX_FAILURES_PER_IP=1000000 \
  target/debug/crm-foundation > "$work/foundation.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.1; done
token=$(curl -fs "$base/api/foundation/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"admin@fuzz.test\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')
# Logging out, refreshing or changing the password would end the run's own session.
"$venv/bin/schemathesis" run "$base/api/foundation/openapi.json" --url "$base" \
  -H "Authorization: Bearer $token" \
  --exclude-path-regex '/auth/(logout|refresh)|/users/\{user_id\}/password' \
  -c not_a_server_error -n "${FUZZ_EXAMPLES:-50}"
if grep -q '"level":"ERROR"' "$work/foundation.log"; then
  echo "foundation logged errors during the run:" >&2
  grep '"level":"ERROR"' "$work/foundation.log" | head -20 >&2
  exit 1
fi
