#!/usr/bin/env bash
# Makes sure Debian's Chromium and its WebDriver (chromedriver) are installed: the dashboard's
# browser test drives them. Installs them with apt-get when missing (CI runs as root); fails loudly
# when that is impossible, so that the browser test never silently does not run.
set -euo pipefail

have() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

if ! have; then
  echo "installing chromium and chromium-driver"
  if [ "$(id -u)" -ne 0 ]; then
    echo "chromium/chromedriver are missing and this is not root: install chromium and chromium-driver" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
have || { echo "chromium/chromedriver did not install" >&2; exit 1; }
