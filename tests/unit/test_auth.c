/* SPDX-License-Identifier: MIT */
/* Unit tests of src/auth: argon2id passwords and their concurrency bound, every JWT attack of
 * DESIGN.md §6 on hand-built tokens, the secret file, the login limiter and Fumbletron-3156. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "common/common.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jwt.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t KEY[] = "0123456789abcdef0123456789abcdef-beamtel";
#define KEYLEN (sizeof KEY - 1)
static const uint8_t OTHER_KEY[] = "fedcba9876543210fedcba9876543210-other!!";

#define NOW 1700000000
#define FUTURE "1700043200" /* NOW + 12 h */

/* ---- helpers ---- */

static int setup(void **state)
{
    char *cause = NULL;
    (void)state;
    assert_int_equal(auth_init(&cause), 0);
    return 0;
}

static char *b64url(const void *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = xmalloc(cap);
    sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

/* Builds "b64(header).b64(payload).b64(HMAC)" by hand, independent of libjwt.  hash_bits is
 * 256 or 512; 0 leaves the signature empty (alg none). */
static char *make_token(const char *header, const char *payload, int hash_bits, const uint8_t *key,
                        size_t keylen)
{
    char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
    char *input = xasprintf("%s.%s", h, p), *sig = xstrdup(""), *tok;
    unsigned char mac[64];

    if (hash_bits == 256) {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, keylen);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)input, strlen(input));
        crypto_auth_hmacsha256_final(&st, mac);
        free(sig);
        sig = b64url(mac, 32);
    } else if (hash_bits == 512) {
        crypto_auth_hmacsha512_state st;
        crypto_auth_hmacsha512_init(&st, key, keylen);
        crypto_auth_hmacsha512_update(&st, (const unsigned char *)input, strlen(input));
        crypto_auth_hmacsha512_final(&st, mac);
        free(sig);
        sig = b64url(mac, 64);
    }
    tok = xasprintf("%s.%s", input, sig);
    free(h);
    free(p);
    free(input);
    free(sig);
    return tok;
}

static char *hs256(const char *payload)
{
    return make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, 256, KEY, KEYLEN);
}

/* Verifies token with the real key at NOW and asserts the failure reason exactly. */
static void expect_reject(const char *token, const char *reason)
{
    struct auth_claims c;
    char *cause = NULL;

    assert_int_equal(auth_jwt_verify(KEY, KEYLEN, token, NOW, &c, &cause), -1);
    assert_non_null(cause);
    assert_string_equal(cause, reason);
    assert_string_equal(c.sub, ""); /* nothing leaks out of a rejected token */
    if (strlen(token) > 8)
        assert_null(strstr(cause, token));
    free(cause);
}

/* ---- passwords ---- */

static void test_password_hash_verify(void **state)
{
    char *h1 = NULL, *h2 = NULL, *cause = NULL;
    (void)state;

    assert_int_equal(auth_password_hash("correct horse battery", &h1, &cause), 0);
    assert_int_equal(auth_password_hash("correct horse battery", &h2, &cause), 0);
    assert_int_equal(strncmp(h1, "$argon2id$v=19$m=65536,t=2,p=1$", 31), 0);
    assert_string_not_equal(h1, h2); /* random salt */
    assert_int_equal(auth_password_verify(h1, "correct horse battery"), 0);
    assert_int_equal(auth_password_verify(h2, "correct horse battery"), 0);
    assert_int_equal(auth_password_verify(h1, "correct horse batterY"), -1);
    assert_int_equal(auth_password_verify(h1, ""), -1);
    assert_int_equal(auth_password_verify(h1, NULL), -1);
    free(h1);
    free(h2);
}

static void test_password_hash_rejects(void **state)
{
    char *h = NULL, *cause = NULL, *longpw = xmalloc(AUTH_PASSWORD_MAX + 2);
    (void)state;

    assert_int_equal(auth_password_hash("", &h, &cause), -1);
    assert_string_equal(cause, "the password is empty");
    free(cause);
    cause = NULL;
    memset(longpw, 'x', AUTH_PASSWORD_MAX + 1);
    longpw[AUTH_PASSWORD_MAX + 1] = '\0';
    assert_int_equal(auth_password_hash(longpw, &h, &cause), -1);
    assert_string_equal(cause, "the password is longer than 1024 bytes");
    assert_null(h);
    free(cause);
    free(longpw);
}

