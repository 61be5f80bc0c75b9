#!/usr/bin/env bash
# Gateway benchmark: one trivial upstream (its own nginx process answering `return 200`), reached
#   direct | through nginx as a keep-alive reverse proxy | through crm-gateway, JWT off | JWT on.
# The proxies get the same number of workers (nginx worker_processes = CRM_GATEWAY_WORKERS), for
# each count in BENCH_WORKERS. Same load generator (wrk), same connections, interleaved rounds,
# median of the rounds. Prints throughput and p50/p99 as ratios to nginx, the latency added over
# direct, CPU time per request of each proxy, and the gateway's idle and under-load RSS; then the
# latency of each target when paced below saturation. The gateway is built with the `production`
# profile, as deployed (BENCH_GATEWAY_PROFILE=release skips that long build; compare only runs made
# with the same profile).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_DURATION:-8s}
CONNS=${BENCH_CONNECTIONS:-32}
WORKER_COUNTS=${BENCH_WORKERS:-1 2}
out=bench-results
mkdir -p "$out"
for tool in wrk nginx; do
  command -v $tool >/dev/null 2>&1 || apt-get install -y -qq "$([ $tool = nginx ] && echo nginx-light || echo wrk)" >/dev/null \
    || { echo "$tool is required" >&2; exit 1; }
done
scripts/ensure-services.sh
GW_PROFILE=${BENCH_GATEWAY_PROFILE:-production}
# BENCH_NO_BUILD=1 uses the binaries as they are (a build of one package can resolve features
# differently from the workspace's and rebuild much of the tree).
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build -q --release -p crm-foundation
  cargo build -q --profile "$GW_PROFILE" -p crm-gateway
fi

