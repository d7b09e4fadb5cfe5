#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh: the ingest→PostgreSQL benchmark (not a test: nothing here asserts a time).  It measures
# this machine's COPY limit, then drives `beamtel serve` with recording on at rising rates and
# reports, per rate: datagrams sent / received / stored, kernel drops, recorder lag, serve's CPU
# per packet (per thread too) and peak RSS; then the highest sustained zero-loss rate and its
# ratio to the COPY limit.  See tests/bench/README.md for how to read it.
#
#   tests/bench/run.sh [--quick] [--rates "5000 10000 ..."] [--duration S] [--sources N]
#                      [--copy-rows N] [--beamtel BIN] [--results FILE] [--keep]
#
# Everything it creates lives in one directory under /tmp (a private PostgreSQL cluster, serve's
# state directories and logs), removed at the end unless --keep.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PROG=bench

QUICK=0
RATES="5000 10000 20000 40000 60000 80000 100000 120000 140000 160000 250000"
DURATION=10
SOURCES=32
COPY_ROWS=2000000
BEAMTEL=${BEAMTEL_BIN:-}
RESULTS=
KEEP=0
CATCHUP_MAX_S=120

die() {
    echo "$PROG: $*" >&2
    exit 1
}

usage() {
    sed -n '8,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

RATES_SET=0
DURATION_SET=0
COPY_SET=0
while [[ $# -gt 0 ]]; do
    case "$1" in
    --quick) QUICK=1 ;;
    --rates) RATES=$2; RATES_SET=1; shift ;;
    --duration) DURATION=$2; DURATION_SET=1; shift ;;
    --sources) SOURCES=$2; shift ;;
    --copy-rows) COPY_ROWS=$2; COPY_SET=1; shift ;;
    --beamtel) BEAMTEL=$2; shift ;;
    --results) RESULTS=$2; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) usage ;;
    *) echo "$PROG: unknown option \"$1\"" >&2; usage ;;
    esac
    shift
done
if ((QUICK)); then
    ((RATES_SET)) || RATES="10000 40000 80000 160000"
    ((DURATION_SET)) || DURATION=4
    ((COPY_SET)) || COPY_ROWS=500000
fi
# "Sustained": the recorder finished within this long after the generator: its batching delay
# (~0.1-0.3 s) plus 5 % of the run, i.e. it kept within ~5 % of the rate (1 s for 10 s runs).
MAX_LAG_S=$(awk "BEGIN { print 0.5 + 0.05 * $DURATION }")

command -v python3 >/dev/null || die "python3 is needed (it reads serve's JSON counters)"
command -v cc >/dev/null || die "a C compiler (cc) is needed"

