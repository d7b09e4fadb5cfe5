/* SPDX-License-Identifier: MIT */
/* queries: reads for `sessions` and the API — session rows (never scanning frames) and one
 * session's frames in time order — plus the one JSON form of a session. */
#include "store_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_conn *store_connect(const char *dsn, char **cause)
{
    PGconn *conn = pg_connect(dsn, cause);
    struct store_conn *c;
    if (conn == NULL)
        return NULL;
    c = xcalloc(1, sizeof *c);
    c->conn = conn;
    return c;
}

void store_disconnect(struct store_conn *c)
{
    if (c == NULL)
        return;
    PQfinish(c->conn);
    free(c);
}

#define SESSION_COLUMNS                                                                            \
    "s.id, u.username, s.car_name, s.source, "                                                     \
    "(extract(epoch FROM s.start_time) * 1000000)::bigint, "                                       \
    "(extract(epoch FROM s.end_time) * 1000000)::bigint, s.closed, coalesce(s.end_reason, ''), "   \
    "s.frame_count, s.duration_s, s.moving_time_s, s.distance_m, s.top_speed_mps, "                \
    "s.avg_speed_mps, s.max_lat_g, s.max_accel_g, s.max_brake_g, s.consistency, s.max_rpm"

#define FRAME_SELECT                                                                               \
    "SELECT seq, (extract(epoch FROM ts) * 1000000)::bigint, speed, rpm, gear, g_force_x, "        \
    "g_force_y, throttle, brake, clutch, fuel, engine_temp_c, oil_temp_c, oil_pressure_bar, "      \
    "turbo_bar, dash_lights, show_lights, flags, pos_x, pos_y, pos_z FROM telemetry_frames "       \
    "WHERE session_id = $1::bigint ORDER BY seq"

static void row_from(PGresult *res, int i, struct session_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    snprintf(r->user, sizeof r->user, "%s", PQgetvalue(res, i, 1));
    snprintf(r->car, sizeof r->car, "%s", PQgetvalue(res, i, 2));
    snprintf(r->source, sizeof r->source, "%s", PQgetvalue(res, i, 3));
    r->start_us = strtoll(PQgetvalue(res, i, 4), NULL, 10);
    r->end_us = PQgetisnull(res, i, 5) ? 0 : strtoll(PQgetvalue(res, i, 5), NULL, 10);
    r->closed = PQgetvalue(res, i, 6)[0] == 't';
    snprintf(r->end_reason, sizeof r->end_reason, "%s", PQgetvalue(res, i, 7));
    r->a.frame_count = strtoll(PQgetvalue(res, i, 8), NULL, 10);
    r->a.duration_s = pg_num(res, i, 9);
    r->a.moving_time_s = pg_num(res, i, 10);
    r->a.distance_m = pg_num(res, i, 11);
    r->a.top_speed_mps = pg_num(res, i, 12);
    r->a.avg_speed_mps = pg_num(res, i, 13);
    r->a.max_lat_g = pg_num(res, i, 14);
    r->a.max_accel_g = pg_num(res, i, 15);
    r->a.max_brake_g = pg_num(res, i, 16);
    r->a.consistency = pg_num(res, i, 17);
    r->a.max_rpm = pg_num(res, i, 18);
}

int store_list_sessions(struct store_conn *c, const char *user, int64_t before_id, int max,
                        struct session_row *rows, char **cause)
{
    char before[24], lim[16];
    const char *params[3] = {user, before, lim};
    PGresult *res;
    int n;
    snprintf(before, sizeof before, "%" PRId64, before_id > 0 ? before_id : INT64_MAX);
    snprintf(lim, sizeof lim, "%d", max);
    res = PQexecParams(c->conn,
                       "SELECT " SESSION_COLUMNS " FROM sessions s JOIN users u ON u.id = s.user_id"
                       " WHERE ($1::text IS NULL OR u.username = $1) AND s.id < $2::bigint"
                       " ORDER BY s.id DESC LIMIT $3::int",
                       3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *cause = pg_error(c->conn, res, "cannot list sessions");
        PQclear(res);
        return -1;
    }
    n = PQntuples(res);
    for (int i = 0; i < n; i++)
        row_from(res, i, &rows[i]);
    PQclear(res);
    return n;
}

