#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: per-user telemetry (DESIGN.md §3.6, §7, §8).  Users alice and bob own the sources
127.0.0.2/32 and 127.0.0.3/32 (`beamtel user map`); the seeded user `local` gets everything
else (the default ingest user).  Three drives run at once from those addresses (Linux loopback
accepts any 127/8 source): each user's WebSocket stream and session list hold only their own
frames and sessions, and another user's session id answers 404 everywhere."""

import csv
import http.client
import io
import json
import os
import shutil
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

# user → (source address, speed m/s, gear byte, rpm, packets at 60 Hz)
DRIVES = {
    "alice": ("127.0.0.2", 15.0, 3, 2500.0, 150),
    "bob": ("127.0.0.3", 30.0, 5, 5000.0, 210),
    "local": ("127.0.0.1", 25.0, 4, 4000.0, 120),
}
PASSWORDS = {"alice": "alice-secret-pw-1", "bob": "bob-secret-pw-22"}
PAUSE_TIMEOUT = 2  # seconds without packets before serve ends a session


def login_from(port, src_ip, user, password):
    """Logs in over HTTP from src_ip (so that users' last_ip differ); returns the token."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src_ip, 0))
    conn.request("POST", "/api/auth/login",
                 body=json.dumps({"username": user, "password": password}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    if r.status != 200:
        raise AssertionError(f"login {user}: {r.status} {body!r}")
    return json.loads(body)["token"]


class Isolation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        btlib.beamtel_bin()
        pg = btlib.module_pg()
        cls.state = btlib.tmpdir("btstate-")
        cls.dsn = pg.fresh_db()
        for user, pw in PASSWORDS.items():
            pwfile = os.path.join(cls.state, f"{user}.pw")
            with open(pwfile, "w") as f:
                f.write(pw + "\n")
            btlib.run("user", "add", user, "--password-file", pwfile, "--db", cls.dsn)
            btlib.run("user", "map", user, DRIVES[user][0] + "/32", "--db", cls.dsn)
        cls.serve, cls.udp, cls.http = btlib.api_serve(
            cls.dsn, cls.state, "--pause-timeout", PAUSE_TIMEOUT)
        cls.tokens = {u: login_from(cls.http, DRIVES[u][0], u, pw) for u, pw in PASSWORDS.items()}
        # `local` signs its own token: a login would set its last_ip to a drive's address
        now = int(time.time())
        cls.tokens["local"] = btlib.jwt_make({"sub": "local", "iat": now, "exp": now + 600})

        # every user watches; then the three drives run at once
        cls.ws = {u: btlib.ws_auth(cls.http, t)[0] for u, t in cls.tokens.items()}
        cls.received = {}
        readers = [threading.Thread(target=cls._read, args=(u,)) for u in cls.ws]
        for r in readers:
            r.start()
        cls.senders = {u: btlib.UdpSenderFrom(cls.udp, d[0]) for u, d in DRIVES.items()}
        cls.sources = {u: f"{DRIVES[u][0]}:{s.sock.getsockname()[1]}"
                       for u, s in cls.senders.items()}
        drives = [threading.Thread(target=cls._drive, args=(u,)) for u in DRIVES]
        for d in drives:
            d.start()
        for d in drives:
            d.join()
        for r in readers:
            r.join()
        # the sessions are closed by the pause timeout; wait until the API shows them ended
        cls.sessions = {}
        deadline = time.monotonic() + 15
        for u, t in cls.tokens.items():
            while True:
                status, doc = btlib.http_json(cls.http, "GET", "/api/sessions", token=t)
                assert status == 200, (status, doc)
                if doc["sessions"] and all(s["end_time"] for s in doc["sessions"]):
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            cls.sessions[u] = doc["sessions"]

    @classmethod
    def _drive(cls, user):
        _, speed, gear, rpm, n = DRIVES[user]
        pkts = [btlib.outgauge(96, speed=speed, gear=gear, rpm=rpm, time_ms=i * 16)
                for i in range(n)]
        cls.senders[user].send_paced(pkts, 60)

    @classmethod
    def _read(cls, user):
        """Reads user's stream until their session's end event (or 12 s)."""
        msgs = []
        deadline = time.monotonic() + 12
        ws = cls.ws[user]
        while time.monotonic() < deadline:
            try:
                m = ws.recv_json(deadline - time.monotonic())
            except (TimeoutError, ConnectionError, OSError):
                break
            if m is None:
                break
            msgs.append(m)
            if m["type"] == "session" and m["event"] == "end":
                break
        cls.received[user] = msgs

    @classmethod
    def tearDownClass(cls):
        for ws in getattr(cls, "ws", {}).values():
            ws.close()
        for s in getattr(cls, "senders", {}).values():
            s.close()
        cls.serve.kill()
        shutil.rmtree(cls.state, ignore_errors=True)
        btlib.module_pg_cleanup()

    def test_stream_holds_only_own_frames(self):
        for user, (ip, speed, gear, rpm, n) in DRIVES.items():
            with self.subTest(user=user):
                msgs = self.received[user]
                frames = [m for m in msgs if m["type"] == "frame"]
                foreign = sorted({f["source"] for f in frames} - {self.sources[user]})
                self.assertEqual(foreign, [], f"{user} received frames of other sources")
                self.assertEqual({f["speed_mps"] for f in frames}, {speed})
                self.assertEqual({f["gear"] for f in frames}, {gear - 1})
                self.assertEqual({f["rpm"] for f in frames}, {rpm})
                self.assertGreaterEqual(len(frames), n * 0.99, f"{len(frames)} of {n} frames")
                self.assertLessEqual(len(frames), n)

    def test_stream_session_events_and_status_are_own(self):
        for user in DRIVES:
            with self.subTest(user=user):
                msgs = self.received[user]
                events = [(m["event"], m["session"].get("source")) for m in msgs
                          if m["type"] == "session"]
                self.assertEqual([e for e, _ in events], ["start", "end"], events)
                self.assertEqual(events[0][1], self.sources[user])
                keys = {m["session"]["key"] for m in msgs if m["type"] == "session"}
                frame_keys = {m["session_key"] for m in msgs if m["type"] == "frame"}
                self.assertEqual(len(keys), 1)
                self.assertEqual(frame_keys, keys)
                for st in (m for m in msgs if m["type"] == "status"):
                    srcs = {s["source"] for s in st["sources"]}
                    self.assertLessEqual(srcs, {self.sources[user]}, st["sources"])

    def test_session_list_holds_only_own_sessions(self):
        for user, (ip, speed, gear, rpm, n) in DRIVES.items():
            with self.subTest(user=user):
                sessions = self.sessions[user]
                self.assertEqual(len(sessions), 1, sessions)
                s = sessions[0]
                self.assertEqual(s["user"], user)
                self.assertEqual(s["source"], self.sources[user])
                self.assertEqual(s["frame_count"], n)
                self.assertAlmostEqual(s["top_speed_mps"], speed, places=3)
                self.assertAlmostEqual(s["max_rpm"], rpm, places=1)
                self.assertIsNotNone(s["end_time"])
        ids = [self.sessions[u][0]["id"] for u in DRIVES]
        self.assertEqual(len(set(ids)), 3, ids)

    def test_other_users_session_is_404(self):
        token = self.tokens["alice"]
        bob_id = self.sessions["bob"][0]["id"]
        local_id = self.sessions["local"][0]["id"]
        own_id = self.sessions["alice"][0]["id"]
        missing_id = max(bob_id, local_id, own_id) + 1000
        # control: alice reads her own session in every form
        for path in (f"/api/sessions/{own_id}", f"/api/sessions/{own_id}/frames?points=10",
                     f"/api/sessions/{own_id}/export.csv"):
            with self.subTest(own=path):
                status, _, body = btlib.http_request(self.http, "GET", path, token=token)
                self.assertEqual(status, 200, body[:300])
        status, _, body = btlib.http_request(self.http, "GET",
                                             f"/api/sessions/{own_id}/export.csv", token=token)
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        self.assertEqual(len(rows), DRIVES["alice"][4])

        for sid in (bob_id, local_id):
            for method, path in (("GET", f"/api/sessions/{sid}"),
                                 ("GET", f"/api/sessions/{sid}/frames"),
                                 ("GET", f"/api/sessions/{sid}/frames?points=10"),
                                 ("GET", f"/api/sessions/{sid}/export.csv"),
                                 ("DELETE", f"/api/sessions/{sid}")):
                with self.subTest(request=f"{method} {path}"):
                    status, hdrs, body = btlib.http_request(self.http, method, path, token=token)
                    self.assertEqual(status, 404, body[:300])
                    self.assertEqual(json.loads(body)["error"]["code"], "not_found")
                    # the same answer as for an id that does not exist: nothing leaks
                    mpath = path.replace(f"/{sid}", f"/{missing_id}")
                    status2, _, body2 = btlib.http_request(self.http, method, mpath,
                                                           token=token)
                    self.assertEqual((status2, body2), (status, body))
        # the DELETEs removed nothing: bob and local still have their sessions
        for user, sid in (("bob", bob_id), ("local", local_id)):
            status, doc = btlib.http_json(self.http, "GET", f"/api/sessions/{sid}",
                                          token=self.tokens[user])
            self.assertEqual(status, 200, doc)
            self.assertEqual(doc["frame_count"], DRIVES[user][4])


if __name__ == "__main__":
    unittest.main(verbosity=2)
