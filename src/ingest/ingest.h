/* SPDX-License-Identifier: MIT */
/* ingest: OutGauge and MotionSim decoding and validation (§3), per-source merging into frames
 * (§3.5), and the UDP receive thread.  It never includes store, stream or http: frames leave
 * through a callback that the glue (cli/pipeline.c) provides. */
#ifndef BEAMTEL_INGEST_H
#define BEAMTEL_INGEST_H

#include "common/common.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define OUTGAUGE_LEN_NOID 92
#define OUTGAUGE_LEN 96
#define OUTGAUGE_LEN_EXT 112
#define MOTIONSIM_LEN 88
#define STANDARD_GRAVITY 9.80665
#define INGEST_MAX_SOURCES 1024 /* sources remembered at once (forgotten after 10 min quiet) */

/* Why a datagram was rejected; the names (ingest_reject_name) appear in logs and JSON. */
enum ingest_reject {
    REJ_LENGTH = 0, /* fits neither protocol (e.g. Live for Speed OutSim, 64 bytes) */
    REJ_NONFINITE,  /* a float is NaN or infinite */
    REJ_SPEED,      /* |speed| > 300 m/s */
    REJ_GEAR,       /* gear byte > 21 (forward gear > 20) */
    REJ_PEDAL,      /* throttle, brake or clutch outside [-0.01, 1.01] */
    REJ_CAR,        /* car name with bytes that are neither printable ASCII nor NUL */
    REJ_NO_USER,    /* source maps to no user and there is no default ingest user */
    REJ_SOURCES,    /* a new source while INGEST_MAX_SOURCES are remembered (a port flood) */
    REJ_MAX
};
const char *ingest_reject_name(enum ingest_reject r);

/* A decoded MotionSim datagram. */
struct motionsim {
    float pos_m[3], vel_mps[3], acc_mps2[3], up[3];
    float rpy_rad[3], rpy_rate[3], rpy_acc[3];
};

enum ingest_kind { PKT_OUTGAUGE = 1, PKT_MOTIONSIM, PKT_EMPTY };

/* Decodes and validates one datagram.  Returns PKT_OUTGAUGE (fields written into *og, which the
 * caller initialised with frame_init), PKT_MOTIONSIM (*ms filled), PKT_EMPTY for an all-zero
 * OutGauge body (no vehicle data), or -1 with *why set.  Pure; never reads past len. */
int ingest_decode(const uint8_t *buf, size_t len, struct frame *og, struct motionsim *ms,
                  enum ingest_reject *why);

/* Encodes f's OutGauge fields into a datagram of len bytes (92, 96 or ≥ 112: the 112-byte
 * extension is written when len ≥ 112).  The inverse of ingest_decode; returns len. */
size_t ingest_encode_outgauge(const struct frame *f, uint8_t *out, size_t len);
/* Encodes an 88-byte MotionSim datagram; returns 88. */
size_t ingest_encode_motionsim(const struct motionsim *ms, uint8_t out[MOTIONSIM_LEN]);

/* Counters, updated by the thread that feeds the core and read by anyone (relaxed atomics). */
struct ingest_counters {
    atomic_uint_fast64_t datagrams;
    atomic_uint_fast64_t bytes;
    atomic_uint_fast64_t outgauge;
    atomic_uint_fast64_t motionsim;
    atomic_uint_fast64_t empty;  /* all-zero OutGauge: no vehicle data */
    atomic_uint_fast64_t frames; /* frames emitted */
    atomic_uint_fast64_t rejected[REJ_MAX];
    atomic_uint_fast64_t kernel_drops;  /* datagrams the kernel dropped (receive buffer full) */
    atomic_int_fast64_t last_packet_us; /* wall clock of the newest datagram, 0 = none yet */
};
/* Sum of rejected[]. */
uint64_t ingest_counters_rejected(const struct ingest_counters *c);

/* Called for every frame, on the thread that feeds the core.  The callback may modify the frame
 * (the tracker sets session_key/seq) and must not block. */
typedef void (*ingest_frame_fn)(struct frame *f, void *arg);
/* Maps a source to its owner's user name (§3.6); writes "" when none.  Must not block. */
typedef void (*ingest_user_fn)(const struct sockaddr *src, char *user, size_t userlen, void *arg);

struct ingest_core_opts {
    ingest_frame_fn on_frame;
    ingest_user_fn map_user; /* NULL: every source belongs to default_user */
    const char *default_user;
    void *arg;
};

/* The decode → validate → merge core, shared by `serve` (UDP) and `import` (captures) so that
 * both produce exactly the same frames.  Not thread-safe: one feeding thread. */
struct ingest_core;
struct ingest_core *ingest_core_new(const struct ingest_core_opts *opts);
void ingest_core_free(struct ingest_core *core);
/* Feeds one datagram that arrived at ts_us from src. */
void ingest_core_feed(struct ingest_core *core, int64_t ts_us, const struct sockaddr *src,
                      const uint8_t *buf, size_t len);
/* Advances time without a datagram: emits pending MotionSim-only frames and forgets idle
 * sources.  Call at least every 100 ms. */
void ingest_core_tick(struct ingest_core *core, int64_t now_us);
struct ingest_counters *ingest_core_counters(struct ingest_core *core);

/* What the status shows of each source; a snapshot refreshed by ingest_core_tick. */
struct ingest_source_info {
    char source[FRAME_SOURCE_LEN];
    char user[FRAME_USER_LEN];
    char car[5];
    int64_t last_seen_us;
    uint64_t packets;
    int motionsim; /* MotionSim arrived in the last 250 ms */
};
/* Copies the latest snapshot (any thread); returns the count (≤ max). */
int ingest_core_sources(struct ingest_core *core, struct ingest_source_info *out, int max);

/* The UDP receiver (`serve`). */
struct ingest_opts {
    const char *udp_addr; /* "0.0.0.0:4444" */
    int rcvbuf_bytes;
    /* Called on the ingest thread roughly every 100 ms with the wall clock. */
    void (*on_tick)(int64_t now_us, void *arg);
    void *arg;
};
struct ingest;
/* Binds the socket (so that "port in use" is reported before anything starts).  On success a
 * handle is returned; on failure NULL and *cause is set (errno kept, EADDRINUSE for a port in
 * use). */
struct ingest *ingest_new(const struct ingest_opts *opts, struct ingest_core *core, char **cause);
/* Starts the receive thread. 0 or -1 with *cause. */
int ingest_start(struct ingest *in, char **cause);
/* Stops and joins the thread; the core stays usable. */
void ingest_stop(struct ingest *in);
void ingest_free(struct ingest *in);
/* The bound address as text and the receive buffer the kernel granted. */
const char *ingest_bound_addr(const struct ingest *in);
int ingest_rcvbuf(const struct ingest *in);

#endif
