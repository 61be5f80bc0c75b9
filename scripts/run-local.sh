#!/usr/bin/env bash
# Starts every service binary that the workspace builds, with embedded defaults (SQLite under
# ./data, in-process cache), and stops them all on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-debug}
bin=target/$profile
export CRM_DATA_DIR=${CRM_DATA_DIR:-./data}
mkdir -p "$CRM_DATA_DIR"

pids=()
routes=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

start() { # name binary [port]
  if [ -x "$bin/$2" ]; then
    echo "starting $1"
    "$bin/$2" &
    pids+=($!)
    [ -n "${3:-}" ] && routes+=("$1=http://127.0.0.1:$3")
  fi
  return 0
}

start foundation crm-foundation 8081
# Give foundation a moment to create the admin and publish its keys before verifiers start.
for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:8081/health >/dev/null 2>&1 && break; sleep 0.2; done
start service-management crm-service-management 8082
start order-workflow crm-order-workflow 8083
start analytics-monitoring crm-analytics-monitoring 8084
# The gateway routes to the services started above.
CRM_SERVICE_URLS=$(IFS=,; echo "${routes[*]}")
export CRM_SERVICE_URLS
start gateway crm-gateway

echo
echo "BANTU CRM is running: https://127.0.0.1:8443 (gateway, development certificate; http://127.0.0.1:8080 redirects)"
echo "Ctrl-C stops everything."
wait -n
