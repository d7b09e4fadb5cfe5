#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: validation (DESIGN.md §3.4), frames (§3.5), session rules (§4.1) and analytics
(§4.2) on synthetic captures that btlib writes byte by byte, imported with `beamtel import`."""

import math
import os
import random
import shutil
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

T0 = btlib.CAPTURE_EPOCH
HZ = 60


def setUpModule():
    btlib.module_pg()


def tearDownModule():
    btlib.module_pg_cleanup()


def drive(t_start, seconds, speed, hz=HZ, size=96, **fields):
    """OutGauge packets of a car at a constant speed: [(ts, payload)]."""
    n = round(seconds * hz)
    pkt = btlib.outgauge(size, speed=speed, rpm=3000.0, gear=4, throttle=0.5, **fields)
    return [(t_start + i / hz, pkt) for i in range(n)]


class Rules(unittest.TestCase):
    def setUp(self):
        self.pg = btlib.module_pg()
        self.dir = btlib.tmpdir("btrules-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def import_packets(self, packets, name="capture.pcap"):
        """Writes packets as a pcap, imports it into a fresh database: (result, dsn)."""
        path = os.path.join(self.dir, name)
        btlib.write_pcap(path, packets)
        dsn = self.pg.fresh_db()
        return btlib.import_json(path, dsn), dsn

    def frames_in_db(self, dsn):
        return int(self.pg.scalar("SELECT count(*) FROM telemetry_frames", dsn))

    # --- §4.1 session rules ------------------------------------------------------------------

    def test_silence_shorter_than_pause_timeout_keeps_one_session(self):
        # 60 s at 20 m/s, 120 s of silence (< pause-timeout 300 s), 60 s more.  Each block of
        # 3,600 frames contributes 3,599 intervals of 1/60 s; the gap (> 1 s) and the last frame
        # contribute nothing (§4.2), so T = 7,198/60 s = 119.967 s (120 s within two frames).
        pkts = drive(T0, 60, 20.0) + drive(T0 + 180, 60, 20.0)
        res, dsn = self.import_packets(pkts)
        self.assertEqual(res["outgauge"], 7200)
        self.assertEqual(res["rejected"], 0)
        self.assertEqual(len(res["sessions"]), 1, res["sessions"])
        s = res["sessions"][0]
        moving = 7198 / HZ
        self.assertEqual(s["frame_count"], 7200)
        self.assertAlmostEqual(s["moving_time_s"], moving, delta=1e-3)
        self.assertLessEqual(abs(s["moving_time_s"] - 120.0), 2 / HZ + 1e-3)
        self.assertAlmostEqual(s["distance_m"], 20.0 * moving, delta=0.01)
        self.assertLessEqual(abs(s["distance_m"] - 2400.0), 2 * 20.0 / HZ + 0.01)
        self.assertAlmostEqual(s["avg_speed_mps"], 20.0, delta=1e-4)
        self.assertAlmostEqual(s["top_speed_mps"], 20.0, delta=1e-4)
        self.assertAlmostEqual(s["consistency"], 100.0, delta=0.01)  # σ = 0
        self.assertAlmostEqual(s["duration_s"], 240 - 1 / HZ, delta=1e-3)
        self.assertEqual(self.frames_in_db(dsn), 7200)

    def test_silence_longer_than_pause_timeout_splits(self):
        # 400 s of silence > pause-timeout (300 s): two sessions of 3,600 frames each.
        pkts = drive(T0, 60, 20.0) + drive(T0 + 460, 60, 20.0)
        res, dsn = self.import_packets(pkts)
        self.assertEqual(len(res["sessions"]), 2, res["sessions"])
        starts = []
        for s in res["sessions"]:
            self.assertEqual(s["frame_count"], 3600)
            self.assertAlmostEqual(s["moving_time_s"], 3599 / HZ, delta=1e-3)
            self.assertAlmostEqual(s["distance_m"], 20.0 * 3599 / HZ, delta=0.01)
            self.assertAlmostEqual(s["avg_speed_mps"], 20.0, delta=1e-4)
            starts.append(btlib.parse_time(s["start_time"]) - T0)
        self.assertEqual(sorted(round(x, 3) for x in starts), [0.0, 460.0])
        listed = btlib.sessions_list(dsn)
        self.assertEqual(len(listed), 2)
        self.assertGreater(btlib.parse_time(listed[0]["start_time"]),
                           btlib.parse_time(listed[1]["start_time"]), "newest first")
        self.assertEqual(self.frames_in_db(dsn), 7200)

    # --- §3.1 sizes ----------------------------------------------------------------------------

    def test_92_96_112_bytes_give_the_same_frames(self):
        def body(size):
            pkts = []
            for i in range(240):
                pkts.append((T0 + i / HZ, btlib.outgauge(
                    size, speed=5.0 + i * 0.1, rpm=1000.0 + 20 * i, gear=2 + i // 60,
                    throttle=random.Random(1000 + i).random(), brake=0.25, clutch=0.125, turbo=0.5,
                    eng_temp=88.5, oil_temp=91.25, fuel=0.75, dash_lights=1 << 10,
                    show_lights=1 << 2, gear_ext=b"3", cruise_speed=22.5, cruise_mode=1,
                    fuel_capacity=55.0)))
            return pkts

        exports = {}
        for size in (92, 96, 112):
            res, dsn = self.import_packets(body(size), f"og{size}.pcap")
            self.assertEqual(res["outgauge"], 240, size)
            self.assertEqual(res["rejected"], 0, size)
            self.assertEqual(len(res["sessions"]), 1, size)
            exports[size] = btlib.sessions_export(dsn, res["sessions"][0]["id"])
            self.assertEqual(len(exports[size]), 240, size)
        self.assertEqual(exports[92], exports[96])
        self.assertEqual(exports[96], exports[112])
        row = exports[112][0]
        self.assertAlmostEqual(float(row["speed_mps"]), 5.0, delta=1e-5)
        self.assertAlmostEqual(float(row["brake"]), 0.25, delta=1e-6)
        self.assertAlmostEqual(float(row["clutch"]), 0.125, delta=1e-6)
        self.assertEqual(int(row["gear"]), 1)
        self.assertEqual(int(exports[112][-1]["gear"]), 4)

    # --- §3.4 validation ---------------------------------------------------------------------

    def test_random_datagrams_are_rejected_by_reason(self):
        # 1,000 deterministic garbage datagrams, each breaking exactly one rule of §3.4 (the
        # others hold), so the count per reason does not depend on the order of the checks:
        #   length      600: 500 random bytes of a length no protocol has (1..111 except 88,
        #                    92, 96) + 100 random 88-byte datagrams without the "BNG1" magic
        #   non_finite  120: 100 OutGauge with one float NaN/±inf + 20 MotionSim with one
        #   speed_range  80: |speed| in (300.5, 5000]
        #   gear_range   80: gear byte 30..255
        #   pedal_range  60: one pedal outside [-0.01, 1.01] by at least 0.01
        #   car_name     60: one car byte that is a control character or ≥ 0x7f
        # then one valid OutGauge at 20 m/s.  "No session created" is read as: no rejected
        # datagram creates state; the one valid moving frame opens a session of one frame
        # (§4.1: a session starts with the first moving frame), so there is at most one
        # session and it holds exactly that frame.
        rnd = random.Random(3156)
        bad_lengths = [n for n in range(1, 112) if n not in (88, 92, 96)]
        sizes = (92, 96, 112)
        garbage = []
        for _ in range(500):
            garbage.append(rnd.randbytes(rnd.choice(bad_lengths)))
        for _ in range(100):
            b = rnd.randbytes(88)
            if b[:4] == b"BNG1":
                b = b"XNG1" + b[4:]
            garbage.append(b)

        def base(**kw):
            fields = dict(speed=15.0, rpm=3000.0, gear=3, throttle=0.5, brake=0.0, clutch=0.0)
            fields.update(kw)
            return bytearray(btlib.outgauge(rnd.choice(sizes), **fields))

        specials = (math.nan, math.inf, -math.inf)
        float_offsets = (12, 16, 20, 24, 28, 32, 36, 48, 52, 56)
        for _ in range(100):
            b = base()
            struct.pack_into("<f", b, rnd.choice(float_offsets), rnd.choice(specials))
            garbage.append(bytes(b))
        for _ in range(20):
            b = bytearray(btlib.motionsim(vel=(0.0, 20.0, 0.0), acc=(1.0, 0.5, 0.0)))
            struct.pack_into("<f", b, 4 + 4 * rnd.randrange(21), rnd.choice(specials))
            garbage.append(bytes(b))
        for _ in range(80):
            garbage.append(bytes(base(speed=rnd.choice((-1, 1)) * rnd.uniform(300.5, 5000))))
        for _ in range(80):
            garbage.append(bytes(base(gear=rnd.randint(30, 255))))
        for _ in range(60):
            pedal = rnd.choice(("throttle", "brake", "clutch"))
            value = rnd.choice((rnd.uniform(1.02, 50.0), -rnd.uniform(0.02, 50.0)))
            garbage.append(bytes(base(**{pedal: value})))
        for _ in range(60):
            b = base()
            b[4 + rnd.randrange(4)] = rnd.choice(list(range(1, 0x20)) + list(range(0x7F, 0x100)))
            garbage.append(bytes(b))
        rnd.shuffle(garbage)
        self.assertEqual(len(garbage), 1000)

        pkts = [(T0 + i * 0.001, g) for i, g in enumerate(garbage)]
        pkts.append((T0 + 1.5, btlib.outgauge(96, speed=20.0, rpm=4000.0, gear=4)))
        res, dsn = self.import_packets(pkts)
        self.assertEqual(res["datagrams"], 1001)
        self.assertEqual(res["outgauge"], 1)
        self.assertEqual(res["motionsim"], 0)
        self.assertEqual(res["empty"], 0)
        self.assertEqual(res["rejected"], 1000)
        self.assertEqual(res["rejected_by_reason"], btlib.reasons(
            length=600, non_finite=120, speed_range=80, gear_range=80, pedal_range=60,
            car_name=60))
        self.assertEqual(res["frames"], 1)
        self.assertLessEqual(len(res["sessions"]), 1)
        for s in res["sessions"]:
            self.assertEqual(s["frame_count"], 1)
            self.assertAlmostEqual(s["top_speed_mps"], 20.0, delta=1e-4)
        self.assertLessEqual(self.frames_in_db(dsn), 1)

    def test_non_finite_rejected_and_next_packet_flows(self):
        pkts = drive(T0, 10 / HZ, 10.0)
        pkts.append((T0 + 10 / HZ, btlib.outgauge(96, speed=math.nan, rpm=3000.0, gear=4)))
        pkts.append((T0 + 11 / HZ, btlib.outgauge(96, speed=10.0, rpm=math.inf, gear=4)))
        pkts += drive(T0 + 12 / HZ, 10 / HZ, 10.0)
        res, dsn = self.import_packets(pkts)
        self.assertEqual(res["datagrams"], 22)
        self.assertEqual(res["outgauge"], 20)
        self.assertEqual(res["rejected"], 2)
        self.assertEqual(res["rejected_by_reason"], btlib.reasons(non_finite=2))
        self.assertEqual(res["frames"], 20)
        self.assertEqual(len(res["sessions"]), 1)
        s = res["sessions"][0]
        self.assertEqual(s["frame_count"], 20)
        self.assertAlmostEqual(s["max_rpm"], 3000.0, delta=0.1)
        for key in ("top_speed_mps", "distance_m", "moving_time_s", "avg_speed_mps", "max_rpm"):
            self.assertTrue(math.isfinite(s[key]), key)
        # the gap of 3/60 s (two rejected packets) still counts: 19 intervals of 1/60 s + 1/20
        self.assertAlmostEqual(s["moving_time_s"], 21 / HZ, delta=1e-3)
        self.assertEqual(self.frames_in_db(dsn), 20)
        cols = ("speed", "rpm", "g_force_x", "g_force_y", "throttle", "brake", "clutch", "fuel",
                "engine_temp_c", "oil_temp_c", "turbo_bar")
        cond = " OR ".join(f"{c} IN ('NaN'::real, 'Infinity'::real, '-Infinity'::real)"
                           for c in cols)
        self.assertEqual(self.pg.scalar(f"SELECT count(*) FROM telemetry_frames WHERE {cond}",
                                        dsn), "0")
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM sessions WHERE 'NaN'::float8 IN (distance_m, moving_time_s, "
            "top_speed_mps, avg_speed_mps, consistency, max_rpm)", dsn), "0")

    def test_all_zero_datagram_is_no_vehicle_data(self):
        res, dsn = self.import_packets([(T0, bytes(96))])
        self.assertEqual(res["datagrams"], 1)
        self.assertEqual(res["empty"], 1)
        self.assertEqual(res["outgauge"], 0)
        self.assertEqual(res["rejected"], 0)
        self.assertEqual(res["frames"], 0)
        self.assertEqual(res["sessions"], [])
        self.assertEqual(self.frames_in_db(dsn), 0)
        self.assertEqual(self.pg.scalar("SELECT count(*) FROM sessions", dsn), "0")

    def test_reverse_gear_and_negative_speed(self):
        # gear byte 0 = R; speed -3.0 m/s counts as 3.0 m/s: 61 frames over 1 s → 3.0 m.
        pkts = [(T0 + i / HZ, btlib.outgauge(96, speed=-3.0, rpm=1500.0, gear=0, throttle=0.3))
                for i in range(61)]
        res, dsn = self.import_packets(pkts)
        self.assertEqual(res["rejected"], 0)
        self.assertEqual(len(res["sessions"]), 1)
        s = res["sessions"][0]
        self.assertEqual(s["frame_count"], 61)
        self.assertAlmostEqual(s["top_speed_mps"], 3.0, delta=1e-4)
        self.assertAlmostEqual(s["moving_time_s"], 1.0, delta=1e-3)
        self.assertAlmostEqual(s["distance_m"], 3.0, delta=0.01)
        self.assertAlmostEqual(s["avg_speed_mps"], 3.0, delta=1e-4)
        rows = btlib.sessions_export(dsn, s["id"])
        self.assertEqual(len(rows), 61)
        self.assertEqual({int(r["gear"]) for r in rows}, {-1})
        self.assertEqual({float(r["speed_mps"]) for r in rows}, {-3.0})

    def test_motionsim_lateral_g(self):
        # A car on a circle of radius 50 m at 20 m/s: acc x = v²/R = 8.0 m/s² = 0.8157 g.
        # OutGauge at 60 Hz from T0, MotionSim at 200 Hz from T0 + 2 ms, 2 s of both, from the
        # same source.  OutGauge comes first so that no MotionSim-only frame is due (§3.5); the
        # first frame has no MotionSim sample yet (NULL), every later one carries the mean of
        # the samples since the previous frame: 0.8157 g.
        want_g = btlib.f32(8.0) / btlib.STANDARD_GRAVITY
        pkts = []
        for i in range(120):
            pkts.append((T0 + i / HZ, btlib.outgauge(96, speed=20.0, rpm=4000.0, gear=4,
                                                     throttle=0.4)))
        for i in range(400):
            a = 20.0 * (i / 200) / 50.0
            pkts.append((T0 + 0.002 + i / 200, btlib.motionsim(
                pos=(50 * math.cos(a), 50 * math.sin(a), 0.0),
                vel=(-20 * math.sin(a), 20 * math.cos(a), 0.0), acc=(8.0, 0.0, 0.0))))
        pkts.sort(key=lambda p: p[0])
        res, dsn = self.import_packets(pkts)
        self.assertEqual(res["motionsim"], 400)
        self.assertEqual(res["outgauge"], 120)
        self.assertEqual(res["rejected"], 0)
        self.assertEqual(res["frames"], 120, "one frame per OutGauge packet")
        self.assertEqual(len(res["sessions"]), 1)
        s = res["sessions"][0]
        self.assertEqual(s["frame_count"], 120)
        self.assertAlmostEqual(s["max_lat_g"], 0.8157, delta=1e-4)
        self.assertAlmostEqual(s["max_lat_g"], want_g, delta=1e-6)
        rows = btlib.sessions_export(dsn, s["id"])
        self.assertEqual(len(rows), 120)
        self.assertIn(rows[0]["g_force_x"].strip().lower(), ("", "null"),
                      "no MotionSim before the first frame: NULL")
        for r in rows[1:]:
            self.assertAlmostEqual(float(r["g_force_x"]), 0.8157, delta=1e-4)
            self.assertAlmostEqual(float(r["g_force_y"]), 0.0, delta=1e-6)
        self.assertEqual(int(self.pg.scalar(
            "SELECT count(*) FROM telemetry_frames WHERE abs(g_force_x - 0.81577) < 1e-4", dsn)),
            119)

    def test_64_byte_datagram_rejected_as_length(self):
        res, dsn = self.import_packets([(T0, bytes(range(64)))])
        self.assertEqual(res["datagrams"], 1)
        self.assertEqual(res["rejected"], 1)
        self.assertEqual(res["rejected_by_reason"], btlib.reasons(length=1))
        self.assertEqual(res["frames"], 0)
        self.assertEqual(res["sessions"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
