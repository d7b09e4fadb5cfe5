/* SPDX-License-Identifier: MIT */
/* cmd_serve: `beamtel serve` — binds the UDP and HTTP ports, starts the recorder, the stream,
 * the HTTP API and the ingest thread, then waits for signals in main: SIGTERM/SIGINT stop
 * cleanly (every queued frame written, open sessions closed), SIGHUP re-reads the log level. */
#include "cli.h"

#include "auth/auth.h"
#include "config/config.h"
#include "http/http.h"
#include "stream/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHUTDOWN_DRAIN_MS 30000
#define QUIET_HINT_US (5 * 1000000LL)
#define HOUSEKEEPING_US (5 * 1000000LL)

struct serve {
    struct pipeline *pipe;
    struct recorder *rec;
    struct ingest *in;
    struct stream *stream;
    struct http *http;
    struct sourcemap *map;
    uint8_t *jwt_key;
    size_t jwt_key_len;
    int64_t started_us;
    /* housekeeping thread: source map refresh and the seeded user's password */
    pthread_t hk;
    int hk_running;
    pthread_mutex_t hk_mu;
    pthread_cond_t hk_cv;
    int hk_stop, hk_kick, admin_done;
    /* packets/s for the status */
    pthread_mutex_t rate_mu;
    uint64_t rate_count;
    int64_t rate_at_us;
    double rate;
};

/* Runs on the ingest thread every 100 ms. */
static void on_tick(int64_t now_us, void *arg)
{
    struct serve *s = arg;
    pipeline_tick(s->pipe, now_us);
}

/* ---- status (any thread) ---- */

static double packets_per_s(struct serve *s, uint64_t count)
{
    int64_t now = time_mono_us();
    double r;
    pthread_mutex_lock(&s->rate_mu);
    if (s->rate_at_us == 0) {
        s->rate_at_us = now;
        s->rate_count = count;
    } else if (now - s->rate_at_us >= 900000) {
        s->rate = (double)(count - s->rate_count) * 1e6 / (double)(now - s->rate_at_us);
        s->rate_at_us = now;
        s->rate_count = count;
    }
    r = s->rate;
    pthread_mutex_unlock(&s->rate_mu);
    return r;
}

static void status_json(const char *user, struct buf *b, void *arg)
{
    struct serve *s = arg;
    struct ingest_counters *c = ingest_core_counters(pipeline_core(s->pipe));
    struct ingest_source_info src[64];
    struct recorder_stats rs;
    int64_t now = time_now_us(), last = atomic_load(&c->last_packet_us);
    int n = ingest_core_sources(pipeline_core(s->pipe), src, 64), first = 1;

    buf_addf(b, "\"version\":\"%s\",\"uptime_s\":%lld,\"udp\":{\"bound\":\"%s\",\"rcvbuf\":%d},",
             BEAMTEL_VERSION, (long long)((now - s->started_us) / 1000000),
             ingest_bound_addr(s->in), ingest_rcvbuf(s->in));
    buf_adds(b, "\"ingest\":{");
    pipeline_counters_json(s->pipe, NULL, b);
    buf_adds(b, ",\"packets_per_s\":");
    buf_add_json_num(b, packets_per_s(s, atomic_load(&c->datagrams)), 6);
    buf_adds(b, ",\"last_packet_age_s\":");
    buf_add_json_num(b, last ? (double)(now - last) / 1e6 : NAN, 4);
    buf_adds(b, "},\"sources\":[");
    for (int i = 0; i < n; i++) {
        if (user && strcmp(src[i].user, user) != 0)
            continue; /* a user sees only their own sources */
        buf_adds(b, first ? "{\"source\":" : ",{\"source\":");
        first = 0;
        buf_add_json_str(b, src[i].source, strlen(src[i].source));
        buf_adds(b, ",\"user\":");
        buf_add_json_str(b, src[i].user, strlen(src[i].user));
        buf_adds(b, ",\"car\":");
        buf_add_json_str(b, src[i].car, strlen(src[i].car));
        buf_addf(b, ",\"packets\":%llu,\"motionsim\":%s,\"last_seen_age_s\":",
                 (unsigned long long)src[i].packets, src[i].motionsim ? "true" : "false");
        buf_add_json_num(b, (double)(now - src[i].last_seen_us) / 1e6, 4);
        buf_addc(b, '}');
    }
    memset(&rs, 0, sizeof rs);
    if (s->rec)
        recorder_get_stats(s->rec, &rs);
    buf_addf(b,
             "],\"recorder\":{\"enabled\":%s,\"db_up\":%s,\"queued\":%llu,\"spooled\":%llu,"
             "\"frames_written\":%llu,\"lag_s\":",
             s->rec ? "true" : "false", rs.db_up ? "true" : "false", (unsigned long long)rs.queued,
             (unsigned long long)rs.spooled, (unsigned long long)rs.frames_written);
    buf_add_json_num(b, (double)rs.lag_us / 1e6, 4);
    buf_addf(b, "},\"clients\":{\"websocket\":%d},\"hint\":",
             s->stream ? stream_client_count(s->stream) : 0);
    if (last == 0 && now - s->started_us >= QUIET_HINT_US) {
        char hint[300];
        snprintf(hint, sizeof hint,
                 "no telemetry yet on udp %s: in BeamNG.drive open Options > Other > Protocols, "
                 "enable OutGauge and Motion Sim with this machine's IP and port %s",
                 ingest_bound_addr(s->in), strrchr(ingest_bound_addr(s->in), ':') + 1);
        buf_add_json_str(b, hint, strlen(hint));
    } else {
        buf_adds(b, "null");
    }
}

