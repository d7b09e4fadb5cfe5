/* SPDX-License-Identifier: MIT */
/* pg: libpq helpers and the recorder's batch writer — sessions, binary COPY of frames, events and
 * the analytics row in one transaction per batch, exactly once across retries and restarts.
 * Used only from the recorder's writer thread (and the CLI for one-shot connections). */
#include "store_internal.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_EPOCH_OFFSET_US 946684800000000LL /* 2000-01-01 - 1970-01-01 */
#define NSESS 256

/* Server notices ("relation already exists, skipping") are debug output, not warnings. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

PGconn *pg_connect(const char *dsn, char **cause)
{
    /* Our defaults come first so that anything in the user's DSN overrides them. */
    const char *keys[] = {"application_name",
                          "connect_timeout",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "dbname",
                          NULL};
    const char *vals[] = {"beamtel", "5", "10", "5", "3", dsn ? dsn : "", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        *cause = pg_error(conn, NULL, "cannot connect to PostgreSQL");
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, on_notice, NULL);
    return conn;
}

char *pg_error(PGconn *conn, PGresult *res, const char *what)
{
    const char *m = res ? PQresultErrorMessage(res) : (conn ? PQerrorMessage(conn) : "");
    char *s = xasprintf("%s: %s", what, m && *m ? m : "out of memory");
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    return s;
}

int pg_exec(PGconn *conn, const char *sql, char **cause)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        *cause = pg_error(conn, res, "query failed");
    PQclear(res);
    return ok ? 0 : -1;
}

PGresult *pg_query(PGconn *conn, ExecStatusType want, const char *what, const char *sql,
                   int nparams, const char *const *params, char **cause)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != want) {
        *cause = pg_error(conn, res, what);
        PQclear(res);
        return NULL;
    }
    return res;
}

double pg_num(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NAN;
    return strtod(PQgetvalue(res, row, col), NULL);
}

int64_t pg_ts_us(const char *s)
{
    /* Results are requested as epoch microseconds (see queries), so this is a plain integer. */
    return strtoll(s, NULL, 10);
}

/* ---- binary COPY encoding ---- */

/* Big-endian writers into a reserved row: one bounds check per row, not per field. */
static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint8_t *field_i64(uint8_t *p, int64_t v)
{
    p = put_u32(p, 8);
    p = put_u32(p, (uint32_t)((uint64_t)v >> 32));
    return put_u32(p, (uint32_t)v);
}

static uint8_t *field_i32(uint8_t *p, int32_t v)
{
    p = put_u32(p, 4);
    return put_u32(p, (uint32_t)v);
}

static uint8_t *field_null(uint8_t *p)
{
    return put_u32(p, 0xffffffffu);
}

static uint8_t *field_f32(uint8_t *p, float v)
{
    uint32_t u;
    if (!isfinite(v))
        return field_null(p); /* NaN never reaches the database */
    memcpy(&u, &v, 4);
    p = put_u32(p, 4);
    return put_u32(p, u);
}

#define FRAME_COLUMNS                                                                              \
    "session_id, seq, ts, speed, rpm, gear, g_force_x, g_force_y, throttle, brake, clutch, "       \
    "fuel, engine_temp_c, oil_temp_c, oil_pressure_bar, turbo_bar, dash_lights, show_lights, "     \
    "flags, pos_x, pos_y, pos_z"

#define COPY_ROW_MAX 256 /* 22 fields: at most 2 + 22 * 12 bytes */

static void copy_frame(struct buf *b, int64_t session_id, const struct frame *f)
{
    uint8_t *p, *start;
    const float tail[] = {f->g_force_x,        f->g_force_y, f->throttle,      f->brake,
                          f->clutch,           f->fuel,      f->engine_temp_c, f->oil_temp_c,
                          f->oil_pressure_bar, f->turbo_bar};
    buf_reserve(b, COPY_ROW_MAX);
    start = p = (uint8_t *)b->data + b->len;
    p = put_u16(p, 22);
    p = field_i64(p, session_id);
    p = field_i32(p, (int32_t)f->seq);
    p = field_i64(p, f->ts_us - PG_EPOCH_OFFSET_US);
    p = field_f32(p, f->speed_mps);
    p = field_f32(p, f->rpm);
    if (f->has_outgauge) {
        p = put_u32(p, 2);
        p = put_u16(p, (uint16_t)(int16_t)f->gear);
    } else {
        p = field_null(p);
    }
    for (size_t i = 0; i < BT_ARRAY_LEN(tail); i++)
        p = field_f32(p, tail[i]);
    if (f->has_outgauge) {
        p = field_i32(p, (int32_t)f->dash_lights);
        p = field_i32(p, (int32_t)f->show_lights);
        p = field_i32(p, f->flags);
    } else {
        p = field_null(p);
        p = field_null(p);
        p = field_null(p);
    }
    p = field_f32(p, f->pos_m[0]);
    p = field_f32(p, f->pos_m[1]);
    p = field_f32(p, f->pos_m[2]);
    b->len += (size_t)(p - start);
}