work=$(mktemp -d)
pids=()
stop_gateways() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pids=(); }
stop_nginx() { for d in up px; do [ -f "$work/$d/nginx.pid" ] && nginx -p "$work/$d" -c nginx.conf -s stop 2>/dev/null || true; done; }
cleanup() { stop_gateways; kill "${fnd_pid:-0}" 2>/dev/null || true; stop_nginx; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${BENCH_KEEP_LOGS:-}" ] && trap "cp $work/*.log /tmp/ 2>/dev/null; cleanup" EXIT

UP=18190 NGX=18191 GW_OFF=18192 GW_ON=18193 FND=18194 NGX_H=18195 NGX_S=18196
for port in $UP $NGX $GW_OFF $GW_ON $FND $NGX_H $NGX_S; do
  if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is already in use" >&2; exit 1; fi
done
nginx_conf() { # dir workers body
  mkdir -p "$work/$1"
  cat > "$work/$1/nginx.conf" <<NGINX
worker_processes $2;
pid $work/$1/nginx.pid;
error_log $work/$1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  $3
}
NGINX
  nginx -p "$work/$1" -c nginx.conf
}
# A proxy server block that adds the gateway's headers both ways, with the given values.
with_headers() { # port request-id traceparent x-forwarded-for x-forwarded-proto x-forwarded-host
  cat <<BLOCK
server {
    listen 127.0.0.1:$1;
    location / {
      proxy_pass http://trivial; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Request-ID $2;
      proxy_set_header traceparent $3;
      proxy_set_header X-Forwarded-For $4;
      proxy_set_header X-Forwarded-Proto $5;
      proxy_set_header X-Forwarded-Host $6;
      add_header X-Request-ID $2;
      add_header traceparent $3;
      add_header X-Content-Type-Options nosniff;
      add_header X-Frame-Options DENY;
      add_header Referrer-Policy no-referrer;
    }
  }
BLOCK
}
# The upstream is a process of its own, so that neither proxy shares an event loop with it. It
# reads a request head with one 8 KiB read, as the services do (hyper's first read buffer is 8
# KiB): with nginx's default of 1 KiB, a head just over it (the gateway's, once it adds request id,
# trace context and X-Forwarded-*, to a 0.8 KiB token) costs the upstream two more system calls
# per request, and that would be measured as the proxy's cost. BENCH_UPSTREAM_HEADER_BUFFER=1k
# measures it that way.
nginx_conf up 1 "client_header_buffer_size ${BENCH_UPSTREAM_HEADER_BUFFER:-8k};
  server { listen 127.0.0.1:$UP; location / { return 200 \"ok\\n\"; } }"

mkdir -p "$work/f"
CRM_DATA_DIR=$work/f DATABASE_URL=sqlite://$work/f/f.db CRM_BIND_ADDR=127.0.0.1:$FND RUST_LOG=warn CRM_ACCESS_TOKEN_TTL_SECS=86400 \
  CRM_ADMIN_EMAIL=bench@bantu.local CRM_ADMIN_PASSWORD=Bench12345 target/release/crm-foundation >"$work/f.log" 2>&1 &
fnd_pid=$!
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:$FND/health >/dev/null 2>&1 && break; sleep 0.1; done
token=$(curl -fsS "http://127.0.0.1:$FND/api/foundation/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@bantu.local","password":"Bench12345"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')

# Each proxy runs in a session of its own, as nginx does once it daemonizes: with the scheduler's
# autogroups (Linux's default on desktops and many servers) a process left in the script's session
# would share one CPU share with wrk, and nginx would not.
gateway() { # port verify workers
  CRM_DATA_DIR=$work/g$1 CRM_BIND_ADDR=127.0.0.1:$1 CRM_TLS_ENABLED=false CRM_HTTP_REDIRECT=false \
    CRM_SERVICE_URLS="bench=http://127.0.0.1:$UP,foundation=http://127.0.0.1:$FND" \
    CRM_JWKS_URL="http://127.0.0.1:$FND/api/foundation/auth/jwks.json" CRM_GATEWAY_VERIFY_JWT=$2 \
    CRM_GATEWAY_WORKERS=$3 CRM_RATELIMIT_ENABLED=false RUST_LOG=warn setsid "target/$GW_PROFILE/crm-gateway" >"$work/g$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:$1/health >/dev/null 2>&1 && break; sleep 0.1; done
}
cpu_ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }

# Paced runs: each connection waits PACE_MS between requests, so the proxies have CPU to spare and
# the latency measured is the path's own rather than queueing for a saturated machine.
PACE_MS=${BENCH_PACE_MS:-2}
echo "function delay() return $PACE_MS end" > "$work/pace.lua"

run() { # name url pids... ; wrk with the token (the nginx and direct runs send it too, unread)
  local name=$1 url=$2; shift 2
  local before; before=$(cpu_ticks "$@")
  local pacing=()
  [[ $name == *_paced ]] && pacing=(-s "$work/pace.lua")
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency "${pacing[@]}" -H "Authorization: Bearer $token" "$url" > "$work/run.txt"
  # Errors are cheap to serve: a run with any would measure the wrong thing.
  if grep -qE "Non-2xx|Socket errors" "$work/run.txt"; then
    echo "$name: the run had failed requests" >&2; cat "$work/run.txt" >&2; exit 1
  fi
  local after; after=$(cpu_ticks "$@")
  awk -v n="$name" -v w="$workers" -v cpu=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ {reqs=$1} /Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
    END {printf "%s %s %s %s %s %.1f\n", w, n, rps, p50, p99, cpu * 1e6 / hz / reqs}' "$work/run.txt"
}

: > "$out/gateway_rounds.txt"
: > "$out/gateway_memory.txt"
for workers in $WORKER_COUNTS; do
  stop_gateways
  [ -f "$work/px/nginx.pid" ] && nginx -p "$work/px" -c nginx.conf -s stop && sleep 0.5
  # The plain reverse proxy the goal is set against, and (nginx_headers) the same proxy also adding
  # the headers the gateway adds both ways: request id, trace context, X-Forwarded-*, and the
  # security headers; and (nginx_static) the same proxy sending those headers as fixed strings of
  # the same length, so that the upstream and wrk read as many bytes as they do from the gateway
  # while nginx does no work to make them.
  rid=0af7651916cd43dd8448eb211c80319c
  nginx_conf px "$workers" "upstream trivial { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    location / { proxy_pass http://trivial; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
  }
  $(with_headers $NGX_H '$request_id' '00-$request_id-00f067aa0ba902b7-01' '$proxy_add_x_forwarded_for' '$scheme' '$host')
  $(with_headers $NGX_S $rid "00-$rid-b7ad6b7169203331-01" 127.0.0.1 http "127.0.0.1:$GW_ON")"
  gateway $GW_OFF false "$workers"
  gw_off_pid=${pids[-1]}
  gateway $GW_ON true "$workers"
  gw_on_pid=${pids[-1]}
  sleep 1
  idle_kb=$(awk '/VmRSS/ {print $2}' /proc/$gw_on_pid/status)
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" http://127.0.0.1:$GW_ON/api/bench/x \
    || { echo "gateway with JWT refused the benchmark request" >&2; exit 1; }
  ngx_pids=$(pgrep -P "$(cat "$work/px/nginx.pid")" | tr '\n' ' ')
  up_pids=$(pgrep -P "$(cat "$work/up/nginx.pid")" | tr '\n' ' ')
  for r in $(seq 1 "$ROUNDS"); do
    # shellcheck disable=SC2086
    {
      run direct "http://127.0.0.1:$UP/api/bench/x" $up_pids
      run nginx "http://127.0.0.1:$NGX/api/bench/x" $ngx_pids
      run nginx_headers "http://127.0.0.1:$NGX_H/api/bench/x" $ngx_pids
      run gateway_jwt_off "http://127.0.0.1:$GW_OFF/api/bench/x" $gw_off_pid
      run gateway_jwt_on "http://127.0.0.1:$GW_ON/api/bench/x" $gw_on_pid
      run direct_paced "http://127.0.0.1:$UP/api/bench/x" $up_pids
      run nginx_paced "http://127.0.0.1:$NGX/api/bench/x" $ngx_pids
      run nginx_headers_paced "http://127.0.0.1:$NGX_H/api/bench/x" $ngx_pids
      run nginx_static_paced "http://127.0.0.1:$NGX_S/api/bench/x" $ngx_pids
      run gateway_jwt_off_paced "http://127.0.0.1:$GW_OFF/api/bench/x" $gw_off_pid
      run gateway_jwt_on_paced "http://127.0.0.1:$GW_ON/api/bench/x" $gw_on_pid
    } >> "$out/gateway_rounds.txt"
    echo "workers $workers: round $r done"
  done
  load_kb=$(awk '/VmHWM/ {print $2}' /proc/$gw_on_pid/status)
  echo "$workers $idle_kb $load_kb" >> "$out/gateway_memory.txt"
done

python3 - "$out/gateway_rounds.txt" "$out/gateway_memory.txt" <<'PY' | tee "$out/gateway_summary.txt"
import sys, statistics
def ms(v):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float(v)
rows = {}
for line in open(sys.argv[1]):
    workers, name, rps, p50, p99, cpu = line.split()
    rows.setdefault((workers, name), []).append((float(rps), ms(p50), ms(p99), float(cpu)))
memory = {w: (int(i) // 1024, int(l) // 1024) for w, i, l in (line.split() for line in open(sys.argv[2]))}
for workers in dict.fromkeys(w for w, _ in rows):
    med = {n: tuple(statistics.median(x[i] for x in v) for i in range(4)) for (w, n), v in rows.items() if w == workers}
    ng, d = med["nginx"], med["direct"]
    rounds = len(rows[(workers, "nginx")])
    print(f"\n{workers} worker(s) per proxy, {rounds} interleaved rounds, medians")
    print(f"{'target':16} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'rps/nginx':>9} {'p99/nginx':>9} "
          f"{'+p50':>7} {'+p99':>7} {'cpu us/req':>10}")
    for n in ("direct", "nginx", "nginx_headers", "gateway_jwt_off", "gateway_jwt_on"):
        rps, p50, p99, cpu = med[n]
        print(f"{n:16} {rps:8.0f} {p50:7.3f} {p99:7.3f} {rps/ng[0]:9.2f} {p99/ng[2]:9.2f} "
              f"{p50-d[1]:7.3f} {p99-d[2]:7.3f} {cpu:10.1f}")
    ng, d = med["nginx_paced"], med["direct_paced"]
    print(f"paced, about {ng[0]:.0f} req/s:")
    for n in ("direct_paced", "nginx_paced", "nginx_headers_paced", "nginx_static_paced", "gateway_jwt_off_paced",
              "gateway_jwt_on_paced"):
        rps, p50, p99, cpu = med[n]
        print(f"{n:21} {p50:7.3f} ms p50 {p99:7.3f} ms p99, added over direct {p50-d[1]:6.3f} / {p99-d[2]:6.3f} ms, "
              f"added p99 vs nginx's {(p99-d[2])/(ng[2]-d[2]):5.2f}")
    idle, load = memory[workers]
    print(f"gateway RSS: idle {idle} MiB, peak under load {load} MiB")
print("\npaced: every connection waits BENCH_PACE_MS between requests (the machine is not saturated)")
print("+p50/+p99: added over direct; cpu us/req: CPU time of the proxy's processes (the upstream's for direct)")
print("nginx_headers: nginx also adding the headers the gateway adds (request id, traceparent, X-Forwarded-*, security)")
print("nginx_static: nginx sending those headers as fixed strings (the same bytes, none of the work)")
PY