WORK=$(mktemp -d /tmp/btbench.XXXXXX)
chmod 0755 "$WORK"
PG=$WORK/pg
SERVE_PID=
cleanup() {
    if [[ -n $SERVE_PID ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    "$ROOT/scripts/pg-private" stop "$PG" >/dev/null 2>&1 || true
    if ((KEEP)); then
        echo "$PROG: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$PROG: $*" >&2; }

# --- build --------------------------------------------------------------------------------
if [[ -z $BEAMTEL ]]; then
    BUILD=${BEAMTEL_BENCH_BUILD:-/tmp/beamtel-bench-build}
    log "building beamtel (Release) in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBEAMTEL_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target beamtel >/dev/null
    BEAMTEL=$BUILD/beamtel
fi
[[ -x $BEAMTEL ]] || die "$BEAMTEL is not an executable"
PQ_CFLAGS=$(pkg-config --cflags libpq 2>/dev/null || echo "-I/usr/include/postgresql")
cc -O2 -std=c11 -Wall -Wextra -o "$WORK/gen" "$HERE/gen.c" -lm
# shellcheck disable=SC2086
cc -O2 -std=c11 -Wall -Wextra $PQ_CFLAGS -o "$WORK/copy_limit" "$HERE/copy_limit.c" -lpq

# --- helpers ------------------------------------------------------------------------------
# jget JSON KEY: one value of a flat JSON object (nested keys with dots).
jget() {
    python3 -c 'import json,sys
d=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2"
}
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }
now() { date +%s.%N; }
PSQL=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
[[ -x $PSQL ]] || PSQL=psql
# Plain psql, not `pg-private psql`: the catch-up loop polls, and a bash wrapper per poll costs
# CPU that serve needs on a 2-core machine.
psqlq() { "$PSQL" -X -qAt -d "$DSN" -c "$1"; }

# utime+stime of a process or thread, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$1" 2>/dev/null || echo 0; }
TCK=$(getconf CLK_TCK)

# Serve's threads, one line each in creation order: "TID COMM TICKS".
thread_table() {
    local t
    # shellcheck disable=SC2012 # thread ids are numbers
    for t in $(ls "/proc/$1/task" | sort -n); do
        printf '%s %s %s\n' "$t" "$(tr ' ' _ <"/proc/$1/task/$t/comm" 2>/dev/null || echo '?')" \
            "$(cpu_ticks "/proc/$1/task/$t/stat")"
    done
}

# Ticks of serve's ingest thread and of its recorder writer, from two thread_table snapshots.
# Named threads are used when serve names them (comm containing "ingest" / "writer" or
# "record"); otherwise ingest is the thread created last (serve starts it after everything
# else) and the writer is the busiest of the others.  Prints "INGEST WRITER".
split_threads() {
    awk 'NR == FNR { t0[$1] = $3; next }
        { d = $3 - t0[$1]; tid[++n] = $1; comm[n] = $2; dd[n] = d }
        END {
            ing = 0; wr = -1
            for (i = 1; i <= n; i++) {
                if (comm[i] ~ /ingest/) ing = i
                if (comm[i] ~ /writer|record/) wr = i
            }
            if (ing == 0) ing = n
            if (wr < 0) { best = -1; for (i = 2; i <= n; i++)
                if (i != ing && dd[i] > best) { best = dd[i]; wr = i } }
            printf "%d %d\n", dd[ing], (wr > 0 ? dd[wr] : 0)
        }' "$1" "$2"
}

# Summed ticks of every PostgreSQL backend serve opened (application_name beamtel): "PID TICKS"
backend_table() {
    local p
    for p in $(psqlq "SELECT pid FROM pg_stat_activity WHERE application_name = 'beamtel'"); do
        printf '%s %s\n' "$p" "$(cpu_ticks "/proc/$p/stat")"
    done
}
backend_delta() {
    awk 'NR == FNR { t0[$1] = $2; next } { s += $2 - t0[$1] } END { print s + 0 }' "$1" "$2"
}

# Waits until a process has used no CPU for 0.5 s (at most 10 s): serve hashes the seeded
# user's password (argon2id, ~0.1 s of CPU) on a thread of its own just after it starts.
wait_idle() {
    local a b i
    a=$(cpu_ticks "/proc/$1/stat")
    for ((i = 0; i < 20; i++)); do
        sleep 0.5
        b=$(cpu_ticks "/proc/$1/stat")
        [[ $a == "$b" ]] && return 0
        a=$b
    done
}

# Kernel-wide UDP counters (Udp: line of /proc/net/snmp): InDatagrams, RcvbufErrors.
udp_snmp() {
    awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else
        print $(n["InDatagrams"]), $(n["RcvbufErrors"]) }' /proc/net/snmp
}

# Drops counted on serve's own socket (last column of /proc/net/udp for the local port).
sock_drops() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" '$2 ~ p"$" { print $NF; exit }' /proc/net/udp
}

