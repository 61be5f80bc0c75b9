#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests: every overlay renders with kustomize (kubectl's),
# every object is valid against the Kubernetes API schema (kubernetes-validate, from PyPI, in
# ./.venv), and every CRM_* variable the manifests set is one the binaries document in --help.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v kubectl >/dev/null || { echo "kubectl is required to render k8s/ (kubectl kustomize)" >&2; exit 1; }
venv=.venv
if ! "$venv/bin/kubernetes-validate" --version >/dev/null 2>&1; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check kubernetes-validate
fi
cargo build -q -p crm-foundation -p crm-service-management -p crm-order-workflow -p crm-analytics-monitoring -p crm-gateway --bins
documented=$( (target/debug/crm-foundation --help; target/debug/crm-service-management --help; target/debug/crm-order-workflow --help; target/debug/crm-analytics-monitoring --help; target/debug/crm-gateway --help) | grep -oE 'CRM_[A-Z0-9_]+' | sort -u)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for overlay in k8s/overlays/*/; do
  name=$(basename "$overlay")
  mkdir -p "$work/$name"
  kubectl kustomize "$overlay" > "$work/$name.yaml"
  # One file per object, so that a failure names the object.
  python3 - "$work/$name.yaml" "$work/$name" <<'PY'
import sys
docs = [d for d in open(sys.argv[1]).read().split("\n---\n") if d.strip()]
for i, doc in enumerate(docs):
    open(f"{sys.argv[2]}/{i:02d}.yaml", "w").write(doc)
PY
  "$venv/bin/kubernetes-validate" --strict --quiet "$work/$name"/*.yaml
  # WebSockets through the ingress: its read/send timeouts must outlast the sockets' heartbeat
  # and idle limits, or nginx cuts quiet sockets the service still holds.
  python3 - "$work/$name.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def setting(var, default):
    found = re.findall(var + r':\s*"?(\d+)', text)
    return max([int(v) for v in found] or [default])
need = max(setting("CRM_WS_PING_SECS", 25), setting("CRM_WS_IDLE_SECS", 60))
ingresses = [d for d in text.split("\n---\n") if re.search(r'^kind: Ingress$', d, re.M)]
if not ingresses:
    sys.exit("no Ingress rendered")
for doc in ingresses:
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        m = re.search(r'nginx\.ingress\.kubernetes\.io/' + key + r':\s*"?(\d+)', doc)
        if not m:
            sys.exit(f"the Ingress lacks nginx.ingress.kubernetes.io/{key} (WebSockets would be cut after 60 s)")
        if int(m.group(1)) <= need:
            sys.exit(f"nginx.ingress.kubernetes.io/{key} = {m.group(1)} s must exceed the sockets' {need} s heartbeat/idle limit")
PY
  for var in $(grep -oE '\bCRM_[A-Z0-9_]+' "$work/$name.yaml" | sort -u); do
    grep -qx "$var" <<<"$documented" || { echo "$name: $var is set but no binary documents it" >&2; exit 1; }
  done
  echo "k8s/overlays/$name: $(ls "$work/$name" | wc -l) objects valid"
done
