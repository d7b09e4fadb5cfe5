#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: a slow WebSocket client never slows the others nor grows the server
(DESIGN.md §8, docs/PROTOCOL.md: latest wins, 4408 for a client that stays choked).

Beside a fast client, a slow one with a 4 KiB receive buffer reads one message per second for
20 s of a 60 Hz feed.  The fast client receives ≥ 99 % of the frames; serve's VmRSS grows
< 10 MiB between second 5 and the end; and the slow client is either closed (4408 or a dropped
connection, seen by the server's client count and by draining its socket) or, still open, was
skipped ahead (latest wins): what it received is bounded, has a jump and ends with the newest
frame.  (Kernel buffers alone hold ~100 messages, i.e. 100 s of reading at 1 message/s, so the
age of what it reads during the window says nothing; it is drained fast at the end.)
Each packet carries its index in rpm (1000 + i)."""

import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

HZ = 60
DURATION = 20.0
RPM_BASE = 1000
SLOW_RCVBUF = 4096
RSS_GROWTH_KB = 10 * 1024


class SlowWs:
    """A WebSocket client on a socket with a small receive buffer (set before connect, so the
    TCP window stays small) that reads exactly one message when asked."""

    def __init__(self, port, rcvbuf):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):       # byte by byte: read nothing beyond it
            c = self.sock.recv(1)
            if not c:
                raise ConnectionError("closed during the handshake")
            head += c
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(head)
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        assert accept in head
        self.close_code = None

    def send_json(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        hdr = struct.pack("!BB", 0x81, 0x80 | 126) + struct.pack("!H", len(payload)) \
            if len(payload) >= 126 else struct.pack("!BB", 0x81, 0x80 | len(payload))
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _exact(self, n):
        out = b""
        while len(out) < n:
            c = self.sock.recv(n - len(out))
            if not c:
                raise ConnectionError("EOF")
            out += c
        return out

    def recv_one(self):
        """The next text message as JSON; None for a close frame (close_code set)."""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(n)
            op = b0 & 0x0F
            if op == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 \
                    else 1005
                return None
            if op in (0x1, 0x0):
                return json.loads(payload)

    def close(self):
        self.sock.close()


class SlowClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        btlib.beamtel_bin()
        pg = btlib.module_pg()
        cls.state = btlib.tmpdir("btstate-")
        cls.serve, cls.udp, cls.http = btlib.api_serve(pg.fresh_db(), cls.state)
        cls.token = btlib.login(cls.http, "local", btlib.ADMIN_PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.serve.kill()
        shutil.rmtree(cls.state, ignore_errors=True)
        btlib.module_pg_cleanup()

    def test_slow_client_beside_fast_client(self):
        pid = self.serve.proc.pid
        fast, _ = btlib.ws_auth(self.http, self.token)
        slow = SlowWs(self.http, SLOW_RCVBUF)
        slow.send_json({"type": "auth", "token": self.token})
        hello = slow.recv_one()
        self.assertEqual(hello["type"], "hello")

        stop = threading.Event()
        fast_frames = set()
        fast_clients = []        # (monotonic, clients.websocket) from the fast client's status
        fast_errors = []

        def read_fast():
            while not stop.is_set():
                try:
                    m = fast.recv_json(0.2)
                except TimeoutError:
                    continue
                except (ConnectionError, OSError) as e:
                    fast_errors.append(repr(e))
                    return
                if m is None:
                    fast_errors.append(f"closed {fast.close_code} {fast.close_reason}")
                    return
                if m["type"] == "frame":
                    fast_frames.add(int(m["rpm"]) - RPM_BASE)
                elif m["type"] == "status":
                    fast_clients.append((time.monotonic(), m["clients"]["websocket"]))

        tx = btlib.UdpSender(self.udp)
        feed = btlib.PacedFeed(tx, HZ, make=lambda i: btlib.outgauge(
            96, speed=20.0, rpm=float(RPM_BASE + i), gear=4))
        reader = threading.Thread(target=read_fast, daemon=True)
        reader.start()
        t0 = time.monotonic()
        feed.start()

        slow_seen = []           # (seconds since t0, frame index) read during the window
        slow_end = None          # why the slow reads stopped
        rss = []                 # (seconds since t0, VmRSS KiB)
        next_read = t0 + 1.0
        while time.monotonic() - t0 < DURATION:
            rss.append((time.monotonic() - t0, btlib.vm_rss_kb(pid)))
            if slow_end is None and time.monotonic() >= next_read:
                next_read += 1.0
                try:
                    m = slow.recv_one()
                    if m is None:
                        slow_end = f"close frame {slow.close_code}"
                    elif m["type"] == "frame":
                        slow_seen.append((time.monotonic() - t0, int(m["rpm"]) - RPM_BASE))
                except (ConnectionError, OSError) as e:
                    slow_end = f"connection: {e!r}"
            time.sleep(0.25)
        sent = feed.stop()
        tx.close()
        time.sleep(0.3)
        stop.set()
        reader.join(5)
        rss.append((time.monotonic() - t0, btlib.vm_rss_kb(pid)))

        # after the window: does the server still hold the slow client?  Then drain it fast.
        status, st = btlib.http_json(self.http, "GET", "/api/status", token=self.token)
        self.assertEqual(status, 200)
        clients_after = st["clients"]["websocket"]
        drained = 0
        slow_drained = []        # frame indices read while draining
        slow.sock.settimeout(2)
        drain_until = time.monotonic() + 5.0   # status messages keep coming while it is open
        while slow_end is None:
            if time.monotonic() > drain_until:
                slow_end = "still open"
                break
            try:
                m = slow.recv_one()
            except (ConnectionError, OSError) as e:
                slow_end = f"connection: {e!r}" if not isinstance(e, socket.timeout) \
                    else "still open"
                break
            if m is None:
                slow_end = f"close frame {slow.close_code}"
            else:
                drained += 1
                if m["type"] == "frame":
                    slow_drained.append(int(m["rpm"]) - RPM_BASE)
        slow.close()
        fast.close()

        slow_all = [i for _, i in slow_seen] + slow_drained
        jumps = [(a, b) for a, b in zip(slow_all, slow_all[1:]) if b != a + 1]
        report = (f"\n  fast: {len(fast_frames)} of {sent} frames; slow read {len(slow_seen)} "
                  f"frames, then {drained} drained ({len(slow_drained)} frames, last "
                  f"{slow_drained[-1:]}, jumps {jumps[:10]}), end: {slow_end}; "
                  f"websocket clients after "
                  f"the window: {clients_after}; status counts {[c for _, c in fast_clients]}; "
                  f"RSS KiB {rss[0][1]} → {rss[-1][1]}\n")
        sys.stderr.write(report)

        # 1. the fast client got ≥ 99 % of the frames and was never closed
        self.assertEqual(fast_errors, [], report)
        self.assertGreaterEqual(len(fast_frames & set(range(sent))), 0.99 * sent, report)

        # 2. serve's memory stays flat from second 5 on
        base = [kb for t, kb in rss if t >= 5.0][0]
        peak = max(kb for t, kb in rss if t >= 5.0)
        self.assertLess(rss[-1][1] - base, RSS_GROWTH_KB,
                        f"VmRSS grew {rss[-1][1] - base} KiB from second 5 to the end" + report)
        self.assertLess(peak - base, RSS_GROWTH_KB, f"peak {peak} KiB vs {base} KiB" + report)

        # 3. the slow client is closed, or it only ever sees skipped (recent) frames
        closed = (slow_end is not None and (slow_end.startswith("connection")
                                             or slow_end == "close frame 4408"))
        if closed:
            self.assertEqual(clients_after, 1, "the server dropped the slow client" + report)
        else:
            # not closed: latest wins.  What it got is bounded (the server skipped ahead rather
            # than queueing 20 s of frames), has a jump, and ends with the newest frame.
            self.assertEqual(slow_end, "still open", report)
            self.assertEqual(slow_all, sorted(slow_all), "in order" + report)
            self.assertLess(len(slow_all), sent // 2, "frames were skipped" + report)
            self.assertTrue(jumps, "frames were skipped" + report)
            self.assertGreaterEqual(slow_all[-1], sent - 3, "it catches up to the newest frame"
                                    + report)


if __name__ == "__main__":
    unittest.main(verbosity=2)
