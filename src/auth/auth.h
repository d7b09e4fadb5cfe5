/* SPDX-License-Identifier: MIT */
/* auth: passwords (argon2id), HS256 tokens, the JWT secret, per-IP login throttling, user names
 * and the Fumbletron-3156 rule; pure logic over libsodium, libjwt and cJSON, with no database,
 * no HTTP and no global configuration.
 *
 * Threads: every function may be called from any thread.  auth_password_verify() blocks while
 * the configured number of verifications already run (argon2id uses 64 MiB and ~95 ms each), so
 * call it from a worker thread (the HTTP handler), never from the ingest or WebSocket thread.
 * Secrets: nothing here logs a password, a token or a key, and no *cause contains one. */
#ifndef BEAMTEL_AUTH_H
#define BEAMTEL_AUTH_H

#include <stddef.h>
#include <stdint.h>

/* Initialises libsodium.  Call once at start-up before any other auth_* function.  On success 0
 * is returned; on failure -1 and *cause is set. */
int auth_init(char **cause);

/* ---- user names (password.c) ---- */

#define AUTH_USERNAME_MAX 32

/* Returns 1 when name is 1..32 characters of [a-z0-9_.-], else 0 (NULL → 0). */
int auth_username_valid(const char *name);

/* ---- passwords (password.c) ---- */

#define AUTH_PASSWORD_MAX 1024 /* longer passwords are refused by auth_password_hash() */
#define AUTH_GENERATED_PASSWORD_LEN 20

/* Hashes a password with argon2id (crypto_pwhash_str, interactive limits) into an
 * "$argon2id$..." string for the users table.  On success 0 is returned and *hash_out is set
 * (caller frees); on failure -1 and *cause is set (empty or over-long password, out of memory). */
int auth_password_hash(const char *password, char **hash_out, char **cause);

/* Checks a password against a stored hash; returns 0 on a match, -1 otherwise.  hash_or_null is
 * NULL for an unknown user: the password is then checked against a dummy hash made once per
 * process, so that an unknown user and a wrong password cost the same time.  A stored hash that
 * is not argon2id takes the same dummy path and never matches.  At most
 * auth_set_max_concurrent_verifications() calls run at once; the others wait their turn. */
int auth_password_verify(const char *hash_or_null, const char *password);

/* Sets how many auth_password_verify() calls may run at the same time (default 2, min 1).
 * Takes effect at once: a larger limit admits waiting callers, a smaller one lets the checks
 * already running finish. */
void auth_set_max_concurrent_verifications(int n);

/* Reports the verifications running now, waiting now and the most ever running at once, for
 * /api/status and tests.  Any pointer may be NULL. */
void auth_password_stats(int *running, int *waiting, int *peak);

/* Returns a random 20-character password from an alphabet without look-alikes (no 0/O/o, 1/l/I/i);
 * the caller frees it.  About 115 bits of entropy. */
char *auth_password_generate(void);

/* ---- tokens: JWT HS256 (jwt.c) ---- */

#define AUTH_TOKEN_MAX 4096 /* longer tokens are refused before any decoding */
#define AUTH_DEFAULT_LIFETIME_S (12 * 3600)

/* What a verified token says.  sub is a valid user name (auth_username_valid). */
struct auth_claims {
    char sub[AUTH_USERNAME_MAX + 1];
    int64_t iat; /* s since the epoch */
    int64_t exp; /* s since the epoch; > the now_s given to auth_jwt_verify() */
};

/* Issues an HS256 token with the claims sub, iat = now_s, exp = now_s + lifetime_s and a random
 * jti.  keylen must be > 0, sub a valid user name, lifetime_s > 0.  On success the token is
 * returned (caller frees); on failure NULL and *cause is set. */
char *auth_jwt_issue(const uint8_t *key, size_t keylen, const char *sub, int64_t now_s,
                     int64_t lifetime_s, char **cause);

/* Verifies a token as DESIGN.md §6 demands, on top of libjwt's format and signature check:
 * keylen > 0; at most AUTH_TOKEN_MAX bytes; three base64url parts; header "alg" exactly
 * "HS256" (checked by us before libjwt, and libjwt's decoded alg after it); exp an integral JSON
 * number > now_s; iat a JSON number; sub a valid user name string.  On success 0 is returned
 * and *out is filled; on failure -1 and *cause is set to a short reason ("token expired",
 * "alg must be HS256", "exp missing", ...) that never contains the token. */
