#!/usr/bin/env bash
# Dependency rules: the gateway must not link sea-orm, and crm-common must not depend on any
# service crate.
set -euo pipefail
status=0
if cargo metadata --format-version 1 --no-deps | grep -q '"name":"crm-gateway"'; then
  if cargo tree -p crm-gateway -e normal -i sea-orm >/dev/null 2>&1; then
    echo "crm-gateway links sea-orm:" >&2
    cargo tree -p crm-gateway -e normal -i sea-orm >&2 || true
    status=1
  fi
fi
for svc in crm-foundation crm-service-management crm-order-workflow crm-analytics-monitoring crm-gateway; do
  if cargo tree -p crm-common --all-features -e normal,build 2>/dev/null | grep -q " $svc v"; then
    echo "crm-common depends on $svc" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "dependency boundaries ok"
exit $status
