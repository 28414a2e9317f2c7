#!/usr/bin/env bash
# Installs Debian's chromium for the browser end-to-end tests (tests/e2e), which drive it with
# Playwright; Playwright's own browser downloads are never used. Idempotent: does nothing when
# /usr/bin/chromium is already there. Needs root (or sudo) only when it has to install.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-chromium: $CHROMIUM is missing and this needs root (or sudo) to run apt-get" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends chromium

echo "chromium installed: $("$CHROMIUM" --version)"
