/* SPDX-License-Identifier: MIT */
/* stream: the WebSocket hub.  A ring of recent frames and session events, written by the ingest
 * thread under a lock held only for a copy, read by the libwebsockets service thread, which owns
 * every client.  Clients authenticate with their first message; each gets only its user's
 * frames, skipping ahead (latest wins) when it falls behind. */
#include "stream.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TICK_US 250000       /* expiry, choke and status checks */
#define STATUS_EVERY_TICKS 4 /* status once a second */
#define LAG_SKIP 120         /* further behind than this: jump to the newest (latest wins) */
#define RX_MAX 8192          /* largest client message accepted */
#define ADOPT_MAX 512        /* sockets waiting for adoption */

enum entry_kind { ENTRY_FRAME = 1, ENTRY_SESSION };

struct entry {
    uint64_t seq;
    enum entry_kind kind;
    char user[FRAME_USER_LEN];
    struct frame frame;
    int has_live;
    struct tracker_live live;
    char *json; /* ENTRY_SESSION: the whole message */
};

struct client {
    struct client *next;
    struct stream *s;
    struct lws *wsi;
    lws_sorted_usec_list_t sul_auth;
    int authed;
    char user[FRAME_USER_LEN];
    int64_t exp_s;
    uint64_t next_seq;
    int hello_pending;
    char *status_json;
    int close_code;
    char close_reason[96];
    int64_t choked_since_us; /* first choked tick of the current episode; 0 when flowing */
    int free_ticks;          /* consecutive ticks without choking */
    struct buf rx;
};

struct user_json {
    struct user_json *next;
    char user[FRAME_USER_LEN];
    char *json;
};

struct stream {
    struct stream_opts opts;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    pthread_t thread;
    atomic_int stop;
    atomic_int stopping; /* clients are being closed with 1001 */
    atomic_int wake_pending;
    atomic_int authed_count;
    lws_sorted_usec_list_t sul_tick;
    int ticks;
    /* shared, under mu */
    pthread_mutex_t mu;
    struct entry *ring;
    uint64_t head; /* seq of the next entry written */
    int adopt[ADOPT_MAX];
    int nadopt;
    struct user_json *users;
    /* service thread only */
    struct client *clients;
    struct buf out;
};

static struct lws_protocols protocols[];

static void wake(struct stream *s)
{
    /* One pending wake-up is enough: the service thread drains everything when it runs. */
    if (!atomic_exchange(&s->wake_pending, 1))
        lws_cancel_service(s->ctx);
}

void stream_publish_frame(struct stream *s, const struct frame *f, const struct tracker_live *live)
{
    struct entry *e;
    pthread_mutex_lock(&s->mu);
    e = &s->ring[s->head % (uint64_t)s->opts.ring_frames];
    free(e->json);
    e->json = NULL;
    e->seq = s->head++;
    e->kind = ENTRY_FRAME;
    memcpy(e->user, f->user, sizeof e->user);
    e->frame = *f;
    e->has_live = live != NULL;
    if (live)
        e->live = *live;
    pthread_mutex_unlock(&s->mu);
    if (atomic_load_explicit(&s->authed_count, memory_order_relaxed) > 0)
        wake(s);
}

void stream_publish_session(struct stream *s, const char *user, const char *event, const char *json)
{
    struct entry *e;
    char *msg = xasprintf("{\"type\":\"session\",\"event\":\"%s\",\"session\":%s}", event, json);
    pthread_mutex_lock(&s->mu);
    e = &s->ring[s->head % (uint64_t)s->opts.ring_frames];
    free(e->json);
    e->seq = s->head++;
    e->kind = ENTRY_SESSION;
    snprintf(e->user, sizeof e->user, "%s", user);
    e->json = msg;
    pthread_mutex_unlock(&s->mu);
    wake(s);
}

