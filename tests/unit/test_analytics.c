/* SPDX-License-Identifier: MIT */
/* test_analytics: the §4.2 arithmetic, the §4.1 session state machine and the §3.5 merging of
 * MotionSim into frames, driven through the same ingest core and tracker that serve uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "analytics/analytics.h"
#include "ingest/ingest.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000000LL
#define HZ60 (SEC / 60) /* 16666 µs: close enough where exact totals are not asserted */

/* ---- a recording sink for tracker ops ---- */
struct sink {
    struct track_op ops[40000];
    int n;
    uint64_t next_key;
    int starts, ends, frames, events;
    struct frame last_frame;
    int frames_seen;
};

static void sink_emit(const struct track_op *op, void *arg)
{
    struct sink *s = arg;
    if (s->n < (int)(sizeof s->ops / sizeof s->ops[0]))
        s->ops[s->n++] = *op;
    s->starts += op->type == TRACK_START;
    s->ends += op->type == TRACK_END;
    s->frames += op->type == TRACK_FRAME;
    s->events += op->type == TRACK_EVENT;
}

static uint64_t sink_key(void *arg)
{
    struct sink *s = arg;
    return ++s->next_key;
}

static struct tracker *new_tracker(struct sink *s)
{
    struct tracker_opts o = {.move_threshold_mps = 0.5,
                             .idle_timeout_us = 30 * SEC,
                             .pause_timeout_us = 300 * SEC,
                             .new_key = sink_key};
    memset(s, 0, sizeof *s);
    return tracker_new(&o, sink_emit, s);
}

static void feed(struct tracker *t, int64_t ts, double speed, double temp)
{
    struct frame f;
    frame_init(&f);
    strcpy(f.user, "local");
    f.source_id = 1;
    f.has_outgauge = 1;
    f.ts_us = ts;
    f.speed_mps = (float)speed;
    f.rpm = 3000;
    f.engine_temp_c = (float)temp;
    tracker_feed(t, &f);
}

static const struct track_op *find_end(const struct sink *s, int nth)
{
    for (int i = 0; i < s->n; i++)
        if (s->ops[i].type == TRACK_END && nth-- == 0)
            return &s->ops[i];
    return NULL;
}

/* ---- §4.2 ---- */

static void test_stats_math(void **state)
{
    struct stats st;
    struct session_analytics a;
    (void)state;
    stats_init(&st);
    stats_add(&st, 0, 10, 1000, NAN, NAN);
    stats_add(&st, 1 * SEC, -20, 3000, NAN, NAN); /* reverse counts as |speed| */
    stats_add(&st, 2 * SEC, 30, 2000, NAN, NAN);
    stats_add(&st, 10 * SEC, 5, 1500, NAN, NAN); /* the 8 s gap contributes nothing */
    stats_result(&st, 0, 10 * SEC, &a);
    assert_int_equal(a.frame_count, 4);
    assert_float_equal(a.moving_time_s, 2.0, 1e-12);
    assert_float_equal(a.distance_m, 30.0, 1e-12);
    assert_float_equal(a.avg_speed_mps, 15.0, 1e-12);
    /* σ² = ((10-15)²·1 + (20-15)²·1) / 2 = 25 → consistency = 100·(1 - 5/15) */
    assert_float_equal(a.consistency, 100.0 * (1.0 - 5.0 / 15.0), 1e-9);
    assert_float_equal(a.top_speed_mps, 30.0, 0);
    assert_float_equal(a.max_rpm, 3000.0, 0);
    assert_float_equal(a.duration_s, 10.0, 0);
    assert_true(isnan(a.max_lat_g));
    assert_true(isnan(a.max_accel_g));
}

