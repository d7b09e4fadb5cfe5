/* SPDX-License-Identifier: MIT */
/* copy_limit: the benchmark's yardstick.  Writes N rows into telemetry_frames exactly as the
 * recorder lays them out (the same 22 columns, binary COPY, an OutGauge-only frame at 20 m/s) in
 * batches of B rows, each batch one COPY in its own transaction, under real session rows; nothing
 * else (no decode, no queue, no session update).  Prints one JSON line with rows/s.
 *
 *   copy_limit --db DSN [--rows 2000000] [--batch 1000] [--sessions 1] [--table NAME]
 *              [--update-sessions]
 *
 * --table writes into another table of the same shape (run.sh uses a copy without the foreign
 * key to sessions, to show what that key costs); the session rows are still created.
 * --update-sessions also updates every session row once per batch in the batch's transaction, as
 * serve's recorder does with the running analytics (for the analysis).
 *
 * Not part of beamtel: built by tests/bench/run.sh with `cc -O2 ... -lpq`. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_EPOCH_OFFSET_US 946684800000000LL /* 2000-01-01 - 1970-01-01 */
#define NCOLS 22
#define MAX_SESSIONS 4096

struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2;
        o->p = realloc(o->p, o->cap);
        if (o->p == NULL) {
            fprintf(stderr, "copy_limit: out of memory\n");
            exit(1);
        }
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void put_i16(struct out *o, int16_t v)
{
    uint16_t n = htons((uint16_t)v);
    put(o, &n, 2);
}

static void put_i32(struct out *o, int32_t v)
{
    uint32_t n = htonl((uint32_t)v);
    put(o, &n, 4);
}

static void field_i64(struct out *o, int64_t v)
{
    uint32_t hi = htonl((uint32_t)((uint64_t)v >> 32)), lo = htonl((uint32_t)v);
    put_i32(o, 8);
    put(o, &hi, 4);
    put(o, &lo, 4);
}

static void field_i32(struct out *o, int32_t v)
{
    put_i32(o, 4);
    put_i32(o, v);
}

static void field_f32(struct out *o, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_i32(o, 4);
    put_i32(o, (int32_t)u);
}

static void field_null(struct out *o)
{
    put_i32(o, -1);
}

/* One row as serve's recorder writes an OutGauge-only frame (no MotionSim: g-forces and position
 * are NULL). */