void stream_set_user_json(struct stream *s, const char *user, const char *json)
{
    struct user_json *u;
    pthread_mutex_lock(&s->mu);
    for (u = s->users; u; u = u->next)
        if (strcmp(u->user, user) == 0)
            break;
    if (u == NULL) {
        u = xcalloc(1, sizeof *u);
        snprintf(u->user, sizeof u->user, "%s", user);
        u->next = s->users;
        s->users = u;
    }
    free(u->json);
    u->json = xstrdup(json);
    pthread_mutex_unlock(&s->mu);
}

void stream_adopt_fd(struct stream *s, int fd)
{
    int ok;
    pthread_mutex_lock(&s->mu);
    ok = s->nadopt < ADOPT_MAX;
    if (ok)
        s->adopt[s->nadopt++] = fd;
    pthread_mutex_unlock(&s->mu);
    if (!ok) {
        log_warn("stream: too many WebSocket connections waiting; one refused");
        close(fd);
        return;
    }
    wake(s);
}

int stream_client_count(struct stream *s)
{
    return atomic_load(&s->authed_count);
}

/* ---- service thread ---- */

static void client_close(struct client *c, int code, const char *reason)
{
    if (c->close_code)
        return;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    lws_callback_on_writable(c->wsi);
}

static void on_auth_timeout(lws_sorted_usec_list_t *sul)
{
    struct client *c = lws_container_of(sul, struct client, sul_auth);
    if (!c->authed)
        client_close(c, 4401, "authentication timeout: send {\"type\":\"auth\"} first");
}

static void drain_adopt_queue(struct stream *s)
{
    int fds[ADOPT_MAX], n;
    pthread_mutex_lock(&s->mu);
    n = s->nadopt;
    memcpy(fds, s->adopt, (size_t)n * sizeof fds[0]);
    s->nadopt = 0;
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < n; i++) {
        int sz = s->opts.sndbuf_bytes;
        /* A small kernel buffer makes a slow reader visible as "choked" quickly. */
        setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        if (lws_adopt_socket_vhost(s->vh, fds[i]) == NULL) {
            log_warn("stream: cannot adopt a WebSocket connection");
            close(fds[i]);
        }
    }
}

static void kick_writers(struct stream *s)
{
    uint64_t head;
    pthread_mutex_lock(&s->mu);
    head = s->head;
    pthread_mutex_unlock(&s->mu);
    for (struct client *c = s->clients; c; c = c->next)
        if (c->authed && !c->close_code && c->next_seq < head)
            lws_callback_on_writable(c->wsi);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct stream *s = lws_container_of(sul, struct stream, sul_tick);
    int64_t now_us = time_now_us(), mono = time_mono_us();
    int do_status = ++s->ticks % STATUS_EVERY_TICKS == 0;
    for (struct client *c = s->clients; c; c = c->next) {
        if (!c->authed || c->close_code)
            continue;
        if (now_us / 1000000 >= c->exp_s) {
            client_close(c, 4401, "token expired: log in again");
            continue;
        }
        /* Choked time adds up until the client has flowed freely for 2.5 s, so that a reader
         * that lets a few frames through now and then is still closed. */
        if (lws_send_pipe_choked(c->wsi)) {
            c->free_ticks = 0;
            if (c->choked_since_us == 0)
                c->choked_since_us = mono;
            else if (mono - c->choked_since_us >= (int64_t)s->opts.choke_timeout_ms * 1000) {
                log_warn("stream: closing %s's client: it took no data for %d s", c->user,
                         s->opts.choke_timeout_ms / 1000);
                c->close_code = 4408;
                lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
                continue;
            }
        } else if (++c->free_ticks >= 10) {
            c->choked_since_us = 0;
        }
        if (do_status && s->opts.status) {
            struct buf b = {0};
            buf_adds(&b, "{\"type\":\"status\",");
            s->opts.status(c->user, &b, s->opts.arg);
            buf_addc(&b, '}');
            free(c->status_json);
            c->status_json = xstrdup(buf_cstr(&b));
            buf_free(&b);
            lws_callback_on_writable(c->wsi);
        }
    }
    if (!atomic_load(&s->stop))
        lws_sul_schedule(s->ctx, 0, &s->sul_tick, on_tick, TICK_US);
}