int store_get_session(struct store_conn *c, const char *user, int64_t id, struct session_row *row,
                      char **cause)
{
    char ids[24];
    const char *params[2] = {user, ids};
    PGresult *res;
    int n;
    snprintf(ids, sizeof ids, "%" PRId64, id);
    res = PQexecParams(c->conn,
                       "SELECT " SESSION_COLUMNS " FROM sessions s JOIN users u ON u.id = s.user_id"
                       " WHERE ($1::text IS NULL OR u.username = $1) AND s.id = $2::bigint",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *cause = pg_error(c->conn, res, "cannot read the session");
        PQclear(res);
        return -1;
    }
    n = PQntuples(res);
    if (n == 1)
        row_from(res, 0, row);
    PQclear(res);
    return n == 1;
}

static float cell_f(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NAN : strtof(PQgetvalue(res, row, col), NULL);
}

/* Decodes one row of FRAME_SELECT. */
static void frame_from_row(PGresult *res, int i, struct frame *f)
{
    frame_init(f);
    f->seq = (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10);
    f->ts_us = strtoll(PQgetvalue(res, i, 1), NULL, 10);
    f->speed_mps = cell_f(res, i, 2);
    f->rpm = cell_f(res, i, 3);
    f->has_outgauge = !PQgetisnull(res, i, 4);
    f->gear = (int8_t)(f->has_outgauge ? atoi(PQgetvalue(res, i, 4)) : 0);
    f->g_force_x = cell_f(res, i, 5);
    f->g_force_y = cell_f(res, i, 6);
    f->has_motion = !PQgetisnull(res, i, 5);
    f->throttle = cell_f(res, i, 7);
    f->brake = cell_f(res, i, 8);
    f->clutch = cell_f(res, i, 9);
    f->fuel = cell_f(res, i, 10);
    f->engine_temp_c = cell_f(res, i, 11);
    f->oil_temp_c = cell_f(res, i, 12);
    f->oil_pressure_bar = cell_f(res, i, 13);
    f->turbo_bar = cell_f(res, i, 14);
    f->dash_lights = (uint32_t)strtoul(PQgetvalue(res, i, 15), NULL, 10);
    f->show_lights = (uint32_t)strtoul(PQgetvalue(res, i, 16), NULL, 10);
    f->flags = (uint16_t)strtoul(PQgetvalue(res, i, 17), NULL, 10);
    f->pos_m[0] = cell_f(res, i, 18);
    f->pos_m[1] = cell_f(res, i, 19);
    f->pos_m[2] = cell_f(res, i, 20);
}

