/* SPDX-License-Identifier: MIT */
/* token: the stored login (server, user, bearer token, expiry) in one small JSON file, 0600 under
 * $XDG_CONFIG_HOME/beamtel/, replaced atomically.  It never logs or prints the token. */
#include "client.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_FILE_MAX 65536

char *client_token_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        return xasprintf("%s/beamtel/token", xdg);
    return xasprintf("%s/.config/beamtel/token", home && *home ? home : ".");
}

void client_token_free(struct client_token *t)
{
    if (t->token) {
        explicit_bzero(t->token, strlen(t->token));
        free(t->token);
    }
    free(t->server);
    free(t->user);
    memset(t, 0, sizeof *t);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timegm(): it is not C11). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int client_parse_iso_time(const char *s, int64_t *us)
{
    int y, mo, d, h, mi, sec, n = 0, off_s = 0;
    int64_t frac_us = 0, scale = 100000;
    const char *p;

    if (s == NULL ||
        sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n == 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    p = s + n;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++) {
            frac_us += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, m2 = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m2) != 2 || m2 == 0)
            return -1;
        off_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 1 + m2;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    *us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off_s) * 1000000 +
          frac_us;
    return 0;
}

/* Decodes base64url without padding into out (NUL-terminated); -1 on bad input. */
static int b64url_decode(const char *in, size_t n, char *out, size_t outcap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-' || c == '+')
            v = 62;
        else if (c == '_' || c == '/')
            v = 63;
        else if (c == '=')
            break;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= outcap)
                return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return 0;
}

int client_jwt_expiry(const char *jwt, int64_t *us)
{
    const char *a, *b;
    char payload[4096];
    cJSON *root, *exp;
    int rc = -1;

    if (jwt == NULL || (a = strchr(jwt, '.')) == NULL || (b = strchr(a + 1, '.')) == NULL)
        return -1;
    if (b64url_decode(a + 1, (size_t)(b - a - 1), payload, sizeof payload) < 0)
        return -1;
    root = cJSON_Parse(payload);
    exp = cJSON_GetObjectItemCaseSensitive(root, "exp");
    if (cJSON_IsNumber(exp) && exp->valuedouble > 0 && exp->valuedouble < 1e11) {
        *us = (int64_t)exp->valuedouble * 1000000;
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

static char *json_str(cJSON *root, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsString(v) && v->valuestring[0] ? xstrdup(v->valuestring) : NULL;
}

int client_token_load(const char *path, struct client_token *t, char **cause)
{
    char *own = NULL, *text;
    size_t len;
    cJSON *root = NULL, *exp;
    int rc = CLIENT_TOKEN_ERROR;

    memset(t, 0, sizeof *t);
    if (path == NULL)
        path = own = client_token_path();
    {
        struct stat st;
        if (stat(path, &st) < 0 && errno == ENOENT) {
            rc = CLIENT_TOKEN_ABSENT;
            goto out;
        }
    }
    text = file_read_all(path, TOKEN_FILE_MAX, &len, cause);
    if (text == NULL)
        goto out;
    root = cJSON_ParseWithLength(text, len);
    explicit_bzero(text, len);
    free(text);
    if (!cJSON_IsObject(root)) {
        *cause = xasprintf("%s: not a beamtel token file (run beamtel login)", path);
        goto out;
    }
    t->server = json_str(root, "server");
    t->user = json_str(root, "user");
    t->token = json_str(root, "token");
    if (t->server == NULL || t->user == NULL || t->token == NULL) {
        client_token_free(t);
        *cause = xasprintf("%s: incomplete token file (run beamtel login)", path);
        goto out;
    }
    exp = cJSON_GetObjectItemCaseSensitive(root, "expires_at");
    if (!cJSON_IsString(exp) || client_parse_iso_time(exp->valuestring, &t->expires_us) < 0)
        if (client_jwt_expiry(t->token, &t->expires_us) < 0)
            t->expires_us = 0;
    rc = (t->expires_us != 0 && t->expires_us <= time_now_us()) ? CLIENT_TOKEN_EXPIRED
                                                                : CLIENT_TOKEN_VALID;
out:
    if (root) {
        cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "token");
        if (cJSON_IsString(tok))
            explicit_bzero(tok->valuestring, strlen(tok->valuestring));
        cJSON_Delete(root);
    }
    free(own);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int client_token_save(const char *path, const struct client_token *t, char **cause)
{
    char *own = NULL, *dir = NULL, *tmp = NULL, iso[40];
    struct buf b = {0};
    int fd = -1, rc = -1;

    if (path == NULL)
        path = own = client_token_path();
    dir = xstrdup(path);
    dirname(dir);
    if (mkdir_p(dir, 0700) < 0) {
        *cause = xasprintf("cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    buf_adds(&b, "{\"server\":");
    buf_add_json_str(&b, t->server, strlen(t->server));
    buf_adds(&b, ",\"user\":");
    buf_add_json_str(&b, t->user, strlen(t->user));
    buf_adds(&b, ",\"token\":");
    buf_add_json_str(&b, t->token, strlen(t->token));
    if (t->expires_us > 0) {
        time_format_iso(t->expires_us, iso, sizeof iso);
        buf_addf(&b, ",\"expires_at\":\"%s\"", iso);
    }
    buf_adds(&b, "}\n");

    tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        *cause = xasprintf("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    /* The mode of O_CREAT is filtered by the umask and ignored for an existing file. */
    if (fchmod(fd, 0600) < 0 || write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
        *cause = xasprintf("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        *cause = xasprintf("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        *cause = xasprintf("cannot replace %s: %s", path, strerror(errno));
        goto out;
    }
    {
        /* Make the rename itself durable. */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp)
        unlink(tmp);
    if (b.data)
        explicit_bzero(b.data, b.len);
    buf_free(&b);
    free(tmp);
    free(dir);
    free(own);
    return rc;
}

int client_token_remove(const char *path, char **cause)
{
    char *own = NULL;
    int rc = 0;
    if (path == NULL)
        path = own = client_token_path();
    if (unlink(path) < 0 && errno != ENOENT) {
        *cause = xasprintf("cannot remove %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(own);
    return rc;
}