static void handle_message(struct client *c, const char *msg, size_t len)
{
    struct stream *s = c->s;
    cJSON *root = cJSON_ParseWithLength(msg, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(root, "token");
    char user[FRAME_USER_LEN];
    int64_t exp_s = 0;
    char *cause = NULL;

    if (!cJSON_IsString(type) || strcmp(type->valuestring, "auth") != 0) {
        /* Anything but auth before auth is a protocol error; after it, ignored. */
        if (!c->authed)
            client_close(c, 4401, "the first message must be {\"type\":\"auth\",\"token\":…}");
        cJSON_Delete(root);
        return;
    }
    if (!cJSON_IsString(token) ||
        s->opts.verify(token->valuestring, user, sizeof user, &exp_s, &cause, s->opts.arg) < 0) {
        char reason[96];
        snprintf(reason, sizeof reason, "unauthorized: %s", cause ? cause : "token missing");
        client_close(c, 4401, reason);
        free(cause);
        cJSON_Delete(root);
        return;
    }
    cJSON_Delete(root);
    if (c->authed) {
        if (strcmp(user, c->user) != 0)
            client_close(c, 4401, "unauthorized: a new token must be for the same user");
        else
            c->exp_s = exp_s; /* extended */
        return;
    }
    c->authed = 1;
    snprintf(c->user, sizeof c->user, "%s", user);
    c->exp_s = exp_s;
    c->hello_pending = 1;
    lws_sul_cancel(&c->sul_auth);
    pthread_mutex_lock(&s->mu);
    c->next_seq = s->head; /* from now on */
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_add(&s->authed_count, 1);
    lws_callback_on_writable(c->wsi);
}

static int send_text(struct client *c, struct buf *b)
{
    /* lws needs LWS_PRE bytes of headroom before the payload. */
    size_t n = b->len - LWS_PRE;
    return lws_write(c->wsi, (unsigned char *)b->data + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1
                                                                                             : 0;
}

static void live_json(struct buf *b, const struct entry *e)
{
    char start[40];
    if (!e->has_live) {
        buf_adds(b, ",\"session\":null");
        return;
    }
    time_format_iso(e->live.start_us, start, sizeof start);
    buf_addf(b, ",\"session\":{\"key\":\"%016llx\",\"start_time\":\"%s\",\"duration_s\":",
             (unsigned long long)e->live.session_key, start);
    buf_add_json_num(b, e->live.a.duration_s, 9);
    buf_adds(b, ",\"distance_m\":");
    buf_add_json_num(b, e->live.a.distance_m, 9);
    buf_adds(b, ",\"top_speed_mps\":");
    buf_add_json_num(b, e->live.a.top_speed_mps, 9);
    buf_addc(b, '}');
}

/* Fills s->out with the next message for c (after LWS_PRE bytes); returns 1 when there is one
 * and 2 when even more is waiting. */
static int next_message(struct client *c)
{
    struct stream *s = c->s;
    struct buf *b = &s->out;
    int found = 0, more = 0;
    uint64_t ring = (uint64_t)s->opts.ring_frames;

    buf_reset(b);
    buf_reserve(b, LWS_PRE + 2048);
    b->len = LWS_PRE;
    if (c->hello_pending) {
        const struct user_json *u;
        c->hello_pending = 0;
        char exp[40];
        time_format_iso(c->exp_s * 1000000, exp, sizeof exp);
        buf_addf(b,
                 "{\"type\":\"hello\",\"version\":\"%s\",\"expires_at\":\"%s\","
                 "\"expires_at_s\":%lld,\"user\":",
                 BEAMTEL_VERSION, exp, (long long)c->exp_s);
        pthread_mutex_lock(&s->mu);
        for (u = s->users; u; u = u->next)
            if (strcmp(u->user, c->user) == 0)
                break;
        if (u && u->json)
            buf_adds(b, u->json);
        else {
            buf_adds(b, "{\"username\":");
            buf_add_json_str(b, c->user, strlen(c->user));
            buf_addc(b, '}');
        }
        pthread_mutex_unlock(&s->mu);
        buf_addc(b, '}');
        return 2;
    }
    if (c->status_json) {
        buf_adds(b, c->status_json);
        free(c->status_json);
        c->status_json = NULL;
        return 2;
    }
    pthread_mutex_lock(&s->mu);
    if (s->head > c->next_seq + LAG_SKIP)
        c->next_seq = s->head - 1; /* too far behind: the newest is what matters */
    if (s->head > ring && c->next_seq < s->head - ring)
        c->next_seq = s->head - ring;
    for (; c->next_seq < s->head; c->next_seq++) {
        const struct entry *e = &s->ring[c->next_seq % ring];
        if (strcmp(e->user, c->user) != 0)
            continue;
        if (found) {
            more = 1;
            break;
        }
        found = 1;
        if (e->kind == ENTRY_SESSION) {
            buf_adds(b, e->json);
        } else {
            frame_to_json(&e->frame, b, 1);
            b->len--; /* reopen the object for the live session */
            live_json(b, e);
            buf_addc(b, '}');
        }
    }
    pthread_mutex_unlock(&s->mu);
    return found ? 1 + more : 0;
}

static int callback_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    struct client *c = user;
    struct stream *s = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        atomic_store(&s->wake_pending, 0);
        if (atomic_load(&s->stopping)) {
            for (struct client *k = s->clients; k; k = k->next)
                client_close(k, 1001, "server shutting down");
            break;
        }
        drain_adopt_queue(s);
        kick_writers(s);
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        /* The router hands over any GET with "Upgrade: websocket" (DESIGN §2.1); the stream
         * itself lives at /ws only. */
        char uri[256];
        int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        if (n < 3 || strncmp(uri, "/ws", 3) != 0 || (uri[3] && uri[3] != '/' && uri[3] != '?'))
            return -1;
        break;
    }
    case LWS_CALLBACK_HTTP:
        /* A plain GET /ws without the upgrade. */
        lws_return_http_status(wsi, 426, "WebSocket upgrade required");
        return -1;
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof *c);
        c->s = s;
        c->wsi = wsi;
        c->next = s->clients;
        s->clients = c;
        lws_sul_schedule(s->ctx, 0, &c->sul_auth, on_auth_timeout,
                         (lws_usec_t)s->opts.auth_timeout_ms * 1000);
        break;
    case LWS_CALLBACK_RECEIVE:
        if (c->close_code)
            break;
        if (c->rx.len + len > RX_MAX) {
            client_close(c, 1009, "message too big");
            break;
        }
        buf_add(&c->rx, in, len);
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            handle_message(c, c->rx.data, c->rx.len);
            buf_reset(&c->rx);
        }
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        int r;
        if (c->close_code) {
            lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                             (unsigned char *)c->close_reason, strlen(c->close_reason));
            return -1;
        }
        if (!c->authed)
            break; /* nothing is ever sent before a valid auth message */
        if (time_now_us() / 1000000 >= c->exp_s) {
            client_close(c, 4401, "token expired: log in again");
            break;
        }
        r = next_message(c);
        if (r == 0)
            break;
        if (send_text(c, &s->out) < 0)
            return -1;
        if (r == 2)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLOSED:
        if (c == NULL || c->wsi == NULL)
            break;
        lws_sul_cancel(&c->sul_auth);
        for (struct client **pp = &s->clients; *pp; pp = &(*pp)->next)
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        if (c->authed)
            atomic_fetch_sub(&s->authed_count, 1);
        free(c->status_json);
        buf_free(&c->rx);
        c->wsi = NULL;
        break;
    default:
        break;
    }
    return 0;
}

