# SPDX-License-Identifier: MIT
"""btlib: the black-box test harness (Python 3 standard library only).

It runs the real `beamtel` binary against a real private PostgreSQL cluster (scripts/pg-private)
on 127.0.0.1 with ephemeral ports, builds OutGauge and MotionSim datagrams byte by byte
(DESIGN.md §3.1, §3.2), writes pcap files, and wraps `beamtel serve`.  It knows the wire formats
and the CLI contract, never beamtel's internals.

Environment: BEAMTEL_BIN (the binary), BEAMTEL_SHARED_DATA (the real captures, ../shared/data),
BEAMTEL_SOURCE_DIR (the source tree; defaults to two levels above this file).
"""

import csv
import datetime
import io
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("BEAMTEL_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
SHARED_DATA = os.environ.get("BEAMTEL_SHARED_DATA") or os.path.normpath(
    os.path.join(SOURCE_DIR, "..", "shared", "data"))
PG_PRIVATE = os.path.join(SOURCE_DIR, "scripts", "pg-private")

STANDARD_GRAVITY = 9.80665
CAPTURE_EPOCH = 1_700_000_000.0  # timestamps of synthetic captures start here (2023-11-14)


# --- locating things -------------------------------------------------------------------------

def beamtel_bin():
    """The beamtel binary: $BEAMTEL_BIN, else build/beamtel in the source tree."""
    path = os.environ.get("BEAMTEL_BIN")
    if not path:
        for cand in ("build/beamtel", "build/ci/beamtel"):
            p = os.path.join(SOURCE_DIR, cand)
            if os.access(p, os.X_OK):
                path = p
                break
    if not path or not os.access(path, os.X_OK):
        raise unittest.SkipTest("beamtel binary not found (set BEAMTEL_BIN): skipping")
    return path


def require_shared():
    """Skips the calling test when the real captures are absent (a clone outside the workspace)."""
    if not os.path.isdir(SHARED_DATA):
        raise unittest.SkipTest("../shared/data not found: skipping")
    return SHARED_DATA


def shared(name):
    """Path of one file in ../shared/data (skipping the test when the folder is absent)."""
    path = os.path.join(require_shared(), name)
    if not os.path.exists(path):
        raise unittest.SkipTest(f"../shared/data/{name} not found: skipping")
    return path


def tmpdir(prefix="bt-"):
    """A fresh directory under /tmp (reachable by the cluster's unprivileged user)."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


# --- ports -----------------------------------------------------------------------------------

def free_port(kind="udp"):
    """A port that is free on 127.0.0.1 for kind "udp", "tcp" or "both"."""
    for _ in range(200):
        probe = socket.socket(socket.AF_INET,
                              socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        kinds = ("udp", "tcp") if kind == "both" else (kind,)
        if all(_port_free(k, port) for k in kinds):
            return port
    raise RuntimeError("no free port found")


def _port_free(kind, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# --- running beamtel -------------------------------------------------------------------------

def run(*args, check=True, timeout=120, env=None, input=None):
    """Runs `beamtel ARGS`; returns the CompletedProcess (text).  check: fail on exit != 0."""
    cmd = [beamtel_bin()] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                       input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\n"
                             f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def run_json(*args, **kw):
    """Runs beamtel and parses its stdout as one JSON value."""
    p = run(*args, **kw)
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"beamtel {' '.join(map(str, args))}: stdout is not JSON ({e}):\n"
                             f"{p.stdout}\nstderr:\n{p.stderr}")


def import_json(path, dsn, *extra):
    """`beamtel import PATH --db DSN --json [EXTRA]` as a dict."""
    return run_json("import", path, "--db", dsn, "--json", *extra)


def sessions_list(dsn):
    """`beamtel sessions list --json` (newest first)."""
    return run_json("sessions", "list", "--db", dsn, "--json", "--limit", "1000")


def sessions_show(dsn, sid):
    return run_json("sessions", "show", sid, "--db", dsn, "--json")


def sessions_export(dsn, sid):
    """`beamtel sessions export ID --csv` as a list of dicts (one per frame)."""
    p = run("sessions", "export", sid, "--csv", "--db", dsn)
    return list(csv.DictReader(io.StringIO(p.stdout)))


def parse_time(s):
    """A timestamp from beamtel (ISO 8601, or seconds since the epoch) as epoch seconds."""
    s = str(s).strip()
    try:
        return float(s)
    except ValueError:
        pass
    s = s.replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


# --- private PostgreSQL ----------------------------------------------------------------------

class PrivatePG:
    """A private PostgreSQL 15 cluster in a temporary directory, driven by scripts/pg-private."""

    def __init__(self, port=None):
        self.dir = tmpdir("btpg-")
        self.port = port or free_port("both")
        self._dbs = 0
        self._pg("init", "--port", self.port)

    def _pg(self, *args, check=True, timeout=120):
        cmd = [PG_PRIVATE, args[0], self.dir] + [str(a) for a in args[1:]]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
        return p

    def start(self):
        self._pg("start")
        return self

    def stop(self):
        self._pg("stop")

    def running(self):
        return self._pg("status", check=False).returncode == 0

    def destroy(self):
        """Stops the cluster and removes its directory."""
        try:
            self._pg("stop", check=False)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dsn(self, dbname="beamtel"):
        return f"host={self.dir}/run port={self.port} dbname={dbname} user=beamtel"

    @property
    def log_path(self):
        return os.path.join(self.dir, "log", "postgresql.log")

    def query(self, sql, dbname="beamtel"):
        """Rows of a query as lists of strings (NULL → None); dbname may also be a DSN."""
        dbname = dbname_of(dbname) if "=" in dbname else dbname
        p = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "--csv", "-P", "null=\\N",
             self.dsn(dbname), "-c", sql], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"psql failed on {sql!r}:\n{p.stderr}")
        rows = list(csv.reader(io.StringIO(p.stdout)))
        return [[None if v == "\\N" else v for v in r] for r in rows]

    def scalar(self, sql, dbname="beamtel"):
        rows = self.query(sql, dbname)
        return rows[0][0] if rows else None

    def fresh_db(self, migrate=True):
        """Creates a new, empty database and returns its DSN (migrated with beamtel db migrate)."""
        self._dbs += 1
        name = f"t{os.getpid()}_{self._dbs}"
        self.query(f"CREATE DATABASE {name}", dbname="postgres")
        dsn = self.dsn(name)
        if migrate:
            run("db", "migrate", "--db", dsn)
        return dsn


def dbname_of(dsn):
    """The dbname of a DSN made by PrivatePG."""
    for part in dsn.split():
        if part.startswith("dbname="):
            return part[len("dbname="):]
    return "beamtel"


_module_pg = None


def module_pg():
    """The cluster shared by one test module (created and started on first use; removed at
    exit).  Each test takes its own database with fresh_db()."""
    global _module_pg
    if _module_pg is None:
        beamtel_bin()  # skip before paying for a cluster when there is no binary
        _module_pg = PrivatePG().start()
    return _module_pg


def module_pg_cleanup():
    """Call from tearDownModule()."""
    global _module_pg
    if _module_pg is not None:
        if os.environ.get("BEAMTEL_KEEP_PG"):
            sys.stderr.write(f"keeping cluster {_module_pg.dir}\n")
        else:
            _module_pg.destroy()
        _module_pg = None


# --- datagrams -------------------------------------------------------------------------------

OG_TURBO, OG_KM, OG_BAR = 0x2000, 0x4000, 0x8000

_OG_HEAD = struct.Struct("<I4sHBBfffffffIIfff16s16s")  # 92 bytes
assert _OG_HEAD.size == 92
_OG_EXT = struct.Struct("<c3xfIf")  # @96: gearExt, pad, cruiseSpeed, cruiseMode, fuelCapacity


def outgauge(size=96, *, speed=0.0, rpm=0.0, gear=1, time_ms=0, car=b"beam", flags=0xC000,
             plid=0, turbo=0.0, eng_temp=90.0, fuel=0.5, oil_pressure=0.0, oil_temp=90.0,
             dash_lights=0, show_lights=0, throttle=0.0, brake=0.0, clutch=0.0,
             display1=b"", display2=b"", og_id=0, gear_ext=b"N", cruise_speed=0.0,
             cruise_mode=0, fuel_capacity=60.0):
    """An OutGauge datagram (DESIGN.md §3.1) of size 92, 96 or >= 112 bytes.

    gear is the wire byte: 0 = R, 1 = N, 2 = 1st ...  Floats are packed as IEEE binary32, so
    NaN and infinities can be sent on purpose."""
    if isinstance(car, str):
        car = car.encode()
    b = _OG_HEAD.pack(time_ms, car[:4].ljust(4, b"\0"), flags, gear, plid, speed, rpm, turbo,
                      eng_temp, fuel, oil_pressure, oil_temp, dash_lights, show_lights, throttle,
                      brake, clutch, display1[:16], display2[:16])
    if size == 92:
        return b
    b += struct.pack("<i", og_id)
    if size == 96:
        return b
    if size < 112:
        raise ValueError("OutGauge is 92, 96 or >= 112 bytes")
    b += _OG_EXT.pack(gear_ext[:1] or b"\0", cruise_speed, cruise_mode, fuel_capacity)
    return b.ljust(size, b"\0")


def motionsim(*, pos=(0.0, 0.0, 0.0), vel=(0.0, 0.0, 0.0), acc=(0.0, 0.0, 0.0),
              up=(0.0, 0.0, 1.0), rpy=(0.0, 0.0, 0.0), rpy_rate=(0.0, 0.0, 0.0),
              rpy_acc=(0.0, 0.0, 0.0)):
    """A BeamNG MotionSim "BNG1" datagram, 88 bytes (DESIGN.md §3.2); acc x is lateral."""
    vals = [*pos, *vel, *acc, *up, *rpy, *rpy_rate, *rpy_acc]
    assert len(vals) == 21
    return b"BNG1" + struct.pack("<21f", *vals)


def f32(x):
    """x rounded to binary32, as it travels on the wire."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


# --- pcap ------------------------------------------------------------------------------------

def _ip_checksum(hdr):
    s = sum(struct.unpack(f"!{len(hdr) // 2}H", hdr))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def write_pcap(path, packets, dst_ip="192.168.1.10", dst_port=4444):
    """Writes a classic pcap (microsecond timestamps, LINKTYPE_RAW 101: IPv4 + UDP).

    packets: iterable of (ts_seconds, payload, src_ip, src_port); src_ip and src_port may be
    omitted (192.168.1.50:50123).  Returns the number of packets written."""
    n = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for pkt in packets:
            ts, payload = pkt[0], pkt[1]
            src_ip = pkt[2] if len(pkt) > 2 else "192.168.1.50"
            src_port = pkt[3] if len(pkt) > 3 else 50123
            udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0x4000, 64, 17,
                             0, socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
            ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
            frame = ip + udp
            us = round(ts * 1e6)
            f.write(struct.pack("<IIII", us // 1_000_000, us % 1_000_000, len(frame), len(frame)))
            f.write(frame)
            n += 1
    return n


def capture_timestamps(path):
    """Timestamps (seconds) of every record of a pcap or pcapng file, in file order.

    Enough to know where the real captures begin and how their datagrams are spaced; every
    record of the shared captures is one datagram."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    out = []
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = "<" if magic[0] in (0xD4, 0x4D) else ">"
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl, _ = struct.unpack_from(end + "IIII", data, off)
            out.append(sec + frac / (1e9 if nano else 1e6))
            off += 16 + incl
        return out
    if magic == b"\x0a\x0d\x0d\x0a":
        end = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        resol = []
        off = 0
        while off + 12 <= len(data):
            btype, blen = struct.unpack_from(end + "II", data, off)
            if btype == 1:  # IDB: look for if_tsresol
                r = 1e-6
                o = off + 16
                while o + 4 <= off + blen - 4:
                    code, olen = struct.unpack_from(end + "HH", data, o)
                    if code == 0:
                        break
                    if code == 9:
                        v = data[o + 4]
                        r = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
                    o += 4 + ((olen + 3) & ~3)
                resol.append(r)
            elif btype == 6:  # EPB
                iface, hi, lo = struct.unpack_from(end + "III", data, off + 8)
                out.append(((hi << 32) | lo) * resol[iface])
            elif btype == 3:  # SPB: no timestamp
                out.append(math.nan)
            off += blen
        return out
    raise ValueError(f"{path}: not a pcap or pcapng file")


# --- UDP -------------------------------------------------------------------------------------

class UdpSender:
    """Sends datagrams to 127.0.0.1:port (or (host, port)) from one socket (one source port)."""

    def __init__(self, to):
        self.to = to if isinstance(to, tuple) else ("127.0.0.1", int(to))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def send(self, payload):
        self.sock.sendto(payload, self.to)

    def send_paced(self, payloads, hz):
        """Sends payloads at hz per second (absolute schedule, no drift)."""
        t0 = time.monotonic()
        for i, p in enumerate(payloads):
            delay = t0 + i / hz - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.send(p)

    def close(self):
        self.sock.close()


# --- serve -----------------------------------------------------------------------------------

class ServeProcess:
    """`beamtel serve` in the background with stderr captured to a file."""

    def __init__(self, *args, env=None):
        self.log_path = os.path.join(tmpdir("btserve-"), "serve.log")
        self._log = open(self.log_path, "w+")
        self._final_log = None
        self.args = [beamtel_bin(), "serve"] + [str(a) for a in args]
        # Tests never use the default HTTP port: parallel runs would collide on it.
        if not any(a == "--http" or str(a).startswith("--http=") for a in args):
            self.http_port = free_port("tcp")
            self.args += ["--http", f"127.0.0.1:{self.http_port}"]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._log, env=env)

    def log(self):
        if self._final_log is not None:
            return self._final_log
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def _finish(self):
        """Keeps the log text and removes the temporary directory."""
        if self._final_log is None:
            self._log.close()
            self._final_log = self.log()
            shutil.rmtree(os.path.dirname(self.log_path), ignore_errors=True)

    def alive(self):
        return self.proc.poll() is None

    def wait_for(self, text, timeout=10.0):
        """Waits until the log contains text; fails if serve exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if not self.alive():
                raise AssertionError(f"serve exited {self.proc.returncode} before logging "
                                     f"{text!r}:\n{self.log()}")
            time.sleep(0.02)
        raise AssertionError(f"serve did not log {text!r} within {timeout} s:\n{self.log()}")

    def wait_listening(self, addr, timeout=10.0):
        """addr: "127.0.0.1:PORT"."""
        self.wait_for(f"listening on udp {addr}", timeout)

    def stop(self, timeout=60.0):
        """SIGTERM, wait; returns (exit code, stderr text)."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._finish()
            raise AssertionError(f"serve did not exit within {timeout} s of SIGTERM:\n"
                                 f"{self.log()}")
        self._finish()
        return rc, self.log()

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self._finish()


def final_counters(log):
    """The JSON object of serve's "final: {json}" log line."""
    for line in reversed(log.splitlines()):
        i = line.find("final: {")
        if i >= 0:
            obj, _ = json.JSONDecoder().raw_decode(line[i + len("final: "):])
            return obj
    raise AssertionError(f"no \"final: {{json}}\" line in serve's log:\n{log}")


# --- assertions ------------------------------------------------------------------------------

REJECT_REASONS = ("length", "non_finite", "speed_range", "gear_range", "pedal_range", "car_name",
                  "no_user", "source_limit")
COUNTER_KEYS = ("datagrams", "outgauge", "motionsim", "empty", "rejected", "rejected_by_reason",
                "frames", "stored_frames")
SESSION_KEYS = ("id", "start_time", "end_time", "duration_s", "moving_time_s", "distance_m",
                "frame_count", "top_speed_mps", "avg_speed_mps", "max_lat_g", "consistency",
                "max_rpm", "user", "car", "source")


def reasons(**nonzero):
    """The full rejected_by_reason dict: zero except the reasons given."""
    d = {r: 0 for r in REJECT_REASONS}
    d.update(nonzero)
    return d


# ---- HTTP and WebSocket (stdlib only) ----

import base64 as _b64
import hashlib as _hashlib
import http.client as _http
import os as _os
import select as _select
import socket as _socket
import struct as _struct


def http_request(port, method, path, body=None, token=None, headers=None, raw_body=None,
                 timeout=10.0):
    """One HTTP request to 127.0.0.1:port; returns (status, headers dict, body bytes)."""
    conn = _http.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    data = raw_body
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if token:
        h["Authorization"] = "Bearer " + token
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    out = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    return r.status, hdrs, out


def http_json(port, method, path, body=None, token=None):
    status, _, data = http_request(port, method, path, body=body, token=token)
    return status, (json.loads(data) if data else None)


def login(port, user, password):
    status, doc = http_json(port, "POST", "/api/auth/login",
                            {"username": user, "password": password})
    if status != 200:
        raise AssertionError(f"login {user}: {status} {doc}")
    return doc["token"]


class WsClient:
    """A minimal RFC 6455 client: text frames, close frames with codes, masking."""

    def __init__(self, port, path="/ws", timeout=10.0):
        self.sock = _socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = _b64.b64encode(_os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        status_line = head.split(b"\r\n")[0]
        if b" 101 " not in status_line:
            raise ConnectionError(f"handshake refused: {status_line!r}")
        accept = _b64.b64encode(_hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if accept.encode() not in head:
            raise ConnectionError("bad Sec-WebSocket-Accept")
        self.close_code = None
        self.close_reason = None

    def _send_frame(self, opcode, payload):
        mask = _os.urandom(4)
        n = len(payload)
        b0 = 0x80 | opcode
        if n < 126:
            hdr = _struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            hdr = _struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            hdr = _struct.pack("!BBQ", b0, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, _, _ = _select.select([self.sock], [], [], left)
            if not r:
                raise TimeoutError
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=5.0):
        """Next text message as a str; None once a close frame arrived (see close_code);
        raises TimeoutError when nothing comes in time."""
        deadline = time.monotonic() + timeout
        while True:
            b0, b1 = self._read_exact(2, deadline)
            op = b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = _struct.unpack("!H", self._read_exact(2, deadline))[0]
            elif n == 127:
                n = _struct.unpack("!Q", self._read_exact(8, deadline))[0]
            payload = self._read_exact(n, deadline)
            if op == 0x8:
                if len(payload) >= 2:
                    self.close_code = _struct.unpack("!H", payload[:2])[0]
                    self.close_reason = payload[2:].decode(errors="replace")
                else:
                    self.close_code = 1005
                return None
            if op == 0x9:  # ping: answer with a pong carrying the same payload, as RFC 6455 asks
                self._send_frame(0xA, payload)
                continue
            if op == 0xA:  # pong
                continue
            if op in (0x1, 0x0):
                return payload.decode()

    def recv_json(self, timeout=5.0):
        m = self.recv(timeout)
        return None if m is None else json.loads(m)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- identity, API and stream tests (test_auth_api, test_ws, test_isolation, …) ----

import hmac as _hmac
import threading as _threading

ADMIN_PASSWORD = "bt-admin-pw-9f3c1e"               # the seeded user's password in api_serve()
JWT_SECRET = "bt-test-jwt-secret-0123456789abcdef"  # 35 bytes: the server's signing key there


def b64url(data):
    """Unpadded base64url (RFC 7515 §2) of bytes or str."""
    if isinstance(data, str):
        data = data.encode()
    return _b64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return _b64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_make(payload, key=JWT_SECRET, alg="HS256", header=None):
    """A compact JWS built by hand.  payload: dict (serialized compactly) or raw str/bytes;
    alg "HS256"/"HS384"/"HS512" signs with key, "none" leaves the signature empty;
    header: the header dict (default {"alg": alg, "typ": "JWT"})."""
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload,
                                                                        separators=(",", ":"))
    signing_input = b64url(json.dumps(hdr, separators=(",", ":"))) + "." + b64url(body)
    if alg.lower() == "none":
        return signing_input + "."
    digest = {"HS256": _hashlib.sha256, "HS384": _hashlib.sha384, "HS512": _hashlib.sha512}[alg]
    key = key.encode() if isinstance(key, str) else key
    sig = _hmac.new(key, signing_input.encode(), digest).digest()
    return signing_input + "." + b64url(sig)


def jwt_claims(token):
    """The payload of a compact JWS as a dict (no verification)."""
    return json.loads(b64url_decode(token.split(".")[1]))


def api_serve(dsn, state_dir, *extra, web_root=None, env_extra=None, udp_port=None,
              http_port=None):
    """`beamtel serve` with UDP, HTTP and the database, ADMIN_PASSWORD for user `local` and
    JWT_SECRET as the signing key; waits until the seeded password is set.
    Returns (ServeProcess, udp_port, http_port)."""
    udp_port = udp_port or free_port("udp")
    http_port = http_port or free_port("tcp")
    env = dict(os.environ, BEAMTEL_ADMIN_PASSWORD=ADMIN_PASSWORD, BEAMTEL_JWT_SECRET=JWT_SECRET)
    env.update(env_extra or {})
    args = ["--udp", f"127.0.0.1:{udp_port}", "--http", f"127.0.0.1:{http_port}", "--db", dsn,
            "--state-dir", state_dir]
    if web_root:
        args += ["--web-root", web_root]
    sp = ServeProcess(*args, *extra, env=env)
    sp.wait_for("the password of user", 30)
    sp.wait_for(f"listening on http 127.0.0.1:{http_port}", 10)
    return sp, udp_port, http_port


def raw_http(port, request, timeout=10.0):
    """Sends request (bytes, sent as is) to 127.0.0.1:port, reads until the peer closes or
    timeout; returns (status or None, headers dict (lower-case names), body bytes)."""
    s = _socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    try:
        s.sendall(request)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except _socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                hdrs = _parse_head(head)[1]
                n = hdrs.get("content-length")
                if n is not None and len(body) >= int(n):
                    break
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status, hdrs = _parse_head(head)
    return status, hdrs, body


def _parse_head(head):
    lines = head.split(b"\r\n")
    status = None
    parts = lines[0].split(b" ", 2) if lines and lines[0] else []
    if len(parts) >= 2 and parts[1].isdigit():
        status = int(parts[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode(errors="replace")] = v.strip().decode(errors="replace")
    return status, hdrs


def ws_collect(ws, duration, stop_on_close=True):
    """Reads messages from a WsClient for `duration` seconds (or until it is closed).
    Returns (messages, closed_at): messages is a list of (monotonic arrival time, parsed JSON);
    closed_at is the monotonic time a close frame or EOF arrived, else None
    (ws.close_code holds the code; None when the TCP connection just ended)."""
    out = []
    deadline = time.monotonic() + duration
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out, None
        try:
            m = ws.recv(left)
        except TimeoutError:
            return out, None
        except (ConnectionError, OSError):
            return out, time.monotonic()
        if m is None:
            if stop_on_close:
                return out, time.monotonic()
            continue
        out.append((time.monotonic(), json.loads(m)))


def ws_auth(port, token, timeout=5.0):
    """A WsClient that sent {"type":"auth","token":token} and got "hello" (returned too)."""
    ws = WsClient(port)
    ws.send_json({"type": "auth", "token": token})
    hello = ws.recv_json(timeout)
    if hello is None or hello.get("type") != "hello":
        raise AssertionError(f"expected hello, got {hello!r} (close {ws.close_code} "
                             f"{ws.close_reason!r})")
    return ws, hello


class UdpSenderFrom(UdpSender):
    """A UdpSender whose socket is bound to src_ip (any 127.x.y.z works on Linux loopback)."""

    def __init__(self, to, src_ip):
        self.to = to if isinstance(to, tuple) else ("127.0.0.1", int(to))
        self.sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        self.sock.bind((src_ip, 0))


class PacedFeed:
    """A background thread sending OutGauge packets at hz to a UdpSender until stop();
    make(i) builds the i-th datagram (default: 96 bytes at speed 20 m/s, gear byte 4).
    sent_times: the monotonic time of every datagram sent."""

    def __init__(self, sender, hz=60.0, make=None):
        self.sender = sender
        self.hz = hz
        self.make = make or (lambda i: outgauge(96, speed=20.0, rpm=3000.0, gear=4,
                                                time_ms=i * 16))
        self.sent_times = []
        self._stop = _threading.Event()
        self._thread = _threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        t0 = time.monotonic()
        i = 0
        while not self._stop.is_set():
            delay = t0 + i / self.hz - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            self.sender.send(self.make(i))
            self.sent_times.append(time.monotonic())
            i += 1

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return len(self.sent_times)


def vm_rss_kb(pid):
    """VmRSS of a process in KiB (from /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")
