#!/usr/bin/env bash
# Installs headless Chromium from Debian's packages for the HTML report test
# (test/integration/html-report.test.ts), which opens report.html in a real browser.
# Idempotent: when a binary is already there ($CHROME_BIN, chromium or chromium-browser) it only says so.
# Uses sudo only when not root. Exits non-zero with a message when it cannot install.
#
# Usage: scripts/install-chromium.sh
set -uo pipefail

log() { echo "install-chromium: $*"; }
die() { echo "install-chromium: $*" >&2; exit 1; }

find_chromium() {
  if [[ -n "${CHROME_BIN:-}" && -x "${CHROME_BIN}" ]]; then
    echo "$CHROME_BIN"
    return 0
  fi
  local name
  for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if found="$(find_chromium)"; then
  log "already installed: $found ($("$found" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  die "no chromium binary and no apt-get on this machine; install Chromium yourself and set CHROME_BIN to its path"
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    die "not root and no sudo: cannot install Chromium; install it yourself or set CHROME_BIN"
  fi
fi

log "no chromium binary found; installing chromium and chromium-driver from apt"
if ! "${sudo_cmd[@]}" apt-get update; then
  die "apt-get update failed; cannot install Chromium"
fi
if ! "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; then
  die "apt-get install chromium chromium-driver failed"
fi

if found="$(find_chromium)"; then
  log "installed: $found ($("$found" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
die "apt-get reported success but no chromium binary is on PATH"