static void test_stats_undefined_and_g(void **state)
{
    struct stats st;
    struct session_analytics a;
    (void)state;
    stats_init(&st);
    stats_add(&st, 0, 1.0, NAN, 0.3, -0.9);
    stats_result(&st, 0, 0, &a);
    assert_float_equal(a.moving_time_s, 0, 0);
    assert_true(isnan(a.avg_speed_mps)); /* T = 0 */
    assert_true(isnan(a.consistency));
    assert_true(isnan(a.max_rpm));
    assert_float_equal(a.max_lat_g, 0.3, 1e-6);
    assert_float_equal(a.max_brake_g, 0.9, 1e-6);
    assert_float_equal(a.max_accel_g, -0.9, 1e-6);
    /* Constant speed: σ = 0 → 100. */
    stats_init(&st);
    for (int i = 0; i < 100; i++)
        stats_add(&st, i * HZ60, 20.0, NAN, NAN, NAN);
    stats_result(&st, 0, 99 * HZ60, &a);
    assert_float_equal(a.consistency, 100.0, 1e-6);
}

/* ---- §4.1 ---- */

static void test_silence_120s_one_session(void **state)
{
    struct sink *s = malloc(sizeof *s);
    struct tracker *t = new_tracker(s);
    int64_t t0 = 1000 * SEC, t1 = t0 + 180 * SEC;
    (void)state;
    /* 60 s at 60 Hz (frames at 0, 1/60, ..., 60 s), 120 s of silence, 60 s more. */
    for (int64_t i = 0; i <= 3600; i++) {
        tracker_tick(t, t0 + i * SEC / 60);
        feed(t, t0 + i * SEC / 60, 20.0, 90);
    }
    for (int64_t i = 0; i <= 3600; i++) {
        tracker_tick(t, t1 + i * SEC / 60);
        feed(t, t1 + i * SEC / 60, 20.0, 90);
    }
    tracker_close_all(t);
    assert_int_equal(s->starts, 1);
    assert_int_equal(s->ends, 1);
    const struct track_op *e = find_end(s, 0);
    assert_int_equal(e->u.end.a.frame_count, 7202);
    assert_float_equal(e->u.end.a.moving_time_s, 120.0, 1e-9);
    assert_float_equal(e->u.end.a.distance_m, 2400.0, 1e-6);
    assert_float_equal(e->u.end.a.avg_speed_mps, 20.0, 1e-9);
    tracker_free(t);
    free(s);
}

static void test_silence_400s_two_sessions(void **state)
{
    struct sink *s = malloc(sizeof *s);
    struct tracker *t = new_tracker(s);
    int64_t t0 = 1000 * SEC;
    (void)state;
    for (int64_t i = 0; i < 3600; i++)
        feed(t, t0 + i * SEC / 60, 20.0, 90);
    int64_t last = t0 + 3599 * SEC / 60;
    /* The timer ends it at pause-timeout, before the next packet arrives. */
    tracker_tick(t, last + 299 * SEC);
    assert_int_equal(s->ends, 0);
    tracker_tick(t, last + 300 * SEC);
    assert_int_equal(s->ends, 1);
    assert_int_equal(find_end(s, 0)->u.end.reason, END_PAUSE);
    int64_t t1 = last + 400 * SEC;
    for (int64_t i = 0; i < 3600; i++)
        feed(t, t1 + i * SEC / 60, 20.0, 90);
    tracker_close_all(t);
    assert_int_equal(s->starts, 2);
    assert_int_equal(s->ends, 2);
    assert_int_equal(find_end(s, 1)->u.end.a.frame_count, 3600);
    assert_float_equal(find_end(s, 1)->u.end.a.moving_time_s, 3599.0 / 60, 1e-6);
    tracker_free(t);
    free(s);
}

