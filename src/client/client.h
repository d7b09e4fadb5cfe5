/* SPDX-License-Identifier: MIT */
/* client: the client side of the wire contract (docs/PROTOCOL.md) for `login`, `stream`, `tui`
 * and `sessions --server` — a small HTTP/1.1 client, the stored token, and the WebSocket stream
 * with its single-threaded event loop.  Built on the libwebsockets client; never reads the
 * global configuration and never touches the terminal except in client_read_password().
 *
 * Threads: every function here runs on the caller's thread.  A struct client_ws owns one lws
 * context and is driven only by the thread that calls client_ws_run(); its callbacks run on that
 * thread.  client_http() creates, runs and destroys its own short-lived lws context, so it must
 * not be called from inside a client_ws callback (it would nest lws service loops). */
#ifndef BEAMTEL_CLIENT_H
#define BEAMTEL_CLIENT_H

#include "common/common.h"

#include <stdint.h>

/* ---- server URLs (url.c) ---- */

/* A parsed server URL: "http://HOST[:PORT][/PREFIX]" or https.  A URL without a scheme is
 * taken as http.  The prefix (a reverse proxy's mount point) has no trailing slash. */
struct client_url {
    int tls;        /* 1 for https */
    char host[256]; /* without brackets for IPv6 */
    int port;       /* 80 / 443 by default */
    char prefix[512];
};

/* Parses a server URL.  On success 0 is returned; on failure -1 and *cause is set. */
int client_url_parse(const char *url, struct client_url *u, char **cause);
/* The canonical text form ("http://127.0.0.1:8080", no trailing slash), for messages and for
 * comparing a stored token's server; the caller frees it. */
char *client_url_canonical(const struct client_url *u);
/* The canonical form of a URL given as text, or NULL (with *cause) when it does not parse. */
char *client_url_normalize(const char *url, char **cause);
/* Explains why a connection to u failed, in words for the user: resolves and connects once more
 * (blocking, at most timeout_ms) to name the TCP failure ("connection refused", "no route to
 * host", "cannot resolve NAME: …", "timed out"); when TCP works, the failure was TLS or HTTP
 * and lws_reason (libwebsockets' text, may be NULL) says which.  The caller frees the text. */
char *client_url_diagnose(const struct client_url *u, const char *lws_reason, int timeout_ms);
/* Routes libwebsockets' own log lines into log_debug() (tag "lws"): the client reports
 * failures itself, in words the user can act on.  Call it before each connection: it also
 * forgets the last TLS error that client_url_diagnose() may quote. */
void client_lws_log_setup(void);

/* ---- HTTP (http.c) ---- */

struct client_http_request {
    const char *method; /* "GET", "POST", "DELETE" */
    const char *server; /* server URL as given by the user */
    const char *path;   /* "/api/auth/login" (appended to the URL's prefix) */
    const char *token;  /* Authorization: Bearer; NULL for none */
    const char *body;   /* JSON body; NULL for none */
    int timeout_ms;     /* whole request; 0 means 15 s */
    size_t max_body;    /* larger answers fail; 0 means 64 MiB */
};

struct client_http_response {
    int status;        /* HTTP status */
    struct buf body;   /* the whole body, NUL-terminated through buf_cstr() */
    int retry_after_s; /* Retry-After in seconds, or -1 */
};

/* Performs one request.  Returns 0 when an HTTP answer arrived (any status), filling *resp
 * (free it with client_http_response_free); returns -1 with *cause ("cannot connect to
 * http://127.0.0.1:8080: connection refused", "... timed out") when there is none. */
int client_http(const struct client_http_request *req, struct client_http_response *resp,
                char **cause);
void client_http_response_free(struct client_http_response *resp);
/* The "message" of a JSON error body ({"error":{"code","message"}}), else a generic text for
 * the status; the caller frees it. */
char *client_http_error_text(const struct client_http_response *resp);

/* ---- the stored token (token.c) ---- */

/* One login: which server, as whom, the bearer token and its expiry. */
struct client_token {
    char *server; /* canonical URL */
    char *user;
    char *token;
    int64_t expires_us; /* µs since the epoch; 0 when unknown */
};

enum client_token_status {
    CLIENT_TOKEN_VALID = 0,
    CLIENT_TOKEN_ABSENT,  /* no file (never logged in, or logged out) */
    CLIENT_TOKEN_EXPIRED, /* a token is stored but its expiry has passed (fields are filled) */
    CLIENT_TOKEN_ERROR,   /* the file exists but cannot be read or parsed (*cause is set) */
};

/* $XDG_CONFIG_HOME/beamtel/token, else ~/.config/beamtel/token; the caller frees it. */
char *client_token_path(void);
/* Loads the stored token from path (NULL: client_token_path()).  Returns one of
 * enum client_token_status; *t is filled for VALID and EXPIRED (free with client_token_free). */
int client_token_load(const char *path, struct client_token *t, char **cause);
/* Writes the token file atomically (temporary file, fsync, rename) with mode 0600, creating
 * the directory 0700.  On success 0 is returned; on failure -1 and *cause is set. */
int client_token_save(const char *path, const struct client_token *t, char **cause);
/* Removes the token file; 0 when it is gone (absent already counts). */
int client_token_remove(const char *path, char **cause);
void client_token_free(struct client_token *t);
/* Parses "2026-12-03T17:22:08.123Z" (also without fraction, or with +00:00) into µs since the
 * epoch; -1 when the text is not such a time. */
