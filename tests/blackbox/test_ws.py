#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: the WebSocket stream of `beamtel serve` (docs/PROTOCOL.md "WebSocket", DESIGN.md
§6, §8): the 5 s auth deadline, token expiry, tokens in the URL, and the hello/frame/status
messages for packets sent to the UDP port.  Tokens are signed here with the server's key
(btlib.JWT_SECRET) so that their expiry is exact."""

import math
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

SERVE = None
UDP = HTTP = None
STATE = None
TRANSIT_S = 0.05  # loopback delivery allowance between the server's send and our receive


def setUpModule():
    global SERVE, UDP, HTTP, STATE
    btlib.beamtel_bin()
    pg = btlib.module_pg()
    STATE = btlib.tmpdir("btstate-")
    SERVE, UDP, HTTP = btlib.api_serve(pg.fresh_db(), STATE)


def tearDownModule():
    if SERVE is not None:
        SERVE.kill()
    if STATE:
        shutil.rmtree(STATE, ignore_errors=True)
    btlib.module_pg_cleanup()


def token(exp_in=600, exp=None):
    now = int(time.time())
    return btlib.jwt_make({"sub": "local", "iat": now, "exp": exp if exp else now + exp_in})


def wall(mono):
    """A monotonic time as wall-clock seconds."""
    return mono + (time.time() - time.monotonic())


class WebSocket(unittest.TestCase):
    def setUp(self):
        self.tx = btlib.UdpSender(UDP)
        self.feed = btlib.PacedFeed(self.tx, 60).start()
        self.clients = []

    def tearDown(self):
        self.feed.stop()
        self.tx.close()
        for c in self.clients:
            c.close()

    def ws(self, path="/ws"):
        c = btlib.WsClient(HTTP, path)
        self.clients.append(c)
        return c

    def test_no_auth_within_5s_closes_4401_and_sends_nothing(self):
        t0 = time.monotonic()
        c = self.ws()
        msgs, closed = btlib.ws_collect(c, 8.0)
        self.assertEqual([m for _, m in msgs], [], "nothing is sent before a valid auth")
        self.assertIsNotNone(closed, "closed within 8 s")
        self.assertEqual(c.close_code, 4401, c.close_reason)
        self.assertTrue(c.close_reason)
        self.assertGreaterEqual(closed - t0, 4.8, "not before the 5 s deadline")
        self.assertLessEqual(closed - t0, 6.0, "soon after the 5 s deadline")

    def test_token_in_url_is_ignored(self):
        t0 = time.monotonic()
        c = self.ws("/ws?token=" + token())
        msgs, closed = btlib.ws_collect(c, 8.0)
        self.assertEqual([m for _, m in msgs], [], "a token in the URL authenticates nothing")
        self.assertIsNotNone(closed, "closed within 8 s")
        self.assertEqual(c.close_code, 4401, c.close_reason)
        self.assertGreaterEqual(closed - t0, 4.8)
        self.assertLessEqual(closed - t0, 6.0)

    def test_token_expiry_closes_4401_within_1s_and_nothing_after(self):
        exp = math.ceil(time.time()) + 2          # expires 2..3 s from now
        c = self.ws()
        c.send_json({"type": "auth", "token": token(exp=exp)})
        msgs, closed = btlib.ws_collect(c, exp - time.time() + 4.0)
        self.assertTrue(msgs, "hello arrived")
        self.assertEqual(msgs[0][1]["type"], "hello", msgs[0][1])
        self.assertIsNotNone(closed, "the socket was closed")
        self.assertEqual(c.close_code, 4401, c.close_reason)
        self.assertTrue(c.close_reason)
        closed_wall = wall(closed)
        self.assertLessEqual(closed_wall, exp + 1.0,
                             f"closed {closed_wall - exp:.3f} s after expiry")
        self.assertGreaterEqual(closed_wall, exp - TRANSIT_S,
                                f"closed {exp - closed_wall:.3f} s before expiry")
        frames = [(wall(t), m) for t, m in msgs if m["type"] == "frame"]
        self.assertGreater(len(frames), 60, "frames flowed while the token was valid")
        late = [(round(t - exp, 3), m["type"]) for t, m in msgs
                if wall(t) > exp + TRANSIT_S]
        self.assertEqual(late, [], "messages that arrived after the expiry (s after exp, type)")
        ingested_late = [f["ts_us"] / 1e6 - exp for _, f in frames if f["ts_us"] >= exp * 1e6]
        self.assertEqual(ingested_late, [], "frames ingested after the expiry were sent")

    def test_new_auth_message_extends_the_stream(self):
        exp = math.ceil(time.time()) + 2
        c = self.ws()
        c.send_json({"type": "auth", "token": token(exp=exp)})
        hello = c.recv_json(5)
        self.assertEqual(hello["type"], "hello")
        c.send_json({"type": "auth", "token": token(600)})
        msgs, closed = btlib.ws_collect(c, exp - time.time() + 2.0)
        self.assertIsNone(closed, f"closed {c.close_code} {c.close_reason!r} although a "
                                  "fresh token was sent before the first expired")
        after = [m for t, m in msgs if wall(t) > exp + 1.0 and m["type"] == "frame"]
        self.assertGreater(len(after), 30, "frames keep coming after the first token's expiry")

    def test_valid_auth_gives_hello_frames_and_status(self):
        status, me = btlib.http_json(HTTP, "GET", "/api/me", token=token())
        self.assertEqual(status, 200)
        src = f"127.0.0.1:{self.tx.sock.getsockname()[1]}"
        tok = token()
        c = self.ws()
        c.send_json({"type": "auth", "token": tok})
        hello = c.recv_json(5)
        self.assertEqual(hello["type"], "hello", hello)
        self.assertEqual(hello["user"], me)
        self.assertEqual(hello["version"], "0.1.0")

        sent_from = len(self.feed.sent_times)
        msgs, closed = btlib.ws_collect(c, 3.5)
        sent = len(self.feed.sent_times) - sent_from
        self.assertIsNone(closed, f"{c.close_code} {c.close_reason}")
        frames = [m for _, m in msgs if m["type"] == "frame"]
        statuses = [t for t, m in msgs if m["type"] == "status"]
        # every frame of the feed during the window (allow the packets in flight at both ends)
        self.assertGreaterEqual(len(frames), sent - 3, f"{len(frames)} frames for {sent} sent")
        for f in frames:
            self.assertEqual(f["speed_mps"], 20, f)
            self.assertEqual(f["gear"], 3, f)
            self.assertEqual(f["gear_label"], "3", f)
            self.assertEqual(f["rpm"], 3000, f)
            self.assertEqual(f["car"], "beam", f)
            self.assertEqual(f["source"], src, f)
            self.assertRegex(f["session_key"], r"^[0-9a-f]{16}$")
            self.assertIn("session", f)
            self.assertIsNone(f["g_force_x"], "no MotionSim")
        seqs = [f["ts_us"] for f in frames]
        self.assertEqual(seqs, sorted(seqs), "in order")
        self.assertEqual(len(set(seqs)), len(seqs), "no duplicates")
        # status about once a second
        self.assertGreaterEqual(len(statuses), 3, f"{len(statuses)} status in 3.5 s")
        self.assertLessEqual(len(statuses), 4, f"{len(statuses)} status in 3.5 s")
        gaps = [b - a for a, b in zip(statuses, statuses[1:])]
        for g in gaps:
            self.assertGreater(g, 0.7, gaps)
            self.assertLess(g, 1.3, gaps)
        last_status = [m for _, m in msgs if m["type"] == "status"][-1]
        self.assertEqual(last_status["version"], "0.1.0")
        self.assertIn(src, [s["source"] for s in last_status["sources"]], last_status)
        self.assertEqual(last_status["clients"]["websocket"], 1, last_status["clients"])
        # last: docs/PROTOCOL.md's hello carries "expires_at" (ISO time, like the login answer)
        self.assertIn("expires_at", hello, "docs/PROTOCOL.md: hello carries expires_at")
        self.assertEqual(btlib.parse_time(hello["expires_at"]), btlib.jwt_claims(tok)["exp"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
