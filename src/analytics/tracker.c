/* SPDX-License-Identifier: MIT */
/* tracker: the §4.1 session rules as a state machine per user + source.  It decides which frames
 * are stored (idle frames are held back until the car moves again) and emits ordered ops for the
 * recorder.  Pure: time comes from the frames and from tracker_tick(). */
#include "analytics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 256
/* Held-back idle frames per source; only a flood far beyond any game's rate reaches it. */
#define HELD_MAX 200000
/* An engine temperature drop this large between two frames at speed 0 is a vehicle reset. */
#define RESET_TEMP_DROP_C 10.0f

struct track_src {
    struct track_src *next;
    char user[FRAME_USER_LEN];
    uint32_t source_id;
    char source[FRAME_SOURCE_LEN];
    int64_t last_packet_us;
    int64_t last_moving_us;
    uint64_t session_key; /* 0: no open session */
    int64_t start_us;
    uint32_t seq;
    struct stats stats;
    struct frame *held;
    size_t nheld, capheld;
    int has_prev_temp;
    float prev_engine_temp_c;
};

struct tracker {
    struct tracker_opts opts;
    tracker_emit_fn emit;
    void *arg;
    struct track_src *buckets[NBUCKETS];
    int open;
};

struct tracker *tracker_new(const struct tracker_opts *opts, tracker_emit_fn emit, void *arg)
{
    struct tracker *t = xcalloc(1, sizeof *t);
    t->opts = *opts;
    t->emit = emit;
    t->arg = arg;
    return t;
}

static void src_free(struct track_src *s)
{
    free(s->held);
    free(s);
}

void tracker_free(struct tracker *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < NBUCKETS; i++) {
        struct track_src *s = t->buckets[i], *n;
        for (; s; s = n) {
            n = s->next;
            src_free(s);
        }
    }
    free(t);
}

static struct track_src *src_find(const struct tracker *t, const char *user, uint32_t id)
{
    for (struct track_src *s = t->buckets[id % NBUCKETS]; s; s = s->next)
        if (s->source_id == id && strcmp(s->user, user) == 0)
            return s;
    return NULL;
}

static struct track_src *src_get(struct tracker *t, const struct frame *f)
{
    struct track_src *s = src_find(t, f->user, f->source_id);
    if (s)
        return s;
    s = xcalloc(1, sizeof *s);
    memcpy(s->user, f->user, sizeof s->user);
    s->source_id = f->source_id;
    s->next = t->buckets[f->source_id % NBUCKETS];
    t->buckets[f->source_id % NBUCKETS] = s;
    stats_init(&s->stats);
    return s;
}

/* Adds a frame to the open session: numbered, counted, handed to the recorder. */
static void commit(struct tracker *t, struct track_src *s, struct frame *f)
{
    struct track_op op;
    f->session_key = s->session_key;
    f->seq = ++s->seq;
    stats_add(&s->stats, f->ts_us, f->speed_mps, f->rpm, f->g_force_x, f->g_force_y);
    op.type = TRACK_FRAME;
    memcpy(op.user, s->user, sizeof op.user);
    op.session_key = s->session_key;
    op.ts_us = f->ts_us;
    op.u.frame = *f;
    t->emit(&op, t->arg);
}

static void start_session(struct tracker *t, struct track_src *s, struct frame *f)
{
    struct track_op op;
    memset(&op, 0, sizeof op);
    s->session_key = t->opts.new_key(t->arg);
    s->start_us = f->ts_us;
    s->seq = 0;
    stats_init(&s->stats);
    t->open++;
    op.type = TRACK_START;
    memcpy(op.user, s->user, sizeof op.user);
    op.session_key = s->session_key;
    op.ts_us = f->ts_us;
    memcpy(op.u.start.user, f->user, sizeof op.u.start.user);
    memcpy(op.u.start.source, f->source, sizeof op.u.start.source);
    memcpy(op.u.start.car, f->car, sizeof op.u.start.car);
    op.u.start.move_threshold_mps = t->opts.move_threshold_mps;
    t->emit(&op, t->arg);
}

/* Ends the open session at its last moving frame; held-back idle frames are dropped. */
static void end_session(struct tracker *t, struct track_src *s, enum track_end_reason reason)
{
    struct track_op op;
    memset(&op, 0, sizeof op);
    op.type = TRACK_END;
    memcpy(op.user, s->user, sizeof op.user);
    op.session_key = s->session_key;
    op.ts_us = s->last_moving_us;
    op.u.end.reason = reason;
    stats_result(&s->stats, s->start_us, s->last_moving_us, &op.u.end.a);
    t->emit(&op, t->arg);
    s->session_key = 0;
    s->nheld = 0;
    t->open--;
}

