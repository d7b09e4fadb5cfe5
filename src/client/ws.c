/* SPDX-License-Identifier: MIT */
/* ws: the WebSocket stream client and the single-threaded event loop around it.
 *
 * One lws context is THE loop: lws_service() polls the WebSocket, the caller's input descriptor
 * (adopted as an lws RAW file), a signalfd for the listed signals and a timerfd for the caller's
 * timers (RAW files too), and lws_sul timers for the connection's own deadlines and the
 * reconnection backoff.  Debian's lws has no SMP locks, so nothing here may be called from
 * another thread, and lws_service() ignores its timeout: it sleeps until a descriptor is ready or
 * the earliest sul is due.  Callbacks to the caller run on the same thread; they may call
 * client_ws_stop/timer/reauth, never client_ws_free. */
#include "client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define RX_MAX ((size_t)4 << 20) /* a message larger than this is dropped */
#define CLOSE_GRACE_US 300000    /* time to send our close frame when stopping */

/* What a RAW file wsi is watching (its opaque user data). */
enum ws_fdkind { FD_INPUT, FD_SIGNAL, FD_TIMER };
struct ws_fdwatch {
    struct client_ws *c;
    enum ws_fdkind kind;
    int fd; /* the descriptor lws polls (a dup for input: lws closes it) */
};

struct client_ws {
    struct client_ws_ops ops;
    void *arg;
    int reconnect, backoff_min_ms, backoff_max_ms, connect_timeout_ms, hello_timeout_ms,
        idle_timeout_ms;
    struct client_url url;
    char *canon, *path, *host, *token;

    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct lws *wsi; /* the WebSocket; NULL between attempts */
    enum client_ws_state state;
    int attempt; /* consecutive attempts that did not reach hello */
    int stop, closing;
    int conn_ended;      /* the current attempt has been reported as ended */
    int peer_close_code; /* from the peer's close frame, 0 when none */
    char peer_close_reason[124];
    char *kill_reason; /* why we killed the connection ourselves */
    struct buf rx;     /* message being reassembled */
    int rx_dropping;   /* the current message is over RX_MAX */
    char *tx;          /* LWS_PRE + pending auth message */
    size_t tx_len;
    int64_t last_rx_us; /* monotonic */
    uint32_t rng;

    lws_sorted_usec_list_t sul_retry, sul_watch, sul_stop;
    /* The caller's timers run on a timerfd, not on lws_sul: lws 4.1 sleeps in whole
     * milliseconds rounded down and then spins with poll(0) through the last one, which at
     * 30 redraws a second costs more than the drawing. */
    int64_t timer_due_us[CLIENT_WS_TIMERS]; /* monotonic; 0 = not armed */

    struct ws_fdwatch input, sig, timer;
    int input_caller_fd; /* the caller's input descriptor */
    int input_flags;     /* its F_GETFL before adoption (restored) */
    sigset_t sigset, oldmask;
    int have_sigs;
};

static const char *const state_names[] = {
    [CLIENT_WS_CONNECTING] = "connecting",
    [CLIENT_WS_AUTHENTICATING] = "authenticating",
    [CLIENT_WS_AUTHENTICATED] = "authenticated",
    [CLIENT_WS_CLOSED] = "closed",
    [CLIENT_WS_ERROR] = "error",
    [CLIENT_WS_WAITING] = "waiting",
};

const char *client_ws_state_name(enum client_ws_state s)
{
    return (unsigned)s < BT_ARRAY_LEN(state_names) ? state_names[s] : "?";
}

const char *client_ws_server(const struct client_ws *c)
{
    return c->canon;
}

static void emit(struct client_ws *c, enum client_ws_state st, int code, const char *reason,
                 int64_t retry_us)
{
    struct client_ws_event ev = {st, code, reason, c->attempt, retry_us};
    c->state = st;
    if (c->ops.on_state && !c->stop) /* after a stop the caller hears nothing more */
        c->ops.on_state(&ev, c->arg);
}