/* ---- the writer ---- */

/* The writer's view of one open session. */
struct wsess {
    struct wsess *next;
    uint64_t key;
    int64_t id;     /* -1: its user does not exist; its ops are dropped */
    int64_t stored; /* frames committed (= highest seq) */
    int64_t start_us, last_moving_us, end_us;
    double threshold;
    struct stats st;
    int dirty, ended;
    int64_t updated_mono_us; /* when the analytics row was last written */
    enum track_end_reason reason;
};

struct pg_writer {
    char *dsn;
    PGconn *conn;
    struct wsess *sess[NSESS];
    struct buf copy;
    int connected;
};

struct pg_writer *pg_writer_new(const char *dsn)
{
    struct pg_writer *w = xcalloc(1, sizeof *w);
    w->dsn = xstrdup(dsn ? dsn : "");
    return w;
}

static void forget_sessions(struct pg_writer *w)
{
    for (int i = 0; i < NSESS; i++) {
        struct wsess *s = w->sess[i], *n;
        for (; s; s = n) {
            n = s->next;
            free(s);
        }
        w->sess[i] = NULL;
    }
}

void pg_writer_free(struct pg_writer *w)
{
    if (w == NULL)
        return;
    forget_sessions(w);
    PQfinish(w->conn);
    buf_free(&w->copy);
    free(w->dsn);
    free(w);
}

int pg_writer_connected(const struct pg_writer *w)
{
    return w->connected;
}

static struct wsess *wsess_find(struct pg_writer *w, uint64_t key)
{
    for (struct wsess *s = w->sess[key % NSESS]; s; s = s->next)
        if (s->key == key)
            return s;
    return NULL;
}

static struct wsess *wsess_add(struct pg_writer *w, uint64_t key)
{
    struct wsess *s = xcalloc(1, sizeof *s);
    s->key = key;
    stats_init(&s->st);
    s->next = w->sess[key % NSESS];
    w->sess[key % NSESS] = s;
    return s;
}

static void wsess_remove(struct pg_writer *w, struct wsess *dead)
{
    for (struct wsess **pp = &w->sess[dead->key % NSESS]; *pp; pp = &(*pp)->next)
        if (*pp == dead) {
            *pp = dead->next;
            free(dead);
            return;
        }
}

int pg_rebuild_stats(PGconn *conn, int64_t session_id, double move_threshold, struct stats *st,
                     int64_t *last_moving_us, int64_t *last_moving_seq, char **cause)
{
    char id[24];
    const char *params[1] = {id};
    PGresult *res;
    snprintf(id, sizeof id, "%" PRId64, session_id);
    res = PQexecParams(conn,
                       "SELECT (extract(epoch FROM ts) * 1000000)::bigint, speed, rpm, "
                       "g_force_x, g_force_y, seq FROM telemetry_frames WHERE session_id = $1 "
                       "ORDER BY seq",
                       1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *cause = pg_error(conn, res, "cannot read frames");
        PQclear(res);
        return -1;
    }
    stats_init(st);
    *last_moving_us = 0;
    *last_moving_seq = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t ts = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        double v = pg_num(res, i, 1);
        stats_add(st, ts, v, pg_num(res, i, 2), pg_num(res, i, 3), pg_num(res, i, 4));
        if (isfinite(v) && fabs(v) >= move_threshold) {
            *last_moving_us = ts;
            *last_moving_seq = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        }
    }
    PQclear(res);
    return 0;
}

/* Loads a session the writer does not know (after an error, or ops spooled by an earlier run).
 * Returns it, or NULL when no such row exists; -1 in *err on a database error. */
