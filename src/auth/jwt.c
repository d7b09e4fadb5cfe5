/* SPDX-License-Identifier: MIT */
/* jwt: issues and verifies HS256 tokens through libjwt 1.10, adding every check that libjwt
 * leaves out (key present, alg pinned, exp/iat/sub typed and present); it never logs a token
 * and never puts one in an error message. */
#include "auth.h"
#include "common/common.h"

#include <cjson/cJSON.h>
#include <jwt.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HS256_SIG_B64_LEN 43 /* 32 bytes of HMAC-SHA256 in unpadded base64url */
#define MAX_LIFETIME_S (3650 * 86400)
#define MAX_EPOCH_S (INT64_C(1) << 40) /* far beyond any real date, far below 2^53 */

/* The dot-separated parts of a token, as offsets into it. */
struct token_parts {
    const char *head;
    size_t head_len;
    const char *payload;
    size_t payload_len;
    const char *sig;
    size_t sig_len;
};

static int b64url_chars(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Splits "head.payload.sig" into exactly three base64url parts; the signature may be empty
 * here (alg "none" tokens have none) so that such a token is refused for its alg, which is the
 * more useful reason. */
static int split_token(const char *token, size_t len, struct token_parts *tp)
{
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;

    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        return -1;
    tp->head = token;
    tp->head_len = (size_t)(d1 - token);
    tp->payload = d1 + 1;
    tp->payload_len = (size_t)(d2 - d1 - 1);
    tp->sig = d2 + 1;
    tp->sig_len = len - (size_t)(d2 + 1 - token);
    if (tp->head_len == 0 || tp->payload_len == 0)
        return -1;
    if (!b64url_chars(tp->head, tp->head_len) || !b64url_chars(tp->payload, tp->payload_len) ||
        !b64url_chars(tp->sig, tp->sig_len))
        return -1;
    return 0;
}

/* Decodes one unpadded base64url part holding a JSON object; NULL when it is not one. */
static cJSON *decode_json_part(const char *p, size_t n)
{
    size_t cap = n / 4 * 3 + 3, bin_len = 0;
    char *bin = xmalloc(cap + 1);
    const char *end = NULL;
    cJSON *root = NULL;

    if (sodium_base642bin((unsigned char *)bin, cap, p, n, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
        end == p + n) {
        bin[bin_len] = '\0';
        if (strlen(bin) == bin_len) /* no NUL inside the JSON text */
            root = cJSON_ParseWithOpts(bin, NULL, 1);
    }
    free(bin);
    if (root != NULL && !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

/* Our own reading of the header, before libjwt sees the token: exactly one "alg" member, and
 * it is the string "HS256".  (cJSON keeps the first of duplicate members and libjwt's jansson
 * the last, so a second "alg" is refused outright rather than trusted to either.) */
static int check_header(const struct token_parts *tp, char **cause)
{
    cJSON *head = decode_json_part(tp->head, tp->head_len);
    const cJSON *it;
    int algs = 0, ok = 0;

    if (head == NULL) {
        *cause = xstrdup("token header is not a JSON object");
        return -1;
    }
    for (it = head->child; it != NULL; it = it->next) {
        if (it->string != NULL && strcmp(it->string, "alg") == 0) {
            algs++;
            ok = cJSON_IsString(it) && strcmp(it->valuestring, "HS256") == 0;
        }
    }
    cJSON_Delete(head);
    if (algs != 1 || !ok) {
        *cause = xstrdup("alg must be HS256");
        return -1;
    }
    return 0;
}

/* Reads a required integral-seconds claim.  exact: refuse fractions (exp); else floor (iat). */
static int claim_seconds(const cJSON *claims, const char *name, int exact, int64_t *out,
                         char **cause)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(claims, name);
    double v;

    if (it == NULL || cJSON_IsNull(it)) {
        *cause = xasprintf("%s missing", name);
        return -1;
    }
    if (!cJSON_IsNumber(it)) {
        *cause = xasprintf("%s must be a number", name);
        return -1;
    }
    v = it->valuedouble;
    if (!isfinite(v) || v < 0 || v > (double)MAX_EPOCH_S || (exact && v != floor(v))) {
        *cause = xasprintf("%s must be a whole number of seconds", name);
        return -1;
    }
    *out = (int64_t)floor(v);
    return 0;
}

/* Checks the claims as libjwt decoded them (its own serialisation, so duplicates are already
 * resolved the way the signature check saw them). */
static int check_claims(jwt_t *jwt, int64_t now_s, struct auth_claims *out, char **cause)
{
    char *json = jwt_get_grants_json(jwt, NULL);
    cJSON *claims = json ? cJSON_Parse(json) : NULL;
    const cJSON *sub;
    int rc = -1;

    free(json);
    if (claims == NULL || !cJSON_IsObject(claims)) {
        *cause = xstrdup("token payload is not a JSON object");
        goto out;
    }
    if (claim_seconds(claims, "exp", 1, &out->exp, cause) < 0)
        goto out;
    if (out->exp <= now_s) {
        *cause = xstrdup("token expired");
        goto out;
    }
    if (claim_seconds(claims, "iat", 0, &out->iat, cause) < 0)
        goto out;
    /* A token issued in the future was not issued by this server (a minute of clock skew). */
    if (out->iat > now_s + 60) {
        *cause = xstrdup("token issued in the future");
        goto out;
    }
    sub = cJSON_GetObjectItemCaseSensitive(claims, "sub");
    if (sub == NULL || cJSON_IsNull(sub)) {
        *cause = xstrdup("sub missing");
        goto out;
    }
    if (!cJSON_IsString(sub)) {
        *cause = xstrdup("sub must be a string");
        goto out;
    }
    if (!auth_username_valid(sub->valuestring)) {
        *cause = xstrdup("sub is not a valid user name");
        goto out;
    }
    snprintf(out->sub, sizeof out->sub, "%s", sub->valuestring);
    rc = 0;
out:
    cJSON_Delete(claims);
    return rc;
}

int auth_jwt_verify(const uint8_t *key, size_t keylen, const char *token, int64_t now_s,
                    struct auth_claims *out, char **cause)
{
    struct token_parts tp;
    jwt_t *jwt = NULL;
    size_t len;
    int rc = -1;

    memset(out, 0, sizeof *out);
    /* libjwt skips the signature check when the key is NULL or its length 0. */
    if (key == NULL || keylen == 0 || keylen > INT_MAX) {
        *cause = xstrdup("no usable signing key");
        return -1;
    }
    if (token == NULL || token[0] == '\0') {
        *cause = xstrdup("token missing");
        return -1;
    }
    len = strnlen(token, AUTH_TOKEN_MAX + 1);
    if (len > AUTH_TOKEN_MAX) {
        *cause = xasprintf("token longer than %d bytes", AUTH_TOKEN_MAX);
        return -1;
    }
    if (split_token(token, len, &tp) < 0) {
        *cause = xstrdup("token is not three base64url parts");
        return -1;
    }
    if (check_header(&tp, cause) < 0)
        return -1;
    if (tp.sig_len != HS256_SIG_B64_LEN) {
        *cause = xstrdup("bad signature");
        return -1;
    }
    if (jwt_decode(&jwt, token, key, (int)keylen) != 0 || jwt == NULL) {
        *cause = xstrdup("bad signature");
        goto out;
    }
    /* Belt and braces: what libjwt itself decided the algorithm was. */
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        *cause = xstrdup("alg must be HS256");
        goto out;
    }
    rc = check_claims(jwt, now_s, out, cause);
out:
    if (jwt != NULL)
        jwt_free(jwt);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

char *auth_jwt_issue(const uint8_t *key, size_t keylen, const char *sub, int64_t now_s,
                     int64_t lifetime_s, char **cause)
{
    unsigned char rnd[16];
    char jti[2 * sizeof rnd + 1];
    jwt_t *jwt = NULL;
    char *enc = NULL, *token = NULL;

    if (key == NULL || keylen == 0 || keylen > INT_MAX) {
        *cause = xstrdup("no usable signing key");
        return NULL;
    }
    if (!auth_username_valid(sub)) {
        *cause = xstrdup("sub is not a valid user name");
        return NULL;
    }
    if (now_s < 0 || now_s > MAX_EPOCH_S || lifetime_s <= 0 || lifetime_s > MAX_LIFETIME_S) {
        *cause = xstrdup("token time or lifetime out of range");
        return NULL;
    }
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(jti, sizeof jti, rnd, sizeof rnd);
    if (jwt_new(&jwt) != 0 || jwt_add_grant(jwt, "sub", sub) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)now_s) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)(now_s + lifetime_s)) != 0 ||
        jwt_add_grant(jwt, "jti", jti) != 0 ||
        jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen) != 0 ||
        (enc = jwt_encode_str(jwt)) == NULL) {
        *cause = xstrdup("cannot encode the token (out of memory?)");
        goto out;
    }
    token = xstrdup(enc);
out:
    free(enc);
    if (jwt != NULL)
        jwt_free(jwt);
    return token;
}