static double verify_ms(const char *hash, const char *pw)
{
    int64_t t0 = time_mono_us();
    (void)auth_password_verify(hash, pw);
    return (double)(time_mono_us() - t0) / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_password_unknown_user(void **state)
{
    char *h = NULL, *cause = NULL;
    double wrong[5], unknown[5];
    (void)state;

    assert_int_equal(auth_password_hash("s3cret", &h, &cause), 0);
    assert_int_equal(auth_password_verify(NULL, "s3cret"), -1);
    assert_int_equal(auth_password_verify(NULL, ""), -1);
    assert_int_equal(auth_password_verify("not-a-hash", "s3cret"), -1);
    assert_int_equal(auth_password_verify("$argon2i$v=19$m=4096,t=3,p=1$xx$yy", "s3cret"), -1);
    /* Same work on both paths: medians within a factor of 2 (generous for a busy CI host). */
    for (int i = 0; i < 5; i++) {
        wrong[i] = verify_ms(h, "wrong");
        unknown[i] = verify_ms(NULL, "wrong");
    }
    qsort(wrong, 5, sizeof wrong[0], cmp_double);
    qsort(unknown, 5, sizeof unknown[0], cmp_double);
    assert_true(unknown[2] > wrong[2] / 2.0);
    assert_true(unknown[2] < wrong[2] * 2.0);
    assert_true(wrong[2] > 5.0); /* a real argon2id run, not a short cut */
    free(h);
}

static char *shared_hash;

static void *verify_thread(void *arg)
{
    (void)arg;
    (void)auth_password_verify(shared_hash, "wrong");
    return NULL;
}

static void test_password_concurrency_bound(void **state)
{
    pthread_t th[6];
    char *cause = NULL;
    int running, waiting, peak, max_running = 0, max_waiting = 0;
    (void)state;

    assert_int_equal(auth_password_hash("pw", &shared_hash, &cause), 0);
    auth_set_max_concurrent_verifications(2);
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&th[i], NULL, verify_thread, NULL), 0);
    for (int i = 0; i < 200; i++) {
        auth_password_stats(&running, &waiting, NULL);
        if (running > max_running)
            max_running = running;
        if (waiting > max_waiting)
            max_waiting = waiting;
        if (running + waiting == 0 && i > 20)
            break;
        time_sleep_us(5000);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    auth_password_stats(&running, &waiting, &peak);
    assert_int_equal(running, 0);
    assert_int_equal(waiting, 0);
    assert_int_equal(peak, 2);
    assert_true(max_running <= 2);
    assert_true(max_waiting >= 1); /* six callers, two seats: someone queued */
    free(shared_hash);
}

static void test_password_generate(void **state)
{
    char *a = auth_password_generate(), *b = auth_password_generate();
    (void)state;

    assert_int_equal(strlen(a), 20);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 20; i++) {
        assert_true(isalnum((unsigned char)a[i]));
        assert_null(strchr("0Oo1lIi", a[i]));
    }
    free(a);
    free(b);
}

static void test_username_valid(void **state)
{
    (void)state;
    assert_int_equal(auth_username_valid("local"), 1);
    assert_int_equal(auth_username_valid("a"), 1);
    assert_int_equal(auth_username_valid("sim_racer.42-x"), 1);
    assert_int_equal(auth_username_valid("abcdefghijklmnopqrstuvwxyz012345"), 1);  /* 32 */
    assert_int_equal(auth_username_valid("abcdefghijklmnopqrstuvwxyz0123456"), 0); /* 33 */
    assert_int_equal(auth_username_valid(""), 0);
    assert_int_equal(auth_username_valid(NULL), 0);
    assert_int_equal(auth_username_valid("Local"), 0);
    assert_int_equal(auth_username_valid("a b"), 0);
    assert_int_equal(auth_username_valid("a/b"), 0);
    assert_int_equal(auth_username_valid("\xc3\xa9t\xc3\xa9"), 0);
}

/* ---- JWT ---- */