free_udp_port() {
    python3 -c 'import socket
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
free_tcp_port() {
    python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- PostgreSQL ----------------------------------------------------------------------------
log "private PostgreSQL in $PG"
"$ROOT/scripts/pg-private" init "$PG" --port 5432 >/dev/null
"$ROOT/scripts/pg-private" start "$PG" >/dev/null
DSN=$("$ROOT/scripts/pg-private" dsn "$PG")
"$BEAMTEL" db migrate --db "$DSN" >/dev/null

# Every measurement starts from the same empty tables (TRUNCATE also resets the statistics
# that PostgreSQL plans the foreign-key check with) and a fresh checkpoint.
reset_tables() {
    psqlq "TRUNCATE telemetry_frames, session_events, sessions; CHECKPOINT;" >/dev/null
}

MACHINE="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
MACHINE+=", $(uname -sr), PostgreSQL $(psqlq 'SHOW server_version')"
MACHINE+=" (fsync on, synchronous_commit on)"

# --- 1. the COPY limit ----------------------------------------------------------------------
reset_tables
log "COPY limit: $COPY_ROWS rows in 1000-row batches, one transaction each, $SOURCES sessions"
COPY_JSON=$("$WORK/copy_limit" --db "$DSN" --rows "$COPY_ROWS" --batch 1000 --sessions "$SOURCES")
COPY_RATE=$(jget "$COPY_JSON" rows_per_s)
COPY_FIRST=$COPY_RATE
log "COPY limit: $COPY_RATE rows/s ($COPY_JSON)"
reset_tables
log "COPY at serve's batch size: $COPY_ROWS rows in 4000-row batches"
COPY4_JSON=$("$WORK/copy_limit" --db "$DSN" --rows "$COPY_ROWS" --batch 4000 --sessions "$SOURCES")
COPY4_RATE=$(jget "$COPY4_JSON" rows_per_s)
log "COPY 4000-row batches: $COPY4_RATE rows/s"
# For the analysis only: the same table without its foreign key to sessions (the key's check
# runs a query per row).
reset_tables
psqlq "CREATE TABLE bench_frames_nofk (LIKE telemetry_frames INCLUDING ALL)" >/dev/null
COPYNF_JSON=$("$WORK/copy_limit" --db "$DSN" --rows "$COPY_ROWS" --batch 1000 \
    --sessions "$SOURCES" --table bench_frames_nofk)
COPYNF_RATE=$(jget "$COPYNF_JSON" rows_per_s)
psqlq "DROP TABLE bench_frames_nofk" >/dev/null
log "COPY without the foreign key, 1000-row batches: $COPYNF_RATE rows/s"
# Also for the analysis: serve's transaction shape (4000-row COPY plus one UPDATE of every
# session row per batch, for the running analytics).
reset_tables
COPYUS_JSON=$("$WORK/copy_limit" --db "$DSN" --rows "$COPY_ROWS" --batch 4000 \
    --sessions "$SOURCES" --update-sessions)
COPYUS_RATE=$(jget "$COPYUS_JSON" rows_per_s)
log "COPY 4000-row batches + per-batch session UPDATEs: $COPYUS_RATE rows/s"

# --- 2. serve at rising rates ---------------------------------------------------------------
XDG=$WORK/xdg # no user configuration file leaks into the run
mkdir -p "$XDG"
ROWS=()
BEST=0
BEST_CPU=
MAX_STORE=0 # the recorder's best rows/s over a whole run (its throughput when overloaded)
MONO=0      # the highest rate with every lower rate sustained too
MONO_CPU=
MONO_BROKEN=0

run_rate() {
    local rate=$1 mode=$2 port state slog gen_json t_end pid norec=()
    local snmp0 snmp1 ticks0 ticks1 bt stored last changed_at lag final hport
    port=$(free_udp_port)
    hport=$(free_tcp_port)
    state=$WORK/state-$rate-$mode
    slog=$WORK/serve-$rate-$mode.log
    [[ $mode == no-record ]] && norec=(--no-record)
    mkdir -p "$state"
    reset_tables
    # HTTP and the WebSocket hub stay on (an ephemeral port, no clients): serve as deployed.
    XDG_CONFIG_HOME=$XDG "$BEAMTEL" serve --udp "127.0.0.1:$port" --http "127.0.0.1:$hport" \
        --db "$DSN" --state-dir "$state" "${norec[@]}" 2>"$slog" &
    SERVE_PID=$!
    pid=$SERVE_PID
    for ((i = 0; i < 100; i++)); do
        grep -q "listening on udp" "$slog" && break
        kill -0 "$pid" 2>/dev/null || die "serve exited: $(cat "$slog")"
        sleep 0.05
    done
    grep -q "listening on udp" "$slog" || die "serve did not start: $(cat "$slog")"
    wait_idle "$pid"
    read -r -a snmp0 <<<"$(udp_snmp)"
    ticks0=$(cpu_ticks "/proc/$pid/stat")
    thread_table "$pid" >"$WORK/thr0"
    backend_table >"$WORK/bt0"

    gen_json=$("$WORK/gen" --to "127.0.0.1:$port" --rate "$rate" --duration "$DURATION" \
        --sources "$SOURCES")
    t_end=$(now)
    local sent
    sent=$(jget "$gen_json" sent)

    # Wait for the recorder: sessions.frame_count is updated in the same transaction as the
    # frames' COPY, so it is an exact and cheap stand-in for count(*) while polling.
    last=0
    changed_at=$t_end
    if [[ $mode == record ]]; then
        last=-1
        while :; do
            stored=$(psqlq "SELECT coalesce(sum(frame_count), 0) FROM sessions")
            if [[ $stored != "$last" ]]; then
                last=$stored
                changed_at=$(now)
            fi
            [[ $stored -ge $sent ]] && break
            # unchanged for 2 s: whatever is missing is not coming
            [[ $(calc "%d" "$(now) - $changed_at >= 2.0") == 1 ]] && break
            [[ $(calc "%d" "$(now) - $t_end >= $CATCHUP_MAX_S") == 1 ]] && break
            sleep 0.1
        done
    else
        sleep 0.5 # let serve empty its socket
    fi
    lag=$(calc "%.2f" "$changed_at - $t_end")
    [[ $last == 0 ]] && lag=0

    ticks1=$(cpu_ticks "/proc/$pid/stat")
    thread_table "$pid" >"$WORK/thr1"
    backend_table >"$WORK/bt1"
    bt=$(backend_delta "$WORK/bt0" "$WORK/bt1")
    local ith wth
    read -r ith wth <<<"$(split_threads "$WORK/thr0" "$WORK/thr1")"
    cp "$WORK/thr1" "$WORK/threads-$rate-$mode"
    local hwm drops
    hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
    drops=$(sock_drops "$port")
    read -r -a snmp1 <<<"$(udp_snmp)"

    kill -TERM "$pid"
    wait "$pid" || log "serve exited with $?"
    SERVE_PID=
    final=$(sed -n 's/.*final: //p' "$slog" | tail -n1)
    [[ -n $final ]] || die "serve logged no final counters: $(tail -n 20 "$slog")"
    local count datagrams frames sfr achieved rcvbuf cpu_us ingest_us writer_us pg_us
    count=$(psqlq "SELECT count(*) FROM telemetry_frames")
    datagrams=$(jget "$final" datagrams)
    frames=$(jget "$final" frames)
    sfr=$(jget "$final" stored_frames)
    achieved=$(jget "$gen_json" achieved_rate)
    rcvbuf=$((snmp1[1] - snmp0[1]))
    local pk=$((sent > 0 ? sent : 1))
    cpu_us=$(calc "%.2f" "($ticks1 - $ticks0) * 1e6 / $TCK / $pk")
    ingest_us=$(calc "%.2f" "$ith * 1e6 / $TCK / $pk")
    writer_us=-
    [[ $mode == record ]] && writer_us=$(calc "%.2f" "$wth * 1e6 / $TCK / $pk")
    pg_us=-
    [[ $mode == record ]] && pg_us=$(calc "%.2f" "$bt * 1e6 / $TCK / $pk")
    # Store rate: rows committed per second from the generator's start to the last commit.
    local store_rate=- ok=no elapsed gen_us
    gen_us=$(calc "%.2f" "$(jget "$gen_json" cpu_s) * 1e6 / $pk")
    elapsed=$(jget "$gen_json" elapsed_s)
    [[ $mode == record ]] && store_rate=$(calc "%.0f" "$count / ($elapsed + $lag)")
    if [[ $mode == record && $count -eq $sent && $datagrams -eq $sent && $sfr -eq $sent ]] &&
        [[ $(calc "%d" "$achieved >= 0.97 * $rate") == 1 ]] &&
        [[ $(calc "%d" "$lag <= $MAX_LAG_S") == 1 ]]; then
        ok=yes
    fi
    local label=$rate stored_col=$count lost_col=$((sent - count))
    if [[ $mode == no-record ]]; then
        label="$rate (--no-record)"
        ok="n/a"
        stored_col=-
        lost_col=-
        lag=-
    fi
    ROWS+=("| $label | $achieved | $sent | $datagrams | $((sent - datagrams)) | ${drops:-?} / $rcvbuf \
| $stored_col | $lost_col | $lag | $store_rate | $cpu_us | $ingest_us | $writer_us | $pg_us \
| $gen_us | $((hwm / 1024)) | $ok |")
    log "rate $rate ($mode): sent $sent (achieved $achieved/s), received $datagrams, frames $frames," \
        "stored $count (serve says $sfr, $store_rate/s), socket drops ${drops:-?}, RcvbufErrors +$rcvbuf," \
        "lag ${lag} s, serve CPU ${cpu_us} µs/pkt (ingest $ingest_us, writer $writer_us)," \
        "postgres ${pg_us} µs/row, generator ${gen_us} µs/pkt, VmHWM $((hwm / 1024)) MiB: sustained=$ok"
    if [[ $store_rate != - ]] && ((store_rate > MAX_STORE)); then
        MAX_STORE=$store_rate
    fi
    if [[ $mode == record ]]; then
        if [[ $ok == yes ]] && ((!MONO_BROKEN)); then
            MONO=$rate
            MONO_CPU=$cpu_us
        elif [[ $ok != yes ]]; then
            MONO_BROKEN=1
        fi
    fi
    if [[ $ok == yes ]] && ((rate > BEST)); then
        BEST=$rate
        BEST_CPU=$cpu_us
    fi
}

for rate in $RATES; do
    run_rate "$rate" record
done
# Ingest alone (no PostgreSQL, no recorder thread) at the top rate: what the UDP side costs and
# whether the kernel drops datagrams when serve's only work is receiving and decoding.
((QUICK)) || run_rate "${RATES##* }" no-record

# The machine may be shared and PostgreSQL's speed drifts (checkpoints, a growing cluster):
# measure the limit again after the serve runs and use the higher of the two, which makes the
# ratio below the conservative one.
reset_tables
log "COPY limit again: $COPY_ROWS rows in 1000-row batches"
COPY_JSON2=$("$WORK/copy_limit" --db "$DSN" --rows "$COPY_ROWS" --batch 1000 --sessions "$SOURCES")
COPY_SECOND=$(jget "$COPY_JSON2" rows_per_s)
log "COPY limit (second): $COPY_SECOND rows/s"
((COPY_SECOND > COPY_RATE)) && COPY_RATE=$COPY_SECOND

# --- 3. report ----------------------------------------------------------------------------
RATIO=$(calc "%.1f" "100 * $BEST / $COPY_RATE")
REPORT=$WORK/report.md
{
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')  "
    echo "Machine: $MACHINE  "
    echo "beamtel: $("$BEAMTEL" --version 2>&1 | head -n1) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))  "
    echo "Command: tests/bench/run.sh$( ((QUICK)) && echo ' --quick') (rates: $RATES; $DURATION s each; $SOURCES sources)"
    echo
    echo "COPY limit (copy_limit, $COPY_ROWS rows, 1000-row batches, one COPY + transaction each; higher of a run before and after the serve runs: $COPY_FIRST, $COPY_SECOND): **$COPY_RATE rows/s**  "
    echo "COPY with 4000-row batches (serve's --batch-rows default): $COPY4_RATE rows/s  "
    echo "COPY with 4000-row batches plus an UPDATE of each session row per batch (serve's transaction shape): $COPYUS_RATE rows/s  "
    echo "COPY into the same table without its foreign key to sessions (1000-row batches; for the analysis): $COPYNF_RATE rows/s"
    echo
    echo "| target /s | achieved /s | sent | received | lost before serve | socket drops / RcvbufErrors | stored | lost | recorder lag s | stored /s | serve CPU µs/pkt | ingest µs/pkt | writer µs/pkt | postgres µs/row | gen µs/pkt | VmHWM MiB | sustained |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    if ((BEST > 0)); then
        echo "Highest sustained zero-loss rate: **$BEST frames/s** = **$RATIO %** of the COPY limit (target ≥ 50 %); serve CPU there: **$BEST_CPU µs/packet** (target ≤ 3)."
        if ((MONO != BEST)); then
            echo
            echo "Not every lower rate was sustained: the highest rate with every rate below it sustained is **$MONO frames/s** = **$(calc "%.1f" "100 * $MONO / $COPY_RATE") %** of the COPY limit (serve CPU there: $MONO_CPU µs/packet)."
        fi
    else
        echo "No rate was sustained without loss."
    fi
    echo
    echo "Recorder throughput (best stored /s over a whole run, including the catch-up): $MAX_STORE rows/s = $(calc "%.0f" "100 * $MAX_STORE / $COPY_RATE") % of the COPY limit, $(calc "%.0f" "100 * $MAX_STORE / $COPY4_RATE") % of COPY with 4000-row batches, $(calc "%.0f" "100 * $MAX_STORE / $COPYUS_RATE") % of COPY in serve's transaction shape."
} >"$REPORT"
echo
cat "$REPORT"
if [[ -n $RESULTS ]]; then
    cp "$REPORT" "$RESULTS"
    log "report written to $RESULTS"
fi
