/* SPDX-License-Identifier: MIT */
/* password: argon2id hashing and verification with a bounded number of concurrent checks, the
 * unknown-user dummy hash, generated passwords and user-name syntax; it never stores or logs a
 * password. */
#include "auth.h"
#include "common/common.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Look-alikes (0 O o, 1 l I i) are left out so that a printed password can be retyped. */
static const char password_alphabet[] = "23456789"
                                        "abcdefghjkmnpqrstuvwxyz"
                                        "ABCDEFGHJKLMNPQRSTUVWXYZ";

/* The dummy hash that an unknown user's password is checked against.  Written once under
 * pthread_once, read-only afterwards. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];
static int sodium_ok;

/* The verification gate: a counting semaphore whose size can change at run time. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_limit = 2;
static int gate_running, gate_waiting, gate_peak;

static int hash_argon2id(const char *password, size_t len, char out[crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str_alg(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

/* Runs once per process: libsodium's CPU detection, then a hash of a random password that no
 * one knows, with the same parameters as real hashes so that checking against it costs the
 * same. */
static void auth_once(void)
{
    unsigned char rnd[32];
    char secret[2 * sizeof rnd + 1];

    sodium_ok = sodium_init() >= 0;
    if (!sodium_ok)
        return;
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(secret, sizeof secret, rnd, sizeof rnd);
    if (hash_argon2id(secret, strlen(secret), dummy_hash) != 0) {
        dummy_hash[0] = '\0'; /* out of memory: auth_password_verify() rehashes instead */
        log_warn("auth: cannot prepare the dummy password hash (out of memory?)");
    }
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(rnd, sizeof rnd);
}

int auth_init(char **cause)
{
    pthread_once(&dummy_once, auth_once);
    if (!sodium_ok) {
        *cause = xstrdup("libsodium failed to initialise");
        return -1;
    }
    return 0;
}

int auth_username_valid(const char *name)
{
    size_t n;

    if (name == NULL)
        return 0;
    for (n = 0; name[n] != '\0'; n++) {
        char c = name[n];
        if (n >= AUTH_USERNAME_MAX)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return n > 0;
}

int auth_password_hash(const char *password, char **hash_out, char **cause)
{
    char out[crypto_pwhash_STRBYTES];
    size_t len;

    pthread_once(&dummy_once, auth_once);
    if (password == NULL || password[0] == '\0') {
        *cause = xstrdup("the password is empty");
        return -1;
    }
    len = strlen(password);
    if (len > AUTH_PASSWORD_MAX) {
        *cause = xasprintf("the password is longer than %d bytes", AUTH_PASSWORD_MAX);
        return -1;
    }
    if (hash_argon2id(password, len, out) != 0) {
        *cause = xstrdup("argon2id hashing failed (out of memory?)");
        return -1;
    }
    *hash_out = xstrdup(out);
    return 0;
}

static void gate_enter(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_waiting++;
    while (gate_running >= gate_limit)
        pthread_cond_wait(&gate_cv, &gate_mu);
    gate_waiting--;
    gate_running++;
    if (gate_running > gate_peak)
        gate_peak = gate_running;
    pthread_mutex_unlock(&gate_mu);
}

static void gate_leave(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_running--;
    pthread_cond_signal(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

/* A usable stored hash is an argon2id string that fits libsodium's buffer; anything else
 * (NULL, a truncated column, another algorithm) takes the dummy path. */
static int hash_usable(const char *hash)
{
    static const char prefix[] = "$argon2id$";

    return hash != NULL && strncmp(hash, prefix, sizeof prefix - 1) == 0 &&
           strlen(hash) < crypto_pwhash_STRBYTES;
}

int auth_password_verify(const char *hash_or_null, const char *password)
{
    const char *pw = password != NULL ? password : "";
    size_t len = strlen(pw);
    int real = hash_usable(hash_or_null) && len <= AUTH_PASSWORD_MAX;
    int rc;

    pthread_once(&dummy_once, auth_once);
    gate_enter();
    if (real) {
        rc = crypto_pwhash_str_verify(hash_or_null, pw, len) == 0 ? 0 : -1;
    } else if (dummy_hash[0] != '\0') {
        /* Same work as a real check; the result is thrown away (nobody knows the dummy's
         * password, and even a match must not let an unknown user in). */
        if (crypto_pwhash_str_verify(dummy_hash, pw, len <= AUTH_PASSWORD_MAX ? len : 0) == 0)
            log_debug("auth: dummy hash matched");
        rc = -1;
    } else {
        char scratch[crypto_pwhash_STRBYTES];
        if (hash_argon2id(pw, len <= AUTH_PASSWORD_MAX ? len : 0, scratch) != 0)
            log_debug("auth: stand-in hash failed");
        rc = -1;
    }
    gate_leave();
    return rc;
}

void auth_set_max_concurrent_verifications(int n)
{
    pthread_mutex_lock(&gate_mu);
    gate_limit = n < 1 ? 1 : n;
    pthread_cond_broadcast(&gate_cv); /* a larger limit may let several waiters in */
    pthread_mutex_unlock(&gate_mu);
}

void auth_password_stats(int *running, int *waiting, int *peak)
{
    pthread_mutex_lock(&gate_mu);
    if (running)
        *running = gate_running;
    if (waiting)
        *waiting = gate_waiting;
    if (peak)
        *peak = gate_peak;
    pthread_mutex_unlock(&gate_mu);
}

char *auth_password_generate(void)
{
    char *pw = xmalloc(AUTH_GENERATED_PASSWORD_LEN + 1);

    pthread_once(&dummy_once, auth_once);
    for (int i = 0; i < AUTH_GENERATED_PASSWORD_LEN; i++)
        pw[i] = password_alphabet[randombytes_uniform(sizeof password_alphabet - 1)];
    pw[AUTH_GENERATED_PASSWORD_LEN] = '\0';
    return pw;
}
