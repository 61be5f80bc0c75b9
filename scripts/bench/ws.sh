#!/usr/bin/env bash
# order-workflow's notification sockets through the gateway over HTTPS (SQLite, loopback):
#   - BENCH_WS_CONNS idle sockets (default 10,000) spread over BENCH_WS_USERS operators (default
#     1,000) held open: resident memory per connection in the gateway and in order-workflow;
#   - a notification to each of those users in turn (a lead assigned by the administrator):
#     push latency p50/p99, from sending the assignment to reading the frame.
# Figures in bench-results/ws.txt. BENCH_PROFILE=debug uses the debug binaries as built (a smoke
# run; the figures then say little about release). The load generator
# (scripts/bench/ws_client.py, standard library only) shares the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench-results
mkdir -p "$out"
PROFILE=${BENCH_PROFILE:-release}
CONNS=${BENCH_WS_CONNS:-10000}
USERS=${BENCH_WS_USERS:-1000}
FPORT=${BENCH_WS_BASE_PORT:-18481}
SPORT=$((FPORT + 1)) OPORT=$((FPORT + 2)) GPORT=$((FPORT + 3)) TPORT=$((FPORT + 4))
if [ "$PROFILE" = release ] && [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build -q --release -p crm-foundation -p crm-service-management -p crm-order-workflow -p crm-gateway
fi
bin=target/$PROFILE
# Each socket is a descriptor in the client, the gateway (two: the client's and the service's) and
# the service. Where the hard limit cannot be raised (a container without CAP_SYS_RESOURCE: 20,000
# here), one gateway holds at most about half of it; then the sockets are spread over as many
# gateway replicas as they need, as a deployment would run them, and their memory is summed.
ulimit -n "$(( CONNS * 2 + 4096 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
per_gateway=$(( ($(ulimit -n) - 512) / 2 ))
GATEWAYS=${BENCH_WS_GATEWAYS:-$(( (CONNS + per_gateway - 1) / per_gateway ))}
data=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$data"' EXIT
wait_up() { for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return; sleep 0.1; done; echo "port $1 did not come up" >&2; exit 1; }
fnd=http://127.0.0.1:$FPORT
common=(RUST_LOG=warn CRM_AUDIT_INGEST_TOKEN=bench-ingest-token-0123456789
  CRM_AUDIT_INGEST_URL=$fnd/api/foundation/audit-logs/ingest CRM_FOUNDATION_URL=$fnd
  CRM_JWKS_URL=$fnd/api/foundation/auth/jwks.json)
mkdir -p "$data"/{f,s,o,g}
env "${common[@]}" CRM_DATA_DIR="$data/f" DATABASE_URL="sqlite://$data/f/foundation.db?mode=rwc" \
  CRM_BIND_ADDR=127.0.0.1:$FPORT CRM_ADMIN_EMAIL=bench@bantu.local CRM_ADMIN_PASSWORD=Bench12345 \
  CRM_LOGIN_MAX_FAILURES_PER_IP=1000000 "$bin/crm-foundation" >"$out/ws-foundation.log" 2>&1 &
pids+=($!)
wait_up $FPORT
env "${common[@]}" CRM_DATA_DIR="$data/s" DATABASE_URL="sqlite://$data/s/sm.db?mode=rwc" CRM_BIND_ADDR=127.0.0.1:$SPORT \
  "$bin/crm-service-management" >"$out/ws-sm.log" 2>&1 &
pids+=($!)
env "${common[@]}" CRM_DATA_DIR="$data/o" DATABASE_URL="sqlite://$data/o/ow.db?mode=rwc" CRM_BIND_ADDR=127.0.0.1:$OPORT \
  CRM_SERVICE_MANAGEMENT_URL=http://127.0.0.1:$SPORT CRM_WS_MAX_PER_USER=$(( CONNS / USERS + 1 )) \
  "$bin/crm-order-workflow" >"$out/ws-ow.log" 2>&1 &
ow_pid=$!
pids+=($ow_pid)
gw_pids=() gw_ports=() gw_certs=()
for i in $(seq 0 $(( GATEWAYS - 1 ))); do
  hport=$GPORT tport=$TPORT
  [ "$i" -gt 0 ] && hport=$(( FPORT + 10 + i )) tport=$(( FPORT + 20 + i ))
  mkdir -p "$data/g$i"
  env "${common[@]}" CRM_DATA_DIR="$data/g$i" CRM_BIND_ADDR=127.0.0.1:$hport CRM_TLS_BIND_ADDR=127.0.0.1:$tport \
    CRM_TLS_ENABLED=true CRM_HTTP_REDIRECT=false CRM_RATELIMIT_ENABLED=false \
    CRM_UPSTREAM_MAX_TUNNELS=$(( CONNS + 100 )) CRM_UPSTREAM_MAX_PER_CLIENT=$(( CONNS + 100 )) \
    CRM_SERVICE_URLS=foundation=$fnd,service-management=http://127.0.0.1:$SPORT,order-workflow=http://127.0.0.1:$OPORT \
    "$bin/crm-gateway" >"$out/ws-gateway$i.log" 2>&1 &
  pids+=($!)
  gw_pids+=($!) gw_ports+=("$tport") gw_certs+=("$data/g$i/gateway-dev-cert.pem")
  wait_up "$hport"
done
for port in $SPORT $OPORT; do wait_up "$port"; done

echo "== $CONNS idle notification sockets over $USERS users through $GATEWAYS gateway(s) (HTTPS, $PROFILE," \
  "descriptor limit $(ulimit -n))" | tee "$out/ws.txt"
GW_TLS_PORT=$(IFS=,; echo "${gw_ports[*]}") GW_CERT=$(IFS=,; echo "${gw_certs[*]}") FOUNDATION_DB="$data/f/foundation.db" USERS=$USERS CONNS=$CONNS \
  GW_PID=$(IFS=,; echo "${gw_pids[*]}") OW_PID=$ow_pid ADMIN_EMAIL=bench@bantu.local ADMIN_PASSWORD=Bench12345 \
  python3 scripts/bench/ws_client.py | tee -a "$out/ws.txt"