static void test_idle_frames_held_then_joined_or_dropped(void **state)
{
    struct sink *s = malloc(sizeof *s);
    struct tracker *t = new_tracker(s);
    int64_t ts = 0;
    (void)state;
    /* Below the threshold: nothing starts. */
    feed(t, ts, 0.49, 90);
    assert_int_equal(s->starts, 0);
    ts += SEC;
    for (int i = 0; i < 600; i++, ts += HZ60)
        feed(t, ts, 10.0, 90); /* 10 s moving */
    for (int i = 0; i < 1200; i++, ts += HZ60)
        feed(t, ts, 0.0, 90); /* 20 s stopped: held back */
    assert_int_equal(s->frames, 600);
    for (int i = 0; i < 600; i++, ts += HZ60)
        feed(t, ts, 10.0, 90); /* moves again: the 1200 idle frames join */
    assert_int_equal(s->frames, 600 + 1200 + 600);
    for (int i = 0; i < 30 * 60 + 1; i++, ts += HZ60)
        feed(t, ts, 0.0, 90); /* 30 s stopped: ends, idle tail dropped */
    assert_int_equal(s->ends, 1);
    const struct track_op *e = find_end(s, 0);
    assert_int_equal(e->u.end.reason, END_IDLE);
    assert_int_equal(e->u.end.a.frame_count, 2400);
    /* end_time = the last moving frame */
    assert_int_equal(e->ts_us, SEC + 2399 * HZ60);
    /* Frames are numbered 1..n in time order. */
    int seq = 0;
    for (int i = 0; i < s->n; i++)
        if (s->ops[i].type == TRACK_FRAME)
            assert_int_equal(s->ops[i].u.frame.seq, ++seq);
    tracker_free(t);
    free(s);
}

static void test_reset_event_does_not_split(void **state)
{
    struct sink *s = malloc(sizeof *s);
    struct tracker *t = new_tracker(s);
    int64_t ts = 0;
    (void)state;
    for (int i = 0; i < 60; i++, ts += HZ60)
        feed(t, ts, 15.0, 80.9);
    feed(t, ts + SEC, 0.0, 1.6); /* vehicle reset: speed exactly 0, engine back to ambient */
    ts += 2 * SEC;
    for (int i = 0; i < 60; i++, ts += HZ60)
        feed(t, ts, 15.0, 1.7);
    tracker_close_all(t);
    assert_int_equal(s->starts, 1);
    assert_int_equal(s->events, 1);
    for (int i = 0; i < s->n; i++)
        if (s->ops[i].type == TRACK_EVENT)
            assert_string_equal(s->ops[i].u.event.kind, "reset");
    assert_int_equal(find_end(s, 0)->u.end.a.frame_count, 121);
    tracker_free(t);
    free(s);
}

/* ---- §3.5 through the ingest core ---- */

struct core_sink {
    struct frame frames[4000];
    int n;
};

static void core_frame(struct frame *f, void *arg)
{
    struct core_sink *c = arg;
    if (c->n < 4000)
        c->frames[c->n++] = *f;
}

static struct sockaddr_in addr(const char *ip, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static void test_motionsim_merged_into_frames(void **state)
{
    struct core_sink *c = calloc(1, sizeof *c);
    struct ingest_core_opts o = {.on_frame = core_frame, .default_user = "local", .arg = c};
    struct ingest_core *core = ingest_core_new(&o);
    struct sockaddr_in a = addr("127.0.0.1", 5000);
    struct frame og;
    struct motionsim ms;
    uint8_t b[96], m[88];
    (void)state;
    frame_init(&og);
    memcpy(og.car, "beam", 5);
    og.gear = 2;
    og.speed_mps = 20.0f;
    og.rpm = 3000.0f;
    og.engine_temp_c = 90;
    og.throttle = og.brake = og.clutch = 0;
    ingest_encode_outgauge(&og, b, 96);
    memset(&ms, 0, sizeof ms);
    ms.acc_mps2[0] = 8.0f; /* 20 m/s on a 50 m circle */
    ms.vel_mps[0] = 20.0f;
    ingest_encode_motionsim(&ms, m);
    /* 1 s of MotionSim at 200 Hz beside OutGauge at 60 Hz, interleaved by time. */
    for (int64_t k = 0, j = 0; k < 60;) {
        int64_t t_og = k * SEC / 60, t_ms = j * 5000;
        if (t_ms < t_og) { /* OutGauge first at equal times: the source starts with it */
            ingest_core_feed(core, SEC + t_ms, (struct sockaddr *)&a, m, 88);
            j++;
        } else {
            ingest_core_feed(core, SEC + t_og, (struct sockaddr *)&a, b, 96);
            k++;
        }
    }
    assert_int_equal(c->n, 60);
    for (int i = 1; i < c->n; i++) {
        assert_int_equal(c->frames[i].has_motion, 1);
        assert_float_equal(c->frames[i].g_force_x, 8.0 / 9.80665, 1e-6);
        assert_float_equal(round(c->frames[i].g_force_x * 1e4) / 1e4, 0.8158, 1e-9);
        assert_float_equal(c->frames[i].speed_mps, 20.0, 0);
    }
    /* Session max lateral G through the analytics. */
    struct stats st;
    struct session_analytics an;
    stats_init(&st);
    for (int i = 0; i < c->n; i++)
        stats_add(&st, c->frames[i].ts_us, c->frames[i].speed_mps, c->frames[i].rpm,
                  c->frames[i].g_force_x, c->frames[i].g_force_y);
    stats_result(&st, c->frames[0].ts_us, c->frames[c->n - 1].ts_us, &an);
    assert_float_equal(an.max_lat_g, 0.815773, 1e-6);

    /* MotionSim stops: 250 ms later frames carry no g-force. */
    c->n = 0;
    ingest_core_feed(core, 3 * SEC, (struct sockaddr *)&a, b, 96);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->frames[0].has_motion, 0);
    assert_true(isnan(c->frames[0].g_force_x));
    ingest_core_free(core);
    free(c);
}

