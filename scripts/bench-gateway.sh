#!/usr/bin/env bash
# Gateway benchmark: one trivial upstream (an nginx `return 200`), reached
#   direct | through nginx as a keep-alive reverse proxy | through crm-gateway, JWT off | JWT on.
# Same load generator (wrk), same connections, interleaved rounds, median of the rounds.
# Prints throughput and p50/p99 as ratios to nginx, the latency added over direct, and the
# gateway's idle and under-load RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_DURATION:-8s}
CONNS=${BENCH_CONNECTIONS:-32}
out=bench-results
mkdir -p "$out"
for tool in wrk nginx; do
  command -v $tool >/dev/null 2>&1 || apt-get install -y -qq "$([ $tool = nginx ] && echo nginx-light || echo wrk)" >/dev/null \
    || { echo "$tool is required" >&2; exit 1; }
done
scripts/ensure-services.sh
cargo build -q --release -p crm-foundation -p crm-gateway

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

UP=18190 NGX=18191 GW_OFF=18192 GW_ON=18193 FND=18194
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream trivial { server 127.0.0.1:$UP; keepalive 64; }
  server { listen 127.0.0.1:$UP; location / { return 200 "ok\n"; } }
  server {
    listen 127.0.0.1:$NGX;
    location / {
      proxy_pass http://trivial;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
nginx -p "$work" -c nginx.conf

CRM_DATA_DIR=$work/f DATABASE_URL=sqlite://$work/f/f.db CRM_BIND_ADDR=127.0.0.1:$FND RUST_LOG=warn \
  CRM_ADMIN_EMAIL=bench@bantu.local CRM_ADMIN_PASSWORD=Bench12345 target/release/crm-foundation >"$work/f.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:$FND/health >/dev/null 2>&1 && break; sleep 0.1; done
token=$(curl -fsS "http://127.0.0.1:$FND/api/foundation/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@bantu.local","password":"Bench12345"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')

gateway() { # port verify
  CRM_DATA_DIR=$work/g$1 CRM_BIND_ADDR=127.0.0.1:$1 CRM_TLS_ENABLED=false CRM_HTTP_REDIRECT=false \
    CRM_SERVICE_URLS="bench=http://127.0.0.1:$UP,foundation=http://127.0.0.1:$FND" \
    CRM_JWKS_URL="http://127.0.0.1:$FND/api/foundation/auth/jwks.json" CRM_GATEWAY_VERIFY_JWT=$2 \
    CRM_RATELIMIT_ENABLED=false RUST_LOG=warn target/release/crm-gateway >"$work/g$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:$1/health >/dev/null 2>&1 && break; sleep 0.1; done
}
gateway $GW_OFF false
gw_off_pid=${pids[-1]}
gateway $GW_ON true
gw_on_pid=${pids[-1]}
sleep 1
idle_kb=$(awk '/VmRSS/ {print $2}' /proc/$gw_on_pid/status)
curl -fsS -o /dev/null -H "Authorization: Bearer $token" http://127.0.0.1:$GW_ON/api/bench/x \
  || { echo "gateway with JWT refused the benchmark request" >&2; exit 1; }

run() { # name url [header]
  local args=(-t2 -c"$CONNS" -d"$DURATION" --latency)
  [ -n "${3:-}" ] && args+=(-H "$3")
  wrk "${args[@]}" "$2" > "$work/$1.$r.txt"
  awk -v n="$1" '/Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {print n, rps, p50, p99}' "$work/$1.$r.txt"
}
: > "$out/gateway_rounds.txt"
for r in $(seq 1 "$ROUNDS"); do
  run direct "http://127.0.0.1:$UP/api/bench/x" >> "$out/gateway_rounds.txt"
  run nginx "http://127.0.0.1:$NGX/api/bench/x" >> "$out/gateway_rounds.txt"
  run gateway_jwt_off "http://127.0.0.1:$GW_OFF/api/bench/x" >> "$out/gateway_rounds.txt"
  run gateway_jwt_on "http://127.0.0.1:$GW_ON/api/bench/x" "Authorization: Bearer $token" >> "$out/gateway_rounds.txt"
  echo "round $r done"
done
load_kb=$(awk '/VmHWM/ {print $2}' /proc/$gw_on_pid/status)

python3 - "$out/gateway_rounds.txt" "$idle_kb" "$load_kb" <<'PY' | tee "$out/gateway_summary.txt"
import sys, statistics
def ms(v):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float(v)
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99 = line.split()
    rows.setdefault(name, []).append((float(rps), ms(p50), ms(p99)))
med = {n: tuple(statistics.median(x[i] for x in v) for i in range(3)) for n, v in rows.items()}
ng = med["nginx"]; d = med["direct"]
print(f"{'target':18} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'rps/nginx':>10} {'p99/nginx':>10} {'+p50 vs direct':>15} {'+p99 vs direct':>15}")
for n in ("direct", "nginx", "gateway_jwt_off", "gateway_jwt_on"):
    rps, p50, p99 = med[n]
    print(f"{n:18} {rps:10.0f} {p50:8.3f} {p99:8.3f} {rps/ng[0]:10.2f} {p99/ng[2]:10.2f} {p50-d[1]:15.3f} {p99-d[2]:15.3f}")
print(f"gateway RSS: idle {int(sys.argv[2])//1024} MiB, peak under load {int(sys.argv[3])//1024} MiB ({len(next(iter(rows.values())))} interleaved rounds, median)")
PY