static struct wsess *wsess_load(struct pg_writer *w, uint64_t key, int *err, char **cause)
{
    char k[24];
    const char *params[1] = {k};
    PGresult *res;
    struct wsess *s;
    snprintf(k, sizeof k, "%" PRId64, (int64_t)key);
    res = PQexecParams(w->conn,
                       "SELECT id, frame_count, (extract(epoch FROM start_time) * 1000000)::bigint,"
                       " move_threshold FROM sessions WHERE session_key = $1",
                       1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *cause = pg_error(w->conn, res, "cannot read a session");
        PQclear(res);
        *err = -1;
        return NULL;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return NULL;
    }
    s = wsess_add(w, key);
    s->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    s->start_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    s->threshold = strtod(PQgetvalue(res, 0, 3), NULL);
    PQclear(res);
    int64_t seq;
    if (pg_rebuild_stats(w->conn, s->id, s->threshold, &s->st, &s->last_moving_us, &seq, cause) <
        0) {
        *err = -1;
        return NULL;
    }
    /* The frames themselves say how many are stored (frame_count on the row may lag: it is
     * written at most once a second). */
    s->stored = s->st.frame_count;
    if (s->last_moving_us == 0)
        s->last_moving_us = s->start_us;
    return s;
}

static int op_start(struct pg_writer *w, const struct track_op *op, char **cause)
{
    char key[24], start[24], thr[32];
    const char *params[6] = {key, op->u.start.user, op->u.start.car, op->u.start.source, start,
                             thr};
    PGresult *res;
    struct wsess *s = wsess_find(w, op->session_key);
    int err = 0;
    if (s)
        return 0;
    snprintf(key, sizeof key, "%" PRId64, (int64_t)op->session_key);
    snprintf(start, sizeof start, "%" PRId64, op->ts_us);
    snprintf(thr, sizeof thr, "%.9g", op->u.start.move_threshold_mps);
    res = PQexecParams(w->conn,
                       "INSERT INTO sessions (session_key, user_id, car_name, source, start_time, "
                       "move_threshold) SELECT $1, u.id, $3, $4, to_timestamp($5::double "
                       "precision / 1000000), $6 FROM users u WHERE u.username = $2 "
                       "ON CONFLICT (session_key) DO NOTHING RETURNING id",
                       6, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *cause = pg_error(w->conn, res, "cannot insert a session");
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 1) {
        s = wsess_add(w, op->session_key);
        s->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        s->start_us = op->ts_us;
        s->last_moving_us = op->ts_us;
        s->threshold = op->u.start.move_threshold_mps;
        s->dirty = 1;
        PQclear(res);
        return 0;
    }
    PQclear(res);
    /* Either it exists (a retry) or its user does not. */
    s = wsess_load(w, op->session_key, &err, cause);
    if (err < 0)
        return -1;
    if (s == NULL) {
        log_err("recorder: user \"%s\" does not exist; the session from %s is not recorded",
                op->u.start.user, op->u.start.source);
        s = wsess_add(w, op->session_key);
        s->id = -1;
    }
    return 0;
}

static struct wsess *session_for(struct pg_writer *w, uint64_t key, int *err, char **cause)
{
    struct wsess *s = wsess_find(w, key);
    if (s)
        return s;
    s = wsess_load(w, key, err, cause);
    if (s == NULL && *err == 0) {
        /* Its START was never written (its user vanished): drop quietly from now on. */
        s = wsess_add(w, key);
        s->id = -1;
    }
    return s;
}

