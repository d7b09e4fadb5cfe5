#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: login, JWT verification and the HTTP API's error contract (docs/PROTOCOL.md,
DESIGN.md §6–§7) against the real `beamtel serve` and a private PostgreSQL.

One serve for the module (user `local`, password btlib.ADMIN_PASSWORD, signing key
btlib.JWT_SECRET).  Tests that fail logins on purpose send them from their own loopback address
(127.0.0.x: Linux accepts any 127/8 source) so that the per-IP rate limit of one test never
touches another."""

import http.client
import json
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

ME_KEYS = {"id", "username", "last_ip", "created_at", "fumbletron"}


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


def request_from(src_ip, method, path, body=None, token=None):
    """One HTTP request from the loopback address src_ip; (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", HTTP, timeout=10,
                                      source_address=(src_ip, 0))
    h = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = "Bearer " + token
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    out = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    return r.status, hdrs, out


def claims(sub="local", exp_in=600, **over):
    """Valid claims (sub, iat now, exp now + exp_in) with overrides; None removes a claim."""
    now = int(time.time())
    c = {"sub": sub, "iat": now, "exp": now + exp_in}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def forged_tokens():
    """name → token for every attack of the issue (each must be refused)."""
    good = btlib.jwt_make(claims())
    h, p, s = good.split(".")
    changed = dict(btlib.jwt_claims(good), exp=int(time.time()) + 86400 * 365)
    return {
        "alg_none": btlib.jwt_make(claims(), alg="none", header={"alg": "none", "typ": "JWT"}),
        "hs512_real_secret": btlib.jwt_make(claims(), alg="HS512"),
        "hs256_other_key": btlib.jwt_make(claims(), key="another-key-of-at-least-32-bytes!!"),
        "payload_changed_after_signing":
            h + "." + btlib.b64url(json.dumps(changed, separators=(",", ":"))) + "." + s,
        "exp_missing": btlib.jwt_make(claims(exp=None)),
        "exp_in_past": btlib.jwt_make(claims(exp=int(time.time()) - 60)),
        "exp_string": btlib.jwt_make(claims(exp=str(int(time.time()) + 600))),
        "sub_missing": btlib.jwt_make(claims(sub=None)),
        # beyond the list: DESIGN.md §6 requires iat; an empty signature must not pass
        "iat_missing": btlib.jwt_make(claims(iat=None)),
        "hs256_empty_signature": h + "." + p + ".",
    }


class ErrorShape:
    def assertError(self, status, hdrs, body, want_status, want_code):
        """status and a JSON body exactly {"error":{"code":want_code,"message":non-empty}}."""
        self.assertEqual(status, want_status, body)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
        doc = json.loads(body)
        self.assertEqual(set(doc), {"error"}, doc)
        self.assertEqual(set(doc["error"]), {"code", "message"}, doc)
        self.assertEqual(doc["error"]["code"], want_code, doc)
        msg = doc["error"]["message"]
        self.assertIsInstance(msg, str)
        self.assertGreater(len(msg), 0)
        return doc


