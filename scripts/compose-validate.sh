#!/usr/bin/env bash
# Offline check of docker-compose.yml against the Compose specification's JSON schema
# (check-jsonschema from PyPI, in ./.venv, which ships it as `vendor.compose-spec`), and a proof
# that the check can fail: the same file with a misspelt key must be refused.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
if ! "$venv/bin/check-jsonschema" --version >/dev/null 2>&1; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check check-jsonschema
fi
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/^    healthcheck:/    healthchek:/' docker-compose.yml > "$work/docker-compose.yml"
if "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$work/docker-compose.yml" >/dev/null 2>&1; then
  echo "the compose check accepted a misspelt key: it checks nothing" >&2
  exit 1
fi
echo "docker-compose.yml: valid (and a misspelt key is refused)"
