#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: HTTP and WebSocket share one TCP port (DESIGN.md §2.1).  20 WebSocket clients
stream a 60 Hz UDP feed while 1,000 HTTP requests (health, me, sessions) run on the same port:
every request is answered 200 and every client receives at least 99 % of the frames sent in
that window
(the requests are paced at 250/s so that they overlap 4 s of streaming).

Latest-wins (docs/PROTOCOL.md) only skips frames for a client that falls behind; these clients
read as fast as frames come, so the policy allows them no loss beyond packets in flight at the
edges of the window: 99 % is the bound.  Each packet carries its index in rpm (1000 + i) so that
every received frame is identified exactly."""

import os
import queue
import shutil
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

CLIENTS = 20
REQUESTS = 1000
WORKERS = 8
REQ_RATE = 250   # requests per second: 1,000 take 4 s (a burst would take 0.4 s)
HZ = 60
RPM_BASE = 1000


class SamePort(unittest.TestCase):
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

    def test_20_ws_clients_and_1000_paced_http_requests(self):
        self.run_mix(REQ_RATE, WORKERS, min_window=3 * HZ)

    def test_20_ws_clients_and_a_burst_of_1000_http_requests(self):
        """The same with the requests as fast as 16 connections go (≈ 0.5 s here)."""
        self.run_mix(None, 16, min_window=10)

    def run_mix(self, rate, n_workers, min_window):
        clients = [btlib.ws_auth(self.http, self.token)[0] for _ in range(CLIENTS)]
        got = [set() for _ in range(CLIENTS)]
        other = [[] for _ in range(CLIENTS)]
        stop = threading.Event()

        def read(k):
            ws = clients[k]
            while not stop.is_set():
                try:
                    m = ws.recv_json(0.2)
                except TimeoutError:
                    continue
                except (ConnectionError, OSError) as e:
                    other[k].append(f"connection: {e}")
                    return
                if m is None:
                    other[k].append(f"closed {ws.close_code} {ws.close_reason}")
                    return
                if m["type"] == "frame":
                    got[k].add(int(m["rpm"]) - RPM_BASE)

        readers = [threading.Thread(target=read, args=(k,), daemon=True)
                   for k in range(CLIENTS)]
        for r in readers:
            r.start()

        tx = btlib.UdpSender(self.udp)
        feed = btlib.PacedFeed(tx, HZ, make=lambda i: btlib.outgauge(
            96, speed=20.0, rpm=float(RPM_BASE + i), gear=4)).start()
        time.sleep(0.5)

        paths = ["/api/health", "/api/me", "/api/sessions", "/api/sessions?limit=5"]
        jobs = queue.Queue()
        for i in range(REQUESTS):
            jobs.put((i, paths[i % len(paths)]))
        results = []
        lock = threading.Lock()

        def work():
            while True:
                try:
                    i, path = jobs.get_nowait()
                except queue.Empty:
                    return
                # paced at REQ_RATE per second so that the requests span the window
                delay = t0 + i / rate - time.monotonic() if rate else 0
                if delay > 0:
                    time.sleep(delay)
                try:
                    status, _, body = btlib.http_request(self.http, "GET", path,
                                                         token=self.token, timeout=10)
                    r = (path, status, body[:200] if status != 200 else b"")
                except Exception as e:  # noqa: BLE001 — every failure is counted
                    r = (path, None, repr(e).encode())
                with lock:
                    results.append(r)

        t0 = time.monotonic()
        first = len(feed.sent_times)
        workers = [threading.Thread(target=work) for _ in range(n_workers)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - t0
        last = len(feed.sent_times)
        time.sleep(0.5)   # let the last frames of the window arrive
        feed.stop()
        tx.close()
        time.sleep(0.2)
        stop.set()
        for r in readers:
            r.join(5)
        for c in clients:
            c.close()

        failed = [r for r in results if r[1] != 200]
        self.assertEqual(len(results), REQUESTS)
        self.assertEqual(failed[:10], [], f"{len(failed)} of {REQUESTS} requests not 200")
        window = set(range(first, last))
        self.assertGreater(len(window), min_window, f"the window lasted {elapsed:.2f} s")
        need = 0.99 * len(window)
        short = {k: len(got[k] & window) for k in range(CLIENTS)
                 if len(got[k] & window) < need}
        self.assertEqual(other, [[] for _ in range(CLIENTS)], "no client was closed")
        self.assertEqual(short, {}, f"clients below 99 % of {len(window)} frames "
                                    f"({elapsed:.2f} s window)")
        sys.stderr.write(f"\n  {REQUESTS} requests in {elapsed:.2f} s; window {len(window)} "
                         f"frames; per client min {min(len(g & window) for g in got)}\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
