/* SPDX-License-Identifier: MIT */
/* pipeline: the glue between ingest (frames), analytics (sessions) and store (recorder), used
 * identically by `serve` and `import` so that a capture and a live drive give the same rows.
 * Runs on one thread: the ingest thread in serve, the main thread in import. */
#include "cli.h"

#include "config/config.h"
#include "stream/stream.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct pipeline {
    struct ingest_core *core;
    struct tracker *tracker;
    struct recorder *rec;
    int64_t last_tick_us;
    uint64_t *keys;
    int nkeys, capkeys;
    char default_user[FRAME_USER_LEN];
    struct stream *stream; /* live clients; NULL in import */
    struct sourcemap *map; /* §3.6 owners; NULL: everything is the default user's */
};

static uint64_t new_key(void *arg)
{
    uint64_t k = 0;
    (void)arg;
    /* 63 random bits: stored in a signed bigint column. */
    while (k == 0) {
        if (getrandom(&k, sizeof k, 0) != sizeof k)
            k = (uint64_t)time_now_us() ^ ((uint64_t)rand() << 20);
        k &= INT64_MAX;
    }
    return k;
}

/* The "session" object of a WebSocket session event. */
static void session_event_json(const struct track_op *op, struct buf *b)
{
    char ts[40];
    time_format_iso(op->ts_us, ts, sizeof ts);
    buf_addf(b, "{\"key\":\"%016llx\"", (unsigned long long)op->session_key);
    if (op->type == TRACK_START) {
        buf_addf(b, ",\"start_time\":\"%s\",\"source\":", ts);
        buf_add_json_str(b, op->u.start.source, strlen(op->u.start.source));
        buf_adds(b, ",\"car\":");
        buf_add_json_str(b, op->u.start.car, strlen(op->u.start.car));
        buf_addc(b, '}');
        return;
    }
    static const char *const reasons[] = {"", "idle", "pause", "shutdown"};
    const struct session_analytics *a = &op->u.end.a;
    buf_addf(b, ",\"end_time\":\"%s\",\"end_reason\":\"%s\",\"frame_count\":%lld", ts,
             reasons[op->u.end.reason], (long long)a->frame_count);
    const struct {
        const char *k;
        double v;
    } nums[] = {{"duration_s", a->duration_s},       {"moving_time_s", a->moving_time_s},
                {"distance_m", a->distance_m},       {"top_speed_mps", a->top_speed_mps},
                {"avg_speed_mps", a->avg_speed_mps}, {"max_lat_g", a->max_lat_g},
                {"consistency", a->consistency},     {"max_rpm", a->max_rpm}};
    for (size_t i = 0; i < BT_ARRAY_LEN(nums); i++) {
        buf_addf(b, ",\"%s\":", nums[i].k);
        buf_add_json_num(b, nums[i].v, 9);
    }
    buf_addc(b, '}');
}

static void on_op(const struct track_op *op, void *arg)
{
    struct pipeline *p = arg;
    if (p->stream && (op->type == TRACK_START || op->type == TRACK_END)) {
        struct buf b = {0};
        session_event_json(op, &b);
        stream_publish_session(p->stream, op->user, op->type == TRACK_START ? "start" : "end",
                               buf_cstr(&b));
        buf_free(&b);
    }
    if (op->type == TRACK_START) {
        if (p->nkeys == p->capkeys) {
            p->capkeys = p->capkeys ? p->capkeys * 2 : 16;
            p->keys = xrealloc(p->keys, (size_t)p->capkeys * sizeof *p->keys);
        }
        p->keys[p->nkeys++] = op->session_key;
        log_info("session started: %s from %s", op->u.start.user, op->u.start.source);
    } else if (op->type == TRACK_END) {
        log_info("session ended: %lld frames, %.1f m, top speed %.2f m/s",
                 (long long)op->u.end.a.frame_count, op->u.end.a.distance_m,
                 op->u.end.a.top_speed_mps);
    }
    if (p->rec)
        recorder_push(p->rec, op);
}

static void on_frame(struct frame *f, void *arg)
{
    struct pipeline *p = arg;
    tracker_feed(p->tracker, f);
    if (p->stream && stream_client_count(p->stream) > 0) {
        struct tracker_live live;
        int in = f->session_key && tracker_live(p->tracker, f->user, f->source_id, &live) == 0;
        stream_publish_frame(p->stream, f, in ? &live : NULL);
    }
}

