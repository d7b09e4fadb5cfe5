#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: `beamtel import` of the real captures in ../shared/data records exactly the
sessions and analytics of the table in ../shared/data/README.md (DESIGN.md §4.1, §4.2)."""

import bisect
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

# ../shared/data/README.md, "Expected results".  start/end: seconds after the first datagram.
CAPTURES = {
    "dashbeam_test1.pcap": dict(
        datagrams=3652, frames=1679, top=42.4676, dist=384.17, moving=27.982, avg=13.7292,
        cons=4.03, rpm=7728.7, start=32.202, end=60.184),
    "dashbeam_hillclimb.pcap": dict(
        datagrams=2955, frames=2048, top=73.3606, dist=1065.42, moving=34.139, avg=31.2086,
        cons=26.74, rpm=8249.6, start=15.259, end=49.398),
    "dashbeam_bolide.pcapng": dict(
        datagrams=4894, frames=3065, top=46.3762, dist=881.39, moving=51.088, avg=17.2523,
        cons=21.83, rpm=8000.8, start=27.584, end=78.673),
}


def setUpModule():
    btlib.module_pg()


def tearDownModule():
    btlib.module_pg_cleanup()


class ImportCaptures(unittest.TestCase):
    def setUp(self):
        self.pg = btlib.module_pg()

    def assert_within_one_datagram(self, got_offset, want_offset, stamps, what):
        """got must lie between the datagrams just before and just after the one nearest to
        want (± one datagram)."""
        offsets = [t - stamps[0] for t in stamps]
        k = min(range(len(offsets)), key=lambda i: abs(offsets[i] - want_offset))
        lo = offsets[max(k - 1, 0)] - 1e-6
        hi = offsets[min(k + 1, len(offsets) - 1)] + 1e-6
        self.assertTrue(lo <= got_offset <= hi,
                        f"{what}: {got_offset:.6f} s after the first datagram, want "
                        f"{want_offset} ± one datagram [{lo:.6f}, {hi:.6f}]")

    def check_capture(self, name, want):
        path = btlib.shared(name)
        dsn = self.pg.fresh_db()
        res = btlib.import_json(path, dsn)

        for key in btlib.COUNTER_KEYS + ("file", "format", "sessions"):
            self.assertIn(key, res, f"import --json lacks {key!r}")
        self.assertEqual(res["datagrams"], want["datagrams"])
        self.assertEqual(res["outgauge"], want["datagrams"], "accepted OutGauge datagrams")
        self.assertEqual(res["motionsim"], 0)
        self.assertEqual(res["empty"], 0)
        self.assertEqual(res["rejected"], 0)
        self.assertEqual(res["rejected_by_reason"], btlib.reasons())
        self.assertEqual(res["frames"], want["datagrams"], "one frame per OutGauge datagram")
        self.assertEqual(res["stored_frames"], want["frames"])

        self.assertEqual(len(res["sessions"]), 1, res["sessions"])
        s = res["sessions"][0]
        for key in btlib.SESSION_KEYS:
            self.assertIn(key, s, f"session object lacks {key!r}")
        self.assertEqual(s["frame_count"], want["frames"])
        self.assertAlmostEqual(s["top_speed_mps"], want["top"], delta=1e-4)
        self.assertAlmostEqual(s["distance_m"], want["dist"], delta=0.01)
        self.assertAlmostEqual(s["moving_time_s"], want["moving"], delta=0.001)
        self.assertAlmostEqual(s["avg_speed_mps"], want["avg"], delta=1e-4)
        self.assertAlmostEqual(s["consistency"], want["cons"], delta=0.01)
        self.assertAlmostEqual(s["max_rpm"], want["rpm"], delta=0.1)
        self.assertIsNone(s["max_lat_g"], "no MotionSim in these captures: max_lat_g is null")
        self.assertEqual(s["user"], "local")
        self.assertEqual(s["car"], "beam")

        stamps = btlib.capture_timestamps(path)
        start = btlib.parse_time(s["start_time"]) - stamps[0]
        end = btlib.parse_time(s["end_time"]) - stamps[0]
        self.assert_within_one_datagram(start, want["start"], stamps, "start_time")
        self.assert_within_one_datagram(end, want["end"], stamps, "end_time")
        self.assertAlmostEqual(s["duration_s"], end - start, delta=1e-3)

        # What was stored is what was reported: the session row and every frame, once.
        listed = btlib.sessions_list(dsn)
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["id"], s["id"])
        self.assertEqual(listed[0]["frame_count"], s["frame_count"])
        for key in ("top_speed_mps", "distance_m", "moving_time_s", "avg_speed_mps",
                    "consistency", "max_rpm", "duration_s"):
            self.assertAlmostEqual(listed[0][key], s[key], delta=1e-6, msg=key)
        shown = btlib.sessions_show(dsn, s["id"])
        self.assertEqual(shown["id"], s["id"])
        self.assertEqual(shown["frame_count"], want["frames"])
        self.assertEqual(int(self.pg.scalar("SELECT count(*) FROM telemetry_frames", dsn)),
                         want["frames"])
        self.assertEqual(int(self.pg.scalar(
            "SELECT count(*) FROM (SELECT session_id, seq FROM telemetry_frames "
            "GROUP BY 1, 2 HAVING count(*) > 1) d", dsn)), 0, "duplicate frames")
        rows = btlib.sessions_export(dsn, s["id"])
        self.assertEqual(len(rows), want["frames"])
        speeds = [abs(float(r["speed_mps"])) for r in rows]
        self.assertAlmostEqual(max(speeds), want["top"], delta=1e-4)
        times = [btlib.parse_time(r["ts"]) for r in rows]
        self.assertEqual(times, sorted(times), "export is in time order")
        self.assertAlmostEqual(times[0] - stamps[0], start, delta=1e-3)
        return res

    def test_dashbeam_test1(self):
        self.check_capture("dashbeam_test1.pcap", CAPTURES["dashbeam_test1.pcap"])

    def test_dashbeam_hillclimb(self):
        self.check_capture("dashbeam_hillclimb.pcap", CAPTURES["dashbeam_hillclimb.pcap"])

    def test_dashbeam_bolide(self):
        self.check_capture("dashbeam_bolide.pcapng", CAPTURES["dashbeam_bolide.pcapng"])

    def test_idle_never_moves(self):
        dsn = self.pg.fresh_db()
        res = btlib.import_json(btlib.shared("beamng_outgauge_2022_idle_96B.bin"), dsn,
                                "--raw-size", 96, "--rate", 60)
        self.assertEqual(res["datagrams"], 6)
        self.assertEqual(res["outgauge"], 6)
        self.assertEqual(res["rejected"], 0)
        self.assertEqual(res["frames"], 6)
        self.assertEqual(res["stored_frames"], 0)
        self.assertEqual(res["sessions"], [])
        self.assertEqual(btlib.sessions_list(dsn), [])

    def test_lfs_outsim_rejected_as_length(self):
        dsn = self.pg.fresh_db()
        res = btlib.import_json(btlib.shared("lfs_outsim_64B.bin"), dsn, "--raw-size", 64)
        self.assertEqual(res["datagrams"], 1)
        self.assertEqual(res["outgauge"] + res["motionsim"] + res["empty"], 0)
        self.assertEqual(res["rejected"], 1)
        self.assertEqual(res["rejected_by_reason"], btlib.reasons(length=1))
        self.assertEqual(res["frames"], 0)
        self.assertEqual(res["sessions"], [])

    def test_lfs_outgauge_92(self):
        # One 92-byte Live for Speed datagram of a car moving at 11.1975 m/s: accepted, and a
        # single moving frame opens a session of one frame (§4.1).
        dsn = self.pg.fresh_db()
        res = btlib.import_json(btlib.shared("lfs_outgauge_xrt_92B.bin"), dsn,
                                "--raw-size", 92)
        self.assertEqual(res["datagrams"], 1)
        self.assertEqual(res["outgauge"], 1)
        self.assertEqual(res["rejected"], 0)
        self.assertEqual(res["frames"], 1)
        self.assertEqual(len(res["sessions"]), 1)
        s = res["sessions"][0]
        self.assertEqual(s["car"], "XRT")
        self.assertEqual(s["frame_count"], 1)
        self.assertAlmostEqual(s["top_speed_mps"], 11.1975, delta=1e-4)
        self.assertAlmostEqual(s["max_rpm"], 2450.39, delta=0.01)
        self.assertEqual(s["moving_time_s"], 0)
        self.assertEqual(s["distance_m"], 0)
        rows = btlib.sessions_export(dsn, s["id"])
        self.assertEqual(len(rows), 1)
        self.assertEqual(int(rows[0]["gear"]), 2)  # wire byte 3 = 2nd gear
        self.assertAlmostEqual(float(rows[0]["throttle"]), 0.009347, delta=1e-6)
        self.assertAlmostEqual(float(rows[0]["clutch"]), 0.15833, delta=1e-5)
        self.assertAlmostEqual(float(rows[0]["brake"]), 9.544e-6, delta=1e-8)

    def test_raw_test1_at_60hz(self):
        # The same datagrams as dashbeam_test1.pcap without timestamps, spaced 1/60 s: every
        # datagram is accepted; timing-free values match the pcap's.
        dsn = self.pg.fresh_db()
        res = btlib.import_json(btlib.shared("dashbeam_test1_96B.bin"), dsn,
                                "--raw-size", 96, "--rate", 60)
        self.assertEqual(res["datagrams"], 3652)
        self.assertEqual(res["outgauge"], 3652)
        self.assertEqual(res["rejected"], 0)
        self.assertEqual(res["frames"], 3652)
        self.assertEqual(len(res["sessions"]), 1)
        s = res["sessions"][0]
        self.assertEqual(s["frame_count"], 1679)
        self.assertAlmostEqual(s["top_speed_mps"], 42.4676, delta=1e-4)
        self.assertAlmostEqual(s["max_rpm"], 7728.7, delta=0.1)
        # 1,679 frames 1/60 s apart: the session lasts 1,678/60 s
        self.assertAlmostEqual(s["duration_s"], 1678 / 60, delta=1e-3)

    def test_migrate_is_idempotent(self):
        dsn = self.pg.fresh_db(migrate=False)
        btlib.run("db", "migrate", "--db", dsn)
        btlib.run("db", "migrate", "--db", dsn)
        tables = {r[0] for r in self.pg.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
            dsn)}
        for t in ("users", "sessions", "telemetry_frames", "ingest_sources", "session_events",
                  "schema_version"):
            self.assertIn(t, tables)
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM users WHERE username = 'local'",
                                        dsn), "1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
