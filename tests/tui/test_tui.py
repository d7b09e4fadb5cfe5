#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end test of `beamtel tui` in a detached tmux pane against the real `beamtel serve`
(private PostgreSQL, real UDP, real WebSocket on 127.0.0.1).

It sends OutGauge at 20.0 m/s with gear byte 4 and reads the screen: 72 km/h in big digits and
as text, gear 3 in big digits, the Fumbletron-3156 badge as /api/me states it; `u` switches to
45 mph; at 80×24 every panel is whole; stopping the server shows the reconnection, restarting it
brings the live view back; `q` exits 0 and the terminal is as before (stty settings, normal
screen, cursor).  A forged token ends with the expired-session message and exit code 5; an
unreachable server shows a clear message instead of a blank screen; SIGTERM exits cleanly.
"""

import json
import os
import re
import shutil
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tuilib  # noqa: E402
from tuilib import btlib  # noqa: E402

SRV = None


def setUpModule():
    global SRV
    btlib.beamtel_bin()
    if shutil.which("tmux") is None:
        raise unittest.SkipTest("tmux not installed")
    try:
        SRV = tuilib.Server(btlib.module_pg())
        SRV.set_fumbletron()  # before login: hello carries the user object of the login
        SRV.login()
    except BaseException:
        tearDownModule()  # unittest does not call it when setUpModule fails
        raise


def tearDownModule():
    if SRV is not None:
        SRV.destroy()
    btlib.module_pg_cleanup()


def run_dir():
    return btlib.tmpdir("bttui-run-")


def tui_command(d, *args, env_prefix=""):
    """A shell line that records the terminal settings around `beamtel tui` and its exit code."""
    bin_ = btlib.beamtel_bin()
    extra = " ".join(args)
    # The shell stays a while after tui so that the pane is still alive when the test looks
    # at the terminal's state (a dead pane has no cursor).
    return (f"sh -c 'stty -g > {d}/before; {env_prefix}{bin_} tui {extra} 2> {d}/err; "
            f"echo $? > {d}/rc; stty -g > {d}/after; sleep 60'")


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return default


def wait_exit(d, timeout=10.0):
    """Waits until tui has exited (the shell wrote the settings after it); returns its code."""
    wait_file(f"{d}/after", timeout)
    return int(read(f"{d}/rc").strip())


def wait_file(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = read(path)
        if text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{path} did not appear")


def children(pid):
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(x) for x in f.read().split()]
    return out


class TuiLive(unittest.TestCase):
    def assert_restored(self, tm, d):
        """The terminal is as it was: same stty settings, normal screen, visible cursor."""
        self.assertEqual(wait_file(f"{d}/after"), read(f"{d}/before"))
        self.assertEqual(tm.fmt("#{alternate_on}"), "0")
        self.assertEqual(tm.fmt("#{cursor_flag}"), "1")

    def test_live_view(self):
        d = run_dir()
        tm = tuilib.Tmux(tui_command(d), 100, 30, env=SRV.env())
        sender = tuilib.Sender(SRV.udp)
        try:
            # 20.0 m/s = 72 km/h (the game's km flag is set), gear byte 4 = 3rd
            text = tm.wait_for("72.0 km/h", 20)
            screen = tm.screen()
            self.assertTrue(tuilib.has_big(screen, "72"), text)
            self.assertTrue(tuilib.has_big(screen, "3"), text)
            badge = SRV.api("/api/me")["fumbletron"]["badge"]
            self.assertTrue(badge.startswith("Fumbletron-3156: "), badge)
            self.assertIn(badge, text)
            if SRV.fumbletron_set:
                self.assertIn("Fumbletron-3156: VALID", text)
            # status line: connection, packets/s, rejects, source, packet age (1 Hz status)
            text = tm.wait_for(lambda t: "pkt/s" in t, 10, "the status line")
            status = tm.screen()[29]
            self.assertRegex(status, r"live .* \d+ pkt/s .* rejected 0 .* 127\.0\.0\.1:\d+ .* "
                                     r"last packet \d+\.\d s ago")
            self.assertRegex(text, r"4200 rpm")
            self.assertRegex(text, r"Throttle\s+\S+\s+60%")
            self.assertRegex(text, r"\bABS\b")
            self.assertIn("recording", text)

            # u: mph
            tm.keys("u")
            text = tm.wait_for("44.7 mph", 5)
            self.assertTrue(tuilib.has_big(tm.screen(), "45"), text)

            # 80×24: every panel whole, the values still there
            tm.resize(80, 24)
            # (until tui redraws, tmux shows the 100-column picture cut at 80 columns)
            text = tm.wait_for(lambda t: len(t.split("\n")) == 24 and "44.7 mph" in t and
                               tuilib.boxes_whole(t.split("\n"), 80) == [],
                               5, "a whole 80x24 layout")
            screen = tm.screen()
            self.assertEqual(tuilib.boxes_whole(screen, 80), [], text)
            self.assertTrue(tuilib.has_big(screen, "45"), text)
            self.assertTrue(tuilib.has_big(screen, "3"), text)
            for name in ("Throttle", "Brake", "Clutch"):
                self.assertRegex(text, name + r"\s+\S+\s+\d+% \u2502")
            self.assertRegex(text, r"\n RPM .*\d+ rpm\n")
            self.assertIn(badge, text)

            # the server goes away: the reconnection shows, then the live view comes back
            SRV.stop()
            text = tm.wait_for("Reconnecting in", 10)
            self.assertIn("reconnecting in", tm.screen()[23])
            # 1001 when serve says goodbye, "lost" when the socket just closes, or already
            # the failed reconnection
            self.assertRegex(text, r"closed the connection \(1001|Connection to "
                                   r"http://127\.0\.0\.1:\d+ lost|Cannot connect to "
                                   r"http://127\.0\.0\.1:\d+: connection refused")
            SRV.start()
            tm.wait_for(lambda t: "Reconnecting" not in t and " live" in t and "44.7 mph" in t,
                        20, "the live view after the restart")

            # q: exit 0, terminal restored
            tm.keys("q")
            self.assertEqual(wait_exit(d), 0, read(f"{d}/err"))
            self.assert_restored(tm, d)
            self.assertEqual(read(f"{d}/err"), "")
        finally:
            sender.stop()
            tm.kill()
            if SRV.proc is None:
                SRV.start()
            shutil.rmtree(d, ignore_errors=True)

    def _xdg_with_token(self, **changes):
        """A config dir holding the server's token with some fields changed."""
        xdg = btlib.tmpdir("bttui-xdg2-")
        tok = SRV.token()
        tok.update(changes)
        os.makedirs(os.path.join(xdg, "beamtel"), mode=0o700)
        path = os.path.join(xdg, "beamtel", "token")
        with open(path, "w") as f:
            json.dump(tok, f)
        os.chmod(path, 0o600)
        return xdg

    def test_bad_token(self):
        good = SRV.token()["token"]
        head, payload, sig = good.split(".")
        forged = ".".join([head, payload, ("A" if sig[0] != "A" else "B") + sig[1:]])
        xdg = self._xdg_with_token(token=forged)
        d = run_dir()
        tm = tuilib.Tmux(tui_command(d), 100, 30, env=SRV.env(XDG_CONFIG_HOME=xdg))
        try:
            self.assertEqual(wait_exit(d, 15), 5, read(f"{d}/err"))
            self.assertIn("session expired, run beamtel login", read(f"{d}/err"))
            self.assert_restored(tm, d)
        finally:
            tm.kill()
            shutil.rmtree(d, ignore_errors=True)
            shutil.rmtree(xdg, ignore_errors=True)

    def test_unreachable(self):
        port = btlib.free_port("tcp")
        url = f"http://127.0.0.1:{port}"
        xdg = self._xdg_with_token(server=url)
        d = run_dir()
        tm = tuilib.Tmux(tui_command(d), 100, 30, env=SRV.env(XDG_CONFIG_HOME=xdg))
        try:
            text = tm.wait_for("Reconnecting in", 10)
            self.assertIn(f"Cannot connect to {url}: connection refused", text)
            self.assertIn("reconnecting in", tm.screen()[29])
            tm.keys("q")
            self.assertEqual(wait_exit(d), 0, read(f"{d}/err"))
            self.assert_restored(tm, d)
        finally:
            tm.kill()
            shutil.rmtree(d, ignore_errors=True)
            shutil.rmtree(xdg, ignore_errors=True)

    def test_sigterm_restores(self):
        d = run_dir()
        tm = tuilib.Tmux(tui_command(d, env_prefix="NO_COLOR=1 "), 80, 24, env=SRV.env())
        try:
            tm.wait_for(" live", 15)
            tui = [p for p in children(tm.pid())
                   if os.path.basename(os.readlink(f"/proc/{p}/exe")) == "beamtel"]
            self.assertEqual(len(tui), 1)
            os.kill(tui[0], signal.SIGTERM)
            self.assertEqual(wait_exit(d), 0, read(f"{d}/err"))
            self.assert_restored(tm, d)
        finally:
            tm.kill()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