/* ---- the stream's token check (lws thread: HMAC only) ---- */

static int verify_token(const char *token, char *user, size_t len, int64_t *exp_s, char **cause,
                        void *arg)
{
    struct serve *s = arg;
    struct auth_claims claims;
    if (auth_jwt_verify(s->jwt_key, s->jwt_key_len, token, time_now_us() / 1000000, &claims,
                        cause) < 0)
        return -1;
    snprintf(user, len, "%s", claims.sub);
    *exp_s = claims.exp;
    return 0;
}

static void on_login(const char *user, const char *ip, void *arg)
{
    struct serve *s = arg;
    (void)user;
    (void)ip;
    /* The new last_ip maps this address to the user (§3.6): reload the table now. */
    pthread_mutex_lock(&s->hk_mu);
    s->hk_kick = 1;
    pthread_cond_signal(&s->hk_cv);
    pthread_mutex_unlock(&s->hk_mu);
}

/* ---- housekeeping thread ---- */

/* Writes the generated password where the admin can read it once (0600). */
static void save_generated_password(const char *user, const char *pw)
{
    char *path = xasprintf("%s/admin-password", config_state_dir());
    int fd;
    mkdir_p(config_state_dir(), 0700);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || dprintf(fd, "%s\n", pw) < 0)
        log_err("cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    log_warn("created the password of user \"%s\": %s (also in %s, mode 0600; change it with "
             "'beamtel user passwd %s')",
             user, pw, path, user);
    free(path);
}