static void test_motionsim_only_source(void **state)
{
    struct core_sink *c = calloc(1, sizeof *c);
    struct ingest_core_opts o = {.on_frame = core_frame, .default_user = "local", .arg = c};
    struct ingest_core *core = ingest_core_new(&o);
    struct sockaddr_in a = addr("127.0.0.9", 6000);
    struct motionsim ms;
    uint8_t m[88];
    (void)state;
    memset(&ms, 0, sizeof ms);
    ms.vel_mps[0] = 3.0f;
    ms.vel_mps[1] = 4.0f;
    ingest_encode_motionsim(&ms, m);
    for (int i = 0; i < 200; i++) /* 1 s at 200 Hz */
        ingest_core_feed(core, SEC + i * 5000, (struct sockaddr *)&a, m, 88);
    assert_int_equal(c->n, 100); /* at most 100 Hz */
    assert_float_equal(c->frames[5].speed_mps, 5.0, 1e-6);
    assert_int_equal(c->frames[5].has_outgauge, 0);
    ingest_core_free(core);
    free(c);
}

static void test_counters_and_no_user(void **state)
{
    struct core_sink *c = calloc(1, sizeof *c);
    struct ingest_core_opts o = {.on_frame = core_frame, .default_user = NULL, .arg = c};
    struct ingest_core *core = ingest_core_new(&o);
    struct sockaddr_in a = addr("127.0.0.1", 5000);
    uint8_t junk[64], zero[96];
    struct frame og;
    uint8_t b[96];
    (void)state;
    memset(junk, 7, sizeof junk);
    memset(zero, 0, sizeof zero);
    frame_init(&og);
    og.speed_mps = 20;
    og.gear = 1;
    og.rpm = 2000;
    og.throttle = og.brake = og.clutch = 0.1f;
    ingest_encode_outgauge(&og, b, 96);
    ingest_core_feed(core, SEC, (struct sockaddr *)&a, junk, 64);
    ingest_core_feed(core, SEC, (struct sockaddr *)&a, zero, 96);
    ingest_core_feed(core, SEC, (struct sockaddr *)&a, b, 96); /* nobody owns it */
    struct ingest_counters *k = ingest_core_counters(core);
    assert_int_equal(k->datagrams, 3);
    assert_int_equal(k->rejected[REJ_LENGTH], 1);
    assert_int_equal(k->empty, 1);
    assert_int_equal(k->rejected[REJ_NO_USER], 1);
    assert_int_equal(c->n, 0);
    ingest_core_free(core);
    free(c);
}

