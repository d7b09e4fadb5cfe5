#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box: Fumbletron-3156 tokens (docs/FUMBLETRON.md) through `beamtel user fumbletron`,
`beamtel user list` and GET /api/me of a running serve.  The rule is re-implemented here from
the document (Luhn mod 36) so that "valid" is checked independently of the server."""

import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btlib  # noqa: E402

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
VALID_BADGE = "Fumbletron-3156: VALID"
INVALID_BADGE = "Fumbletron-3156: INVALID"


def doc_valid(token):
    """docs/FUMBLETRON.md: shape FT3156-XXXX-XXXX-XXXX and Luhn mod 36 over the 12 X."""
    token = token.upper()
    if not re.fullmatch(r"FT3156-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", token):
        return False
    chars = token[7:].replace("-", "")
    total = 0
    for i, ch in enumerate(reversed(chars)):
        p = ALPHABET.index(ch) * (2 if i % 2 else 1)
        total += p // 36 + p % 36
    return total % 36 == 0


def one_char_changed(token):
    """The token with its first payload character replaced by the next one of the alphabet."""
    i = 7
    ch = token[i]
    repl = ALPHABET[(ALPHABET.index(ch) + 1) % 36]
    return token[:i] + repl + token[i + 1:]


class Fumbletron(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        btlib.beamtel_bin()
        pg = btlib.module_pg()
        cls.state = btlib.tmpdir("btstate-")
        cls.dsn = pg.fresh_db()
        cls.serve, cls.udp, cls.http = btlib.api_serve(cls.dsn, cls.state)
        cls.token = btlib.login(cls.http, "local", btlib.ADMIN_PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.serve.kill()
        shutil.rmtree(cls.state, ignore_errors=True)
        btlib.module_pg_cleanup()

    def me(self):
        status, doc = btlib.http_json(self.http, "GET", "/api/me", token=self.token)
        self.assertEqual(status, 200, doc)
        return doc["fumbletron"]

    def listed(self):
        """(the `local` line of `user list`, the `local` object of `user list --json`)."""
        text = btlib.run("user", "list", "--db", self.dsn).stdout
        lines = [ln for ln in text.splitlines() if ln.split()[:1] == ["local"]]
        self.assertEqual(len(lines), 1, text)
        doc = btlib.run_json("user", "list", "--json", "--db", self.dsn)
        objs = [u for u in doc if u["username"] == "local"]
        self.assertEqual(len(objs), 1, doc)
        return lines[0], objs[0]["fumbletron"]

    def set_token(self, *token):
        return btlib.run("user", "fumbletron", "local", *token, "--db", self.dsn)

    def test_1_documented_rule(self):
        """The worked example and the 0/Z exception of docs/FUMBLETRON.md hold for the rule
        implemented here (guards the checks below)."""
        self.assertTrue(doc_valid("FT3156-FUMB-LETR-ON3N"))
        self.assertFalse(doc_valid("FT3156-FUMB-LETR-ON3M"))
        self.assertTrue(doc_valid("FT3156-0Z00-0000-0001"))
        self.assertTrue(doc_valid("FT3156-Z000-0000-0001"))

    def test_2_generated_token_is_valid_everywhere(self):
        seeded = self.me()
        self.assertEqual(seeded["badge"], VALID_BADGE, "the seeded user starts with a token")
        self.assertTrue(doc_valid(seeded["token"]), seeded)
        p = self.set_token()
        m = re.search(r"FT3156-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        tok = m.group(0)
        self.assertTrue(doc_valid(tok), f"generated {tok} fails the documented rule")
        self.assertIn(VALID_BADGE, p.stdout)
        self.assertNotIn(INVALID_BADGE, p.stdout)

        self.assertEqual(self.me(), {"token": tok, "valid": True, "badge": VALID_BADGE})
        line, obj = self.listed()
        self.assertIn(VALID_BADGE, line)
        self.assertNotIn(INVALID_BADGE, line)
        self.assertEqual(obj, {"token": tok, "valid": True, "badge": VALID_BADGE})

        # the same token with one character changed → INVALID in both places
        bad = one_char_changed(tok)
        self.assertFalse(doc_valid(bad))
        p = self.set_token(bad)
        self.assertIn(INVALID_BADGE, p.stdout)
        self.assertEqual(self.me(), {"token": bad, "valid": False, "badge": INVALID_BADGE})
        line, obj = self.listed()
        self.assertIn(INVALID_BADGE, line)
        self.assertEqual(obj, {"token": bad, "valid": False, "badge": INVALID_BADGE})

        # and the original, set explicitly, is VALID again
        self.set_token(tok)
        self.assertEqual(self.me(), {"token": tok, "valid": True, "badge": VALID_BADGE})

    def test_3_every_single_substitution_of_the_example_is_invalid(self):
        good = "FT3156-FUMB-LETR-ON3N"
        p = self.set_token(good)
        self.assertIn(VALID_BADGE, p.stdout)
        self.assertEqual(self.me()["valid"], True)
        # one substitution at each of the 12 positions (payload and check character)
        for pos in (7, 8, 9, 10, 12, 13, 14, 15, 17, 18, 19, 20):
            bad = good[:pos] + ("0" if good[pos] != "0" else "1") + good[pos + 1:]
            with self.subTest(token=bad):
                self.assertFalse(doc_valid(bad))
                p = self.set_token(bad)
                self.assertIn(INVALID_BADGE, p.stdout, p.stdout)
        self.assertEqual(self.me(), {"token": bad, "valid": False, "badge": INVALID_BADGE})

    def test_4_lower_case_is_accepted_and_stored_upper(self):
        p = self.set_token("ft3156-fumb-letr-on3n")
        self.assertIn(VALID_BADGE, p.stdout)
        self.assertEqual(self.me(), {"token": "FT3156-FUMB-LETR-ON3N", "valid": True,
                                     "badge": VALID_BADGE})
        _, obj = self.listed()
        self.assertEqual(obj["token"], "FT3156-FUMB-LETR-ON3N")

    def test_5_shape_errors_are_invalid(self):
        for bad in (" FT3156-FUMB-LETR-ON3N", "FT3156FUMBLETRON3N", "FT3157-FUMB-LETR-ON3N",
                    "FT3156-FUMB-LETR-ON3N-", "FT3156_FUMB-LETR-ON3N"):
            with self.subTest(token=bad):
                self.set_token(bad)
                f = self.me()
                self.assertEqual((f["valid"], f["badge"]), (False, INVALID_BADGE), f)


if __name__ == "__main__":
    unittest.main(verbosity=2)
