#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# quickstart.sh: from a fresh Debian 12 machine to a running beamtel with a live synthetic drive.
# Installs what is missing (apt), builds (Release) into build/, starts a private PostgreSQL
# cluster under the state directory, migrates it, runs `beamtel serve` and `beamtel simulate`
# in the background, and prints what runs and how to stop it.  Safe to run again.
#
#   scripts/quickstart.sh          start (or check) everything
#   scripts/quickstart.sh status   show what runs
#   scripts/quickstart.sh stop     stop simulate, serve and the cluster
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BIN=$ROOT/build/beamtel
PG_PRIVATE=$ROOT/scripts/pg-private
if [[ $(id -u) -eq 0 ]]; then
    STATE=${BEAMTEL_STATE_DIR:-/var/lib/beamtel}
else
    STATE=${BEAMTEL_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/beamtel}
fi
PGDIR=$STATE/pg
UDP_PORT=${BEAMTEL_UDP_PORT:-4444}
HTTP_PORT=${BEAMTEL_HTTP_PORT:-8080}

say() { printf '%s\n' "$*"; }
die() {
    printf 'quickstart: %s\n' "$*" >&2
    exit 1
}

# The pid in a pid file when that process is alive and is beamtel; else nothing.
live_pid() {
    local f=$1 pid
    [[ -s $f ]] || return 1
    pid=$(tr -dc '0-9' <"$f")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q beamtel || return 1
    echo "$pid"
}