static void emit_event(struct tracker *t, struct track_src *s, int64_t ts_us, const char *kind,
                       const char *detail)
{
    struct track_op op;
    memset(&op, 0, sizeof op);
    op.type = TRACK_EVENT;
    memcpy(op.user, s->user, sizeof op.user);
    op.session_key = s->session_key;
    op.ts_us = ts_us;
    strncpy(op.u.event.kind, kind, sizeof op.u.event.kind - 1);
    strncpy(op.u.event.detail, detail, sizeof op.u.event.detail - 1);
    t->emit(&op, t->arg);
}

static void hold(struct track_src *s, const struct frame *f)
{
    if (s->nheld == HELD_MAX) {
        /* Keep the newest: shift out the oldest (only under a flood). */
        memmove(s->held, s->held + 1, (s->nheld - 1) * sizeof *s->held);
        s->nheld--;
    }
    if (s->nheld == s->capheld) {
        s->capheld = s->capheld ? s->capheld * 2 : 256;
        s->held = xrealloc(s->held, s->capheld * sizeof *s->held);
    }
    s->held[s->nheld++] = *f;
}

static void detect_events(struct tracker *t, struct track_src *s, const struct frame *f)
{
    if (s->session_key && f->source_changed)
        emit_event(t, s, f->ts_us, "source_change", f->source);
    if (f->has_outgauge && isfinite(f->engine_temp_c)) {
        if (s->session_key && s->has_prev_temp && f->speed_mps == 0.0f &&
            s->prev_engine_temp_c - f->engine_temp_c >= RESET_TEMP_DROP_C)
            emit_event(t, s, f->ts_us, "reset", "engine temperature dropped to ambient");
        s->prev_engine_temp_c = f->engine_temp_c;
        s->has_prev_temp = 1;
    }
}

void tracker_feed(struct tracker *t, struct frame *f)
{
    struct track_src *s = src_get(t, f);
    int moving = isfinite(f->speed_mps) && fabs(f->speed_mps) >= t->opts.move_threshold_mps;

    if (s->session_key && f->ts_us - s->last_packet_us >= t->opts.pause_timeout_us)
        end_session(t, s, END_PAUSE);
    s->last_packet_us = f->ts_us;
    memcpy(s->source, f->source, sizeof s->source);
    detect_events(t, s, f);

    if (s->session_key == 0) {
        f->session_key = 0;
        f->seq = 0;
        if (!moving)
            return;
        start_session(t, s, f);
        s->last_moving_us = f->ts_us;
        commit(t, s, f);
        return;
    }
    if (moving) {
        /* The car moves again: the idle frames in between belong to the session. */
        for (size_t i = 0; i < s->nheld; i++)
            commit(t, s, &s->held[i]);
        s->nheld = 0;
        s->last_moving_us = f->ts_us;
        commit(t, s, f);
        return;
    }
    if (f->ts_us - s->last_moving_us >= t->opts.idle_timeout_us) {
        end_session(t, s, END_IDLE);
        f->session_key = 0;
        f->seq = 0;
        return;
    }
    f->session_key = s->session_key; /* live view: still in the session, not yet stored */
    f->seq = 0;
    hold(s, f);
}

void tracker_tick(struct tracker *t, int64_t now_us)
{
    for (int i = 0; i < NBUCKETS; i++) {
        struct track_src **pp = &t->buckets[i];
        while (*pp) {
            struct track_src *s = *pp;
            int64_t silent = now_us - s->last_packet_us;
            if (s->session_key && silent >= t->opts.pause_timeout_us)
                end_session(t, s, END_PAUSE);
            /* Forget sources that have been silent long after their session ended. */
            if (s->session_key == 0 && silent >= 2 * t->opts.pause_timeout_us) {
                *pp = s->next;
                src_free(s);
                continue;
            }
            pp = &s->next;
        }
    }
}

void tracker_close_all(struct tracker *t)
{
    for (int i = 0; i < NBUCKETS; i++)
        for (struct track_src *s = t->buckets[i]; s; s = s->next)
            if (s->session_key)
                end_session(t, s, END_SHUTDOWN);
}

int tracker_live(const struct tracker *t, const char *user, uint32_t source_id,
                 struct tracker_live *out)
{
    const struct track_src *s = src_find(t, user, source_id);
    if (s == NULL || s->session_key == 0)
        return -1;
    out->session_key = s->session_key;
    out->start_us = s->start_us;
    stats_result(&s->stats, s->start_us, s->last_moving_us, &out->a);
    return 0;
}

int tracker_open_sessions(const struct tracker *t)
{
    return t->open;
}
