#!/usr/bin/env bash
# The browser tests drive Debian's chromium through Playwright (never Playwright's own download).
# Install Debian's package unless a chromium is already at the path the tests use.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

[ -x "$CHROMIUM" ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
    SUDO="sudo"
fi
# A fresh machine may have no package lists yet: fetch them when the first try fails.
if ! $SUDO apt-get install -y -q chromium >/dev/null; then
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q chromium >/dev/null
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "chromium is not at $CHROMIUM after installing Debian's package" >&2
    exit 1
fi