int store_each_frame(struct store_conn *c, int64_t session_id,
                     int (*fn)(const struct frame *f, void *arg), void *arg, char **cause)
{
    char ids[24];
    const char *params[1] = {ids};
    PGresult *res;
    int rc = 0;
    snprintf(ids, sizeof ids, "%" PRId64, session_id);
    /* Single-row mode streams a long session without holding it all in memory. */
    if (!PQsendQueryParams(c->conn, FRAME_SELECT, 1, NULL, params, NULL, NULL, 0) ||
        !PQsetSingleRowMode(c->conn)) {
        *cause = pg_error(c->conn, NULL, "cannot read frames");
        return -1;
    }
    while ((res = PQgetResult(c->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE && rc == 0) {
            struct frame f;
            frame_from_row(res, 0, &f);
            if (fn(&f, arg) < 0)
                rc = -1; /* keep reading to leave the connection clean */
        } else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE && rc == 0) {
            *cause = pg_error(c->conn, res, "cannot read frames");
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}

static void num(struct buf *b, const char *key, double v, int digits)
{
    buf_addf(b, ",\"%s\":", key);
    buf_add_json_num(b, v, digits);
}

void store_session_to_json(const struct session_row *r, struct buf *b)
{
    char start[40], end[40];
    time_format_iso(r->start_us, start, sizeof start);
    time_format_iso(r->end_us, end, sizeof end);
    buf_addf(b, "{\"id\":%" PRId64 ",\"user\":", r->id);
    buf_add_json_str(b, r->user, strlen(r->user));
    buf_adds(b, ",\"car\":");
    buf_add_json_str(b, r->car, strlen(r->car));
    buf_adds(b, ",\"source\":");
    buf_add_json_str(b, r->source, strlen(r->source));
    buf_addf(b, ",\"start_time\":\"%s\"", start);
    if (r->end_us)
        buf_addf(b, ",\"end_time\":\"%s\"", end);
    else
        buf_adds(b, ",\"end_time\":null");
    buf_addf(b, ",\"open\":%s", r->closed ? "false" : "true");
    if (r->end_reason[0])
        buf_addf(b, ",\"end_reason\":\"%s\"", r->end_reason);
    else
        buf_adds(b, ",\"end_reason\":null");
    num(b, "duration_s", r->a.duration_s, 10);
    num(b, "moving_time_s", r->a.moving_time_s, 10);
    num(b, "distance_m", r->a.distance_m, 10);
    buf_addf(b, ",\"frame_count\":%" PRId64, r->a.frame_count);
    num(b, "top_speed_mps", r->a.top_speed_mps, 9);
    num(b, "avg_speed_mps", r->a.avg_speed_mps, 9);
    num(b, "max_lat_g", r->a.max_lat_g, 6);
    num(b, "max_accel_g", r->a.max_accel_g, 6);
    num(b, "max_brake_g", r->a.max_brake_g, 6);
    num(b, "consistency", r->a.consistency, 6);
    num(b, "max_rpm", r->a.max_rpm, 7);
    buf_addc(b, '}');
}

int store_list_sessions_by_keys(struct store_conn *c, const uint64_t *keys, int nkeys,
                                struct session_row *rows, char **cause)
{
    struct buf arr = {0};
    const char *params[1];
    PGresult *res;
    int n;
    buf_addc(&arr, '{');
    for (int i = 0; i < nkeys; i++)
        buf_addf(&arr, "%s%" PRId64, i ? "," : "", (int64_t)keys[i]);
    buf_addc(&arr, '}');
    params[0] = buf_cstr(&arr);
    res = PQexecParams(c->conn,
                       "SELECT " SESSION_COLUMNS " FROM sessions s JOIN users u ON u.id = s.user_id"
                       " WHERE s.session_key = ANY($1::bigint[]) ORDER BY s.start_time, s.id",
                       1, NULL, params, NULL, NULL, 0);
    buf_free(&arr);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *cause = pg_error(c->conn, res, "cannot list sessions");
        PQclear(res);
        return -1;
    }
    n = PQntuples(res);
    if (n > nkeys)
        n = nkeys;
    for (int i = 0; i < n; i++)
        row_from(res, i, &rows[i]);
    PQclear(res);
    return n;
}

int store_delete_session(struct store_conn *c, const char *user, int64_t id, char **cause)
{
    char ids[24];
    const char *params[2] = {user, ids};
    PGresult *res;
    int n;
    snprintf(ids, sizeof ids, "%" PRId64, id);
    res = pg_query(c->conn, PGRES_COMMAND_OK, "cannot delete the session",
                   "DELETE FROM sessions s USING users u WHERE u.id = s.user_id AND "
                   "($1::text IS NULL OR u.username = $1) AND s.id = $2::bigint",
                   2, params, cause);
    if (res == NULL)
        return -1;
    n = atoi(PQcmdTuples(res));
    PQclear(res);
    return n > 0;
}

int store_session_events_json(struct store_conn *c, int64_t id, struct buf *out, char **cause)
{
    char ids[24];
    const char *params[1] = {ids};
    PGresult *res;
    snprintf(ids, sizeof ids, "%" PRId64, id);
    res = pg_query(c->conn, PGRES_TUPLES_OK, "cannot read the events",
                   "SELECT (extract(epoch FROM ts) * 1000000)::bigint, kind, detail FROM "
                   "session_events WHERE session_id = $1::bigint ORDER BY ts",
                   1, params, cause);
    if (res == NULL)
        return -1;
    buf_addc(out, '[');
    for (int i = 0; i < PQntuples(res); i++) {
        char ts[40];
        time_format_iso(strtoll(PQgetvalue(res, i, 0), NULL, 10), ts, sizeof ts);
        buf_addf(out, "%s{\"ts\":\"%s\",\"kind\":", i ? "," : "", ts);
        buf_add_json_str(out, PQgetvalue(res, i, 1), strlen(PQgetvalue(res, i, 1)));
        buf_adds(out, ",\"detail\":");
        buf_add_json_str(out, PQgetvalue(res, i, 2), strlen(PQgetvalue(res, i, 2)));
        buf_addc(out, '}');
    }
    buf_addc(out, ']');
    PQclear(res);
    return 0;
}

/* Channels of the downsampled series, in the order of the SELECT below. */
static const char *const series_channels[] = {"speed_mps", "rpm",       "throttle",  "brake",
                                              "clutch",    "g_force_x", "g_force_y", "gear"};
#define NCHAN ((int)(sizeof series_channels / sizeof series_channels[0]))

int store_session_series_json(struct store_conn *c, const struct session_row *row, int points,
                              struct buf *out, char **cause)
{
    char ids[24], np[16], start[32], span[32], st[40];
    const char *params[4] = {ids, np, start, span};
    PGresult *res;
    int n, per_frame;
    int64_t span_us;
    double bucket_s;

    /* An open session has no end yet: its span runs to the last moving frame so far. */
    span_us = row->end_us ? row->end_us - row->start_us
                          : (isfinite(row->a.duration_s) ? (int64_t)(row->a.duration_s * 1e6) : 0);
    if (span_us <= 0)
        span_us = 1;
    /* No more frames than points: one bucket per frame (min = max), at the frame's own time. */
    per_frame = row->a.frame_count <= points;
    if (per_frame)
        points = row->a.frame_count > 0 ? (int)row->a.frame_count : 1;
    bucket_s = per_frame ? 0 : (double)span_us / 1e6 / points;
    snprintf(ids, sizeof ids, "%" PRId64, row->id);
    snprintf(np, sizeof np, "%d", per_frame ? 0 : points);
    snprintf(start, sizeof start, "%" PRId64, row->start_us);
    snprintf(span, sizeof span, "%" PRId64, span_us);
    res = pg_query(
        c->conn, PGRES_TUPLES_OK, "cannot read the series",
        "SELECT b, min(off), min(abs(speed)), max(abs(speed)), min(rpm), max(rpm), "
        "min(throttle), max(throttle), min(brake), max(brake), min(clutch), max(clutch), "
        "min(g_force_x), max(g_force_x), min(g_force_y), max(g_force_y), min(gear), max(gear) "
        "FROM (SELECT CASE WHEN $2::int = 0 THEN seq - 1 ELSE least(greatest(floor("
        "((extract(epoch FROM ts) * 1000000)::bigint - $3::bigint) * $2::int / "
        "$4::double precision), 0), $2::int - 1)::int END AS b, "
        "((extract(epoch FROM ts) * 1000000)::bigint - $3::bigint) / 1e6 AS off, * "
        "FROM telemetry_frames WHERE session_id = $1::bigint) f GROUP BY b ORDER BY b",
        4, params, cause);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    time_format_iso(row->start_us, st, sizeof st);
    buf_addf(out,
             "{\"session_id\":%" PRId64 ",\"points\":%d,\"per_frame\":%s,\"bucket_s\":", row->id,
             points, per_frame ? "true" : "false");
    buf_add_json_num(out, per_frame ? NAN : bucket_s, 9);
    buf_addf(out, ",\"start_time\":\"%s\"", st);
    /* Column 1 is the time; then min/max pairs per channel. */
    for (int col = -1; col < 2 * NCHAN; col++) {
        int row_i = 0;
        if (col == -1)
            buf_adds(out, ",\"t\":[");
        else if (col % 2 == 0)
            buf_addf(out, ",\"%s\":{\"min\":[", series_channels[col / 2]);
        else
            buf_adds(out, "],\"max\":[");
        for (int i = 0; i < points; i++) {
            if (i)
                buf_addc(out, ',');
            while (row_i < n && atoi(PQgetvalue(res, row_i, 0)) < i)
                row_i++;
            if (col == -1 && !per_frame)
                buf_add_json_num(out, i * bucket_s, 9);
            else if (row_i < n && atoi(PQgetvalue(res, row_i, 0)) == i)
                buf_add_json_num(out, pg_num(res, row_i, col + 2), col == -1 ? 9 : 7);
            else
                buf_adds(out, "null");
        }
        buf_adds(out, col == -1 ? "]" : (col % 2 ? "]}" : ""));
    }
    buf_addc(out, '}');
    PQclear(res);
    return 0;
}

const char store_export_header[] =
    "seq,ts,ts_us,speed_mps,rpm,gear,throttle,brake,clutch,g_force_x,g_force_y,fuel,"
    "engine_temp_c,oil_temp_c,turbo_bar,dash_lights\n";

static void csv_num(struct buf *b, double v, int digits)
{
    if (isfinite(v))
        buf_addf(b, "%.*g", digits, v);
}

void store_export_frame_csv(const struct frame *f, struct buf *b)
{
    char ts[40];
    const float vals[] = {f->throttle, f->brake,         f->clutch,     f->g_force_x, f->g_force_y,
                          f->fuel,     f->engine_temp_c, f->oil_temp_c, f->turbo_bar};
    time_format_iso(f->ts_us, ts, sizeof ts);
    buf_addf(b, "%u,%s,%lld,", f->seq, ts, (long long)f->ts_us);
    csv_num(b, f->speed_mps, 9);
    buf_addc(b, ',');
    csv_num(b, f->rpm, 8);
    buf_addc(b, ',');
    if (f->has_outgauge)
        buf_addf(b, "%d", f->gear);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        buf_addc(b, ',');
        csv_num(b, vals[i], 7);
    }
    if (f->has_outgauge)
        buf_addf(b, ",%u\n", f->dash_lights);
    else
        buf_adds(b, ",\n");
}