static void test_jwt_round_trip(void **state)
{
    struct auth_claims c;
    char *cause = NULL, *tok, *tok2, *payload;
    const char *d1, *d2;
    unsigned char bin[512];
    size_t bin_len;
    (void)state;

    tok = auth_jwt_issue(KEY, KEYLEN, "local", NOW, 43200, &cause);
    assert_non_null(tok);
    assert_int_equal(auth_jwt_verify(KEY, KEYLEN, tok, NOW + 1, &c, &cause), 0);
    assert_string_equal(c.sub, "local");
    assert_int_equal(c.iat, NOW);
    assert_int_equal(c.exp, NOW + 43200);
    /* Still valid one second before exp, expired at exp. */
    assert_int_equal(auth_jwt_verify(KEY, KEYLEN, tok, NOW + 43199, &c, &cause), 0);
    assert_int_equal(auth_jwt_verify(KEY, KEYLEN, tok, NOW + 43200, &c, &cause), -1);
    assert_string_equal(cause, "token expired");
    free(cause);

    /* The payload carries a 32-hex-digit jti, different per token. */
    d1 = strchr(tok, '.');
    d2 = strchr(d1 + 1, '.');
    assert_int_equal(sodium_base642bin(bin, sizeof bin - 1, d1 + 1, (size_t)(d2 - d1 - 1), NULL,
                                       &bin_len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    bin[bin_len] = '\0';
    payload = (char *)bin;
    assert_non_null(strstr(payload, "\"sub\":\"local\""));
    assert_non_null(strstr(payload, "\"iat\":1700000000"));
    assert_non_null(strstr(payload, "\"exp\":1700043200"));
    assert_non_null(strstr(payload, "\"jti\":\""));
    assert_int_equal(strspn(strstr(payload, "\"jti\":\"") + 7, "0123456789abcdef"), 32);
    tok2 = auth_jwt_issue(KEY, KEYLEN, "local", NOW, 43200, &cause);
    assert_string_not_equal(tok, tok2);
    free(tok);
    free(tok2);
}

static void test_jwt_issue_rejects(void **state)
{
    char *cause = NULL;
    (void)state;

    assert_null(auth_jwt_issue(KEY, 0, "local", NOW, 60, &cause));
    assert_string_equal(cause, "no usable signing key");
    free(cause);
    assert_null(auth_jwt_issue(KEY, KEYLEN, "Bad Name", NOW, 60, &cause));
    assert_string_equal(cause, "sub is not a valid user name");
    free(cause);
    assert_null(auth_jwt_issue(KEY, KEYLEN, "local", NOW, 0, &cause));
    assert_string_equal(cause, "token time or lifetime out of range");
    free(cause);
}

/* A hand-built alg "none" token: the literal header is base64url of {"alg":"none","typ":"JWT"}. */
static void test_jwt_alg_none(void **state)
{
    const char *payload = "{\"sub\":\"local\",\"iat\":1700000000,\"exp\":" FUTURE "}";
    char *p = b64url(payload, strlen(payload));
    char *h = b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", 26);
    char *tok = xasprintf("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s.", p);
    char *tok_fake_sig = xasprintf("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s."
                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                   p);
    jwt_t *j = NULL;
    (void)state;

    assert_string_equal(h, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0");
    expect_reject(tok, "alg must be HS256");
    expect_reject(tok_fake_sig, "alg must be HS256");
    /* And libjwt 1.10 itself refuses alg none once a key is given (our check comes first). */
    assert_int_not_equal(jwt_decode(&j, tok, KEY, (int)KEYLEN), 0);
    assert_null(j);
    /* Other spellings of none, and a lower-case hs256. */
    free(tok);
    tok = make_token("{\"alg\":\"None\"}", payload, 0, NULL, 0);
    expect_reject(tok, "alg must be HS256");
    free(tok);
    tok = make_token("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", payload, 256, KEY, KEYLEN);
    expect_reject(tok, "alg must be HS256");
    free(tok);
    tok = make_token("{\"typ\":\"JWT\"}", payload, 256, KEY, KEYLEN);
    expect_reject(tok, "alg must be HS256");
    free(tok);
    tok = make_token("{\"alg\":null,\"typ\":\"JWT\"}", payload, 256, KEY, KEYLEN);
    expect_reject(tok, "alg must be HS256");
    free(tok);
    free(tok_fake_sig);
    free(h);
    free(p);
}

/* cJSON keeps the first duplicate member and jansson (libjwt) the last: neither may win. */
static void test_jwt_duplicate_alg(void **state)
{
    const char *payload = "{\"sub\":\"local\",\"iat\":1700000000,\"exp\":" FUTURE "}";
    char *tok;
    (void)state;

    tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"alg\":\"none\"}", payload, 0, NULL, 0);
    expect_reject(tok, "alg must be HS256");
    free(tok);
    tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"alg\":\"none\"}", payload, 256, KEY,
                     KEYLEN);
    expect_reject(tok, "alg must be HS256");
    free(tok);
    tok = make_token("{\"alg\":\"none\",\"typ\":\"JWT\",\"alg\":\"HS256\"}", payload, 256, KEY,
                     KEYLEN);
    expect_reject(tok, "alg must be HS256");
    free(tok);
}

static void test_jwt_other_algs_with_real_secret(void **state)
{
    const char *payload = "{\"sub\":\"local\",\"iat\":1700000000,\"exp\":" FUTURE "}";
    char *tok;
    jwt_t *j = NULL;
    (void)state;

    /* HS512 by hand, signed with the real secret. */
    tok = make_token("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", payload, 512, KEY, KEYLEN);
    expect_reject(tok, "alg must be HS256");
    free(tok);

    /* HS384 and HS512 as libjwt itself makes them, with the real secret. */
    for (int alg = JWT_ALG_HS384; alg <= JWT_ALG_HS512; alg++) {
        assert_int_equal(jwt_new(&j), 0);
        assert_int_equal(jwt_add_grant(j, "sub", "local"), 0);
        assert_int_equal(jwt_add_grant_int(j, "iat", NOW), 0);
        assert_int_equal(jwt_add_grant_int(j, "exp", NOW + 3600), 0);
        assert_int_equal(jwt_set_alg(j, (jwt_alg_t)alg, KEY, (int)KEYLEN), 0);
        tok = jwt_encode_str(j);
        assert_non_null(tok);
        expect_reject(tok, "alg must be HS256");
        free(tok);
        jwt_free(j);
    }

    /* RS256 header with a made-up signature. */
    tok = make_token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload, 512, KEY, KEYLEN);
    expect_reject(tok, "alg must be HS256");
    free(tok);
}

static void test_jwt_wrong_key_and_tampering(void **state)
{
    char *cause = NULL, *tok, *forged, *p, *dot;
    const char *evil = "{\"sub\":\"admin\",\"iat\":1700000000,\"exp\":" FUTURE "}";
    struct auth_claims c;
    (void)state;

    /* Signed with another key. */
    tok = auth_jwt_issue(OTHER_KEY, sizeof OTHER_KEY - 1, "local", NOW, 3600, &cause);
    assert_non_null(tok);
    expect_reject(tok, "bad signature");
    free(tok);

    /* Payload replaced after signing, signature kept. */
    tok = auth_jwt_issue(KEY, KEYLEN, "local", NOW, 3600, &cause);
    assert_int_equal(auth_jwt_verify(KEY, KEYLEN, tok, NOW, &c, &cause), 0);
    dot = strchr(tok, '.');
    p = b64url(evil, strlen(evil));
    forged = xasprintf("%.*s.%s%s", (int)(dot - tok), tok, p, strrchr(tok, '.'));
    expect_reject(forged, "bad signature");
    free(forged);

    /* One signature character changed. */
    forged = xstrdup(tok);
    forged[strlen(forged) - 5] = forged[strlen(forged) - 5] == 'A' ? 'B' : 'A';
    expect_reject(forged, "bad signature");
    free(forged);

    /* Signature cut short or doubled. */
    forged = xstrdup(tok);
    forged[strlen(forged) - 1] = '\0';
    expect_reject(forged, "bad signature");
    free(forged);
    forged = xasprintf("%s%s", tok, strrchr(tok, '.') + 1);
    expect_reject(forged, "bad signature");
    free(forged);
    free(p);
    free(tok);
}