/* Makes sure the seeded user exists and has a password (§6).  0, or -1 to retry later. */
static int ensure_admin(struct store_conn *c)
{
    const char *name = config_get_str("admin-user"), *file = config_get_str("admin-password-file");
    char *given = NULL, *cause = NULL, *hash = NULL, *generated = NULL;
    struct user_row u;
    int found, rc = -1;

    if (file && *file) {
        given = file_read_all(file, 1024, NULL, &cause);
        if (given == NULL) {
            log_err("--admin-password-file: %s", cause);
            free(cause);
            return 0; /* not retried: the admin must fix the file */
        }
    } else if (getenv("BEAMTEL_ADMIN_PASSWORD") && *getenv("BEAMTEL_ADMIN_PASSWORD")) {
        given = xstrdup(getenv("BEAMTEL_ADMIN_PASSWORD"));
    }
    found = store_user_get(c, name, &u, &cause);
    if (found < 0)
        goto out;
    if (found == 0) {
        if (store_user_add(c, name, NULL, &cause) < 0)
            goto out;
        memset(&u, 0, sizeof u);
    }
    if (given && (u.password_hash == NULL || auth_password_verify(u.password_hash, given) < 0)) {
        if (auth_password_hash(given, &hash, &cause) < 0 ||
            store_user_set_password(c, name, hash, &cause) < 0)
            goto out_user;
        log_info("the password of user \"%s\" was set from %s", name,
                 file && *file ? file : "BEAMTEL_ADMIN_PASSWORD");
    } else if (!given && u.password_hash == NULL) {
        generated = auth_password_generate();
        if (auth_password_hash(generated, &hash, &cause) < 0 ||
            store_user_set_password(c, name, hash, &cause) < 0)
            goto out_user;
        save_generated_password(name, generated);
    }
    /* The seeded user carries a Fumbletron-3156 token from the start (§6). */
    if (u.fumbletron_token == NULL) {
        char *token = fumbletron_generate();
        if (store_user_set_fumbletron(c, name, token, fumbletron_valid(token), &cause) < 0) {
            free(token);
            goto out_user;
        }
        log_info("user \"%s\" got the Fumbletron-3156 token %s", name, token);
        free(token);
    }
    rc = 0;
out_user:
    store_user_row_free(&u);
out:
    if (cause) {
        log_warn("seeded user: %s", cause);
        free(cause);
    }
    if (given)
        explicit_bzero(given, strlen(given));
    free(given);
    free(generated);
    free(hash);
    return rc;
}

/* Hands every user's JSON to the stream so that "hello" carries the full user object. */
static void preload_users(struct serve *s, struct store_conn *c)
{
    struct user_row rows[256];
    char *cause = NULL;
    int n = store_user_list(c, rows, 256, &cause);
    if (n < 0) {
        log_debug("housekeeping: %s", cause);
        free(cause);
        return;
    }
    for (int i = 0; i < n; i++) {
        struct buf b = {0};
        store_user_to_json(&rows[i], &b);
        stream_set_user_json(s->stream, rows[i].username, buf_cstr(&b));
        buf_free(&b);
        store_user_row_free(&rows[i]);
    }
}

/* One round of housekeeping; *c is (re)connected as needed. */
static void housekeeping_pass(struct serve *s, struct store_conn **c)
{
    char *cause = NULL;
    if (*c == NULL || !store_conn_ok(*c)) {
        store_disconnect(*c);
        *c = store_connect(config_db_dsn(), &cause);
        if (*c == NULL) {
            log_debug("housekeeping: %s", cause);
            free(cause);
            return;
        }
    }
    if (!s->admin_done && ensure_admin(*c) == 0)
        s->admin_done = 1;
    if (sourcemap_refresh(s->map, *c, &cause) < 0) {
        log_debug("housekeeping: %s", cause);
        free(cause);
    }
    if (s->stream)
        preload_users(s, *c);
}

static void *housekeeping(void *arg)
{
    struct serve *s = arg;
    struct store_conn *c = NULL;
    pthread_mutex_lock(&s->hk_mu);
    while (!s->hk_stop) {
        pthread_mutex_unlock(&s->hk_mu);
        housekeeping_pass(s, &c);
        pthread_mutex_lock(&s->hk_mu);
        if (!s->hk_kick && !s->hk_stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += HOUSEKEEPING_US / 1000000;
            pthread_cond_timedwait(&s->hk_cv, &s->hk_mu, &ts);
        }
        s->hk_kick = 0;
    }
    pthread_mutex_unlock(&s->hk_mu);
    store_disconnect(c);
    return NULL;
}

/* ---- start-up ---- */

static int start_recorder(struct serve *s, char **cause)
{
    struct recorder_opts ropts;
    char *spool;
    const char *dsn = config_db_dsn();

    /* The schema is applied on every start (idempotent); a database that is down now only
     * delays recording. */
    if (store_migrate(dsn, cause) < 0) {
        log_warn("%s; recording starts when PostgreSQL is reachable", *cause);
        free(*cause);
        *cause = NULL;
    }
    spool = xasprintf("%s/spool", config_state_dir());
    memset(&ropts, 0, sizeof ropts);
    ropts.dsn = dsn;
    ropts.spool_dir = spool;
    ropts.queue_max = config_get_int("queue-max");
    ropts.batch_rows = (int)config_get_int("batch-rows");
    ropts.batch_ms = (int)config_get_int("batch-ms");
    ropts.recover = 1;
    s->rec = recorder_new(&ropts, cause);
    free(spool);
    return s->rec ? 0 : -1;
}

