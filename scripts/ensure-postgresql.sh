#!/usr/bin/env bash
# `make test` runs the whole suite a second time on a PostgreSQL server at 127.0.0.1:5432 (or
# FEEDBACK_TEST_POSTGRES_URL). Start the machine's cluster (installing Debian's package when
# missing) unless one already answers; the suite's user must be allowed to create databases.
set -euo pipefail
HOST="${PGHOST:-127.0.0.1}"
PORT="${PGPORT:-5432}"

answers() { pg_isready -q -h "$HOST" -p "$PORT"; }

if ! command -v pg_isready >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y --no-install-recommends postgresql postgresql-contrib >/dev/null
fi
answers && exit 0
for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
done
for _ in $(seq 100); do answers && exit 0; sleep 0.1; done
echo "PostgreSQL did not answer on $HOST:$PORT" >&2
exit 1