static void test_jwt_claims_rules(void **state)
{
    static const struct {
        const char *payload;
        const char *reason;
    } cases[] = {
        {"{\"sub\":\"local\",\"iat\":1700000000}", "exp missing"},
        {"{\"sub\":\"local\",\"iat\":1700000000,\"exp\":null}", "exp missing"},
        {"{\"sub\":\"local\",\"iat\":1699990000,\"exp\":1699999999}", "token expired"},
        {"{\"sub\":\"local\",\"iat\":1699990000,\"exp\":1700000000}", "token expired"},
        {"{\"sub\":\"local\",\"iat\":1700000000,\"exp\":\"9999999999\"}", "exp must be a number"},
        {"{\"sub\":\"local\",\"iat\":1700000000,\"exp\":true}", "exp must be a number"},
        {"{\"sub\":\"local\",\"iat\":1700000000,\"exp\":[" FUTURE "]}", "exp must be a number"},
        {"{\"sub\":\"local\",\"iat\":1700000000,\"exp\":1700043200.5}",
         "exp must be a whole number of seconds"},
        {"{\"sub\":\"local\",\"iat\":1700000000,\"exp\":1e300}",
         "exp must be a whole number of seconds"},
        {"{\"sub\":\"local\",\"exp\":" FUTURE "}", "iat missing"},
        {"{\"sub\":\"local\",\"iat\":\"1700000000\",\"exp\":" FUTURE "}", "iat must be a number"},
        {"{\"iat\":1700000000,\"exp\":" FUTURE "}", "sub missing"},
        {"{\"sub\":null,\"iat\":1700000000,\"exp\":" FUTURE "}", "sub missing"},
        {"{\"sub\":42,\"iat\":1700000000,\"exp\":" FUTURE "}", "sub must be a string"},
        {"{\"sub\":[\"local\"],\"iat\":1700000000,\"exp\":" FUTURE "}", "sub must be a string"},
        {"{\"sub\":\"\",\"iat\":1700000000,\"exp\":" FUTURE "}", "sub is not a valid user name"},
        {"{\"sub\":\"Local\",\"iat\":1700000000,\"exp\":" FUTURE "}",
         "sub is not a valid user name"},
        {"{\"sub\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"iat\":1700000000,\"exp\":" FUTURE "}",
         "sub is not a valid user name"},
        {"[1,2,3]", "token payload is not a JSON object"}, /* libjwt 1.10 lets it through */
    };
    struct auth_claims c;
    char *cause = NULL, *tok;
    (void)state;

    for (size_t i = 0; i < BT_ARRAY_LEN(cases); i++) {
        tok = hs256(cases[i].payload);
        expect_reject(tok, cases[i].reason);
        free(tok);
    }
    /* The same hand-built path accepts a correct token, with a fractional iat floored. */
    tok = hs256("{\"sub\":\"a.b-c_1\",\"iat\":1700000000.75,\"exp\":" FUTURE ",\"x\":1}");
    assert_int_equal(auth_jwt_verify(KEY, KEYLEN, tok, NOW, &c, &cause), 0);
    assert_string_equal(c.sub, "a.b-c_1");
    assert_int_equal(c.iat, 1700000000);
    assert_int_equal(c.exp, 1700043200);
    free(tok);
}

static void test_jwt_key_required(void **state)
{
    struct auth_claims c;
    char *cause = NULL, *tok = auth_jwt_issue(KEY, KEYLEN, "local", NOW, 3600, &cause);
    (void)state;

    assert_int_equal(auth_jwt_verify(KEY, 0, tok, NOW, &c, &cause), -1);
    assert_string_equal(cause, "no usable signing key");
    free(cause);
    assert_int_equal(auth_jwt_verify(NULL, 0, tok, NOW, &c, &cause), -1);
    assert_string_equal(cause, "no usable signing key");
    free(cause);
    assert_int_equal(auth_jwt_verify((const uint8_t *)"", 0, tok, NOW, &c, &cause), -1);
    assert_string_equal(cause, "no usable signing key");
    free(cause);
    free(tok);
}

