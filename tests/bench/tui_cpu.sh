#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tui_cpu.sh: how much CPU `beamtel tui` uses while a 60 Hz telemetry stream changes every gauge
# on every frame (OutGauge and MotionSim at 60 Hz each, speed, RPM, pedals and G moving).
# A benchmark, not a test: it prints the figure (target: under 3 % of one core).
#
# It starts a private PostgreSQL, `beamtel serve` on free ports, logs in, runs `beamtel tui` in a
# detached tmux pane of each size, and reads the tui process's utime+stime from /proc over the
# measuring window.
#
# usage: tests/bench/tui_cpu.sh [SECONDS] [COLSxROWS ...]
#        BEAMTEL_BIN=build/beamtel tests/bench/tui_cpu.sh 30 80x24 100x30 200x60
set -euo pipefail
cd "$(dirname "$0")/../.."
export BEAMTEL_BIN="${BEAMTEL_BIN:-$PWD/build/beamtel}"
export PYTHONDONTWRITEBYTECODE=1
SECONDS_=${1:-20}
shift || true
SIZES=${*:-100x30 80x24}
exec python3 - "$SECONDS_" $SIZES <<'EOF'
import math, os, sys, time, threading
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "tui"))
import tuilib
from tuilib import btlib

secs = float(sys.argv[1])
sizes = [tuple(int(v) for v in s.split("x")) for s in sys.argv[2:]]
tick = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime


def drive(port, stop, counter):
    """OutGauge + MotionSim at 60 Hz, every value moving."""
    udp = btlib.UdpSender(port)
    t0 = time.monotonic()
    i = 0
    while not stop.is_set():
        t = i / 60.0
        speed = 30 + 25 * math.sin(t / 3)
        udp.send(btlib.motionsim(acc=(9.8 * 0.8 * math.sin(t), 9.8 * 0.5 * math.cos(t / 2), 0)))
        udp.send(btlib.outgauge(speed=speed, gear=2 + int(t) % 5, rpm=2000 + 4500 * abs(math.sin(t)),
                                throttle=abs(math.sin(t * 1.3)), brake=abs(math.cos(t)) * 0.3,
                                clutch=0.1, fuel=0.5 - t / 1e4, eng_temp=90 + t / 10,
                                dash_lights=0x7FFF, show_lights=(1 << (int(t * 4) % 14))))
        i += 1
        counter[0] = i
        d = t0 + i / 60.0 - time.monotonic()
        if d > 0:
            time.sleep(d)
    udp.close()


pg = btlib.PrivatePG().start()
srv = None
try:
    srv = tuilib.Server(pg)
    srv.login()
    print(f"beamtel tui CPU at a 60 Hz stream (OutGauge + MotionSim), {secs:.0f} s per size:")
    for cols, rows in sizes:
        tm = tuilib.Tmux(f"{btlib.beamtel_bin()} tui", cols, rows, env=srv.env())
        stop, counter = threading.Event(), [0]
        th = threading.Thread(target=drive, args=(srv.udp, stop, counter), daemon=True)
        th.start()
        try:
            tm.wait_for(lambda t: " live" in t and "km/h" in t, 20, "the live view")
            time.sleep(2)  # settle: history, trail
            pid = tm.pid()
            c0, n0, w0 = cpu_s(pid), counter[0], time.monotonic()
            time.sleep(secs)
            c1, n1, w1 = cpu_s(pid), counter[0], time.monotonic()
            pct = 100.0 * (c1 - c0) / (w1 - w0)
            print(f"  {cols}x{rows}: {pct:.2f} % of one core "
                  f"({(n1 - n0) / (w1 - w0):.1f} frames/s sent, {c1 - c0:.2f} s CPU in "
                  f"{w1 - w0:.1f} s)  {'OK' if pct < 3 else 'OVER the 3 % target'}")
        finally:
            stop.set()
            th.join(5)
            tm.kill()
finally:
    if srv is not None:
        srv.destroy()
    pg.destroy()
EOF