static int start_web(struct serve *s, char **cause)
{
    struct stream_opts so;
    struct http_opts ho;
    const char *file = config_get_str("jwt-secret-file");

    if (auth_init(cause) < 0 ||
        auth_load_secret(file && *file ? file : NULL, getenv("BEAMTEL_JWT_SECRET"),
                         config_state_dir(), &s->jwt_key, &s->jwt_key_len, cause) < 0)
        return -1;
    memset(&so, 0, sizeof so);
    so.verify = verify_token;
    so.status = status_json;
    so.arg = s;
    s->stream = stream_new(&so, cause);
    if (s->stream == NULL)
        return -1;
    memset(&ho, 0, sizeof ho);
    ho.listen_addr = config_get_str("http");
    ho.web_root = config_get_str("web-root");
    ho.dsn = config_db_dsn();
    ho.jwt_key = s->jwt_key;
    ho.jwt_key_len = s->jwt_key_len;
    ho.token_lifetime_s = config_get_int("token-lifetime");
    ho.login_max_failures = (int)config_get_int("login-max-failures");
    ho.login_window_s = 60;
    ho.trusted_proxies = config_get_str("trusted-proxy");
    ho.stream = s->stream;
    ho.status = status_json;
    ho.on_login = on_login;
    ho.arg = s;
    s->http = http_new(&ho, cause);
    return s->http ? 0 : -1;
}

static void log_final(struct serve *s)
{
    struct buf b = {0};
    buf_addc(&b, '{');
    pipeline_counters_json(s->pipe, s->rec, &b);
    buf_addc(&b, '}');
    log_info("final: %s", buf_cstr(&b));
    buf_free(&b);
}

/* Waits for signals; warns once when no telemetry arrives. */
static void wait_for_stop(struct serve *s, const sigset_t *set, int argc, char **argv)
{
    int warned_quiet = 0;
    struct ingest_counters *c = ingest_core_counters(pipeline_core(s->pipe));
    for (;;) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("stopping (%s): writing every queued frame", strsignal(sig));
            return;
        }
        if (sig == SIGHUP) {
            int npos;
            char **pos = NULL, *cause = NULL;
            if (config_load(CMD_SERVE, argc, argv, &npos, &pos, &cause) < 0) {
                log_err("reload: %s; keeping the running configuration", cause);
                free(cause);
            } else {
                log_info("reload: log level is now %s", config_get_str("log-level"));
            }
            continue;
        }
        if (!warned_quiet && atomic_load(&c->last_packet_us) == 0 &&
            time_now_us() - s->started_us >= QUIET_HINT_US) {
            log_warn("no telemetry yet on udp %s: in BeamNG.drive open Options > Other > "
                     "Protocols, enable OutGauge and Motion Sim, and set this machine's IP and "
                     "port %s",
                     ingest_bound_addr(s->in), strrchr(ingest_bound_addr(s->in), ':') + 1);
            warned_quiet = 1;
        }
    }
}