static void connect_now(struct client_ws *c);

static void on_retry(lws_sorted_usec_list_t *sul)
{
    struct client_ws *c = lws_container_of(sul, struct client_ws, sul_retry);
    if (!c->stop)
        connect_now(c);
}

static int64_t backoff_us(struct client_ws *c)
{
    int64_t d = (int64_t)c->backoff_min_ms * 1000;
    for (int i = 1; i < c->attempt && d < (int64_t)c->backoff_max_ms * 1000; i++)
        d *= 2;
    if (d > (int64_t)c->backoff_max_ms * 1000)
        d = (int64_t)c->backoff_max_ms * 1000;
    /* ±20 % jitter so that many clients of a restarted server do not return in step. */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 17;
    c->rng ^= c->rng << 5;
    return d + (d / 5) * ((int64_t)(c->rng % 2001) - 1000) / 1000;
}

/* Reports the end of the current attempt once, and schedules the next one when asked to. */
static void conn_end(struct client_ws *c, enum client_ws_state st, int code, const char *reason)
{
    int was_authenticated = c->state == CLIENT_WS_AUTHENTICATED;
    if (c->conn_ended)
        return;
    c->conn_ended = 1;
    c->wsi = NULL;
    c->closing = 0;
    lws_sul_cancel(&c->sul_watch);
    buf_reset(&c->rx);
    if (was_authenticated)
        c->attempt = 0;
    c->attempt++;
    emit(c, st, code, reason, 0);
    if (c->stop || !c->reconnect || code == CLIENT_CLOSE_AUTH)
        return;
    {
        int64_t d = backoff_us(c);
        emit(c, CLIENT_WS_WAITING, 0, NULL, d);
        if (!c->stop)
            lws_sul_schedule(c->ctx, 0, &c->sul_retry, on_retry, d);
    }
}

