/* SPDX-License-Identifier: MIT */
/* secret: finds the JWT signing key (file, environment, or a 0600 file it generates once in the
 * state directory); it never prints the key and never leaves a partial or readable key file. */
#include "auth.h"
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_FILE_MAX 4096 /* bytes read from a secret file at most */
#define GENERATED_BYTES 48   /* random bytes of a generated secret (64 base64url chars) */
#define GENERATED_TEXT_LEN                                                                         \
    sodium_base64_ENCODED_LEN(GENERATED_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)

/* Takes ownership of data (n bytes) as the key after the length check. */
static int accept_key(char *data, size_t n, const char *what, uint8_t **key, size_t *keylen,
                      char **cause)
{
    if (n < AUTH_SECRET_MIN) {
        *cause = xasprintf("the JWT secret from %s is %zu bytes; at least %d are required", what, n,
                           AUTH_SECRET_MIN);
        sodium_memzero(data, n);
        free(data);
        return -1;
    }
    *key = (uint8_t *)data;
    *keylen = n;
    return 0;
}

/* Reads the state-directory secret.  Returns 1 when the file does not exist, 0 with the key,
 * -1 with *cause when it exists but cannot be used (not a regular file, group/other access,
 * unreadable, too short). */
static int read_state_secret(const char *path, uint8_t **key, size_t *keylen, char **cause)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    char *data;
    size_t n = 0;

    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        *cause = xasprintf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        *cause = xasprintf("%s is not a regular file", path);
        close(fd);
        return -1;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        *cause = xasprintf("%s has mode %04o, so others may read the JWT secret; "
                           "run chmod 600 %s (or delete it to generate a new one)",
                           path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    data = xmalloc(SECRET_FILE_MAX + 1);
    for (;;) {
        ssize_t r = read(fd, data + n, SECRET_FILE_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *cause = xasprintf("cannot read %s: %s", path, strerror(errno));
            free(data);
            close(fd);
            return -1;
        }
        if (r == 0 || (n += (size_t)r) == SECRET_FILE_MAX)
            break;
    }
    close(fd);
    if (n > 0 && data[n - 1] == '\n')
        n--;
    data[n] = '\0';
    return accept_key(data, n, path, key, keylen, cause);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Creates path with a fresh random secret.  The key is written to an O_EXCL temporary file
 * (mode 0600 from the start) and then hard-linked into place, which fails if another process
 * got there first: the loser then uses the winner's file, so two servers never disagree.
 * Returns 0 when created, 1 when another process created it first, -1 with *cause. */
static int create_state_secret(const char *dir, const char *path, char **cause)
{
    unsigned char rnd[GENERATED_BYTES];
    char text[GENERATED_TEXT_LEN + 1]; /* + the newline */
    char *tmp = xasprintf("%s/.%s.XXXXXX", dir, AUTH_SECRET_FILE);
    int fd, rc = -1;
    size_t n;

    if (mkdir_p(dir, 0700) < 0) {
        *cause = xasprintf("cannot create the state directory %s: %s", dir, strerror(errno));
        goto out_free;
    }
    fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT | O_EXCL, mode 0600 */
    if (fd < 0) {
        *cause = xasprintf("cannot create a file in %s: %s", dir, strerror(errno));
        goto out_free;
    }
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(text, sizeof text, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    n = strlen(text);
    text[n++] = '\n';
    if (fchmod(fd, 0600) < 0 || write_all(fd, text, n) < 0 || fsync(fd) < 0) {
        *cause = xasprintf("cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        goto out_unlink;
    }
    if (close(fd) < 0) {
        *cause = xasprintf("cannot write %s: %s", tmp, strerror(errno));
        goto out_unlink;
    }
    if (link(tmp, path) == 0) {
        rc = 0;
    } else if (errno == EEXIST) {
        rc = 1;
    } else if (rename(tmp, path) == 0) {
        rc = 0; /* a file system without hard links; rename is still atomic */
        goto out_sync;
    } else {
        *cause = xasprintf("cannot create %s: %s", path, strerror(errno));
    }
out_unlink:
    unlink(tmp);
out_sync:
    if (rc >= 0)
        fsync_dir(dir);
out_free:
    sodium_memzero(rnd, sizeof rnd);
    sodium_memzero(text, sizeof text);
    free(tmp);
    return rc;
}

int auth_load_secret(const char *file_or_null, const char *env_value_or_null, const char *state_dir,
                     uint8_t **key, size_t *keylen, char **cause)
{
    char *path;
    int rc;

    *key = NULL;
    *keylen = 0;
    if (file_or_null != NULL) {
        size_t n = 0;
        char *data = file_read_all(file_or_null, SECRET_FILE_MAX, &n, cause);
        if (data == NULL)
            return -1;
        return accept_key(data, n, file_or_null, key, keylen, cause);
    }
    /* An empty variable counts as unset (compose files often pass "${X:-}"). */
    if (env_value_or_null != NULL && env_value_or_null[0] != '\0') {
        size_t n = strlen(env_value_or_null);
        char *data = xmalloc(n + 1);
        memcpy(data, env_value_or_null, n + 1);
        return accept_key(data, n, "the environment", key, keylen, cause);
    }
    if (state_dir == NULL || state_dir[0] == '\0') {
        *cause = xstrdup("no JWT secret given and no state directory to keep one in");
        return -1;
    }
    path = xasprintf("%s/%s", state_dir, AUTH_SECRET_FILE);
    rc = read_state_secret(path, key, keylen, cause);
    if (rc == 1) {
        int created = create_state_secret(state_dir, path, cause);
        rc = created < 0 ? -1 : read_state_secret(path, key, keylen, cause);
        if (rc == 1) {
            *cause = xasprintf("%s vanished right after it was created", path);
            rc = -1;
        } else if (rc == 0 && created == 0) {
            log_info("auth: generated a new JWT secret in %s", path);
        }
    }
    free(path);
    return rc;
}

void auth_secret_free(uint8_t *key, size_t keylen)
{
    if (key == NULL)
        return;
    sodium_memzero(key, keylen);
    free(key);
}
