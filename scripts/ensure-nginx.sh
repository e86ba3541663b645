#!/usr/bin/env bash
# The deployment tests run Debian's nginx, as the test's own process on a loopback port, in front
# of the served app. Install the package unless an nginx is already at the path the tests use;
# the system's nginx service is never started.
set -euo pipefail
NGINX="${NGINX_PATH:-/usr/sbin/nginx}"

[ -x "$NGINX" ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
    SUDO="sudo"
fi

# The package's install script starts nginx.service (on port 80) unless policy-rc.d denies it:
# deny every service start while installing, then put back whatever policy was there.
POLICY=/usr/sbin/policy-rc.d
SAVED_POLICY=""
if [ -e "$POLICY" ]; then
    SAVED_POLICY="$($SUDO mktemp)"
    $SUDO cp -p "$POLICY" "$SAVED_POLICY"
fi
restore_policy() {
    if [ -n "$SAVED_POLICY" ]; then
        $SUDO mv "$SAVED_POLICY" "$POLICY"
    else
        $SUDO rm -f "$POLICY"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
$SUDO chmod 755 "$POLICY"

# The smallest build where the release still names one (nginx-light); else plain nginx. A fresh
# machine may have no package lists yet.
package() {
    if apt-cache show nginx-light >/dev/null 2>&1; then echo nginx-light; else echo nginx; fi
}
if ! $SUDO apt-get install -y -q --no-install-recommends "$(package)" >/dev/null; then
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends "$(package)" >/dev/null
fi
# Nor should it start at the next boot: the tests run their own.
if command -v systemctl >/dev/null; then
    $SUDO systemctl disable --quiet nginx.service 2>/dev/null || true
fi
if [ ! -x "$NGINX" ]; then
    echo "nginx is not at $NGINX after installing Debian's package" >&2
    exit 1
fi
