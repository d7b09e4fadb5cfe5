# SPDX-License-Identifier: MIT
"""tuilib: helpers of the end-to-end tests of `beamtel login`, `stream` and `tui` (Python 3
standard library only, plus tmux for the terminal).

A Server bundles a private PostgreSQL database, `beamtel serve` on two free ports and a logged-in
XDG_CONFIG_HOME.  Tmux runs a command in a detached pane of a private tmux server and reads the
screen back; big_digits() knows the TUI's 3×5 font so that tests can check the large speed and
gear digits themselves, not only a text next to them.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))

import btlib  # noqa: E402  (the black-box harness: PrivatePG, ServeProcess, outgauge, ports)

ADMIN_PASSWORD = "tui-test-password-1"


def utf8_env(extra=None):
    """The environment for child processes: a UTF-8 locale, no colours forced either way."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env["LANG"] = "C.UTF-8"
    env["LC_ALL"] = "C.UTF-8"
    if extra:
        env.update(extra)
    return env


class Server:
    """`beamtel serve` with a fresh database, and an XDG_CONFIG_HOME where `login` stored a
    token for it."""

    def __init__(self, pg):
        self.pg = pg
        self.dsn = pg.fresh_db()
        self.udp = btlib.free_port("udp")
        self.http = btlib.free_port("tcp")
        self.url = f"http://127.0.0.1:{self.http}"
        self.state = btlib.tmpdir("bttui-state-")
        self.xdg = btlib.tmpdir("bttui-xdg-")
        self.pwfile = os.path.join(self.xdg, "password")
        with open(self.pwfile, "w") as f:
            f.write(ADMIN_PASSWORD + "\n")
        self.fumbletron_set = False
        self.proc = None
        try:
            self.start()
            # serve logs "listening" before it has seeded the admin's password; a login in
            # between is refused, so wait for the seeding on the first start.
            self.proc.wait_for('the password of user "local"', 30)
        except BaseException:
            self.destroy()
            raise

    def env(self, **extra):
        env = dict(XDG_CONFIG_HOME=self.xdg, BEAMTEL_ADMIN_PASSWORD=ADMIN_PASSWORD)
        env.update(extra)
        return utf8_env(env)

    def start(self):
        """Starts serve (the state directory keeps the JWT secret across restarts)."""
        self.proc = btlib.ServeProcess("--udp", f"127.0.0.1:{self.udp}", "--http",
                                       f"127.0.0.1:{self.http}", "--db", self.dsn, "--state-dir",
                                       self.state, env=self.env())
        self.proc.wait_for("listening on http", 30)
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def destroy(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc = None
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.rmtree(self.xdg, ignore_errors=True)

    def login(self):
        p = btlib.run("login", "--server", self.url, "--user", "local", "--password-file",
                      self.pwfile, env=self.env())
        return p

    def token(self):
        with open(os.path.join(self.xdg, "beamtel", "token")) as f:
            return json.load(f)

    def api(self, path):
        req = urllib.request.Request(self.url + path,
                                     headers={"Authorization": "Bearer " + self.token()["token"]})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def set_fumbletron(self):
        """Gives user local a valid Fumbletron-3156 token when `beamtel user` exists."""
        p = btlib.run("user", "fumbletron", "local", "--db", self.dsn, check=False,
                      env=self.env())
        self.fumbletron_set = p.returncode == 0
        return self.fumbletron_set


class Sender:
    """Sends OutGauge at hz from a thread until stopped: 20.0 m/s, gear byte 4 (3rd)."""

    def __init__(self, port, hz=60.0, **fields):
        self.udp = btlib.UdpSender(port)
        fields.setdefault("speed", 20.0)
        fields.setdefault("gear", 4)
        fields.setdefault("rpm", 4200.0)
        fields.setdefault("throttle", 0.6)
        fields.setdefault("fuel", 0.4)
        fields.setdefault("dash_lights", (1 << 10) | (1 << 2))  # ABS, handbrake available
        fields.setdefault("show_lights", 1 << 10)
        self.packet = btlib.outgauge(**fields)
        self.hz = hz
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        t0 = time.monotonic()
        while not self._stop.is_set():
            self.udp.send(self.packet)
            self.sent += 1
            delay = t0 + self.sent / self.hz - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.udp.close()


class Tmux:
    """One detached pane on a private tmux server."""

    def __init__(self, command, cols=100, rows=30, env=None):
        if shutil.which("tmux") is None:
            raise unittest.SkipTest("tmux not installed")
        self.socket = f"bttui-{os.getpid()}-{time.monotonic_ns()}"
        self.env = env or utf8_env()
        self._tmux("new-session", "-d", "-s", "t", "-x", str(cols), "-y", str(rows), command)
        self._tmux("set-option", "-t", "t", "remain-on-exit", "on")

    def _tmux(self, *args, check=True):
        p = subprocess.run(["tmux", "-u", "-L", self.socket, *args], capture_output=True,
                           text=True, env=self.env, timeout=20)
        if check and p.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {p.stderr}")
        return p.stdout

    def screen(self):
        """The visible screen, one string per row, trailing blanks removed."""
        out = self._tmux("capture-pane", "-p", "-t", "t")
        if out.endswith("\n"):
            out = out[:-1]
        return [line.rstrip() for line in out.split("\n")]

    def text(self):
        return "\n".join(self.screen())

    def keys(self, *keys):
        self._tmux("send-keys", "-t", "t", *keys)

    def resize(self, cols, rows):
        self._tmux("resize-window", "-t", "t", "-x", str(cols), "-y", str(rows))

    def fmt(self, f):
        return self._tmux("display-message", "-p", "-t", "t", f).strip()

    def dead(self):
        return self.fmt("#{pane_dead}") == "1"

    def pid(self):
        return int(self.fmt("#{pane_pid}"))

    def wait_for(self, pred, timeout=15.0, what="the screen"):
        """Polls until pred(text) is true; returns the text.  pred may be a string."""
        test = (lambda t: pred in t) if isinstance(pred, str) else pred
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if test(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what!r}; screen:\n{text}")

    def wait_dead(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dead():
                return
            time.sleep(0.05)
        raise AssertionError(f"the pane did not exit; screen:\n{self.text()}")

    def kill(self):
        self._tmux("kill-server", check=False)


# --- the big digits: the same 3×5 font as tui/widgets.c --------------------------------------

FONT = {
    "0": ["###", "# #", "# #", "# #", "###"], "1": ["## ", " # ", " # ", " # ", "###"],
    "2": ["###", "  #", "###", "#  ", "###"], "3": ["###", "  #", " ##", "  #", "###"],
    "4": ["# #", "# #", "###", "  #", "  #"], "5": ["###", "#  ", "###", "  #", "###"],
    "6": ["###", "#  ", "###", "# #", "###"], "7": ["###", "  #", "  #", "  #", "  #"],
    "8": ["###", "# #", "###", "# #", "###"], "9": ["###", "# #", "###", "  #", "###"],
    "R": ["## ", "# #", "## ", "# #", "# #"], "N": ["#  #", "## #", "# ##", "#  #", "#  #"],
    "-": ["   ", "   ", "###", "   ", "   "],
}


def big_pattern(text, sx, sy, pixel="\u2588"):
    """The rows that the TUI draws for text in big digits at scale sx × sy."""
    rows = []
    for r in range(5):
        line = ""
        for i, ch in enumerate(text):
            glyph = FONT[ch][r]
            line += "".join((pixel if c == "#" else " ") * sx for c in glyph)
            if i + 1 < len(text):
                line += " " * sx
        rows.extend([line] * sy)
    return rows


def has_big(screen, text, pixel="\u2588"):
    """True when the screen rows show text in big digits (any scale), as whole glyphs."""
    for sx, sy in ((2, 1), (4, 2), (1, 1), (3, 1), (2, 2)):
        pat = big_pattern(text, sx, sy, pixel)
        h = len(pat)
        for y in range(len(screen) - h + 1):
            start = 0
            while True:
                x = screen[y].find(pat[0], start)
                if x < 0:
                    break
                if all(screen[y + k][x:x + len(pat[k])].ljust(len(pat[k])) == pat[k]
                       for k in range(h)) and (x == 0 or screen[y][x - 1] != pixel):
                    return True
                start = x + 1
    return False


def boxes_whole(screen, cols):
    """Problems with the panels' geometry: lines wider than the terminal, boxes whose right
    side is missing on some row (a cut panel).  [] when all is well."""
    problems = []
    for y, line in enumerate(screen):
        if len(line) > cols:
            problems.append(f"row {y} is {len(line)} columns wide")
        if y in (0, len(screen) - 1) or not line:
            continue  # the header and the status line use │ as a separator
        if line.count("\u250c") != line.count("\u2510"):
            problems.append(f"row {y}: a box top is cut: {line!r}")
        if line.count("\u2514") != line.count("\u2518"):
            problems.append(f"row {y}: a box bottom is cut: {line!r}")
        if line.count("\u2502") % 2:
            problems.append(f"row {y}: a box side is missing: {line!r}")
    return problems