static struct lws_protocols protocols[] = {
    {"beamtel", callback_ws, sizeof(struct client), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
        n--;
    if (level & LLL_ERR)
        log_err("lws: %.*s", (int)n, line);
    else if (level & LLL_WARN)
        log_warn("lws: %.*s", (int)n, line);
    else
        log_debug("lws: %.*s", (int)n, line);
}

static void *service_thread(void *arg)
{
    struct stream *s = arg;
    lws_sul_schedule(s->ctx, 0, &s->sul_tick, on_tick, TICK_US);
    while (!atomic_load(&s->stop))
        if (lws_service(s->ctx, 0) < 0)
            break;
    return NULL;
}

/* Ping a quiet client after 30 s and drop it when it has not answered (pong) for 70 s, so that
 * dead connections go away; a live client (browser, tui) answers pings by itself. */
static const lws_retry_bo_t idle_policy = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 70,
};

struct stream *stream_new(const struct stream_opts *opts, char **cause)
{
    struct lws_context_creation_info info;
    struct stream *s = xcalloc(1, sizeof *s);

    s->opts = *opts;
    if (s->opts.ring_frames <= 0)
        s->opts.ring_frames = 8192;
    if (s->opts.auth_timeout_ms <= 0)
        s->opts.auth_timeout_ms = 5000;
    if (s->opts.choke_timeout_ms <= 0)
        s->opts.choke_timeout_ms = 10000;
    if (s->opts.sndbuf_bytes <= 0)
        s->opts.sndbuf_bytes = 65536;
    s->ring = xcalloc((size_t)s->opts.ring_frames, sizeof *s->ring);
    pthread_mutex_init(&s->mu, NULL);