int auth_jwt_verify(const uint8_t *key, size_t keylen, const char *token, int64_t now_s,
                    struct auth_claims *out, char **cause);

/* ---- the JWT secret (secret.c) ---- */

#define AUTH_SECRET_MIN 32 /* bytes */
#define AUTH_SECRET_FILE "jwt.secret"

/* Loads the HMAC key: the content of file_or_null when given (one trailing newline stripped),
 * else env_value_or_null when given, else STATE_DIR/jwt.secret.  That last file is created when
 * missing (state_dir made 0700 if needed; 48 random bytes written as 64 base64url characters,
 * mode 0600, through an O_EXCL temporary file so that a crash or a second server never leaves a
 * half-written or different secret), and refused when group or other may access it.  The key is
 * the bytes of the chosen content, which must be ≥ 32 bytes.  On success 0 is returned and
 * *key (free with auth_secret_free) and *keylen are set; on failure -1 and *cause is set. */
int auth_load_secret(const char *file_or_null, const char *env_value_or_null, const char *state_dir,
                     uint8_t **key, size_t *keylen, char **cause);

/* Wipes and frees a key from auth_load_secret(); NULL is ignored. */
void auth_secret_free(uint8_t *key, size_t keylen);

/* ---- login throttling per client address (limiter.c) ---- */

#define AUTH_LIMITER_SLOTS 4096 /* addresses remembered; the least recently failed is evicted */
#define AUTH_LIMITER_MAX_FAILURES 64

/* Failed logins per address in a sliding window.  IPv4 addresses count one by one; IPv6
 * addresses count per /64 (one host owns a whole /64).  Internally locked. */
struct auth_limiter;

/* Creates a limiter that blocks an address after max_failures (1..64; default policy 5) failures
 * within window_s (> 0; default 60) seconds.  Never NULL. */
struct auth_limiter *auth_limiter_new(int max_failures, int window_s);

/* Returns 1 when ip has had ≥ max_failures failures in the last window_s seconds before now_s
 * (answer 429), and sets *retry_after_s (may be NULL) to the seconds until the oldest of them
 * leaves the window (1..window_s); returns 0 otherwise.  A blocked attempt is not a failure:
 * do not call auth_limiter_fail() for it. */
int auth_limiter_blocked(struct auth_limiter *l, const char *ip, int64_t now_s, int *retry_after_s);

/* Records a failed login from ip at now_s. */
void auth_limiter_fail(struct auth_limiter *l, const char *ip, int64_t now_s);

/* Forgets the failures of ip (after a successful login). */
void auth_limiter_success(struct auth_limiter *l, const char *ip);

void auth_limiter_free(struct auth_limiter *l);

/* ---- Fumbletron-3156 (fumbletron.c; docs/FUMBLETRON.md) ----
 *
 * A token is "FT3156-XXXX-XXXX-XXXX" (21 characters) where each X is one of the 36 characters
 * [0-9A-Z].  Input is case-insensitive and normalised to upper case.  The first 11 X are the
 * payload; the last X is a check character: Luhn mod N with N = 36 over the 11 payload
 * characters, with code points '0'..'9' = 0..9 and 'A'..'Z' = 10..35.  To make it, walk the
 * payload from the right, multiplying code points by 2, 1, 2, 1, ... and adding each product's
 * base-36 digits (p / 36 + p % 36); check = (36 - sum % 36) % 36.  A token is VALID when the
 * prefix and shape are exact and the same walk over all 12 characters (check included, factors
 * 1, 2, 1, ... from the right) sums to 0 mod 36.  Every single-character substitution is
 * INVALID, and so is every transposition of two adjacent different payload characters except
 * '0' with 'Z'.  Example: FT3156-FUMB-LETR-ON3N. */

#define FUMBLETRON_LEN 21

/* Returns 1 when token is a VALID Fumbletron-3156 token, 0 otherwise (NULL → 0). */
int fumbletron_valid(const char *token);

/* Writes the upper-case form of token into out (≥ 22 bytes) and returns 0 when it is VALID;
 * returns -1 and leaves out empty otherwise. */
int fumbletron_normalize(const char *token, char *out, size_t outlen);

/* Returns a new random VALID token (caller frees). */
char *fumbletron_generate(void);

/* Returns "Fumbletron-3156: VALID" when valid is nonzero, else "Fumbletron-3156: INVALID". */
const char *fumbletron_badge(int valid);

#endif
