/* SPDX-License-Identifier: MIT */
/* api: the JSON API of DESIGN §7 on libmicrohttpd (one thread per connection, so a slow
 * password check or query holds up only its own request).  Every error is a JSON body with the
 * right status; a user only ever sees their own sessions. */
#include "http_internal.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BODY_MAX 16384
#define LIST_MAX 200

struct req {
    struct buf body;
    int too_big;
};

/* ---- responses ---- */

static enum MHD_Result send_buf(struct MHD_Connection *conn, unsigned status, const char *type,
                                const char *data, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, struct buf *b)
{
    return send_buf(conn, status, "application/json", buf_cstr(b), b->len);
}

enum MHD_Result http_error(struct MHD_Connection *conn, unsigned status, const char *code,
                           const char *message)
{
    struct buf b = {0};
    enum MHD_Result ret;
    buf_addf(&b, "{\"error\":{\"code\":\"%s\",\"message\":", code);
    buf_add_json_str(&b, message, strlen(message));
    buf_adds(&b, "}}");
    ret = send_json(conn, status, &b);
    buf_free(&b);
    return ret;
}

static enum MHD_Result db_unavailable(struct MHD_Connection *conn, char *cause)
{
    log_warn("http: %s", cause);
    free(cause);
    return http_error(conn, 503, "db_unavailable", "the database is unavailable; try again");
}

/* ---- helpers ---- */

