#!/bin/sh
# SPDX-License-Identifier: MIT
# entrypoint: starts beamtel in the container.  When DB_PASSWORD_FILE names a file (a compose or
# swarm secret), its first line becomes a private pgpass(5) file and PGPASSFILE points at it:
# libpq ignores password files that others may read, and mounted secrets usually are.  The
# password never appears in the environment, the command line or the compose file.
# `healthcheck` asks the local /api/health (used by HEALTHCHECK; bash's /dev/tcp, no curl).
# BEAMTEL_BIN (default /usr/bin/beamtel) is for the tests.
set -eu

if [ "${1:-}" = healthcheck ]; then
    port=${BEAMTEL_HEALTH_PORT:-8080}
    exec bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" &&
        printf "GET /api/health HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 &&
        grep -q "\"ok\":true" <&3' "$port"
fi

if [ -n "${DB_PASSWORD_FILE:-}" ]; then
    if [ ! -r "$DB_PASSWORD_FILE" ]; then
        echo "beamtel-entrypoint: cannot read DB_PASSWORD_FILE=$DB_PASSWORD_FILE" >&2
        exit 1
    fi
    umask 077
    pgpass=${TMPDIR:-/tmp}/beamtel.pgpass
    # pgpass fields are host:port:database:user:password; '\' and ':' in the password are escaped.
    printf '*:*:*:*:%s\n' "$(head -n 1 "$DB_PASSWORD_FILE" | sed -e 's/\\/\\\\/g' -e 's/:/\\:/g')" \
        >"$pgpass"
    export PGPASSFILE="$pgpass"
    umask 022
fi

exec "${BEAMTEL_BIN:-/usr/bin/beamtel}" "$@"
