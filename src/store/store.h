/* SPDX-License-Identifier: MIT */
/* store: PostgreSQL.  The schema and its migration, the recorder (a lossless queue from the
 * ingest thread to COPY batches, with an on-disk spool while the database is away), start-up
 * recovery of sessions left open by a crash, and the read queries of `sessions`.  Each thread
 * that talks to PostgreSQL owns its own PGconn. */
#ifndef BEAMTEL_STORE_H
#define BEAMTEL_STORE_H

#include "analytics/analytics.h"
#include "common/common.h"

#include <stdint.h>

/* ---- schema (migrate.c) ---- */
extern const char store_schema_sql[];
/* Applies the embedded schema (idempotent).  0, or -1 with *cause. */
int store_migrate(const char *dsn, char **cause);
/* Prints the schema version, table sizes and open sessions.  0, or -1 with *cause. */
int store_status(const char *dsn, char **cause);

/* ---- recorder (recorder.c, pg.c, spool.c) ---- */
struct recorder_opts {
    const char *dsn;
    const char *spool_dir; /* where frames wait while PostgreSQL is away */
    long queue_max;        /* ops held in memory before spooling to disk */
    int batch_rows;        /* most frames per COPY */
    int batch_ms;          /* longest wait for a partial batch */
    int recover;           /* close sessions an earlier run left open (serve only) */
};

/* Counters for /api/status, logs and tests. */
struct recorder_stats {
    uint64_t pushed;         /* ops accepted from the tracker */
    uint64_t dropped;        /* ops lost because even the spool failed (disk full) */
    uint64_t frames_written; /* frames committed to PostgreSQL */
    uint64_t sessions_started, sessions_ended;
    uint64_t queued;         /* ops waiting in memory */
    uint64_t spooled;        /* ops waiting on disk */
    int64_t lag_us;          /* age of the oldest op not yet committed (0 when idle) */
    int db_up;
    uint64_t db_errors;
};

struct recorder;
/* Starts the recorder threads.  The database may be down: frames wait until it is back.
 * On failure NULL and *cause is set (e.g. the spool directory cannot be created). */
struct recorder *recorder_new(const struct recorder_opts *opts, char **cause);
/* Queues one op; never blocks and never drops while memory or disk lasts.  Called from one
 * producer thread (ingest or import). */
void recorder_push(struct recorder *r, const struct track_op *op);
/* Waits until every op pushed so far is committed (or stop was requested); returns 0 when all
 * were written, -1 when the database stayed unreachable for timeout_ms (ops stay spooled). */
int recorder_drain(struct recorder *r, int timeout_ms);
void recorder_get_stats(struct recorder *r, struct recorder_stats *out);
/* Stops the threads after writing what it can within timeout_ms; spooled ops survive on disk
 * for the next start. */
void recorder_free(struct recorder *r, int timeout_ms);

/* Closes sessions left open by a crash: recomputes their analytics from the stored frames, drops
 * frames after the last moving frame, sets end_reason 'crash'.  Returns the number closed, or -1
 * with *cause. */
int store_recover_open_sessions(const char *dsn, char **cause);

/* ---- reads (queries.c) ---- */
/* A session row as `sessions` and the API show it. */
struct session_row {
    int64_t id;
    char user[FRAME_USER_LEN];
    char car[8];
    char source[FRAME_SOURCE_LEN];
    int64_t start_us, end_us; /* end 0 while open */
    int closed;
    char end_reason[16];
    struct session_analytics a;
};

struct store_conn;
/* Connects for reads; NULL with *cause on failure. */
struct store_conn *store_connect(const char *dsn, char **cause);
void store_disconnect(struct store_conn *c);
/* Lists sessions newest first (user NULL: every user); before_id > 0 pages.  Returns the
 * count filled (≤ max) or -1 with *cause. */
int store_list_sessions(struct store_conn *c, const char *user, int64_t before_id, int max,
                        struct session_row *rows, char **cause);
/* Reads the sessions with these recorder keys (what an import created), oldest first. */
int store_list_sessions_by_keys(struct store_conn *c, const uint64_t *keys, int nkeys,
                                struct session_row *rows, char **cause);
/* Reads one session; 1 found, 0 not found (or another user's), -1 with *cause. */
int store_get_session(struct store_conn *c, const char *user, int64_t id, struct session_row *row,
                      char **cause);
/* Calls fn for every frame of a session in time order (seq filled; has_motion set when
 * g_force_x is not NULL).  0, or -1 with *cause. */
int store_each_frame(struct store_conn *c, int64_t session_id,
                     int (*fn)(const struct frame *f, void *arg), void *arg, char **cause);
/* Appends the JSON object of a session (the keys of `sessions --json`). */
void store_session_to_json(const struct session_row *row, struct buf *out);

#endif