static void map_user(const struct sockaddr *src, char *user, size_t len, void *arg)
{
    struct pipeline *p = arg;
    if (p->map)
        sourcemap_lookup(p->map, src, user, len);
}

struct pipeline *pipeline_new(struct recorder *rec)
{
    struct pipeline *p = xcalloc(1, sizeof *p);
    struct tracker_opts topts;
    struct ingest_core_opts copts;
    const char *user = config_get_str("ingest-user");

    snprintf(p->default_user, sizeof p->default_user, "%s", user ? user : "");
    topts.move_threshold_mps = config_get_double("move-threshold");
    topts.idle_timeout_us = (int64_t)(config_get_double("idle-timeout") * 1e6);
    topts.pause_timeout_us = (int64_t)(config_get_double("pause-timeout") * 1e6);
    topts.new_key = new_key;
    p->tracker = tracker_new(&topts, on_op, p);
    memset(&copts, 0, sizeof copts);
    copts.on_frame = on_frame;
    copts.map_user = map_user;
    copts.default_user = p->default_user[0] ? p->default_user : NULL;
    copts.arg = p;
    p->core = ingest_core_new(&copts);
    p->rec = rec;
    return p;
}

void pipeline_free(struct pipeline *p)
{
    if (p == NULL)
        return;
    tracker_free(p->tracker);
    ingest_core_free(p->core);
    free(p->keys);
    free(p);
}

struct ingest_core *pipeline_core(struct pipeline *p)
{
    return p->core;
}

void pipeline_set_recorder(struct pipeline *p, struct recorder *rec)
{
    p->rec = rec;
}

void pipeline_set_stream(struct pipeline *p, struct stream *s, struct sourcemap *map)
{
    p->stream = s;
    p->map = map;
}

void pipeline_tick(struct pipeline *p, int64_t now_us)
{
    p->last_tick_us = now_us;
    ingest_core_tick(p->core, now_us);
    tracker_tick(p->tracker, now_us);
}

void pipeline_feed(struct pipeline *p, int64_t ts_us, const struct sockaddr *src,
                   const uint8_t *buf, size_t len)
{
    if (ts_us - p->last_tick_us >= 100000 || ts_us < p->last_tick_us)
        pipeline_tick(p, ts_us);
    ingest_core_feed(p->core, ts_us, src, buf, len);
}

void pipeline_close_all(struct pipeline *p)
{
    tracker_close_all(p->tracker);
}

const uint64_t *pipeline_session_keys(const struct pipeline *p, int *n)
{
    *n = p->nkeys;
    return p->keys;
}

void pipeline_counters_json(struct pipeline *p, struct recorder *rec, struct buf *b)
{
    struct ingest_counters *c = ingest_core_counters(p->core);
    struct recorder_stats rs;
    memset(&rs, 0, sizeof rs);
    if (rec)
        recorder_get_stats(rec, &rs);
#define CNT(x) (unsigned long long)atomic_load_explicit(&c->x, memory_order_relaxed)
    buf_addf(b,
             "\"datagrams\":%llu,\"outgauge\":%llu,\"motionsim\":%llu,\"empty\":%llu,"
             "\"accepted\":%llu,\"rejected\":%llu,\"rejected_by_reason\":{",
             CNT(datagrams), CNT(outgauge), CNT(motionsim), CNT(empty),
             CNT(outgauge) + CNT(motionsim), (unsigned long long)ingest_counters_rejected(c));
    for (int i = 0; i < REJ_MAX; i++)
        buf_addf(b, "%s\"%s\":%llu", i ? "," : "", ingest_reject_name((enum ingest_reject)i),
                 (unsigned long long)atomic_load_explicit(&c->rejected[i], memory_order_relaxed));
    buf_addf(b,
             "},\"kernel_drops\":%llu,\"frames\":%llu,\"stored_frames\":%llu,"
             "\"sessions_started\":%d,\"recorder_queued\":%llu,\"recorder_spooled\":%llu",
             CNT(kernel_drops), CNT(frames), (unsigned long long)rs.frames_written, p->nkeys,
             (unsigned long long)rs.queued, (unsigned long long)rs.spooled);
#undef CNT
}
