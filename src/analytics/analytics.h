/* SPDX-License-Identifier: MIT */
/* analytics: the session rules (§4.1) as a state machine per user + source, and the session
 * analytics (§4.2) computed incrementally.  Pure: no I/O, no libpq, no lws, no clocks; time is
 * whatever the caller passes (arrival time live, capture time on import). */
#ifndef BEAMTEL_ANALYTICS_H
#define BEAMTEL_ANALYTICS_H

#include "common/common.h"

#include <stdint.h>

/* Incremental §4.2 accumulator.  Feed the session's frames in time order. */
struct stats {
    int64_t frame_count;
    int has_prev;
    int64_t prev_ts_us;
    double prev_v;        /* |speed| of the previous frame, m/s */
    double moving_time_s; /* Σ Δt */
    double distance_m;    /* Σ v·Δt */
    double sum_v2_dt;     /* Σ v²·Δt, for σ */
    double top_speed_mps; /* NaN until a frame with a speed */
    double max_rpm;       /* NaN until a frame with rpm */
    double max_lat_g;     /* max |g_force_x|; NaN without MotionSim */
    double max_accel_g;   /* max g_force_y (forward); NaN without MotionSim */
    double max_brake_g;   /* max -g_force_y (braking); NaN without MotionSim */
};

/* The analytics of one session as stored on its row; NaN stands for SQL NULL / JSON null. */
struct session_analytics {
    int64_t frame_count;
    double duration_s;
    double moving_time_s;
    double distance_m;
    double top_speed_mps;
    double avg_speed_mps;
    double max_lat_g;
    double max_accel_g;
    double max_brake_g;
    double consistency; /* 0..100 */
    double max_rpm;
};

void stats_init(struct stats *s);
/* Adds one frame: time, signed speed (NaN allowed), rpm (NaN allowed), g forces (NaN = none). */
void stats_add(struct stats *s, int64_t ts_us, double speed_mps, double rpm, double g_x,
               double g_y);
/* Computes the analytics; start/end are the session's first and last moving frame times. */
void stats_result(const struct stats *s, int64_t start_us, int64_t end_us,
                  struct session_analytics *out);

struct tracker_opts {
    double move_threshold_mps; /* |speed| ≥ this is moving (0.5) */
    int64_t idle_timeout_us;   /* 30 s below the threshold ends a session */
    int64_t pause_timeout_us;  /* 300 s without packets ends a session (timer) */
    /* Returns a new unique non-zero session key (random in production, counting in tests). */
    uint64_t (*new_key)(void *arg);
};

enum track_op_type { TRACK_START = 1, TRACK_FRAME, TRACK_END, TRACK_EVENT };
enum track_end_reason { END_IDLE = 1, END_PAUSE, END_SHUTDOWN };

/* What the tracker tells the recorder (and the live stream), in order per session. */
struct track_op {
    enum track_op_type type;
    uint64_t session_key;
    int64_t ts_us; /* START: first moving frame; FRAME: frame time; END: last moving frame */
    char user[FRAME_USER_LEN]; /* the session's owner */
    union {
        struct {
            char user[FRAME_USER_LEN];
            char source[FRAME_SOURCE_LEN];
            char car[5];
            double move_threshold_mps;
        } start;
        struct frame frame; /* FRAME: seq set, 1-based */
        struct {
            enum track_end_reason reason;
            struct session_analytics a;
        } end;
        struct {
            char kind[16]; /* "reset", "source_change" */
            char detail[64];
        } event;
    } u;
};

typedef void (*tracker_emit_fn)(const struct track_op *op, void *arg);

/* Live view of the session a source is in, for the stream (duration, distance, top speed). */
struct tracker_live {
    uint64_t session_key;
    int64_t start_us;
    struct session_analytics a; /* over the frames committed so far */
};

struct tracker;
struct tracker *tracker_new(const struct tracker_opts *opts, tracker_emit_fn emit, void *arg);
void tracker_free(struct tracker *t);
/* Feeds one frame (keyed by f->user + f->source_id); sets f->session_key (0 outside a session)
 * and emits ops.  Frames must come in time order per source. */
void tracker_feed(struct tracker *t, struct frame *f);
/* Ends sessions whose source has been silent for the pause timeout at now_us. */
void tracker_tick(struct tracker *t, int64_t now_us);
/* Ends every open session (shutdown, end of an import). */
void tracker_close_all(struct tracker *t);
/* Fills *out for the session of (user, source_id); returns 0, or -1 when none is open. */
int tracker_live(const struct tracker *t, const char *user, uint32_t source_id,
                 struct tracker_live *out);
/* Number of open sessions. */
int tracker_open_sessions(const struct tracker *t);

#endif