    lws_set_log_level(log_get_level() >= LOG_LVL_DEBUG ? LLL_ERR | LLL_WARN | LLL_NOTICE
                                                       : LLL_ERR | LLL_WARN,
                      lws_log_bridge);
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.user = s;
    info.retry_and_idle_policy = &idle_policy;
    info.gid = -1;
    info.uid = -1;
    s->ctx = lws_create_context(&info);
    if (s->ctx == NULL) {
        *cause = xstrdup("cannot create the WebSocket context");
        free(s->ring);
        free(s);
        return NULL;
    }
    info.vhost_name = "beamtel";
    s->vh = lws_create_vhost(s->ctx, &info);
    if (s->vh == NULL) {
        *cause = xstrdup("cannot create the WebSocket vhost");
        lws_context_destroy(s->ctx);
        free(s->ring);
        free(s);
        return NULL;
    }
    if (pthread_create(&s->thread, NULL, service_thread, s) != 0) {
        *cause = xstrdup("cannot start the WebSocket thread");
        lws_context_destroy(s->ctx);
        free(s->ring);
        free(s);
        return NULL;
    }
    return s;
}

void stream_free(struct stream *s)
{
    if (s == NULL)
        return;
    /* Say goodbye (1001) and give the service thread a moment to send it. */
    atomic_store(&s->stopping, 1);
    lws_cancel_service(s->ctx);
    for (int i = 0; i < 20 && atomic_load(&s->authed_count) > 0; i++)
        time_sleep_us(10000);
    atomic_store(&s->stop, 1);
    lws_cancel_service(s->ctx);
    pthread_join(s->thread, NULL);
    lws_context_destroy(s->ctx);
    for (int i = 0; i < s->nadopt; i++)
        close(s->adopt[i]);
    for (int i = 0; i < s->opts.ring_frames; i++)
        free(s->ring[i].json);
    while (s->users) {
        struct user_json *u = s->users;
        s->users = u->next;
        free(u->json);
        free(u);
    }
    buf_free(&s->out);
    free(s->ring);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
