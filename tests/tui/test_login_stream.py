#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end test of `beamtel login` and `beamtel stream` against the real `beamtel serve`
(private PostgreSQL, real UDP and WebSocket on 127.0.0.1).

login: the right password stores a 0600 token file (server, user, token, expiry) and prints
"logged in as NAME until TIME"; a wrong one exits 5; an unreachable server exits 6 with
"cannot connect to URL: connection refused"; --password-file - reads standard input.
stream: --count N prints N NDJSON lines, each the frame message as sent (type "frame",
20.0 m/s, gear 3); a forged or expired token exits 5 with "session expired or invalid: run
beamtel login"; an unreachable server exits 6; SIGINT ends it with 0.
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tuilib  # noqa: E402
from tuilib import btlib  # noqa: E402

SRV = None
EXPIRED = "session expired or invalid: run beamtel login"


def setUpModule():
    global SRV
    btlib.beamtel_bin()
    try:
        SRV = tuilib.Server(btlib.module_pg())
    except BaseException:
        tearDownModule()  # unittest does not call it when setUpModule fails
        raise


def tearDownModule():
    if SRV is not None:
        SRV.destroy()
    btlib.module_pg_cleanup()


class Login(unittest.TestCase):
    def test_01_login_stores_token(self):
        before = time.time()
        p = SRV.login()
        self.assertRegex(p.stdout, r"^logged in as local until \d{4}-\d\d-\d\d \d\d:\d\d \S+\n$")
        path = os.path.join(SRV.xdg, "beamtel", "token")
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        tok = SRV.token()
        self.assertEqual(tok["server"], SRV.url)
        self.assertEqual(tok["user"], "local")
        self.assertEqual(tok["token"].count("."), 2)
        exp = btlib.parse_time(tok["expires_at"])
        self.assertAlmostEqual(exp - before, 12 * 3600, delta=120)  # 12 h lifetime
        self.assertNotIn(tok["token"], p.stdout + p.stderr)
        # the token works on the API
        self.assertEqual(SRV.api("/api/me")["username"], "local")

    def test_02_wrong_password(self):
        pw = os.path.join(SRV.xdg, "wrong")
        with open(pw, "w") as f:
            f.write("not the password\n")
        p = btlib.run("login", "--server", SRV.url, "--user", "local", "--password-file", pw,
                      check=False, env=SRV.env(XDG_CONFIG_HOME=scratch(self)))
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertIn("wrong user name or password", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_03_unreachable(self):
        port = btlib.free_port("tcp")
        p = btlib.run("login", "--server", f"http://127.0.0.1:{port}", "--password-file",
                      SRV.pwfile, check=False, env=SRV.env(XDG_CONFIG_HOME=scratch(self)))
        self.assertEqual(p.returncode, 6, p.stderr)
        self.assertEqual(p.stderr.strip(), f"beamtel login: cannot connect to "
                                           f"http://127.0.0.1:{port}: connection refused")

    def test_04_password_from_stdin(self):
        xdg = scratch(self)
        p = btlib.run("login", "--server", SRV.url + "/", "--user", "local", "--password-file",
                      "-", input=tuilib.ADMIN_PASSWORD + "\n", env=SRV.env(XDG_CONFIG_HOME=xdg))
        self.assertIn("logged in as local until", p.stdout)
        with open(os.path.join(xdg, "beamtel", "token")) as f:
            self.assertEqual(json.load(f)["server"], SRV.url)  # canonical: no trailing slash


def scratch(test):
    """A temporary directory removed after the test."""
    d = btlib.tmpdir("bttui-")
    test.addCleanup(shutil.rmtree, d, True)
    return d


def xdg_with(**changes):
    xdg = btlib.tmpdir("bttui-xdg2-")
    tok = SRV.token()
    tok.update(changes)
    os.makedirs(os.path.join(xdg, "beamtel"), mode=0o700)
    with open(os.path.join(xdg, "beamtel", "token"), "w") as f:
        json.dump(tok, f)
    return xdg


class Stream(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        SRV.login()

    def test_count_ndjson(self):
        sender = tuilib.Sender(SRV.udp)
        try:
            p = btlib.run("stream", "--count", "25", env=SRV.env(), timeout=30)
        finally:
            sender.stop()
        lines = p.stdout.split("\n")
        self.assertEqual(lines[-1], "")
        lines = lines[:-1]
        self.assertEqual(len(lines), 25, p.stdout)
        ts = []
        for line in lines:
            f = json.loads(line)
            self.assertEqual(f["type"], "frame")
            self.assertEqual(f["speed_mps"], 20)
            self.assertEqual(f["gear"], 3)
            self.assertEqual(f["gear_label"], "3")
            self.assertIs(f["km"], True)
            self.assertRegex(f["source"], r"^127\.0\.0\.1:\d+$")
            ts.append(f["ts_us"])
        self.assertEqual(ts, sorted(ts))
        self.assertEqual(p.stderr, "")

    def test_lines_flushed_one_by_one(self):
        """Each frame is a line on the pipe as it arrives, not when a buffer fills."""
        sender = tuilib.Sender(SRV.udp, hz=5)
        proc = subprocess.Popen([btlib.beamtel_bin(), "stream"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=SRV.env(), text=True)
        try:
            t0 = time.monotonic()
            first = proc.stdout.readline()
            second = proc.stdout.readline()
            self.assertLess(time.monotonic() - t0, 5)
            self.assertEqual(json.loads(first)["type"], "frame")
            self.assertEqual(json.loads(second)["type"], "frame")
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(10), 0)
        finally:
            sender.stop()
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.stderr.close()

    def test_forged_token(self):
        head, payload, sig = SRV.token()["token"].split(".")
        xdg = xdg_with(token=".".join([head, payload, ("A" if sig[0] != "A" else "B") + sig[1:]]))
        p = btlib.run("stream", "--count", "1", check=False, env=SRV.env(XDG_CONFIG_HOME=xdg),
                      timeout=30)
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertEqual(p.stderr.strip(), "beamtel stream: " + EXPIRED)
        self.assertEqual(p.stdout, "")
        shutil.rmtree(xdg, ignore_errors=True)

    def test_expired_token(self):
        xdg = xdg_with(expires_at="2001-01-01T00:00:00.000Z")
        p = btlib.run("stream", "--count", "1", check=False, env=SRV.env(XDG_CONFIG_HOME=xdg))
        self.assertEqual(p.returncode, 5)
        self.assertIn(EXPIRED, p.stderr)
        shutil.rmtree(xdg, ignore_errors=True)

    def test_not_logged_in(self):
        p = btlib.run("stream", check=False, env=SRV.env(XDG_CONFIG_HOME=scratch(self)))
        self.assertEqual(p.returncode, 5)
        self.assertIn("run beamtel login", p.stderr)

    def test_unreachable(self):
        port = btlib.free_port("tcp")
        url = f"http://127.0.0.1:{port}"
        xdg = xdg_with(server=url)
        p = btlib.run("stream", check=False, env=SRV.env(XDG_CONFIG_HOME=xdg), timeout=30)
        self.assertEqual(p.returncode, 6, p.stderr)
        self.assertEqual(p.stderr.strip(),
                         f"beamtel stream: cannot connect to {url}: connection refused")
        shutil.rmtree(xdg, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