static void row(struct out *o, int64_t session_id, int32_t seq, int64_t ts_us)
{
    put_i16(o, NCOLS);
    field_i64(o, session_id);
    field_i32(o, seq);
    field_i64(o, ts_us - PG_EPOCH_OFFSET_US);
    field_f32(o, 20.0f);   /* speed */
    field_f32(o, 4200.0f); /* rpm */
    put_i32(o, 2);         /* gear smallint */
    put_i16(o, 3);
    field_null(o); /* g_force_x */
    field_null(o); /* g_force_y */
    field_f32(o, 0.55f);
    field_f32(o, 0.0f);
    field_f32(o, 0.0f);
    field_f32(o, 0.6f);
    field_f32(o, 92.0f);
    field_f32(o, 98.0f);
    field_f32(o, 3.1f);
    field_f32(o, 0.4f);
    field_i32(o, (1 << 1) | (1 << 2) | (1 << 10) | (1 << 12));
    field_i32(o, 1 << 12);
    field_i32(o, 0xC000);
    field_null(o); /* pos_x */
    field_null(o);
    field_null(o);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die_pg(PGconn *c, PGresult *r, const char *what)
{
    fprintf(stderr, "copy_limit: %s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    exit(1);
}

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        die_pg(c, r, sql);
    PQclear(r);
}

/* A real session row owned by the seeded user, as the recorder's START creates it. */
static int64_t new_session(PGconn *c, int64_t start_us, long i)
{
    char key[32], start[32];
    const char *params[2] = {key, start};
    PGresult *r;
    int64_t id;
    snprintf(key, sizeof key, "%" PRId64,
             (int64_t)(((uint64_t)start_us << 12) + (uint64_t)i) & INT64_MAX);
    snprintf(start, sizeof start, "%" PRId64, start_us);
    r = PQexecParams(c,
                     "INSERT INTO sessions (session_key, user_id, car_name, source, start_time) "
                     "SELECT $1, u.id, 'beam', 'copy_limit', to_timestamp($2::double precision"
                     " / 1000000) FROM users u WHERE u.username = 'local' RETURNING id",
                     2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        die_pg(c, r, "insert a session (was the database migrated?)");
    id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return id;
}

/* What serve's recorder does per session and batch: the running analytics, as text. */
static void update_session(PGconn *c, int64_t id, int32_t n)
{
    char v[4][40];
    const char *params[4] = {v[0], v[1], v[2], v[3]};
    PGresult *r;
    snprintf(v[0], sizeof v[0], "%" PRId64, id);
    snprintf(v[1], sizeof v[1], "%d", n);
    snprintf(v[2], sizeof v[2], "%.17g", n * 0.2);
    snprintf(v[3], sizeof v[3], "%.17g", n * 0.01);
    r = PQexecParams(c,
                     "UPDATE sessions SET frame_count = $2, distance_m = $3, moving_time_s = $4,"
                     " top_speed_mps = 20, avg_speed_mps = 20, max_rpm = 4200, closed = false"
                     " WHERE id = $1",
                     4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die_pg(c, r, "update a session");
    PQclear(r);
}

int main(int argc, char **argv)
{
    static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
    const char *dsn = NULL, *table = "telemetry_frames";
    char copy_sql[512];
    long rows = 2000000, batch = 1000, nsess = 1;
    int update_sessions = 0;
    int64_t ids[MAX_SESSIONS];
    int32_t seq[MAX_SESSIONS] = {0};
    struct out o = {0};
    PGconn *c;
    int64_t ts;
    double t0, t1;
    long done = 0, batches = 0;
    uint16_t trailer = htons(0xffff);

    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--update-sessions") == 0) {
            update_sessions = 1;
            i--;
            continue;
        }
        if (i + 1 >= argc)
            break;
        if (strcmp(argv[i], "--db") == 0)
            dsn = argv[i + 1];
        else if (strcmp(argv[i], "--rows") == 0)
            rows = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--table") == 0)
            table = argv[i + 1];
        else if (strcmp(argv[i], "--sessions") == 0)
            nsess = strtol(argv[i + 1], NULL, 10);
        else
            break;
    }
    if (dsn == NULL || rows < 1 || batch < 1 || nsess < 1 || nsess > MAX_SESSIONS) {
        fprintf(stderr, "usage: copy_limit --db DSN [--rows N] [--batch B] [--sessions S] "
                        "[--table NAME] [--update-sessions]\n");
        return 2;
    }
    c = PQconnectdb(dsn);
    if (PQstatus(c) != CONNECTION_OK)
        die_pg(c, NULL, "connect");
    snprintf(copy_sql, sizeof copy_sql,
             "COPY %s (session_id, seq, ts, speed, rpm, gear, g_force_x, g_force_y, throttle,"
             " brake, clutch, fuel, engine_temp_c, oil_temp_c, oil_pressure_bar, turbo_bar,"
             " dash_lights, show_lights, flags, pos_x, pos_y, pos_z) FROM STDIN (FORMAT binary)",
             table);
    ts = now_us();
    for (long i = 0; i < nsess; i++)
        ids[i] = new_session(c, ts, i);

    /* Rows of all sessions interleaved, as the recorder sees several cars; time advances one
     * microsecond a row (the index is on (session_id, ts)). */
    t0 = mono_s();
    while (done < rows) {
        long n = rows - done < batch ? rows - done : batch;
        PGresult *r;
        o.len = 0;
        put(&o, header, sizeof header);
        for (long k = 0; k < n; k++, done++) {
            long s = done % nsess;
            row(&o, ids[s], ++seq[s], ts + done);
        }
        put(&o, &trailer, 2);
        exec_ok(c, "BEGIN");
        r = PQexec(c, copy_sql);
        if (PQresultStatus(r) != PGRES_COPY_IN)
            die_pg(c, r, "COPY");
        PQclear(r);
        if (PQputCopyData(c, o.p, (int)o.len) != 1 || PQputCopyEnd(c, NULL) != 1)
            die_pg(c, NULL, "COPY data");
        r = PQgetResult(c);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die_pg(c, r, "COPY end");
        PQclear(r);
        while ((r = PQgetResult(c)) != NULL)
            PQclear(r);
        if (update_sessions)
            for (long k = 0; k < nsess; k++)
                update_session(c, ids[k], seq[k]);
        exec_ok(c, "COMMIT");
        batches++;
    }
    t1 = mono_s();
    printf("{\"table\":\"%s\",\"update_sessions\":%d,\"rows\":%ld,\"batch\":%ld,"
           "\"sessions\":%ld,\"batches\":%ld,\"elapsed_s\":%.3f,\"rows_per_s\":%.0f}\n",
           table, update_sessions, done, batch, nsess, batches, t1 - t0, (double)done / (t1 - t0));
    free(o.p);
    PQfinish(c);
    return 0;
}