static void test_jwt_garbage(void **state)
{
    static const char *shape[] = {
        "abc",
        "a.b",
        "a.b.c.d",
        ".b.c",
        "a..c",
        "eyJ+.eyJ.c",
        "eyJ.eyJ.c=",
        "a b.c.d",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0=.c",
        "\xff.\xfe.\xfd",
    };
    struct auth_claims c;
    char *cause = NULL, *big, *tok, *pad;
    (void)state;

    expect_reject("", "token missing");
    assert_int_equal(auth_jwt_verify(KEY, KEYLEN, NULL, NOW, &c, &cause), -1);
    assert_string_equal(cause, "token missing");
    free(cause);
    for (size_t i = 0; i < BT_ARRAY_LEN(shape); i++)
        expect_reject(shape[i], "token is not three base64url parts");
    expect_reject("a.b.c", "token header is not a JSON object");
    expect_reject("bm90IGpzb24.e30.c", "token header is not a JSON object");  /* "not json" */
    expect_reject("WyJIUzI1NiJd.e30.c", "token header is not a JSON object"); /* ["HS256"] */

    /* A valid token padded past 4096 bytes with a huge claim is refused before decoding. */
    big = xmalloc(5000);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    pad = xasprintf("{\"sub\":\"local\",\"iat\":1,\"exp\":" FUTURE ",\"pad\":\"%s\"}", big);
    tok = hs256(pad);
    free(pad);
    assert_true(strlen(tok) > AUTH_TOKEN_MAX);
    expect_reject(tok, "token longer than 4096 bytes");
    free(tok);
    memset(big, 'A', 4999);
    expect_reject(big, "token longer than 4096 bytes");
    free(big);
}

/* ---- Fumbletron-3156 ---- */

/* Worked by hand, as docs/FUMBLETRON.md describes.  Payload FUMB LETR ON3, code points
 * F=15 U=30 M=22 B=11 L=21 E=14 T=29 R=27 O=24 N=23 3=3.  From the right, factors 2,1,2,...:
 *   3:  3*2= 6 → 0+ 6 =  6      N: 23*1=23 → 23       O: 24*2=48 → 1+12 = 13
 *   R: 27*1=27 → 27             T: 29*2=58 → 1+22 = 23 E: 14*1=14 → 14
 *   L: 21*2=42 → 1+ 6 =  7      B: 11*1=11 → 11       M: 22*2=44 → 1+ 8 =  9
 *   U: 30*1=30 → 30             F: 15*2=30 → 0+30 = 30
 * sum = 6+23+13+27+23+14+7+11+9+30+30 = 193; 193 mod 36 = 13; check = (36-13) mod 36 = 23 = 'N'. */
static const char FT_KNOWN[] = "FT3156-FUMB-LETR-ON3N";

static void test_fumbletron_known(void **state)
{
    char out[32];
    (void)state;

    assert_int_equal(fumbletron_valid(FT_KNOWN), 1);
    assert_int_equal(fumbletron_valid("ft3156-fumb-letr-on3n"), 1);
    assert_int_equal(fumbletron_valid("Ft3156-FuMb-lEtR-On3N"), 1);
    assert_int_equal(fumbletron_normalize("ft3156-fumb-letr-on3n", out, sizeof out), 0);
    assert_string_equal(out, FT_KNOWN);
    assert_int_equal(fumbletron_normalize("ft3156-fumb-letr-on3m", out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(fumbletron_normalize(FT_KNOWN, out, 21), -1);
    /* Every other check character is wrong. */
    for (const char *c = "0123456789ABCDEFGHIJKLMOPQRSTUVWXYZ"; *c; c++) {
        char t[sizeof FT_KNOWN];
        memcpy(t, FT_KNOWN, sizeof t);
        t[20] = *c;
        assert_int_equal(fumbletron_valid(t), 0);
    }
    assert_string_equal(fumbletron_badge(1), "Fumbletron-3156: VALID");
    assert_string_equal(fumbletron_badge(0), "Fumbletron-3156: INVALID");
    assert_string_equal(fumbletron_badge(fumbletron_valid(FT_KNOWN)), "Fumbletron-3156: VALID");
}

static void test_fumbletron_substitutions(void **state)
{
    static const char chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "- _.+/\x7f\x80\xff";
    int tried = 0;
    (void)state;

    for (size_t i = 0; i < sizeof FT_KNOWN - 1; i++) {
        for (size_t k = 0; k < sizeof chars - 1; k++) {
            char t[sizeof FT_KNOWN];
            if (toupper((unsigned char)chars[k]) == FT_KNOWN[i])
                continue; /* same character in another case: not a substitution */
            memcpy(t, FT_KNOWN, sizeof t);
            t[i] = chars[k];
            assert_int_equal(fumbletron_valid(t), 0);
            tried++;
        }
    }
    assert_true(tried > 21 * 60);
}

/* Adjacent payload characters swapped: INVALID, except the documented '0'/'Z' blind spot. */
static void test_fumbletron_transpositions(void **state)
{
    static const int pos[12] = {7, 8, 9, 10, 12, 13, 14, 15, 17, 18, 19, 20};
    char t[sizeof FT_KNOWN];
    (void)state;

    for (int i = 0; i + 1 < 12; i++) {
        memcpy(t, FT_KNOWN, sizeof t);
        if (t[pos[i]] == t[pos[i + 1]])
            continue;
        t[pos[i]] = FT_KNOWN[pos[i + 1]];
        t[pos[i + 1]] = FT_KNOWN[pos[i]];
        assert_int_equal(fumbletron_valid(t), 0);
    }
    /* FT3156-0Z00-0000-000? : payload 0Z000000000; Z=35 at the 10th from the right (factor 1):
     * sum = 35, check = 1.  Swapping 0 and Z gives Z at factor 2: 70 → 1+34 = 35, same sum. */
    assert_int_equal(fumbletron_valid("FT3156-0Z00-0000-0001"), 1);
    assert_int_equal(fumbletron_valid("FT3156-Z000-0000-0001"), 1);
}

static void test_fumbletron_shape(void **state)
{
    static const char *bad[] = {
        "FT3157-FUMB-LETR-ON3N",
        "FT3156FUMB-LETR-ON3N-",
        "FT3156-FUMB-LETR-ON3",
        "FT3156-FUMB-LETR-ON3NN",
        "FT3156-FUMBLETR-ON3N-",
        "FT3156_FUMB-LETR-ON3N",
        " FT3156-FUMB-LETR-ON3N",
        "FT3156-FUMB-LETR-ON3N ",
        "FT3156-FUMB-LETR-ON3N\n",
        "FT3156-FUMB-LETRON3N",
        "XX3156-FUMB-LETR-ON3N",
        "",
        "FT3156-",
        "FT3156-FUMB-LETR-O N",
    };
    (void)state;

    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++)
        assert_int_equal(fumbletron_valid(bad[i]), 0);
    assert_int_equal(fumbletron_valid(NULL), 0);
}

static void test_fumbletron_generate(void **state)
{
    char *first = fumbletron_generate();
    int distinct = 0;
    (void)state;

    for (int i = 0; i < 1000; i++) {
        char *t = fumbletron_generate();
        assert_int_equal(strlen(t), FUMBLETRON_LEN);
        assert_int_equal(strncmp(t, "FT3156-", 7), 0);
        assert_true(t[11] == '-' && t[16] == '-');
        for (int k = 7; k < FUMBLETRON_LEN; k++)
            assert_true(t[k] == '-' || isdigit((unsigned char)t[k]) ||
                        isupper((unsigned char)t[k]));
        assert_int_equal(fumbletron_valid(t), 1);
        distinct += strcmp(t, first) != 0;
        free(t);
    }
    assert_true(distinct >= 999);
    free(first);
}

/* ---- limiter ---- */

static void test_limiter_blocks_after_five(void **state)
{
    struct auth_limiter *l = auth_limiter_new(5, 60);
    int retry = -1;
    (void)state;

    for (int i = 0; i < 4; i++) {
        assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1000 + i, &retry), 0);
        assert_int_equal(retry, 0);
        auth_limiter_fail(l, "10.0.0.1", 1000 + i);
    }
    assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1004, &retry), 0);
    auth_limiter_fail(l, "10.0.0.1", 1004); /* the 5th failure */
    /* The 6th attempt: blocked until the 1st failure (t=1000) leaves the window at 1060. */
    assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1005, &retry), 1);
    assert_int_equal(retry, 55);
    assert_true(retry > 0 && retry <= 60);
    assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1004, &retry), 1);
    assert_int_equal(retry, 56);
    assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1059, &retry), 1);
    assert_int_equal(retry, 1);
    /* Window expiry unblocks. */
    assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1060, &retry), 0);
    assert_int_equal(retry, 0);
    /* Sliding: one more failure at 1060 makes 1001..1004 + 1060 = 5 within 60 s again. */
    auth_limiter_fail(l, "10.0.0.1", 1060);
    assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1060, &retry), 1);
    assert_int_equal(retry, 1);
    assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1061, &retry), 0);
    assert_int_equal(auth_limiter_blocked(l, "10.0.0.1", 1061, NULL), 0);
    auth_limiter_free(l);
}