int client_parse_iso_time(const char *s, int64_t *us);
/* The "exp" claim of a JWT (without verifying it) in µs; -1 when absent or malformed. */
int client_jwt_expiry(const char *jwt, int64_t *us);

/* ---- logging in (login.c) ---- */

/* Reads a password from /dev/tty with echo off, after printing prompt there; Ctrl-C restores
 * the terminal.  Returns a string the caller wipes and frees, or NULL with *cause. */
char *client_read_password(const char *prompt, char **cause);

enum client_login_result {
    CLIENT_LOGIN_OK = 0,
    CLIENT_LOGIN_DENIED,       /* 401: wrong user name or password (*cause) */
    CLIENT_LOGIN_RATE_LIMITED, /* 429 (*cause says how long to wait) */
    CLIENT_LOGIN_UNAVAILABLE,  /* no answer from the server (*cause) */
    CLIENT_LOGIN_FAILED,       /* any other answer (*cause) */
};
/* POSTs /api/auth/login and fills *t (server canonical, user, token, expiry) on success.
 * Returns an enum client_login_result; *cause is set unless CLIENT_LOGIN_OK. */
int client_login(const char *server, const char *user, const char *password, struct client_token *t,
                 char **cause);

/* ---- the WebSocket stream and the event loop (ws.c) ---- */

enum client_ws_state {
    CLIENT_WS_CONNECTING,     /* TCP, TLS and the HTTP upgrade are under way */
    CLIENT_WS_AUTHENTICATING, /* upgraded; the auth message is sent, waiting for "hello" */
    CLIENT_WS_AUTHENTICATED,  /* "hello" arrived: frames, sessions and status follow */
    CLIENT_WS_CLOSED,         /* the connection ended (close_code, reason) */
    CLIENT_WS_ERROR,          /* the connection could not be made (reason) */
    CLIENT_WS_WAITING,        /* a reconnection is scheduled in retry_in_us */
};

/* Close codes of the contract (docs/PROTOCOL.md). */
enum {
    CLIENT_CLOSE_NORMAL = 1000,
    CLIENT_CLOSE_GOING_AWAY = 1001, /* server shutting down */
    CLIENT_CLOSE_ABNORMAL = 1006,   /* no close frame: the connection dropped */
    CLIENT_CLOSE_AUTH = 4401,       /* authentication failed, missing, or the token expired */
    CLIENT_CLOSE_SLOW = 4408,       /* the client stayed too slow */
};

struct client_ws_event {
    enum client_ws_state state;
    int close_code;      /* CLOSED: the peer's code, or 1006 when none arrived */
    const char *reason;  /* CLOSED, ERROR: human-readable text (never NULL then) */
    int attempt;         /* consecutive attempts that did not reach "hello" */
    int64_t retry_in_us; /* WAITING: delay before the next attempt */
};

/* Callbacks, all on the thread running client_ws_run(); any may be NULL. */
struct client_ws_ops {
    void (*on_state)(const struct client_ws_event *ev, void *arg);
    /* One complete text message (NUL-terminated at json[len]), "hello" included. */
    void (*on_message)(const char *json, size_t len, void *arg);
    /* input_fd is readable (or at end of file; the callback reads it). */
    void (*on_input)(void *arg);
    /* One of the signals listed in opts arrived (delivered through signalfd). */
    void (*on_signal)(int signo, void *arg);
    /* Timer `id` (0..CLIENT_WS_TIMERS-1) set with client_ws_timer() expired. */
    void (*on_timer)(int id, void *arg);
};

#define CLIENT_WS_TIMERS 4

struct client_ws_opts {
    const char *server;     /* server URL; the stream is at PREFIX/ws */
    const char *token;      /* sent as {"type":"auth","token":…} first */
    int reconnect;          /* 1: retry with backoff after an error or a close, except 4401 */
    int backoff_min_ms;     /* first retry delay (500) */
    int backoff_max_ms;     /* cap of the doubling delay (10000) */
    int connect_timeout_ms; /* TCP + TLS + upgrade (10000) */
    int hello_timeout_ms;   /* from upgrade to "hello" (10000) */
    int idle_timeout_ms;    /* no message at all while authenticated: reconnect (0: off) */
    int input_fd;           /* watched for input (e.g. 0 for the keyboard); -1 for none */
    const int *signals;     /* blocked and delivered through on_signal; may be NULL */
    int nsignals;
};

struct client_ws;
/* Creates the event loop (one lws context, the signalfd, the input watch) and starts the first
 * connection attempt.  The listed signals are blocked in the calling thread from now on.  NULL
 * with *cause on failure. */
struct client_ws *client_ws_new(const struct client_ws_opts *opts, const struct client_ws_ops *ops,
                                void *arg, char **cause);
/* Runs the loop (lws_service) until client_ws_stop() is called from a callback. */
void client_ws_run(struct client_ws *c);
/* Makes client_ws_run() return after the current callback; no reconnection is scheduled. */
void client_ws_stop(struct client_ws *c);
/* Arms timer id to fire once after delay_us (replacing a pending one); delay_us < 0 cancels. */
void client_ws_timer(struct client_ws *c, int id, int64_t delay_us);
/* Sends a fresh auth message (extends the session); 0, or -1 when not connected. */
int client_ws_reauth(struct client_ws *c, const char *token);
/* The canonical server URL (for messages). */
const char *client_ws_server(const struct client_ws *c);
/* Closes the connection and the loop's descriptors and frees everything; restores the
 * signal mask. */
void client_ws_free(struct client_ws *c);
/* Human name of a state ("connecting", "authenticated", ...). */
const char *client_ws_state_name(enum client_ws_state s);

#endif