# Sends SIGTERM and waits up to $2 seconds (then SIGKILL).
stop_pidfile() {
    local f=$1 wait_s=$2 name=$3 pid i
    if pid=$(live_pid "$f"); then
        kill -TERM "$pid"
        for ((i = 0; i < wait_s * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) did not stop within ${wait_s} s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        else
            say "stopped $name (pid $pid)"
        fi
    fi
    rm -f "$f"
}

cmd_stop() {
    stop_pidfile "$STATE/simulate.pid" 5 simulate
    # serve writes every queued frame and closes open sessions on SIGTERM: give it time
    stop_pidfile "$STATE/serve.pid" 60 serve
    if [[ -d $PGDIR ]]; then
        "$PG_PRIVATE" stop "$PGDIR"
    fi
}

cmd_status() {
    local pid
    if pid=$(live_pid "$STATE/serve.pid"); then say "serve:    running (pid $pid)"; else say "serve:    stopped"; fi
    if pid=$(live_pid "$STATE/simulate.pid"); then say "simulate: running (pid $pid)"; else say "simulate: stopped"; fi
    if [[ -d $PGDIR ]]; then "$PG_PRIVATE" status "$PGDIR" || true; else say "database: not created"; fi
}

build() {
    say "==> building (Release) into build/"
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >build/cmake-configure.log 2>&1 || {
        cat build/cmake-configure.log >&2
        die "cmake configure failed"
    }
    cmake --build build -j 2 >build/cmake-build.log 2>&1 || {
        tail -n 40 build/cmake-build.log >&2
        die "build failed (full log: build/cmake-build.log)"
    }
}

# The web app needs Node.js ≥ 20 and the npm registry; without them serve still runs (API,
# WebSocket, tui) and says the dashboard is missing.
build_web() {
    if ! command -v npm >/dev/null 2>&1 || ! node -e 'process.exit(+(process.versions.node.split(".")[0] < 20))' 2>/dev/null; then
        say "==> skipping the web dashboard: it needs Node.js 20 or newer and npm"
        return 0
    fi
    say "==> building the web dashboard into web/dist"
    (cd web && npm ci --no-audit --no-fund --loglevel=error >../build/npm-ci.log 2>&1 &&
        npm run build >../build/web-build.log 2>&1) || {
        tail -n 30 build/npm-ci.log build/web-build.log >&2
        die "web build failed (logs: build/npm-ci.log, build/web-build.log)"
    }
}

cmd_start() {
    local dsn pid i webroot=()
    say "==> installing missing packages (apt)"
    ./scripts/deps.sh
    mkdir -p build
    build
    build_web
    if [ -f web/dist/index.html ]; then
        webroot=(--web-root "$PWD/web/dist")
    else
        say "    (serve runs without the dashboard: the API, WebSocket and tui still work)"
    fi

    say "==> state directory $STATE"
    mkdir -p "$STATE"
    # Traversable (the cluster runs as another user) but not listable; logs and secrets 0600.
    chmod 0711 "$STATE"
    umask 077
    chmod 0600 "$STATE"/*.log 2>/dev/null || true
    "$PG_PRIVATE" init "$PGDIR" >/dev/null
    "$PG_PRIVATE" start "$PGDIR"
    dsn=$("$PG_PRIVATE" dsn "$PGDIR")
    "$BIN" db migrate --db "$dsn"

    if pid=$(live_pid "$STATE/serve.pid"); then
        say "serve already running (pid $pid)"
    else
        say "==> starting beamtel serve (UDP 0.0.0.0:$UDP_PORT)"
        : >>"$STATE/serve.log"
        local from
        from=$(wc -c <"$STATE/serve.log")
        nohup "$BIN" serve --db "$dsn" --state-dir "$STATE" --udp "0.0.0.0:$UDP_PORT" \
            --http "127.0.0.1:$HTTP_PORT" "${webroot[@]}" </dev/null >>"$STATE/serve.log" 2>&1 &
        echo $! >"$STATE/serve.pid"
        for ((i = 0; i < 100; i++)); do
            tail -c +"$((from + 1))" "$STATE/serve.log" | grep -q "listening on udp" && break
            if ! kill -0 "$(cat "$STATE/serve.pid")" 2>/dev/null; then
                tail -c +"$((from + 1))" "$STATE/serve.log" | tail -n 20 >&2
                rm -f "$STATE/serve.pid"
                die "serve exited (log above; is UDP port $UDP_PORT or TCP port $HTTP_PORT in use? ss -ulpn | grep $UDP_PORT; other ports: BEAMTEL_UDP_PORT=N BEAMTEL_HTTP_PORT=M $0; the database still runs: $0 stop)"
            fi
            sleep 0.1
        done
        live_pid "$STATE/serve.pid" >/dev/null || die "serve is not running (see $STATE/serve.log)"
    fi

    if pid=$(live_pid "$STATE/simulate.pid"); then
        say "simulate already running (pid $pid)"
    else
        say "==> starting beamtel simulate (2 cars → 127.0.0.1:$UDP_PORT)"
        nohup "$BIN" simulate --cars 2 --duration 0 --to "127.0.0.1:$UDP_PORT" \
            </dev/null >>"$STATE/simulate.log" 2>&1 &
        echo $! >"$STATE/simulate.pid"
        sleep 0.5
        live_pid "$STATE/simulate.pid" >/dev/null || {
            tail -n 20 "$STATE/simulate.log" >&2
            die "simulate exited (log above)"
        }
    fi

    cat <<EOF

beamtel is running:
  serve      pid $(live_pid "$STATE/serve.pid")   UDP 0.0.0.0:$UDP_PORT (OutGauge + MotionSim)   log $STATE/serve.log
             web dashboard, API and WebSocket: http://127.0.0.1:$HTTP_PORT/
             user "local", password: $(cat "$STATE/admin-password" 2>/dev/null || echo "see $STATE/serve.log") (also in $STATE/admin-password)
  simulate   pid $(live_pid "$STATE/simulate.pid")   2 synthetic cars → 127.0.0.1:$UDP_PORT        log $STATE/simulate.log
  PostgreSQL $dsn
             log $PGDIR/log/postgresql.log

Watch live in the terminal:
  $BIN login --user local --password-file $STATE/admin-password && $BIN tui

See the recorded sessions (a session is stored once a car has moved; the list grows as they drive):
  $BIN sessions --db '$dsn'
  $BIN sessions show ID --db '$dsn'
  $BIN sessions export ID --csv --db '$dsn' > session.csv

Point BeamNG.drive at this machine: Options → Other → Protocols, enable OutGauge and
Motion Sim, IP of this machine, port $UDP_PORT for both.  (Stop the simulator first:
kill $(live_pid "$STATE/simulate.pid"), so that its cars do not mix with yours.)

Stop everything:   scripts/quickstart.sh stop
EOF
}

case "${1:-start}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
-h | --help | help) sed -n '7,10p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown command \"$1\" (start, status, stop)" ;;
esac