static void test_limiter_success_and_isolation(void **state)
{
    struct auth_limiter *l = auth_limiter_new(5, 60);
    int retry;
    (void)state;

    for (int i = 0; i < 5; i++)
        auth_limiter_fail(l, "192.0.2.7", 2000);
    assert_int_equal(auth_limiter_blocked(l, "192.0.2.7", 2000, &retry), 1);
    assert_int_equal(retry, 60);
    /* Other addresses are not affected. */
    assert_int_equal(auth_limiter_blocked(l, "192.0.2.8", 2000, &retry), 0);
    assert_int_equal(auth_limiter_blocked(l, "2001:db8::7", 2000, &retry), 0);
    /* Success clears. */
    auth_limiter_success(l, "192.0.2.7");
    assert_int_equal(auth_limiter_blocked(l, "192.0.2.7", 2000, &retry), 0);
    for (int i = 0; i < 4; i++)
        auth_limiter_fail(l, "192.0.2.7", 2001);
    assert_int_equal(auth_limiter_blocked(l, "192.0.2.7", 2001, &retry), 0);
    auth_limiter_success(l, "198.51.100.1"); /* unknown address: nothing to clear */

    /* IPv6 counts per /64; IPv4-mapped IPv6 is the IPv4 address. */
    for (int i = 0; i < 5; i++) {
        char ip[64];
        snprintf(ip, sizeof ip, "2001:db8:1:2::%x", i + 1);
        auth_limiter_fail(l, ip, 3000);
    }
    assert_int_equal(auth_limiter_blocked(l, "2001:db8:1:2:ffff::1", 3000, &retry), 1);
    assert_int_equal(auth_limiter_blocked(l, "2001:db8:1:3::1", 3000, &retry), 0);
    for (int i = 0; i < 5; i++)
        auth_limiter_fail(l, "::ffff:203.0.113.9", 3000);
    assert_int_equal(auth_limiter_blocked(l, "203.0.113.9", 3000, &retry), 1);
    auth_limiter_success(l, "203.0.113.9");
    assert_int_equal(auth_limiter_blocked(l, "::ffff:203.0.113.9", 3000, &retry), 0);
    auth_limiter_free(l);
}