static void kill_conn(struct client_ws *c, const char *why)
{
    if (c->wsi == NULL)
        return;
    free(c->kill_reason);
    c->kill_reason = xstrdup(why);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void on_watch(lws_sorted_usec_list_t *sul)
{
    struct client_ws *c = lws_container_of(sul, struct client_ws, sul_watch);
    char why[96];
    if (c->state == CLIENT_WS_CONNECTING) {
        snprintf(why, sizeof why, "no answer within %d s", (c->connect_timeout_ms + 999) / 1000);
        kill_conn(c, why);
    } else if (c->state == CLIENT_WS_AUTHENTICATING) {
        snprintf(why, sizeof why, "the server did not accept the login within %d s",
                 (c->hello_timeout_ms + 999) / 1000);
        kill_conn(c, why);
    } else if (c->state == CLIENT_WS_AUTHENTICATED && c->idle_timeout_ms > 0) {
        int64_t idle = time_mono_us() - c->last_rx_us, lim = (int64_t)c->idle_timeout_ms * 1000;
        if (idle >= lim) {
            snprintf(why, sizeof why, "nothing received for %d s",
                     (c->idle_timeout_ms + 999) / 1000);
            kill_conn(c, why);
        } else {
            lws_sul_schedule(c->ctx, 0, &c->sul_watch, on_watch, lim - idle);
        }
    }
}

static void connect_now(struct client_ws *c)
{
    struct lws_client_connect_info ci;

    c->conn_ended = 0;
    c->peer_close_code = 0;
    c->peer_close_reason[0] = '\0';
    free(c->kill_reason);
    c->kill_reason = NULL;
    emit(c, CLIENT_WS_CONNECTING, 0, NULL, 0);
    if (c->stop)
        return;
    client_lws_log_setup();
    memset(&ci, 0, sizeof ci);
    ci.context = c->ctx;
    ci.vhost = c->vh;
    ci.address = c->url.host;
    ci.port = c->url.port;
    ci.ssl_connection = c->url.tls ? LCCSCF_USE_SSL : 0;
    ci.path = c->path;
    ci.host = c->host;
    ci.protocol = NULL; /* no subprotocol: the server's stream is its protocols[0] */
    ci.local_protocol_name = "beamtel-ws";
    ci.alpn = "http/1.1";
    ci.opaque_user_data = c;
    ci.pwsi = &c->wsi;
    lws_sul_schedule(c->ctx, 0, &c->sul_watch, on_watch, (lws_usec_t)c->connect_timeout_ms * 1000);
    if (lws_client_connect_via_info(&ci) == NULL)
        conn_end(c, CLIENT_WS_ERROR, 0, "cannot start the connection");
}

/* Text for a connection that failed before the WebSocket was established. */
static char *connect_failure(struct client_ws *c, struct lws *wsi, const char *lws_reason)
{
    char *why = NULL, *out;
    int status = wsi ? (int)lws_http_client_http_response(wsi) : 0;
    if (c->kill_reason)
        why = xstrdup(c->kill_reason);
    else if (status == 401 || status == 403)
        why = xasprintf("the server refused the login (HTTP %d)", status);
    else if (status >= 200 && status != 101)
        why = xasprintf("the server refused the WebSocket upgrade (HTTP %d)", status);
    else if (lws_reason && strstr(lws_reason, "timeout"))
        why = xstrdup("timed out");
    else
        why = client_url_diagnose(&c->url, lws_reason, 500);
    out = xasprintf("cannot connect to %s: %s", c->canon, why);
    free(why);
    return out;
}

static void queue_auth(struct client_ws *c, const char *token)
{
    struct buf b = {0};
    buf_reserve(&b, LWS_PRE);
    b.len = LWS_PRE;
    buf_adds(&b, "{\"type\":\"auth\",\"token\":");
    buf_add_json_str(&b, token, strlen(token));
    buf_addc(&b, '}');
    if (c->tx) {
        explicit_bzero(c->tx, c->tx_len + LWS_PRE);
        free(c->tx);
    }
    c->tx = b.data;
    c->tx_len = b.len - LWS_PRE;
    lws_callback_on_writable(c->wsi);
}

/* A whole message arrived. */
static void on_message(struct client_ws *c)
{
    const char *msg = buf_cstr(&c->rx);
    c->last_rx_us = time_mono_us();
    if (c->state == CLIENT_WS_AUTHENTICATING) {
        cJSON *root = cJSON_ParseWithLength(msg, c->rx.len);
        cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
        int hello = cJSON_IsString(type) && strcmp(type->valuestring, "hello") == 0;
        cJSON_Delete(root);
        if (hello) {
            c->attempt = 0;
            emit(c, CLIENT_WS_AUTHENTICATED, 0, NULL, 0);
            lws_sul_cancel(&c->sul_watch);
            if (c->idle_timeout_ms > 0)
                lws_sul_schedule(c->ctx, 0, &c->sul_watch, on_watch,
                                 (lws_usec_t)c->idle_timeout_ms * 1000);
        }
    }
    if (c->ops.on_message && !c->stop)
        c->ops.on_message(msg, c->rx.len, c->arg);
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct client_ws *c = lws_get_opaque_user_data(wsi);

    if (c == NULL || (c->wsi != NULL && wsi != c->wsi))
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char *why = connect_failure(c, wsi, in && len ? (const char *)in : NULL);
        conn_end(c, CLIENT_WS_ERROR, 0, why);
        free(why);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        emit(c, CLIENT_WS_AUTHENTICATING, 0, NULL, 0);
        lws_sul_schedule(c->ctx, 0, &c->sul_watch, on_watch,
                         (lws_usec_t)c->hello_timeout_ms * 1000);
        queue_auth(c, c->token);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
            return -1;
        }
        if (c->tx) {
            int n = lws_write(wsi, (unsigned char *)c->tx + LWS_PRE, c->tx_len, LWS_WRITE_TEXT);
            explicit_bzero(c->tx, c->tx_len + LWS_PRE);
            free(c->tx);
            c->tx = NULL;
            if (n < (int)c->tx_len)
                return -1;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c->rx_dropping && c->rx.len + len <= RX_MAX)
            buf_add(&c->rx, in, len);
        else
            c->rx_dropping = 1;
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            if (c->rx_dropping)
                log_warn("dropped a WebSocket message larger than %zu bytes", RX_MAX);
            else if (!lws_frame_is_binary(wsi))
                on_message(c);
            buf_reset(&c->rx);
            c->rx_dropping = 0;
        }
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *p = in;
            size_t rl = len - 2 < sizeof c->peer_close_reason - 1 ? len - 2
                                                                  : sizeof c->peer_close_reason - 1;
            c->peer_close_code = (p[0] << 8) | p[1];
            /* The peer's text reaches a terminal: no control characters. */
            for (size_t i = 0; i < rl; i++)
                c->peer_close_reason[i] =
                    p[2 + i] < 0x20 || p[2 + i] == 0x7f ? '?' : (char)p[2 + i];
            c->peer_close_reason[rl] = '\0';
        } else {
            c->peer_close_code = 1005; /* no status */
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED: {
        char *why;
        int code = c->peer_close_code ? c->peer_close_code : CLIENT_CLOSE_ABNORMAL;
        if (c->kill_reason)
            why = xasprintf("connection to %s lost: %s", c->canon, c->kill_reason);
        else if (c->peer_close_code)
            why = xasprintf("%s closed the connection (%d%s%s)", c->canon, code,
                            c->peer_close_reason[0] ? ": " : "", c->peer_close_reason);
        else
            why = xasprintf("connection to %s lost", c->canon);
        conn_end(c, CLIENT_WS_CLOSED, code, why);
        free(why);
        return 0;
    }
    case LWS_CALLBACK_WSI_DESTROY:
        if (wsi == c->wsi) /* closed without a callback above (e.g. during the upgrade) */
            conn_end(c, CLIENT_WS_ERROR, 0, "connection closed");
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void timers_arm(struct client_ws *c)
{
    struct itimerspec its;
    int64_t next = 0;
    memset(&its, 0, sizeof its);
    for (int i = 0; i < CLIENT_WS_TIMERS; i++)
        if (c->timer_due_us[i] && (next == 0 || c->timer_due_us[i] < next))
            next = c->timer_due_us[i];
    if (next) { /* absolute CLOCK_MONOTONIC, the clock of time_mono_us() */
        its.it_value.tv_sec = next / 1000000;
        its.it_value.tv_nsec = (long)(next % 1000000) * 1000;
    }
    if (c->timer.fd >= 0)
        timerfd_settime(c->timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void timers_fire(struct client_ws *c)
{
    uint64_t n;
    int64_t now = time_mono_us();
    while (read(c->timer.fd, &n, sizeof n) == (ssize_t)sizeof n)
        ;
    for (int i = 0; i < CLIENT_WS_TIMERS && !c->stop; i++)
        if (c->timer_due_us[i] && c->timer_due_us[i] <= now) {
            c->timer_due_us[i] = 0;
            if (c->ops.on_timer)
                c->ops.on_timer(i, c->arg);
        }
    timers_arm(c);
}

static int raw_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    struct ws_fdwatch *w = lws_get_opaque_user_data(wsi);
    (void)user;
    (void)in;
    (void)len;
    if (w == NULL)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (w->kind == FD_SIGNAL) {
            struct signalfd_siginfo si;
            while (read(w->fd, &si, sizeof si) == (ssize_t)sizeof si)
                if (w->c->ops.on_signal && !w->c->stop)
                    w->c->ops.on_signal((int)si.ssi_signo, w->c->arg);
        } else if (w->kind == FD_TIMER) {
            timers_fire(w->c);
        } else if (w->c->ops.on_input && !w->c->stop) {
            w->c->ops.on_input(w->c->arg);
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        /* Hang-up of the input (terminal gone): let the caller read the end of file. */
        if (w->kind == FD_INPUT && w->c->ops.on_input && !w->c->stop)
            w->c->ops.on_input(w->c->arg);
        w->fd = -1;
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols ws_protocols[] = {
    {"beamtel-ws", ws_cb, 0, 65536, 0, NULL, 0},
    {"beamtel-raw", raw_cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

void client_ws_timer(struct client_ws *c, int id, int64_t delay_us)
{
    if (id < 0 || id >= CLIENT_WS_TIMERS)
        return;
    c->timer_due_us[id] = delay_us < 0 ? 0 : time_mono_us() + (delay_us > 0 ? delay_us : 1);
    timers_arm(c);
}

static int adopt(struct client_ws *c, struct ws_fdwatch *w, int fd, enum ws_fdkind kind,
                 char **cause)
{
    lws_sock_file_fd_type u;
    struct lws *wsi;
    w->c = c;
    w->kind = kind;
    w->fd = fd;
    u.filefd = fd;
    wsi = lws_adopt_descriptor_vhost(c->vh, LWS_ADOPT_RAW_FILE_DESC, u, "beamtel-raw", NULL);
    if (wsi == NULL) {
        *cause = xstrdup("cannot watch a descriptor with libwebsockets");
        close(fd);
        w->fd = -1;
        return -1;
    }
    lws_set_opaque_user_data(wsi, w);
    return 0;
}

static void apply_opts(struct client_ws *c, const struct client_ws_opts *o)
{
    c->reconnect = o->reconnect;
    c->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : 500;
    c->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 10000;
    if (c->backoff_max_ms < c->backoff_min_ms)
        c->backoff_max_ms = c->backoff_min_ms;
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    c->hello_timeout_ms = o->hello_timeout_ms > 0 ? o->hello_timeout_ms : 10000;
    c->idle_timeout_ms = o->idle_timeout_ms > 0 ? o->idle_timeout_ms : 0;
}

struct client_ws *client_ws_new(const struct client_ws_opts *opts, const struct client_ws_ops *ops,
                                void *arg, char **cause)
{
    struct lws_context_creation_info info;
    struct client_ws *c = xcalloc(1, sizeof *c);

    c->ops = *ops;
    c->arg = arg;
    c->input.fd = c->sig.fd = c->timer.fd = -1;
    c->input_flags = -1;
    c->rng = (uint32_t)time_mono_us() | 1u;
    apply_opts(c, opts);
    if (client_url_parse(opts->server, &c->url, cause) < 0)
        goto fail;
    c->canon = client_url_canonical(&c->url);
    c->path = xasprintf("%s/ws", c->url.prefix);
    c->host =
        (c->url.port == (c->url.tls ? 443 : 80))
            ? xstrdup(c->url.host)
            : xasprintf(strchr(c->url.host, ':') ? "[%s]:%d" : "%s:%d", c->url.host, c->url.port);
    c->token = xstrdup(opts->token ? opts->token : "");

    /* Block the signals before lws exists so that none is delivered the old way. */
    sigemptyset(&c->sigset);
    for (int i = 0; i < opts->nsignals; i++)
        sigaddset(&c->sigset, opts->signals[i]);
    if (opts->nsignals > 0) {
        sigprocmask(SIG_BLOCK, &c->sigset, &c->oldmask);
        c->have_sigs = 1;
    }

    client_lws_log_setup();
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ws_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.timeout_secs = (unsigned)(c->connect_timeout_ms + 999) / 1000;
    info.connect_timeout_secs = info.timeout_secs;
    info.gid = -1;
    info.uid = -1;
    c->ctx = lws_create_context(&info);
    if (c->ctx == NULL) {
        *cause = xstrdup("cannot create the libwebsockets context");
        goto fail;
    }
    c->vh = lws_get_vhost_by_name(c->ctx, "default");
    if (c->vh == NULL) {
        *cause = xstrdup("libwebsockets has no default vhost");
        goto fail;
    }
    if (opts->nsignals > 0) {
        int sfd = signalfd(-1, &c->sigset, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sfd < 0) {
            *cause = xasprintf("signalfd: %s", strerror(errno));
            goto fail;
        }
        if (adopt(c, &c->sig, sfd, FD_SIGNAL, cause) < 0)
            goto fail;
    }
    {
        int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (tfd < 0) {
            *cause = xasprintf("timerfd: %s", strerror(errno));
            goto fail;
        }
        if (adopt(c, &c->timer, tfd, FD_TIMER, cause) < 0)
            goto fail;
    }
    if (opts->input_fd >= 0) {
        /* lws closes what it adopts: give it a duplicate and keep the caller's descriptor. */
        int fd = fcntl(opts->input_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
            *cause = xasprintf("cannot watch descriptor %d: %s", opts->input_fd, strerror(errno));
            goto fail;
        }
        c->input_caller_fd = opts->input_fd;
        c->input_flags = fcntl(fd, F_GETFL);
        if (adopt(c, &c->input, fd, FD_INPUT, cause) < 0)
            goto fail;
    }
    c->state = CLIENT_WS_WAITING;
    return c;
fail:
    client_ws_free(c);
    return NULL;
}

static void on_stop_deadline(lws_sorted_usec_list_t *sul)
{
    struct client_ws *c = lws_container_of(sul, struct client_ws, sul_stop);
    c->closing = 0; /* give up waiting for the close handshake */
}

void client_ws_run(struct client_ws *c)
{
    if (!c->stop)
        connect_now(c);
    while (!c->stop)
        if (lws_service(c->ctx, 0) < 0)
            break;
    /* Say goodbye with a close frame if a connection is up, for a short while at most. */
    if (c->wsi && c->state >= CLIENT_WS_AUTHENTICATING && c->state <= CLIENT_WS_AUTHENTICATED &&
        !c->conn_ended) {
        c->closing = 1;
        lws_callback_on_writable(c->wsi);
        lws_sul_schedule(c->ctx, 0, &c->sul_stop, on_stop_deadline, CLOSE_GRACE_US);
        while (c->closing && c->wsi && !c->conn_ended)
            if (lws_service(c->ctx, 0) < 0)
                break;
        lws_sul_cancel(&c->sul_stop);
    }
}

void client_ws_stop(struct client_ws *c)
{
    c->stop = 1;
    lws_sul_cancel(&c->sul_retry);
    if (c->ctx)
        lws_cancel_service(c->ctx);
}

int client_ws_reauth(struct client_ws *c, const char *token)
{
    free(c->token);
    c->token = xstrdup(token);
    if (c->wsi == NULL || c->state != CLIENT_WS_AUTHENTICATED)
        return -1;
    queue_auth(c, token);
    return 0;
}

void client_ws_free(struct client_ws *c)
{
    if (c == NULL)
        return;
    c->stop = 1;
    if (c->ctx) {
        lws_sul_cancel(&c->sul_retry);
        lws_sul_cancel(&c->sul_watch);
        lws_sul_cancel(&c->sul_stop);
        /* No more callbacks to the caller while lws tears the connections down. */
        memset(&c->ops, 0, sizeof c->ops);
        lws_context_destroy(c->ctx);
    }
    if (c->input_flags >= 0) {
        /* lws may have made the (shared) open file description non-blocking. */
        int fl = fcntl(c->input_caller_fd, F_GETFL);
        if (fl >= 0 && (fl & O_NONBLOCK) && !(c->input_flags & O_NONBLOCK))
            fcntl(c->input_caller_fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    if (c->have_sigs) {
        /* Drop what is still pending, then unblock. */
        struct timespec zero = {0, 0};
        while (sigtimedwait(&c->sigset, NULL, &zero) > 0)
            ;
        sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
    }
    if (c->tx) {
        explicit_bzero(c->tx, c->tx_len + LWS_PRE);
        free(c->tx);
    }
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    buf_free(&c->rx);
    free(c->kill_reason);
    free(c->canon);
    free(c->path);
    free(c->host);
    free(c);
}