static int op_event(struct pg_writer *w, const struct wsess *s, const struct track_op *op,
                    char **cause)
{
    char id[24], ts[24];
    const char *params[4] = {id, ts, op->u.event.kind, op->u.event.detail};
    PGresult *res;
    snprintf(id, sizeof id, "%" PRId64, s->id);
    snprintf(ts, sizeof ts, "%" PRId64, op->ts_us);
    res = PQexecParams(w->conn,
                       "INSERT INTO session_events (session_id, ts, kind, detail) VALUES ($1, "
                       "to_timestamp($2::double precision / 1000000), $3, $4) "
                       "ON CONFLICT DO NOTHING",
                       4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *cause = pg_error(w->conn, res, "cannot insert an event");
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

static int run_copy(struct pg_writer *w, char **cause)
{
    static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
    PGresult *res =
        PQexec(w->conn, "COPY telemetry_frames (" FRAME_COLUMNS ") FROM STDIN (FORMAT binary)");
    int16_t trailer = (int16_t)htons(0xffff);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        *cause = pg_error(w->conn, res, "cannot start COPY");
        PQclear(res);
        return -1;
    }
    PQclear(res);
    if (PQputCopyData(w->conn, header, sizeof header) != 1 ||
        PQputCopyData(w->conn, w->copy.data, (int)w->copy.len) != 1 ||
        PQputCopyData(w->conn, (const char *)&trailer, 2) != 1 ||
        PQputCopyEnd(w->conn, NULL) != 1) {
        *cause = pg_error(w->conn, NULL, "COPY failed");
        return -1;
    }
    res = PQgetResult(w->conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *cause = pg_error(w->conn, res, "COPY failed");
        PQclear(res);
        while ((res = PQgetResult(w->conn)) != NULL)
            PQclear(res);
        return -1;
    }
    PQclear(res);
    while ((res = PQgetResult(w->conn)) != NULL)
        PQclear(res);
    return 0;
}

static void fmt_num(char *out, size_t n, double v, int *isnull)
{
    if (!isfinite(v)) {
        *isnull = 1;
        out[0] = '\0';
        return;
    }
    *isnull = 0;
    snprintf(out, n, "%.17g", v);
}

static const char *const end_reasons[] = {"", "idle", "pause", "shutdown"};

/* Stores the analytics of a session the batch touched (and its end, once ended). */
static int update_session(struct pg_writer *w, struct wsess *s, char **cause)
{
    struct session_analytics a;
    char v[16][40];
    const char *params[16];
    int isnull = 0;
    PGresult *res;
    int64_t end = s->ended ? s->end_us : s->last_moving_us;
    double nums[11];

    stats_result(&s->st, s->start_us, end, &a);
    nums[0] = a.duration_s;
    nums[1] = a.moving_time_s;
    nums[2] = a.distance_m;
    nums[3] = a.top_speed_mps;
    nums[4] = a.avg_speed_mps;
    nums[5] = a.max_lat_g;
    nums[6] = a.max_accel_g;
    nums[7] = a.max_brake_g;
    nums[8] = a.consistency;
    nums[9] = a.max_rpm;
    snprintf(v[0], sizeof v[0], "%" PRId64, s->id);
    snprintf(v[1], sizeof v[1], "%" PRId64, s->stored);
    params[0] = v[0];
    params[1] = v[1];
    for (int i = 0; i < 10; i++) {
        fmt_num(v[2 + i], sizeof v[2 + i], nums[i], &isnull);
        params[2 + i] = isnull ? NULL : v[2 + i];
    }
    snprintf(v[12], sizeof v[12], "%" PRId64, end);
    params[12] = s->ended ? v[12] : NULL;
    params[13] = s->ended ? "t" : "f";
    params[14] = s->ended ? end_reasons[s->reason] : NULL;
    res = PQexecParams(w->conn,
                       "UPDATE sessions SET frame_count = $2, duration_s = $3, moving_time_s = $4,"
                       " distance_m = $5, top_speed_mps = $6, avg_speed_mps = $7, max_lat_g = $8,"
                       " max_accel_g = $9, max_brake_g = $10, consistency = $11, max_rpm = $12,"
                       " end_time = to_timestamp($13::double precision / 1000000),"
                       " closed = $14, end_reason = $15 WHERE id = $1",
                       15, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *cause = pg_error(w->conn, res, "cannot update a session");
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

static int apply_ops(struct pg_writer *w, const struct track_op *ops, size_t n, uint64_t *frames,
                     char **cause)
{
    int err = 0;
    for (size_t i = 0; i < n; i++) {
        const struct track_op *op = &ops[i];
        struct wsess *s;
        if (op->type == TRACK_START) {
            if (op_start(w, op, cause) < 0)
                return -1;
            continue;
        }
        s = session_for(w, op->session_key, &err, cause);
        if (err < 0)
            return -1;
        if (s->id < 0)
            continue;
        switch (op->type) {
        case TRACK_FRAME: {
            const struct frame *f = &op->u.frame;
            if ((int64_t)f->seq <= s->stored)
                break; /* committed by an earlier attempt */
            copy_frame(&w->copy, s->id, f);
            stats_add(&s->st, f->ts_us, f->speed_mps, f->rpm, f->g_force_x, f->g_force_y);
            s->stored = f->seq;
            if (isfinite(f->speed_mps) && fabs(f->speed_mps) >= s->threshold)
                s->last_moving_us = f->ts_us;
            s->dirty = 1;
            (*frames)++;
            break;
        }
        case TRACK_END:
            s->ended = 1;
            s->end_us = op->ts_us;
            s->reason = op->u.end.reason;
            s->dirty = 1;
            break;
        case TRACK_EVENT:
            if (op_event(w, s, op, cause) < 0)
                return -1;
            break;
        default:
            break;
        }
    }
    return 0;
}

int pg_writer_write(struct pg_writer *w, const struct track_op *ops, size_t n,
                    uint64_t *frames_written, uint64_t *ended, char **cause)
{
    uint64_t frames = 0, nended = 0;
    int64_t now_mono;

    if (w->conn == NULL) {
        w->conn = pg_connect(w->dsn, cause);
        if (w->conn == NULL) {
            w->connected = 0;
            return -1;
        }
        /* Whatever we knew may be stale (an attempt may have committed): reload lazily. */
        forget_sessions(w);
    }
    w->connected = 1;
    buf_reset(&w->copy);
    if (pg_exec(w->conn, "BEGIN", cause) < 0)
        goto fail;
    if (apply_ops(w, ops, n, &frames, cause) < 0)
        goto fail;
    if (w->copy.len > 0 && run_copy(w, cause) < 0)
        goto fail;
    /* The analytics row of an open session is refreshed at most once a second; a new or ended
     * session is written at once. */
    now_mono = time_mono_us();
    for (int i = 0; i < NSESS; i++)
        for (struct wsess *s = w->sess[i]; s; s = s->next) {
            if (!s->dirty || s->id < 0)
                continue;
            if (!s->ended && s->updated_mono_us && now_mono - s->updated_mono_us < 1000000)
                continue;
            if (update_session(w, s, cause) < 0)
                goto fail;
            s->updated_mono_us = now_mono;
            s->dirty = 0;
        }
    if (pg_exec(w->conn, "COMMIT", cause) < 0)
        goto fail;
    for (int i = 0; i < NSESS; i++) {
        struct wsess *s = w->sess[i], *next;
        for (; s; s = next) {
            next = s->next;
            if (s->ended) {
                nended++;
                wsess_remove(w, s);
            }
        }
    }
    *frames_written = frames;
    *ended = nended;
    return 0;

fail:
    /* Drop the connection and everything we believed: the next attempt reloads from the rows
     * that did commit, so nothing is written twice. */
    PQfinish(w->conn);
    w->conn = NULL;
    w->connected = 0;
    forget_sessions(w);
    return -1;
}

int pg_writer_recover(struct pg_writer *w, char **cause)
{
    PGresult *res;
    int closed = 0;
    if (w->conn == NULL) {
        w->conn = pg_connect(w->dsn, cause);
        if (w->conn == NULL)
            return -1;
    }
    res = PQexec(w->conn, "SELECT id, move_threshold, (extract(epoch FROM start_time) * 1000000)"
                          "::bigint FROM sessions WHERE NOT closed ORDER BY id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *cause = pg_error(w->conn, res, "cannot list open sessions");
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        struct wsess s;
        int64_t seq = 0;
        char id[24], cnt[24];
        memset(&s, 0, sizeof s);
        s.id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        s.threshold = strtod(PQgetvalue(res, i, 1), NULL);
        s.start_us = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        snprintf(id, sizeof id, "%" PRId64, s.id);
        if (pg_exec(w->conn, "BEGIN", cause) < 0)
            break;
        /* Frames after the last moving frame were idle frames held back: not part of it. */
        if (pg_rebuild_stats(w->conn, s.id, s.threshold, &s.st, &s.last_moving_us, &seq, cause) < 0)
            break;
        snprintf(cnt, sizeof cnt, "%" PRId64, seq);
        {
            const char *params[2] = {id, cnt};
            PGresult *r = PQexecParams(w->conn,
                                       seq == 0 ? "DELETE FROM sessions WHERE id = $1 AND $2 = '0'"
                                                : "DELETE FROM telemetry_frames WHERE "
                                                  "session_id = $1 AND seq > $2",
                                       2, NULL, params, NULL, NULL, 0);
            int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            if (!ok)
                *cause = pg_error(w->conn, r, "cannot trim a crashed session");
            PQclear(r);
            if (!ok)
                break;
        }
        if (seq > 0) {
            if (pg_rebuild_stats(w->conn, s.id, s.threshold, &s.st, &s.last_moving_us, &seq,
                                 cause) < 0)
                break;
            s.stored = seq;
            s.ended = 1;
            s.end_us = s.last_moving_us;
            s.reason = END_SHUTDOWN;
            if (update_session(w, &s, cause) < 0)
                break;
            const char *params[1] = {id};
            PGresult *r =
                PQexecParams(w->conn, "UPDATE sessions SET end_reason = 'crash' WHERE id = $1", 1,
                             NULL, params, NULL, NULL, 0);
            PQclear(r);
        }
        if (pg_exec(w->conn, "COMMIT", cause) < 0)
            break;
        closed++;
        log_info("recorder: closed session %s left open by an earlier run (%" PRId64 " frames)", id,
                 seq);
    }
    PQclear(res);
    if (*cause) {
        PQfinish(w->conn);
        w->conn = NULL;
        return -1;
    }
    return closed;
}
