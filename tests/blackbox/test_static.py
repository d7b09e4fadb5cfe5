#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: the web app's static files (`serve --web-root DIR`, DESIGN.md §7): index.html,
hashed assets with a long immutable cache, the single-page-app fallback, 404 for missing files,
and no path traversal.  Traversal requests are sent as raw bytes over a socket so that no client
library normalizes them."""

import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

INDEX = b"<!doctype html><html><head><title>beamtel test</title></head><body>app</body></html>\n"
ASSET = b"console.log('app-abc123');\n"
SECRET = b"root:x:0:0:outside the web root\n"   # a file next to the root, reachable by '..'


def raw_get(port, target):
    req = (b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    return btlib.raw_http(port, req, timeout=5)


class Static(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        btlib.beamtel_bin()
        pg = btlib.module_pg()
        cls.top = btlib.tmpdir("btweb-")
        cls.root = os.path.join(cls.top, "dist")
        os.makedirs(os.path.join(cls.root, "assets"))
        with open(os.path.join(cls.root, "index.html"), "wb") as f:
            f.write(INDEX)
        with open(os.path.join(cls.root, "assets", "app-abc123.js"), "wb") as f:
            f.write(ASSET)
        with open(os.path.join(cls.top, "secret.txt"), "wb") as f:
            f.write(SECRET)
        # symlinks inside the root that lead out of it
        os.symlink("/etc/passwd", os.path.join(cls.root, "passwd.txt"))
        os.symlink(os.path.join(cls.top, "secret.txt"), os.path.join(cls.root, "assets", "s.js"))
        os.symlink("/etc", os.path.join(cls.root, "etc"))
        os.symlink(cls.top, os.path.join(cls.root, "up"))
        with open(os.path.join(cls.top, "secret"), "wb") as f:
            f.write(SECRET)
        cls.state = btlib.tmpdir("btstate-")
        cls.serve, cls.udp, cls.http = btlib.api_serve(pg.fresh_db(), cls.state,
                                                       web_root=cls.root)

    @classmethod
    def tearDownClass(cls):
        cls.serve.kill()
        shutil.rmtree(cls.state, ignore_errors=True)
        shutil.rmtree(cls.top, ignore_errors=True)
        btlib.module_pg_cleanup()

    def get(self, path):
        return btlib.http_request(self.http, "GET", path)

    def assertIndex(self, status, hdrs, body):
        self.assertEqual(status, 200, body[:200])
        self.assertEqual(body, INDEX)
        self.assertTrue(hdrs["content-type"].startswith("text/html"), hdrs)
        self.assertEqual(hdrs["cache-control"], "no-cache")

    def test_root_is_index_html(self):
        self.assertIndex(*self.get("/"))

    def test_hashed_asset_is_javascript_with_immutable_cache(self):
        status, hdrs, body = self.get("/assets/app-abc123.js")
        self.assertEqual(status, 200)
        self.assertEqual(body, ASSET)
        self.assertTrue(hdrs["content-type"].startswith("text/javascript"), hdrs)
        cc = [p.strip() for p in hdrs["cache-control"].split(",")]
        self.assertIn("immutable", cc)
        self.assertIn("max-age=31536000", cc)
        self.assertEqual(hdrs.get("x-content-type-options"), "nosniff")

    def test_unknown_route_is_index_html(self):
        for path in ("/sessions/12", "/live", "/sessions/12/"):
            with self.subTest(path=path):
                self.assertIndex(*self.get(path))

    def test_missing_file_is_404(self):
        for path in ("/missing.js", "/assets/app-zzz999.js", "/assets/missing.css"):
            with self.subTest(path=path):
                status, hdrs, body = self.get(path)
                self.assertEqual(status, 404, body[:200])
                self.assertEqual(json.loads(body)["error"]["code"], "not_found")

    def test_api_is_not_shadowed(self):
        status, _, body = self.get("/api/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["ok"], True)

    def test_path_traversal_never_leaves_the_root(self):
        targets = (
            b"/../../etc/passwd",
            b"/%2e%2e/%2e%2e/etc/passwd",
            b"/%2E%2E/%2E%2E/etc/passwd",
            b"/assets/..%2f..%2f..%2fetc%2fpasswd",
            b"/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            b"/assets/../../../../../../etc/passwd",
            b"/..%2f..%2f..%2f..%2fetc%2fpasswd",
            b"/.%2e/.%2e/.%2e/etc/passwd",
            b"/assets/..\\..\\..\\etc\\passwd",
            b"/assets/..%5c..%5c..%5cetc%5cpasswd",
            b"/../secret.txt",
            b"/%2e%2e/secret.txt",
            b"/assets/%2e%2e/%2e%2e/secret.txt",
            b"/./../secret.txt",
            b"/passwd.txt",            # symlink to /etc/passwd inside the root
            b"/assets/s.js",           # symlink to a file beside the root
            b"/up/secret.txt",         # symlinked directory (the root's parent) inside the root
            b"/up/dist/../secret.txt",
            b"../../etc/passwd",       # no leading slash
        )
        for target in targets:
            with self.subTest(target=target):
                status, hdrs, body = raw_get(self.http, target)
                self.assertIn(status, (400, 404), f"{target!r} → {status}: {body[:200]!r}")
                self.assertNotIn(b"root:", body)
                self.assertNotIn(b"outside the web root", body)
        # extension-less paths may get the single-page app, but never the file behind them
        for target in (b"/etc/passwd", b"/etc/hostname", b"/up/secret"):
            with self.subTest(target=target):
                status, hdrs, body = raw_get(self.http, target)
                if status == 200:
                    self.assertEqual(body, INDEX, f"{target!r} → 200 but not index.html")
                else:
                    self.assertIn(status, (400, 404), f"{target!r} → {status}: {body[:200]!r}")
                self.assertNotIn(b"root:", body)

    def test_dot_segments_in_a_good_path_are_refused(self):
        # /assets/../index.html would resolve inside the root, but dot segments are refused
        for target in (b"/assets/../index.html", b"/./index.html", b"/assets/%2e%2e/index.html"):
            with self.subTest(target=target):
                status, _, body = raw_get(self.http, target)
                self.assertIn(status, (400, 404), body[:200])


if __name__ == "__main__":
    unittest.main(verbosity=2)
