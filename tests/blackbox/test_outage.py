#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: PostgreSQL goes away for 30 s in the middle of a drive replayed at 1× to a
recording `serve`; when it is back every frame is stored exactly once and serve never stopped
receiving (DESIGN.md §5: bounded queue, on-disk spool, no loss)."""

import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

CAPTURE = "dashbeam_hillclimb.pcap"  # 2,955 datagrams over 50.59 s; session 15.26 → 49.40 s
DATAGRAMS = 2955
SESSION_FRAMES = 2048
OUTAGE_AT = 10.0
OUTAGE_FOR = 30.0


def setUpModule():
    btlib.shared(CAPTURE)  # skip before starting a cluster when the capture is absent
    btlib.module_pg()


def tearDownModule():
    btlib.module_pg_cleanup()


class Outage(unittest.TestCase):
    def setUp(self):
        self.state = btlib.tmpdir("btstate-")
        self.serve = None
        self.replay = None

    def tearDown(self):
        if self.replay is not None and self.replay.poll() is None:
            self.replay.kill()
            self.replay.wait()
        if self.serve is not None:
            self.serve.kill()
        pg = btlib.module_pg()
        if not pg.running():
            pg.start()
        shutil.rmtree(self.state, ignore_errors=True)

    def test_database_outage_loses_nothing(self):
        capture = btlib.shared(CAPTURE)
        pg = btlib.module_pg()
        dsn = pg.fresh_db()
        port = btlib.free_port("udp")
        addr = f"127.0.0.1:{port}"
        self.serve = btlib.ServeProcess("--udp", addr, "--db", dsn, "--state-dir", self.state)
        self.serve.wait_listening(addr)

        t0 = time.monotonic()
        self.replay = subprocess.Popen([btlib.beamtel_bin(), "replay", capture, "--to", addr],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
        time.sleep(max(0.0, t0 + OUTAGE_AT - time.monotonic()))
        pg.stop()
        down_at = time.monotonic()
        # serve keeps receiving while PostgreSQL is down: it must stay up the whole time
        while time.monotonic() < down_at + OUTAGE_FOR:
            self.assertTrue(self.serve.alive(), f"serve died during the outage:\n"
                            f"{self.serve.log()}")
            time.sleep(0.5)
        pg.start()

        _, err = self.replay.communicate(timeout=60)
        self.assertEqual(self.replay.returncode, 0, err)
        self.replay = None
        time.sleep(1.0)
        self.assertTrue(self.serve.alive(), self.serve.log())
        rc, log = self.serve.stop(timeout=120)
        self.assertEqual(rc, 0, log)

        final = btlib.final_counters(log)
        self.assertEqual(final["datagrams"], DATAGRAMS, "serve received everything meanwhile")
        self.assertEqual(final["outgauge"], DATAGRAMS)
        self.assertEqual(final["rejected"], 0)
        self.assertEqual(final["frames"], DATAGRAMS)
        self.assertEqual(final["stored_frames"], SESSION_FRAMES)

        self.assertEqual(pg.scalar("SELECT count(*) FROM telemetry_frames", dsn),
                         str(SESSION_FRAMES))
        self.assertEqual(pg.scalar(
            "SELECT count(*) FROM (SELECT session_id, seq FROM telemetry_frames "
            "GROUP BY 1, 2 HAVING count(*) > 1) d", dsn), "0", "duplicate frames")
        sessions = btlib.sessions_list(dsn)
        self.assertEqual(len(sessions), 1, sessions)
        s = sessions[0]
        self.assertEqual(s["frame_count"], SESSION_FRAMES)
        self.assertAlmostEqual(s["top_speed_mps"], 73.3606, delta=1e-4)
        self.assertAlmostEqual(s["max_rpm"], 8249.6, delta=0.1)
        self.assertIsNotNone(s["end_time"])
        # seq runs 1..N without holes
        self.assertEqual(pg.query("SELECT min(seq), max(seq) FROM telemetry_frames", dsn),
                         [["1", str(SESSION_FRAMES)]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