int cmd_serve_main(int argc, char **argv)
{
    int npos = 0, rc = BT_EXIT_OK;
    char **pos = NULL, *cause = NULL;
    struct serve s;
    struct ingest_opts iopts;
    sigset_t set;
    const char *http_addr;

    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.hk_mu, NULL);
    pthread_cond_init(&s.hk_cv, NULL);
    pthread_mutex_init(&s.rate_mu, NULL);
    s.started_us = time_now_us();
    if (cli_setup(CMD_SERVE, argc, argv, &npos, &pos, &rc) < 0)
        goto out;
    if (npos != 0) {
        fprintf(stderr, "beamtel serve: unexpected argument \"%s\"\n", pos[0]);
        rc = BT_EXIT_USAGE;
        goto out;
    }
    /* Threads inherit this mask: signals are taken only by main's sigtimedwait. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    memset(&iopts, 0, sizeof iopts);
    iopts.udp_addr = config_get_str("udp");
    iopts.rcvbuf_bytes = (int)config_get_int("rcvbuf");
    iopts.on_tick = on_tick;
    iopts.arg = &s;
    /* Bind first: "port in use" must be reported at once, before the database is tried. */
    s.pipe = pipeline_new(NULL);
    s.map = sourcemap_new();
    s.in = ingest_new(&iopts, pipeline_core(s.pipe), &cause);
    if (s.in == NULL) {
        fprintf(stderr, "beamtel serve: %s\n", cause);
        rc = errno == EADDRINUSE || errno == EACCES || errno == EADDRNOTAVAIL ? BT_EXIT_BIND
                                                                              : BT_EXIT_FAILURE;
        goto out;
    }
    /* The seeded user's password and the source map before the first login can arrive. */
    if (!config_get_flag("no-record") || (config_get_str("http") && *config_get_str("http"))) {
        struct store_conn *c = NULL;
        if (auth_init(&cause) < 0) {
            fprintf(stderr, "beamtel serve: %s\n", cause);
            rc = BT_EXIT_FAILURE;
            goto out;
        }
        /* On an empty database the schema must exist before the seeded user can. */
        if (store_migrate(config_db_dsn(), &cause) < 0) {
            log_debug("%s", cause);
            free(cause);
            cause = NULL;
        }
        housekeeping_pass(&s, &c);
        store_disconnect(c);
    }
    http_addr = config_get_str("http");
    if (http_addr && *http_addr && start_web(&s, &cause) < 0) {
        fprintf(stderr, "beamtel serve: %s\n", cause);
        rc = errno == EADDRINUSE || errno == EADDRNOTAVAIL ? BT_EXIT_BIND : BT_EXIT_FAILURE;
        goto out;
    }
    if (!config_get_flag("no-record")) {
        if (start_recorder(&s, &cause) < 0) {
            fprintf(stderr, "beamtel serve: %s\n", cause);
            rc = BT_EXIT_FAILURE;
            goto out;
        }
        pipeline_set_recorder(s.pipe, s.rec);
    }
    pipeline_set_stream(s.pipe, s.stream, s.map);
    if (!config_get_flag("no-record") || s.http) {
        if (pthread_create(&s.hk, NULL, housekeeping, &s) == 0)
            s.hk_running = 1;
    }
    if (ingest_start(s.in, &cause) < 0) {
        fprintf(stderr, "beamtel serve: %s\n", cause);
        rc = BT_EXIT_FAILURE;
        goto out;
    }
    log_info("listening on udp %s (receive buffer %d bytes)%s", ingest_bound_addr(s.in),
             ingest_rcvbuf(s.in), s.rec ? "" : "; not recording (--no-record)");
    if (s.http)
        log_info("listening on http %s (API, WebSocket /ws%s)", http_bound_addr(s.http),
                 config_get_str("web-root") ? ", web app" : "");

    wait_for_stop(&s, &set, argc, argv);

    ingest_stop(s.in);
    pipeline_close_all(s.pipe); /* the ingest thread is gone: main owns the pipeline now */
    if (s.rec && recorder_drain(s.rec, SHUTDOWN_DRAIN_MS) < 0)
        log_warn("PostgreSQL did not take every frame in %d s; the rest is kept in the spool "
                 "and written at the next start",
                 SHUTDOWN_DRAIN_MS / 1000);
    log_final(&s);
out:
    if (s.hk_running) {
        pthread_mutex_lock(&s.hk_mu);
        s.hk_stop = 1;
        pthread_cond_signal(&s.hk_cv);
        pthread_mutex_unlock(&s.hk_mu);
        pthread_join(s.hk, NULL);
    }
    http_free(s.http);
    stream_free(s.stream);
    recorder_free(s.rec, 0);
    ingest_free(s.in);
    pipeline_free(s.pipe);
    sourcemap_free(s.map);
    if (s.jwt_key)
        auth_secret_free(s.jwt_key, s.jwt_key_len);
    free(cause);
    return rc;
}
