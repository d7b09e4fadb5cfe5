/* SPDX-License-Identifier: MIT */
/* http: the one TCP port of `serve` (DESIGN §2.1).  A router thread accepts and peeks at each
 * request head, then hands HTTP to libmicrohttpd (the JSON API of §7 and the web files) and
 * WebSocket upgrades to the stream module.  It never touches libwebsockets itself. */
#ifndef BEAMTEL_HTTP_H
#define BEAMTEL_HTTP_H

#include "common/common.h"
#include "stream/stream.h"

#include <stddef.h>
#include <stdint.h>

/* Appends the status JSON members (no braces) for one user; any thread; must not block long. */
typedef void (*http_status_fn)(const char *user, struct buf *out, void *arg);
/* Called after a successful login with the client's address (for §3.6 last_ip mapping). */
typedef void (*http_login_fn)(const char *user, const char *ip, void *arg);

struct http_opts {
    const char *listen_addr; /* "127.0.0.1:8080" */
    const char *web_root;    /* directory of the built web app; NULL or "" for none */
    const char *dsn;         /* PostgreSQL for users and sessions */
    const uint8_t *jwt_key;  /* HS256 secret (≥ 32 bytes), owned by the caller */
    size_t jwt_key_len;
    int64_t token_lifetime_s;    /* 12 h */
    int max_connections;         /* concurrent HTTP connections (256) */
    int login_max_failures;      /* per IP within login_window_s before 429 (5) */
    int login_window_s;          /* 60 */
    const char *trusted_proxies; /* "127.0.0.1,::1": their X-Forwarded-For is believed */
    struct stream *stream;       /* WebSocket hand-off; NULL: /ws answers 503 */
    http_status_fn status;
    http_login_fn on_login;
    void *arg;
};

struct http;
/* Binds the port and starts the router and the HTTP daemon.  On failure NULL, *cause set and
 * errno kept (EADDRINUSE for a port in use). */
struct http *http_new(const struct http_opts *opts, char **cause);
void http_free(struct http *h);
/* "127.0.0.1:8080" as bound. */
const char *http_bound_addr(const struct http *h);

#endif