static void test_limiter_bounded(void **state)
{
    struct auth_limiter *l = auth_limiter_new(5, 60);
    char ip[32];
    (void)state;

    for (int i = 0; i < 5; i++)
        auth_limiter_fail(l, "10.9.9.9", 100);
    assert_int_equal(auth_limiter_blocked(l, "10.9.9.9", 100, NULL), 1);
    /* A flood of AUTH_LIMITER_SLOTS other addresses evicts the least recently failed one. */
    for (int i = 0; i < AUTH_LIMITER_SLOTS; i++) {
        snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
        auth_limiter_fail(l, ip, 101);
    }
    assert_int_equal(auth_limiter_blocked(l, "10.9.9.9", 101, NULL), 0);
    /* The table keeps working at capacity, including after clears. */
    for (int round = 0; round < 3; round++) {
        auth_limiter_success(l, "10.0.5.1");
        for (int i = 0; i < 5; i++)
            auth_limiter_fail(l, "10.200.0.1", 102);
        assert_int_equal(auth_limiter_blocked(l, "10.200.0.1", 102, NULL), 1);
        auth_limiter_success(l, "10.200.0.1");
        assert_int_equal(auth_limiter_blocked(l, "10.200.0.1", 102, NULL), 0);
    }
    for (int i = 0; i < 5 * AUTH_LIMITER_SLOTS; i++) {
        snprintf(ip, sizeof ip, "172.16.%d.%d", (i / 256) % 256, i % 256);
        auth_limiter_fail(l, ip, 200);
    }
    snprintf(ip, sizeof ip, "172.16.%d.%d", ((5 * AUTH_LIMITER_SLOTS - 1) / 256) % 256,
             (5 * AUTH_LIMITER_SLOTS - 1) % 256);
    for (int i = 0; i < 4; i++)
        auth_limiter_fail(l, ip, 230);
    assert_int_equal(auth_limiter_blocked(l, ip, 230, NULL), 1); /* 200 + 4 × 230 */
    assert_int_equal(auth_limiter_blocked(l, ip, 260, NULL), 0); /* 200 left the window */
    auth_limiter_free(l);
}

struct limiter_arg {
    struct auth_limiter *l;
    int id;
};

static void *limiter_thread(void *p)
{
    struct limiter_arg *a = p;
    char ip[32];

    for (int i = 0; i < 20000; i++) {
        snprintf(ip, sizeof ip, "10.%d.%d.%d", a->id, (i / 256) % 32, i % 256);
        auth_limiter_fail(a->l, ip, 500);
        (void)auth_limiter_blocked(a->l, ip, 500, NULL);
        if (i % 7 == 0)
            auth_limiter_success(a->l, ip);
    }
    return NULL;
}