struct store_export {
    struct store_conn *c;
    int header_done;
    int done;
};

struct store_export *store_export_open(struct store_conn *c, int64_t id, char **cause)
{
    char ids[24];
    const char *params[1] = {ids};
    PGresult *res;
    struct store_export *e;
    snprintf(ids, sizeof ids, "%" PRId64, id);
    if (pg_exec(c->conn, "BEGIN READ ONLY", cause) < 0)
        return NULL;
    res = pg_query(c->conn, PGRES_COMMAND_OK, "cannot read frames",
                   "DECLARE export_cur NO SCROLL CURSOR FOR " FRAME_SELECT, 1, params, cause);
    if (res == NULL) {
        PQclear(PQexec(c->conn, "ROLLBACK"));
        return NULL;
    }
    PQclear(res);
    e = xcalloc(1, sizeof *e);
    e->c = c;
    return e;
}

int store_export_next(struct store_export *e, struct buf *out)
{
    PGresult *res;
    int n;
    if (!e->header_done) {
        buf_adds(out, store_export_header);
        e->header_done = 1;
    }
    if (e->done)
        return 0;
    res = PQexec(e->c->conn, "FETCH 1000 FROM export_cur");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        struct frame f;
        frame_from_row(res, i, &f);
        store_export_frame_csv(&f, out);
    }
    PQclear(res);
    if (n < 1000)
        e->done = 1;
    return e->done ? 0 : 1;
}

void store_export_close(struct store_export *e)
{
    if (e == NULL)
        return;
    PQclear(PQexec(e->c->conn, "ROLLBACK"));
    free(e);
}