static void test_new_port_after_silence_is_same_source(void **state)
{
    struct core_sink *c = calloc(1, sizeof *c);
    struct ingest_core_opts o = {.on_frame = core_frame, .default_user = "local", .arg = c};
    struct ingest_core *core = ingest_core_new(&o);
    struct sockaddr_in a = addr("127.0.0.1", 5000), b = addr("127.0.0.1", 5001);
    struct sockaddr_in other = addr("127.0.0.1", 5002);
    struct frame og;
    uint8_t pkt[96];
    (void)state;
    frame_init(&og);
    og.gear = 2;
    og.speed_mps = 10;
    og.rpm = 2000;
    og.throttle = og.brake = og.clutch = 0;
    ingest_encode_outgauge(&og, pkt, 96);
    ingest_core_feed(core, 1 * SEC, (struct sockaddr *)&a, pkt, 96);
    /* A second car on another port while the first is active: a source of its own. */
    ingest_core_feed(core, 1 * SEC + 500000, (struct sockaddr *)&other, pkt, 96);
    ingest_core_feed(core, 3 * SEC, (struct sockaddr *)&other, pkt, 96); /* still driving */
    /* The first port went quiet; 2.6 s later a new port on the same host is the same car
     * (BeamNG reopened its socket on a vehicle switch). */
    ingest_core_feed(core, 3 * SEC + 600000, (struct sockaddr *)&b, pkt, 96);
    assert_int_equal(c->n, 4);
    c->frames[2] = c->frames[3];
    assert_int_not_equal(c->frames[1].source_id, c->frames[0].source_id);
    assert_int_equal(c->frames[2].source_id, c->frames[0].source_id);
    assert_int_equal(c->frames[2].source_changed, 1);
    assert_string_equal(c->frames[2].source, "127.0.0.1:5001");
    ingest_core_free(core);
    free(c);
}

static void test_source_limit(void **state)
{
    struct core_sink *c = calloc(1, sizeof *c);
    struct ingest_core_opts o = {.on_frame = core_frame, .default_user = "local", .arg = c};
    struct ingest_core *core = ingest_core_new(&o);
    struct frame og;
    uint8_t pkt[96];
    (void)state;
    frame_init(&og);
    og.gear = 2;
    og.speed_mps = 10;
    og.rpm = 2000;
    og.throttle = og.brake = og.clutch = 0;
    ingest_encode_outgauge(&og, pkt, 96);
    /* A flood from as many ports as the limit, all at once, then one more. */
    for (int i = 0; i <= INGEST_MAX_SOURCES; i++) {
        struct sockaddr_in a = addr("127.0.0.1", 10000 + i);
        ingest_core_feed(core, SEC, (struct sockaddr *)&a, pkt, 96);
    }
    assert_int_equal(ingest_core_counters(core)->outgauge, INGEST_MAX_SOURCES);
    assert_int_equal(ingest_core_counters(core)->rejected[REJ_SOURCES], 1);
    assert_string_equal(ingest_reject_name(REJ_SOURCES), "source_limit");
    /* Known sources keep flowing; after 10 quiet minutes the slots are free again. */
    {
        struct sockaddr_in a = addr("127.0.0.1", 10000);
        ingest_core_feed(core, 2 * SEC, (struct sockaddr *)&a, pkt, 96);
        assert_int_equal(ingest_core_counters(core)->outgauge, INGEST_MAX_SOURCES + 1);
        ingest_core_tick(core, 700 * SEC);
        a = addr("127.0.0.1", 60000);
        ingest_core_feed(core, 700 * SEC, (struct sockaddr *)&a, pkt, 96);
        assert_int_equal(ingest_core_counters(core)->rejected[REJ_SOURCES], 1);
    }
    ingest_core_free(core);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_math),
        cmocka_unit_test(test_stats_undefined_and_g),
        cmocka_unit_test(test_silence_120s_one_session),
        cmocka_unit_test(test_silence_400s_two_sessions),
        cmocka_unit_test(test_idle_frames_held_then_joined_or_dropped),
        cmocka_unit_test(test_reset_event_does_not_split),
        cmocka_unit_test(test_motionsim_merged_into_frames),
        cmocka_unit_test(test_motionsim_only_source),
        cmocka_unit_test(test_counters_and_no_user),
        cmocka_unit_test(test_new_port_after_silence_is_same_source),
        cmocka_unit_test(test_source_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