static void test_limiter_threads(void **state)
{
    struct auth_limiter *l = auth_limiter_new(3, 60);
    struct limiter_arg args[4];
    pthread_t th[4];
    (void)state;

    for (int i = 0; i < 4; i++) {
        args[i].l = l;
        args[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, limiter_thread, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++)
        auth_limiter_fail(l, "10.250.0.1", 600);
    assert_int_equal(auth_limiter_blocked(l, "10.250.0.1", 600, NULL), 1);
    auth_limiter_free(l);
}

/* ---- secret ---- */

static char *make_tmpdir(void)
{
    char *d = xstrdup("/tmp/beamtel-auth-test.XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void write_file(const char *path, const char *content, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void rm_rf(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void test_secret_generated(void **state)
{
    char *dir = make_tmpdir(), *state_dir = xasprintf("%s/state/sub", dir);
    char *path = xasprintf("%s/jwt.secret", state_dir), *cause = NULL, *content;
    uint8_t *key = NULL, *key2 = NULL;
    size_t keylen = 0, keylen2 = 0, n;
    struct stat st;
    struct dirent *de;
    DIR *dh;
    int entries = 0;
    (void)state;

    assert_int_equal(auth_load_secret(NULL, NULL, state_dir, &key, &keylen, &cause), 0);
    assert_int_equal(keylen, 64);
    for (size_t i = 0; i < keylen; i++)
        assert_true(isalnum(key[i]) || key[i] == '-' || key[i] == '_');
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(state_dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    content = file_read_all(path, 4096, &n, &cause);
    assert_int_equal(n, 64);
    assert_memory_equal(content, key, 64);
    free(content);
    /* Only the secret remains: the temporary file was linked and removed. */
    dh = opendir(state_dir);
    while ((de = readdir(dh)) != NULL)
        entries += de->d_name[0] != '.' || strncmp(de->d_name, ".jwt", 4) == 0;
    closedir(dh);
    assert_int_equal(entries, 1);

    /* Reload: the same key; an empty environment value counts as unset. */
    assert_int_equal(auth_load_secret(NULL, "", state_dir, &key2, &keylen2, &cause), 0);
    assert_int_equal(keylen2, keylen);
    assert_memory_equal(key2, key, keylen);
    auth_secret_free(key2, keylen2);

    /* A readable-by-others secret is refused, with the fix in the message. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(auth_load_secret(NULL, NULL, state_dir, &key2, &keylen2, &cause), -1);
    assert_null(key2);
    assert_non_null(strstr(cause, "has mode 0644"));
    assert_non_null(strstr(cause, "chmod 600"));
    free(cause);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(auth_load_secret(NULL, NULL, state_dir, &key2, &keylen2, &cause), -1);
    free(cause);
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(auth_load_secret(NULL, NULL, state_dir, &key2, &keylen2, &cause), 0);
    assert_memory_equal(key2, key, keylen);
    auth_secret_free(key2, keylen2);

    auth_secret_free(key, keylen);
    rm_rf(dir);
    free(path);
    free(state_dir);
    free(dir);
}

static void test_secret_file_and_env(void **state)
{
    char *dir = make_tmpdir(), *f = xasprintf("%s/given", dir), *cause = NULL;
    char *statef = xasprintf("%s/jwt.secret", dir);
    const char *k32 = "abcdefghijklmnopqrstuvwxyz012345";
    uint8_t *key = NULL;
    size_t keylen = 0;
    struct stat st;
    (void)state;

    /* File: 31 bytes plus newline is too short; 32 plus newline is fine, newline stripped. */
    write_file(f, "abcdefghijklmnopqrstuvwxyz01234\n", 0600);
    assert_int_equal(auth_load_secret(f, k32, dir, &key, &keylen, &cause), -1);
    assert_null(key);
    assert_non_null(strstr(cause, "is 31 bytes; at least 32 are required"));
    free(cause);
    write_file(f, "abcdefghijklmnopqrstuvwxyz012345\n", 0600);
    assert_int_equal(
        auth_load_secret(f, "ignored-because-the-file-wins-0123456789", dir, &key, &keylen, &cause),
        0);
    assert_int_equal(keylen, 32);
    assert_memory_equal(key, k32, 32);
    auth_secret_free(key, keylen);

    /* A missing file is an error, not a fall-back. */
    assert_int_equal(
        auth_load_secret("/nonexistent/beamtel/secret", k32, dir, &key, &keylen, &cause), -1);
    assert_non_null(strstr(cause, "cannot open /nonexistent/beamtel/secret"));
    free(cause);

    /* Environment. */
    assert_int_equal(auth_load_secret(NULL, "short", dir, &key, &keylen, &cause), -1);
    assert_string_equal(cause,
                        "the JWT secret from the environment is 5 bytes; at least 32 are required");
    free(cause);
    assert_int_equal(auth_load_secret(NULL, k32, dir, &key, &keylen, &cause), 0);
    assert_int_equal(keylen, 32);
    assert_memory_equal(key, k32, 32);
    auth_secret_free(key, keylen);

    /* Neither file nor environment touched the state directory. */
    assert_int_equal(stat(statef, &st), -1);

    /* A short state file is refused too. */
    write_file(statef, "tooshort\n", 0600);
    assert_int_equal(auth_load_secret(NULL, NULL, dir, &key, &keylen, &cause), -1);
    assert_non_null(strstr(cause, "is 8 bytes; at least 32 are required"));
    free(cause);

    /* No state directory at all. */
    assert_int_equal(auth_load_secret(NULL, NULL, NULL, &key, &keylen, &cause), -1);
    free(cause);

    rm_rf(dir);
    free(statef);
    free(f);
    free(dir);
}

/* A 0644 file that already exists in the state directory is refused, never rewritten. */
static void test_secret_rejects_0644(void **state)
{
    char *dir = make_tmpdir(), *path = xasprintf("%s/jwt.secret", dir), *cause = NULL, *c;
    const char *content = "0123456789abcdef0123456789abcdef0123456789\n";
    uint8_t *key = NULL;
    size_t keylen = 0, n;
    (void)state;

    write_file(path, content, 0644);
    assert_int_equal(auth_load_secret(NULL, NULL, dir, &key, &keylen, &cause), -1);
    assert_null(key);
    assert_int_equal(keylen, 0);
    assert_non_null(strstr(cause, "has mode 0644"));
    free(cause);
    c = file_read_all(path, 4096, &n, &cause);
    assert_int_equal(n, 42);
    free(c);
    rm_rf(dir);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_hash_verify),
        cmocka_unit_test(test_password_hash_rejects),
        cmocka_unit_test(test_password_unknown_user),
        cmocka_unit_test(test_password_concurrency_bound),
        cmocka_unit_test(test_password_generate),
        cmocka_unit_test(test_username_valid),
        cmocka_unit_test(test_jwt_round_trip),
        cmocka_unit_test(test_jwt_issue_rejects),
        cmocka_unit_test(test_jwt_alg_none),
        cmocka_unit_test(test_jwt_duplicate_alg),
        cmocka_unit_test(test_jwt_other_algs_with_real_secret),
        cmocka_unit_test(test_jwt_wrong_key_and_tampering),
        cmocka_unit_test(test_jwt_claims_rules),
        cmocka_unit_test(test_jwt_key_required),
        cmocka_unit_test(test_jwt_garbage),
        cmocka_unit_test(test_fumbletron_known),
        cmocka_unit_test(test_fumbletron_substitutions),
        cmocka_unit_test(test_fumbletron_transpositions),
        cmocka_unit_test(test_fumbletron_shape),
        cmocka_unit_test(test_fumbletron_generate),
        cmocka_unit_test(test_limiter_blocks_after_five),
        cmocka_unit_test(test_limiter_success_and_isolation),
        cmocka_unit_test(test_limiter_bounded),
        cmocka_unit_test(test_limiter_threads),
        cmocka_unit_test(test_secret_generated),
        cmocka_unit_test(test_secret_file_and_env),
        cmocka_unit_test(test_secret_rejects_0644),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