/* Is ip one of the comma-separated addresses of list? */
static int in_list(const char *list, const char *ip)
{
    size_t n = strlen(ip);
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && strncmp(p, ip, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* The client's address: the peer, or — when the peer is a trusted reverse proxy — the last
 * address of X-Forwarded-For (the one that proxy saw; earlier ones are the client's word). */
static void client_ip(struct http *h, struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    const char *xff, *last;
    char cand[64];
    unsigned char bin[16];
    size_t len;

    snprintf(out, n, "unknown");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
    if (h->opts.trusted_proxies == NULL || !in_list(h->opts.trusted_proxies, out))
        return;
    xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff == NULL)
        return;
    last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    len = strcspn(last, " ");
    if (len == 0 || len >= sizeof cand || len >= n)
        return;
    memcpy(cand, last, len);
    cand[len] = '\0';
    if (inet_pton(AF_INET, cand, bin) == 1 || inet_pton(AF_INET6, cand, bin) == 1)
        memcpy(out, cand, len + 1); /* len < n was checked above */
}

/* The user of a valid bearer token, or -1 after queueing the 401. */
static int authenticate(struct http *h, struct MHD_Connection *conn, char *user, size_t n,
                        enum MHD_Result *ret)
{
    const char *hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    struct auth_claims claims;
    char *cause = NULL;
    if (hdr == NULL || strncasecmp(hdr, "Bearer ", 7) != 0) {
        *ret = http_error(conn, 401, "unauthorized", "missing bearer token: log in first");
        return -1;
    }
    if (auth_jwt_verify(h->opts.jwt_key, h->opts.jwt_key_len, hdr + 7, time_now_us() / 1000000,
                        &claims, &cause) < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid token: %s", cause ? cause : "rejected");
        free(cause);
        *ret = http_error(conn, 401, "unauthorized", msg);
        return -1;
    }
    snprintf(user, n, "%s", claims.sub);
    return 0;
}

/* Parses a positive decimal id; 0 when malformed. */
static int64_t parse_id(const char *s, size_t len)
{
    int64_t v = 0;
    if (len == 0 || len > 18)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int query_int(struct MHD_Connection *conn, const char *key, long def, long lo, long hi,
                     long *out)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (parse_long(v, out) < 0 || *out < lo || *out > hi)
        return -1;
    return 0;
}

/* ---- handlers ---- */

static enum MHD_Result h_health(struct http *h, struct MHD_Connection *conn)
{
    char *cause = NULL;
    struct store_conn *c = store_pool_get(h->pool, &cause);
    struct buf b = {0};
    enum MHD_Result ret;
    /* An idle pooled connection looks fine until it is used: ask the server. */
    int up = c && store_ping(c) == 0;
    buf_addf(&b, "{\"ok\":true,\"version\":\"%s\",\"db\":\"%s\"}", BEAMTEL_VERSION,
             up ? "up" : "down");
    free(cause);
    store_pool_put(h->pool, c);
    ret = send_json(conn, 200, &b);
    buf_free(&b);
    return ret;
}

static enum MHD_Result h_login(struct http *h, struct MHD_Connection *conn, struct req *rq)
{
    char ip[48], *cause = NULL, *token = NULL, exp[40];
    cJSON *root;
    const cJSON *ju, *jp;
    int retry = 0, found;
    int64_t now = time_now_us() / 1000000;
    struct user_row u;
    struct store_conn *c;
    struct buf b = {0};
    enum MHD_Result ret;

    client_ip(h, conn, ip, sizeof ip);
    if (auth_limiter_blocked(h->limiter, ip, now, &retry)) {
        char msg[96], ra[16];
        struct MHD_Response *r;
        snprintf(msg, sizeof msg, "too many failed logins; try again in %d s", retry);
        snprintf(ra, sizeof ra, "%d", retry);
        buf_addf(&b, "{\"error\":{\"code\":\"rate_limited\",\"message\":\"%s\"}}", msg);
        r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "Retry-After", ra);
        ret = MHD_queue_response(conn, 429, r);
        MHD_destroy_response(r);
        buf_free(&b);
        return ret;
    }
    if (rq->too_big)
        return http_error(conn, 413, "too_large", "the request body is too large");
    {
        /* JSON only: a cross-site HTML form cannot send it (login CSRF). */
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
            return http_error(conn, 415, "unsupported_media_type",
                              "send the credentials as application/json");
    }
    if (rq->body.data && memmem(rq->body.data, rq->body.len, "\\u0000", 6))
        return http_error(conn, 400, "bad_request", "NUL characters are not allowed");
    root = cJSON_ParseWithLength(rq->body.data ? rq->body.data : "", rq->body.len);
    ju = cJSON_GetObjectItemCaseSensitive(root, "username");
    jp = cJSON_GetObjectItemCaseSensitive(root, "password");
    if (!cJSON_IsString(ju) || !cJSON_IsString(jp) || strlen(jp->valuestring) > 1024) {
        cJSON_Delete(root);
        return http_error(conn, 400, "bad_request",
                          "expected a JSON body {\"username\": …, \"password\": …}");
    }
    c = store_pool_get(h->pool, &cause);
    if (c == NULL) {
        cJSON_Delete(root);
        return db_unavailable(conn, cause);
    }
    memset(&u, 0, sizeof u);
    found =
        auth_username_valid(ju->valuestring) ? store_user_get(c, ju->valuestring, &u, &cause) : 0;
    if (found < 0) {
        store_pool_put(h->pool, c);
        cJSON_Delete(root);
        return db_unavailable(conn, cause);
    }
    /* Unknown users are verified against a dummy hash: same answer, same time. */
    if (auth_password_verify(found ? u.password_hash : NULL, jp->valuestring) < 0) {
        cJSON_Delete(root);
        store_pool_put(h->pool, c);
        store_user_row_free(&u);
        auth_limiter_fail(h->limiter, ip, now);
        log_info("http: failed login from %s", ip);
        return http_error(conn, 401, "invalid_credentials", "wrong username or password");
    }
    cJSON_Delete(root);
    auth_limiter_success(h->limiter, ip);
    if (store_user_set_last_ip(c, u.username, ip, &cause) < 0) {
        log_warn("http: %s", cause);
        free(cause);
        cause = NULL;
    } else {
        snprintf(u.last_ip, sizeof u.last_ip, "%s", ip);
    }
    store_pool_put(h->pool, c);
    token = auth_jwt_issue(h->opts.jwt_key, h->opts.jwt_key_len, u.username, now,
                           h->opts.token_lifetime_s, &cause);
    if (token == NULL) {
        store_user_row_free(&u);
        log_err("http: %s", cause);
        free(cause);
        return http_error(conn, 500, "internal", "cannot issue a token");
    }
    time_format_iso((now + h->opts.token_lifetime_s) * 1000000, exp, sizeof exp);
    buf_adds(&b, "{\"token\":");
    buf_add_json_str(&b, token, strlen(token));
    buf_addf(&b, ",\"expires_at\":\"%s\",\"expires_at_s\":%lld,\"user\":", exp,
             (long long)(now + h->opts.token_lifetime_s));
    {
        struct buf uj = {0};
        store_user_to_json(&u, &uj);
        buf_adds(&b, buf_cstr(&uj));
        if (h->opts.stream)
            stream_set_user_json(h->opts.stream, u.username, buf_cstr(&uj));
        buf_free(&uj);
    }
    buf_addc(&b, '}');
    log_info("http: %s logged in from %s", u.username, ip);
    if (h->opts.on_login)
        h->opts.on_login(u.username, ip, h->opts.arg);
    ret = send_json(conn, 200, &b);
    buf_free(&b);
    free(token);
    store_user_row_free(&u);
    return ret;
}

static enum MHD_Result h_me(struct http *h, struct MHD_Connection *conn, const char *user)
{
    char *cause = NULL;
    struct store_conn *c = store_pool_get(h->pool, &cause);
    struct user_row u;
    struct buf b = {0};
    enum MHD_Result ret;
    int found;
    if (c == NULL)
        return db_unavailable(conn, cause);
    found = store_user_get(c, user, &u, &cause);
    store_pool_put(h->pool, c);
    if (found < 0)
        return db_unavailable(conn, cause);
    if (found == 0)
        return http_error(conn, 401, "unauthorized", "the token's user no longer exists");
    store_user_to_json(&u, &b);
    if (h->opts.stream)
        stream_set_user_json(h->opts.stream, user, buf_cstr(&b));
    store_user_row_free(&u);
    ret = send_json(conn, 200, &b);
    buf_free(&b);
    return ret;
}

static enum MHD_Result h_status(struct http *h, struct MHD_Connection *conn, const char *user)
{
    struct buf b = {0};
    enum MHD_Result ret;
    buf_addc(&b, '{');
    if (h->opts.status)
        h->opts.status(user, &b, h->opts.arg);
    buf_addc(&b, '}');
    ret = send_json(conn, 200, &b);
    buf_free(&b);
    return ret;
}

static enum MHD_Result h_sessions(struct http *h, struct MHD_Connection *conn, const char *user)
{
    long limit, before;
    char *cause = NULL;
    struct store_conn *c;
    struct session_row *rows;
    struct buf b = {0};
    enum MHD_Result ret;
    int n;
    if (query_int(conn, "limit", 20, 1, LIST_MAX, &limit) < 0)
        return http_error(conn, 400, "bad_request", "limit must be an integer from 1 to 200");
    if (query_int(conn, "before", 0, 1, LONG_MAX, &before) < 0)
        return http_error(conn, 400, "bad_request", "before must be a session id");
    c = store_pool_get(h->pool, &cause);
    if (c == NULL)
        return db_unavailable(conn, cause);
    rows = xcalloc((size_t)limit, sizeof *rows);
    n = store_list_sessions(c, user, before, (int)limit, rows, &cause);
    store_pool_put(h->pool, c);
    if (n < 0) {
        free(rows);
        return db_unavailable(conn, cause);
    }
    buf_adds(&b, "{\"sessions\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            buf_addc(&b, ',');
        store_session_to_json(&rows[i], &b);
    }
    if (n == limit && n > 0)
        buf_addf(&b, "],\"next_before\":%" PRId64 "}", rows[n - 1].id);
    else
        buf_adds(&b, "],\"next_before\":null}");
    free(rows);
    ret = send_json(conn, 200, &b);
    buf_free(&b);
    return ret;
}

/* State of a streamed CSV export. */
struct export_ctx {
    struct http *h;
    struct store_conn *c;
    struct store_export *e;
    struct buf pending;
    size_t off;
    int done;
};

static ssize_t export_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct export_ctx *x = cls;
    size_t n;
    (void)pos;
    while (x->off >= x->pending.len) {
        int r;
        if (x->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        buf_reset(&x->pending);
        x->off = 0;
        r = store_export_next(x->e, &x->pending);
        if (r < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (r == 0)
            x->done = 1;
    }
    n = x->pending.len - x->off;
    if (n > max)
        n = max;
    memcpy(out, x->pending.data + x->off, n);
    x->off += n;
    return (ssize_t)n;
}

static void export_free(void *cls)
{
    struct export_ctx *x = cls;
    store_export_close(x->e);
    store_pool_put(x->h->pool, x->c);
    buf_free(&x->pending);
    free(x);
}

static enum MHD_Result h_session(struct http *h, struct MHD_Connection *conn, const char *method,
                                 const char *user, int64_t id, const char *rest)
{
    char *cause = NULL;
    struct store_conn *c;
    struct session_row row;
    struct buf b = {0};
    enum MHD_Result ret;
    int found;
    long points = 1000;

    if (*rest && strcmp(rest, "/frames") && strcmp(rest, "/export.csv"))
        return http_error(conn, 404, "not_found", "no such endpoint");
    if (strcmp(method, "DELETE") == 0 ? *rest != '\0' : strcmp(method, "GET") != 0)
        return http_error(conn, 405, "method_not_allowed", "method not allowed here");
    if (strcmp(rest, "/frames") == 0 && query_int(conn, "points", 1000, 2, 20000, &points) < 0)
        return http_error(conn, 400, "bad_request", "points must be an integer from 2 to 20000");
    c = store_pool_get(h->pool, &cause);
    if (c == NULL)
        return db_unavailable(conn, cause);
    if (strcmp(method, "DELETE") == 0) {
        found = store_delete_session(c, user, id, &cause);
        store_pool_put(h->pool, c);
        if (found < 0)
            return db_unavailable(conn, cause);
        if (found == 0)
            return http_error(conn, 404, "not_found", "no such session");
        return send_buf(conn, 204, "application/json", "", 0);
    }
    found = store_get_session(c, user, id, &row, &cause);
    if (found <= 0) {
        store_pool_put(h->pool, c);
        if (found < 0)
            return db_unavailable(conn, cause);
        return http_error(conn, 404, "not_found", "no such session");
    }
    if (strcmp(rest, "/export.csv") == 0) {
        struct export_ctx *x = xcalloc(1, sizeof *x);
        struct MHD_Response *r;
        char disp[80];
        x->h = h;
        x->c = c;
        x->e = store_export_open(c, id, &cause);
        if (x->e == NULL) {
            store_pool_put(h->pool, c);
            free(x);
            return db_unavailable(conn, cause);
        }
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, export_read, x,
                                              export_free);
        snprintf(disp, sizeof disp, "attachment; filename=\"beamtel-session-%" PRId64 ".csv\"", id);
        MHD_add_response_header(r, "Content-Type", "text/csv; charset=utf-8");
        MHD_add_response_header(r, "Content-Disposition", disp);
        MHD_add_response_header(r, "Cache-Control", "no-store");
        ret = MHD_queue_response(conn, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(rest, "/frames") == 0) {
        if (store_session_series_json(c, &row, (int)points, &b, &cause) < 0) {
            store_pool_put(h->pool, c);
            buf_free(&b);
            return db_unavailable(conn, cause);
        }
    } else {
        store_session_to_json(&row, &b);
        b.len--; /* reopen the object for the events */
        buf_adds(&b, ",\"events\":");
        if (store_session_events_json(c, id, &b, &cause) < 0) {
            store_pool_put(h->pool, c);
            buf_free(&b);
            return db_unavailable(conn, cause);
        }
        buf_addc(&b, '}');
    }
    store_pool_put(h->pool, c);
    ret = send_json(conn, 200, &b);
    buf_free(&b);
    return ret;
}

static enum MHD_Result route(struct http *h, struct MHD_Connection *conn, const char *url,
                             const char *method, struct req *rq)
{
    char user[FRAME_USER_LEN];
    enum MHD_Result ret;
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (strcmp(url, "/ws") == 0 || strncmp(url, "/ws/", 4) == 0)
        return http_error(conn, 426, "upgrade_required",
                          "this is the WebSocket endpoint: connect with a WebSocket client");
    if (strncmp(url, "/api/", 5) != 0 && strcmp(url, "/api") != 0)
        return http_files_serve(h, conn, url, method);
    if (strcmp(url, "/api/health") == 0)
        return is_get ? h_health(h, conn) : http_error(conn, 405, "method_not_allowed", "use GET");
    if (strcmp(url, "/api/auth/login") == 0)
        return strcmp(method, "POST") == 0
                   ? h_login(h, conn, rq)
                   : http_error(conn, 405, "method_not_allowed", "use POST");
    if (authenticate(h, conn, user, sizeof user, &ret) < 0)
        return ret;
    if (strcmp(url, "/api/me") == 0)
        return is_get ? h_me(h, conn, user)
                      : http_error(conn, 405, "method_not_allowed", "use GET");
    if (strcmp(url, "/api/status") == 0)
        return is_get ? h_status(h, conn, user)
                      : http_error(conn, 405, "method_not_allowed", "use GET");
    if (strcmp(url, "/api/sessions") == 0)
        return is_get ? h_sessions(h, conn, user)
                      : http_error(conn, 405, "method_not_allowed", "use GET");
    if (strncmp(url, "/api/sessions/", 14) == 0) {
        const char *idp = url + 14, *slash = strchr(idp, '/');
        size_t len = slash ? (size_t)(slash - idp) : strlen(idp);
        int64_t id = parse_id(idp, len);
        if (id <= 0)
            return http_error(conn, 400, "bad_request", "the session id must be a number");
        return h_session(h, conn, strcmp(method, "HEAD") == 0 ? "GET" : method, user, id,
                         idp + len);
    }
    return http_error(conn, 404, "not_found", "no such endpoint");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http *h = cls;
    struct req *rq = *con_cls;
    (void)version;
    if (rq == NULL) {
        *con_cls = xcalloc(1, sizeof *rq);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (rq->body.len + *upload_data_size > BODY_MAX)
            rq->too_big = 1;
        else
            buf_add(&rq->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return route(h, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (rq) {
        buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    log_debug("mhd: %s", line);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);

int http_api_start(struct http *h, char **cause)
{
    h->daemon = MHD_start_daemon(
        MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        /* beamtel's own limit (http_api_add_connection) stays below this one. */
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)((h->opts.max_connections > 0 ? h->opts.max_connections : 256) + 64),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_END);
    if (h->daemon == NULL) {
        *cause = xstrdup("cannot start the HTTP daemon (libmicrohttpd)");
        return -1;
    }
    return 0;
}

void http_api_stop(struct http *h)
{
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    h->daemon = NULL;
}

static void peer_ip(const struct sockaddr *sa, char *out, size_t n)
{
    snprintf(out, n, "?");
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

/* Adds delta to the live count of ip; returns the slot or NULL when the table is full. */
static struct conn_count *count_conn(struct http *h, const char *ip, int delta)
{
    struct conn_count *free_slot = NULL;
    for (size_t i = 0; i < BT_ARRAY_LEN(h->per_ip); i++) {
        struct conn_count *c = &h->per_ip[i];
        if (c->n > 0 && strcmp(c->ip, ip) == 0) {
            c->n += delta;
            return c;
        }
        if (c->n == 0 && free_slot == NULL)
            free_slot = c;
    }
    if (free_slot && delta > 0) {
        snprintf(free_slot->ip, sizeof free_slot->ip, "%s", ip);
        free_slot->n = delta;
    }
    return free_slot;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http *h = cls;
    const union MHD_ConnectionInfo *ci;
    char ip[48];
    (void)socket_context;
    if (code != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    peer_ip(ci->client_addr, ip, sizeof ip);
    pthread_mutex_lock(&h->conn_mu);
    h->conns--;
    count_conn(h, ip, -1);
    pthread_mutex_unlock(&h->conn_mu);
}

void http_api_add_connection(struct http *h, int fd, const struct sockaddr *peer, socklen_t len)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                               "application/json\r\nRetry-After: 5\r\nConnection: close\r\n"
                               "Content-Length: 82\r\n\r\n"
                               "{\"error\":{\"code\":\"busy\",\"message\":\"too many connections; "
                               "try again later\"}}";
    int max = h->opts.max_connections > 0 ? h->opts.max_connections : 256;
    char ip[48];
    struct conn_count *slot;
    int ok;

    peer_ip(peer, ip, sizeof ip);
    pthread_mutex_lock(&h->conn_mu);
    /* One address may hold a quarter of the connections: a client that never finishes its
     * requests cannot lock everybody else out. */
    slot = count_conn(h, ip, 0);
    ok = h->conns < max && (slot == NULL || slot->n < max / 4 || slot->n == 0);
    if (ok && count_conn(h, ip, +1) != NULL)
        h->conns++;
    else
        ok = 0;
    pthread_mutex_unlock(&h->conn_mu);
    if (!ok) {
        if (write(fd, busy, sizeof busy - 1) < 0)
            log_debug("http: %s", strerror(errno));
        close(fd);
        return;
    }
    if (MHD_add_connection(h->daemon, fd, peer, len) != MHD_YES) {
        /* MHD closed the socket itself. */
        pthread_mutex_lock(&h->conn_mu);
        h->conns--;
        count_conn(h, ip, -1);
        pthread_mutex_unlock(&h->conn_mu);
        log_warn("http: libmicrohttpd refused a connection");
    }
}

struct http *http_new(const struct http_opts *opts, char **cause)
{
    struct http *h = xcalloc(1, sizeof *h);
    h->opts = *opts;
    h->listen_fd = -1;
    h->wake[0] = h->wake[1] = -1;
    pthread_mutex_init(&h->conn_mu, NULL);
    if (opts->web_root && *opts->web_root) {
        char real[PATH_MAX];
        if (realpath(opts->web_root, real) == NULL) {
            *cause = xasprintf("--web-root %s: %s", opts->web_root, strerror(errno));
            free(h);
            return NULL;
        }
        h->web_root = xstrdup(real);
    }
    h->pool = store_pool_new(opts->dsn, 8);
    h->limiter = auth_limiter_new(opts->login_max_failures > 0 ? opts->login_max_failures : 5,
                                  opts->login_window_s > 0 ? opts->login_window_s : 60);
    if (http_api_start(h, cause) < 0 || http_router_start(h, cause) < 0) {
        int e = errno;
        http_free(h);
        errno = e;
        return NULL;
    }
    return h;
}

void http_free(struct http *h)
{
    if (h == NULL)
        return;
    http_router_stop(h);
    http_api_stop(h);
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    if (h->wake[0] >= 0) {
        close(h->wake[0]);
        close(h->wake[1]);
    }
    store_pool_free(h->pool);
    auth_limiter_free(h->limiter);
    free(h->web_root);
    free(h);
}

const char *http_bound_addr(const struct http *h)
{
    return h->bound;
}