class Login(ErrorShape, unittest.TestCase):
    def test_right_password_gives_token_and_me(self):
        t_before = int(time.time())
        status, hdrs, body = request_from("127.0.0.11", "POST", "/api/auth/login",
                                          {"username": "local",
                                           "password": btlib.ADMIN_PASSWORD})
        self.assertEqual(status, 200, body)
        self.assertTrue(hdrs["content-type"].startswith("application/json"))
        doc = json.loads(body)
        self.assertLessEqual({"token", "expires_at", "user"}, set(doc), doc)
        token = doc["token"]
        parts = token.split(".")
        self.assertEqual(len(parts), 3, token)
        self.assertTrue(all(parts), token)
        header = json.loads(btlib.b64url_decode(parts[0]))
        self.assertEqual(header["alg"], "HS256")
        c = btlib.jwt_claims(token)
        self.assertEqual(c["sub"], "local")
        self.assertIsInstance(c["exp"], int)
        self.assertIsInstance(c["iat"], int)
        self.assertEqual(c["exp"] - c["iat"], 43200, "12 h lifetime")
        self.assertGreaterEqual(c["iat"], t_before - 1)
        self.assertLessEqual(c["iat"], int(time.time()) + 1)
        self.assertEqual(btlib.parse_time(doc["expires_at"]), c["exp"], doc["expires_at"])
        self.assertEqual(doc["user"]["username"], "local")

        # the token works, and last_ip was set to the address the login came from
        status, me = btlib.http_json(HTTP, "GET", "/api/me", token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(set(me), ME_KEYS, me)
        self.assertEqual(me["id"], 1)
        self.assertEqual(me["username"], "local")
        self.assertEqual(me["last_ip"], "127.0.0.11")
        # the seeded user carries a generated, valid Fumbletron-3156 token from the start
        self.assertRegex(me["fumbletron"]["token"], r"^FT3156-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
        self.assertEqual((me["fumbletron"]["valid"], me["fumbletron"]["badge"]),
                         (True, "Fumbletron-3156: VALID"))
        btlib.parse_time(me["created_at"])  # parses

    def test_wrong_password_and_unknown_user_answer_identically(self):
        wrong = request_from("127.0.0.12", "POST", "/api/auth/login",
                             {"username": "local", "password": "not-the-password"})
        unknown = request_from("127.0.0.12", "POST", "/api/auth/login",
                               {"username": "nobody-here", "password": "not-the-password"})
        for status, hdrs, body in (wrong, unknown):
            self.assertError(status, hdrs, body, 401, "invalid_credentials")
            self.assertEqual(hdrs.get("www-authenticate"), "Bearer")
        self.assertEqual(wrong[2], unknown[2], "byte-identical bodies")
        self.assertEqual(wrong[0], unknown[0])

    def test_unknown_user_takes_as_long_as_wrong_password(self):
        """DESIGN.md §6: "in the same time" — the unknown user also pays for one argon2id
        verification (≈ 95 ms here); a shortcut answers in about a millisecond."""
        def timed(user, ip):
            t0 = time.monotonic()
            status, _, _ = request_from(ip, "POST", "/api/auth/login",
                                        {"username": user, "password": "nope-nope"})
            self.assertEqual(status, 401)
            return time.monotonic() - t0
        wrong = min(timed("local", "127.0.0.13"), timed("local", "127.0.0.13"))
        unknown = min(timed("ghost-user", "127.0.0.14"), timed("ghost-user", "127.0.0.14"))
        self.assertGreater(wrong, 0.02, "argon2id takes tens of milliseconds")
        self.assertGreater(unknown, wrong * 0.5,
                           f"unknown user answered in {unknown * 1000:.1f} ms, "
                           f"wrong password in {wrong * 1000:.1f} ms")

    def test_sixth_failure_within_a_minute_is_429(self):
        ip = "127.0.0.15"
        for i in range(5):
            status, hdrs, body = request_from(ip, "POST", "/api/auth/login",
                                              {"username": "local", "password": f"bad{i}"})
            self.assertError(status, hdrs, body, 401, "invalid_credentials")
        status, hdrs, body = request_from(ip, "POST", "/api/auth/login",
                                          {"username": "local", "password": "bad5"})
        self.assertError(status, hdrs, body, 429, "rate_limited")
        self.assertIn("retry-after", hdrs, hdrs)
        retry = int(hdrs["retry-after"])
        self.assertGreaterEqual(retry, 1)
        self.assertLessEqual(retry, 60)
        # still limited, even with the right password: no guessing while locked out
        status, hdrs, body = request_from(ip, "POST", "/api/auth/login",
                                          {"username": "local",
                                           "password": btlib.ADMIN_PASSWORD})
        self.assertError(status, hdrs, body, 429, "rate_limited")
        # per IP: another address logs in normally
        status, _, body = request_from("127.0.0.16", "POST", "/api/auth/login",
                                       {"username": "local", "password": btlib.ADMIN_PASSWORD})
        self.assertEqual(status, 200, body)


class Jwt(ErrorShape, unittest.TestCase):
    def test_self_signed_control_token_is_accepted(self):
        """Guards the attack tests: a token built here the right way passes both checks."""
        token = btlib.jwt_make(claims())
        status, me = btlib.http_json(HTTP, "GET", "/api/me", token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(me["username"], "local")
        ws, hello = btlib.ws_auth(HTTP, token)
        try:
            self.assertEqual(hello["user"]["username"], "local")
        finally:
            ws.close()

    def test_attacks_are_401_on_http(self):
        for name, token in forged_tokens().items():
            with self.subTest(attack=name):
                status, hdrs, body = btlib.http_request(HTTP, "GET", "/api/me", token=token)
                self.assertError(status, hdrs, body, 401, "unauthorized")
                self.assertEqual(hdrs.get("www-authenticate"), "Bearer")

    def test_attacks_close_websocket_with_4401(self):
        for name, token in forged_tokens().items():
            with self.subTest(attack=name):
                ws = btlib.WsClient(HTTP)
                try:
                    ws.send_json({"type": "auth", "token": token})
                    msgs, closed = btlib.ws_collect(ws, 3.0)
                    self.assertEqual([m for _, m in msgs], [], "nothing before the close")
                    self.assertIsNotNone(closed, "closed within 3 s")
                    self.assertEqual(ws.close_code, 4401, ws.close_reason)
                    self.assertTrue(ws.close_reason, "the close carries a reason")
                finally:
                    ws.close()

    def test_missing_or_malformed_bearer(self):
        for hdr in (None, "Bearer", "Bearer ", "Bearer a.b.c", "Basic bG9jYWw6eA==",
                    "Bearer " + btlib.jwt_make(claims()) + "x"):
            with self.subTest(authorization=hdr):
                status, hdrs, body = btlib.http_request(
                    HTTP, "GET", "/api/me", headers={"Authorization": hdr} if hdr else None)
                self.assertError(status, hdrs, body, 401, "unauthorized")
                self.assertEqual(hdrs.get("www-authenticate"), "Bearer")

    def test_token_in_url_is_not_accepted(self):
        token = btlib.jwt_make(claims())
        for path in (f"/api/me?token={token}", f"/api/me?access_token={token}"):
            with self.subTest(path=path[:20]):
                status, hdrs, body = btlib.http_request(HTTP, "GET", path)
                self.assertError(status, hdrs, body, 401, "unauthorized")


class Api(ErrorShape, unittest.TestCase):
    def test_health_is_public(self):
        status, hdrs, body = btlib.http_request(HTTP, "GET", "/api/health")
        self.assertEqual(status, 200, body)
        self.assertTrue(hdrs["content-type"].startswith("application/json"))
        self.assertEqual(json.loads(body), {"ok": True, "version": "0.1.0", "db": "up"})

    def test_login_needs_json_content_type(self):
        """A cross-site HTML form cannot log a browser in: credentials must come as JSON."""
        status, hdrs, body = btlib.http_request(
            HTTP, "POST", "/api/auth/login",
            raw_body=json.dumps({"username": "local", "password": btlib.ADMIN_PASSWORD}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertError(status, hdrs, body, 415, "unsupported_media_type")

    def test_bad_json_body_is_400(self):
        for raw in (b"{bad", b"", b"[]", b'"str"', b'{"username":"local"}',
                    b'{"password":"x"}', b'{"username":5,"password":"x"}'):
            with self.subTest(body=raw):
                status, hdrs, body = btlib.http_request(
                    HTTP, "POST", "/api/auth/login", raw_body=raw,
                    headers={"Content-Type": "application/json"})
                self.assertError(status, hdrs, body, 400, "bad_request")

    def test_error_messages_are_clean_text(self):
        """UTF-8 text in a message (the 400's "…") reaches the client as the same characters,
        not as one \\u00XX escape per byte, which decodes to C1 control characters
        (mojibake such as "â\\x80¦")."""
        status, hdrs, body = btlib.http_request(HTTP, "POST", "/api/auth/login",
                                                raw_body=b"{bad",
                                                headers={"Content-Type": "application/json"})
        msg = self.assertError(status, hdrs, body, 400, "bad_request")["error"]["message"]
        bad = [c for c in msg if 0x80 <= ord(c) <= 0x9F]
        self.assertEqual(bad, [], f"message is mojibake: {msg!r}; raw body {body!r}")

    def test_unknown_api_path_is_404(self):
        token = btlib.jwt_make(claims())
        for path in ("/api/nothing", "/api/", "/api/sessions/123456789", "/api/me/extra"):
            with self.subTest(path=path):
                status, hdrs, body = btlib.http_request(HTTP, "GET", path, token=token)
                self.assertError(status, hdrs, body, 404, "not_found")

    def test_wrong_method_is_405(self):
        token = btlib.jwt_make(claims())
        for method, path in (("DELETE", "/api/health"), ("POST", "/api/me"),
                             ("GET", "/api/auth/login"), ("PUT", "/api/sessions"),
                             ("POST", "/api/status")):
            with self.subTest(request=f"{method} {path}"):
                status, hdrs, body = btlib.http_request(HTTP, method, path, token=token,
                                                        raw_body=b"" if method != "GET" else None)
                self.assertError(status, hdrs, body, 405, "method_not_allowed")

    def test_ws_without_upgrade_is_426(self):
        # non-GET requests reach libmicrohttpd (DESIGN.md §2.1), which answers /ws with 426
        for req in (b"POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n",
                    b"PUT /ws?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"):
            with self.subTest(request=req.split(b"\r\n")[0]):
                status, hdrs, body = btlib.raw_http(HTTP, req, timeout=5)
                self.assertError(status, hdrs, body, 426, "upgrade_required")
        # a GET to /ws without the upgrade headers is refused with 426 as well
        for req in (b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"GET /ws?token=abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
            with self.subTest(request=req.split(b"\r\n")[0]):
                status, _, body = btlib.raw_http(HTTP, req, timeout=5)
                self.assertEqual(status, 426, body)



class TrustedProxy(unittest.TestCase):
    """X-Forwarded-For names the client only when the request comes from --trusted-proxy."""

    def login_via(self, port, src_ip, xff):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                          source_address=(src_ip, 0))
        conn.request("POST", "/api/auth/login",
                     body=json.dumps({"username": "local",
                                      "password": btlib.ADMIN_PASSWORD}).encode(),
                     headers={"Content-Type": "application/json", "X-Forwarded-For": xff})
        r = conn.getresponse()
        doc = json.loads(r.read())
        conn.close()
        self.assertEqual(r.status, 200, doc)
        return doc["user"]["last_ip"]

    def test_forwarded_address_only_from_a_trusted_proxy(self):
        state = btlib.tmpdir("btstate-")
        sp, _, port = btlib.api_serve(btlib.module_pg().fresh_db(), state,
                                      "--trusted-proxy", "127.0.0.21, ::1")
        try:
            # from the proxy: the last X-Forwarded-For address (what the proxy saw)
            self.assertEqual(self.login_via(port, "127.0.0.21", "6.6.6.6, 192.0.2.7"),
                             "192.0.2.7")
            # from anyone else the header is the client's word and is ignored
            self.assertEqual(self.login_via(port, "127.0.0.22", "192.0.2.8"), "127.0.0.22")
            # a malformed header from the proxy leaves the proxy's address
            self.assertEqual(self.login_via(port, "127.0.0.21", "not-an-ip"), "127.0.0.21")
        finally:
            sp.stop()

if __name__ == "__main__":
    unittest.main(verbosity=2)
