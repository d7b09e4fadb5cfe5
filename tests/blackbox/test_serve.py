#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: `beamtel serve` over real UDP on 127.0.0.1: a replayed drive is recorded exactly,
a port in use is reported at once, and --no-record runs without a database."""

import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402


def setUpModule():
    btlib.beamtel_bin()


def tearDownModule():
    btlib.module_pg_cleanup()


def env_without_pg():
    """The environment with no PG* variables, and PGHOST pointing nowhere: a serve that touched
    PostgreSQL would fail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGHOST"] = "/nonexistent/beamtel-test"
    return env


class Serve(unittest.TestCase):
    def setUp(self):
        self.state = btlib.tmpdir("btstate-")
        self.serve = None

    def tearDown(self):
        if self.serve is not None:
            self.serve.kill()
        shutil.rmtree(self.state, ignore_errors=True)

    def test_replay_hillclimb_records_every_session_frame(self):
        capture = btlib.shared("dashbeam_hillclimb.pcap")
        pg = btlib.module_pg()
        dsn = pg.fresh_db()
        port = btlib.free_port("udp")
        addr = f"127.0.0.1:{port}"
        self.serve = btlib.ServeProcess("--udp", addr, "--db", dsn, "--state-dir", self.state)
        self.serve.wait_listening(addr)

        t0 = time.monotonic()
        btlib.run("replay", capture, "--to", addr, "--speed", 4, timeout=60)
        elapsed = time.monotonic() - t0
        # 50.59 s of capture at 4×
        self.assertGreater(elapsed, 50.59 / 4 - 0.5, "replay --speed 4 keeps the pace")
        self.assertLess(elapsed, 50.59 / 4 + 5.0)
        time.sleep(1.0)  # let serve drain its socket
        rc, log = self.serve.stop()
        self.assertEqual(rc, 0, log)

        final = btlib.final_counters(log)
        for key in btlib.COUNTER_KEYS:
            self.assertIn(key, final, f"final counters lack {key!r}")
        self.assertEqual(final["datagrams"], 2955, "every datagram arrived (loopback)")
        self.assertEqual(final["outgauge"], 2955)
        self.assertEqual(final["rejected"], 0)
        self.assertEqual(final["rejected_by_reason"], btlib.reasons())
        self.assertEqual(final["frames"], 2955)
        self.assertEqual(final["stored_frames"], 2048)

        sessions = btlib.sessions_list(dsn)
        self.assertEqual(len(sessions), 1, sessions)
        s = sessions[0]
        self.assertEqual(s["frame_count"], 2048)
        self.assertAlmostEqual(s["top_speed_mps"], 73.3606, delta=1e-4)
        self.assertAlmostEqual(s["max_rpm"], 8249.6, delta=0.1)
        self.assertIsNotNone(s["end_time"], "SIGTERM closes the open session")
        # start → end is 34.139 s of capture time, 8.53 s at 4× (within replay jitter)
        self.assertAlmostEqual(s["duration_s"], (49.398 - 15.259) / 4, delta=0.5)
        self.assertEqual(pg.scalar("SELECT count(*) FROM telemetry_frames", dsn), "2048")
        self.assertEqual(pg.scalar("SELECT count(DISTINCT (session_id, seq)) FROM "
                                   "telemetry_frames", dsn), "2048")
        self.assertEqual(pg.scalar("SELECT count(*) FROM sessions WHERE NOT closed", dsn), "0")

    def test_port_in_use_exits_at_once(self):
        blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        blocker.bind(("127.0.0.1", 0))
        port = blocker.getsockname()[1]
        try:
            t0 = time.monotonic()
            p = subprocess.run([btlib.beamtel_bin(), "serve", "--udp", f"127.0.0.1:{port}",
                                "--no-record", "--state-dir", self.state],
                               capture_output=True, text=True, timeout=10, env=env_without_pg())
            elapsed = time.monotonic() - t0
        finally:
            blocker.close()
        self.assertEqual(p.returncode, 3, p.stderr)  # BT_EXIT_BIND
        self.assertIn(str(port), p.stderr)
        self.assertLess(elapsed, 1.0)

    def test_no_record_runs_without_database(self):
        port = btlib.free_port("udp")
        addr = f"127.0.0.1:{port}"
        self.serve = btlib.ServeProcess("--udp", addr, "--no-record", "--state-dir", self.state,
                                        env=env_without_pg())
        self.serve.wait_listening(addr)
        tx = btlib.UdpSender(port)
        pkts = [btlib.outgauge(96, speed=20.0, rpm=4000.0, gear=4) for _ in range(30)]
        pkts.insert(10, bytes(96))          # no vehicle data
        pkts.insert(20, bytes(range(64)))   # Live for Speed OutSim size: length
        tx.send_paced(pkts, 60)
        tx.close()
        time.sleep(0.5)
        self.assertTrue(self.serve.alive())
        rc, log = self.serve.stop(timeout=10)
        self.assertEqual(rc, 0, log)
        final = btlib.final_counters(log)
        self.assertEqual(final["datagrams"], 32)
        self.assertEqual(final["outgauge"], 30)
        self.assertEqual(final["empty"], 1)
        self.assertEqual(final["rejected"], 1)
        self.assertEqual(final["rejected_by_reason"], btlib.reasons(length=1))
        self.assertEqual(final["frames"], 30)
        self.assertEqual(final["stored_frames"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
