/* SPDX-License-Identifier: MIT */
/* store_internal: what the store's files share and nothing outside src/store may include. */
#ifndef BEAMTEL_STORE_INTERNAL_H
#define BEAMTEL_STORE_INTERNAL_H

#include "store.h"

#include <libpq-fe.h>
#include <stddef.h>

struct store_conn {
    PGconn *conn;
    struct store_conn *next; /* in a pool's idle list */
};

/* Runs a parameterised command; returns the result when its status is `want`, else NULL with
 * *cause (and the result cleared). */
PGresult *pg_query(PGconn *conn, ExecStatusType want, const char *what, const char *sql,
                   int nparams, const char *const *params, char **cause);

/* Connects with beamtel's defaults (application_name, connect_timeout) under the user's DSN. */
PGconn *pg_connect(const char *dsn, char **cause);
/* Runs a command that returns no rows; 0 or -1 with *cause. */
int pg_exec(PGconn *conn, const char *sql, char **cause);
/* *cause from a connection or result error, trimmed of the trailing newline. */
char *pg_error(PGconn *conn, PGresult *res, const char *what);
/* Microseconds since the Unix epoch from a timestamptz text value. */
int64_t pg_ts_us(const char *s);
/* A double from a result cell; NaN for SQL NULL. */
double pg_num(PGresult *res, int row, int col);

/* Frames of one session with everything stats_add needs, in seq order; used to rebuild the
 * recorder's accumulators after an error and to close sessions left open by a crash. */
int pg_rebuild_stats(PGconn *conn, int64_t session_id, double move_threshold, struct stats *st,
                     int64_t *last_moving_us, int64_t *last_moving_seq, char **cause);

/* ---- the batch writer (pg.c), owned by the recorder's writer thread ---- */
struct pg_writer;
struct pg_writer *pg_writer_new(const char *dsn);
void pg_writer_free(struct pg_writer *w);
/* Writes ops (in order) in one transaction: new sessions, frames by binary COPY, events, and the
 * sessions' analytics.  Exactly once: frames already stored (an earlier attempt that committed
 * without our knowing) are skipped by their seq.  0 with *frames_written, or -1 with *cause
 * (the connection is dropped and the next call reconnects and reloads its state). */
int pg_writer_write(struct pg_writer *w, const struct track_op *ops, size_t n,
                    uint64_t *frames_written, uint64_t *ended, char **cause);
/* 1 when the last attempt reached PostgreSQL. */
int pg_writer_connected(const struct pg_writer *w);
/* Closes sessions that an earlier run left open (see store_recover_open_sessions). */
int pg_writer_recover(struct pg_writer *w, char **cause);

/* ---- spool (spool.c): ops waiting on disk, in segments, oldest first ---- */
struct spool;
struct spool_pos {
    uint64_t segment;
    uint64_t index;
};
struct spool *spool_open(const char *dir, char **cause);
void spool_close(struct spool *sp);
/* Appends n ops to the newest segment; 0 or -1 with *cause (disk full: ops are not written). */
int spool_append(struct spool *sp, const struct track_op *ops, size_t n, char **cause);
/* Reads up to max ops from the read position; returns the count (0 when empty), and the
 * position after them in *after. */
size_t spool_read(struct spool *sp, struct track_op *ops, size_t max, struct spool_pos *after);
/* Deletes segments wholly before pos: their ops are committed. */
void spool_release(struct spool *sp, const struct spool_pos *pos);
/* Ops written and not yet read. */
uint64_t spool_pending(struct spool *sp);
/* The first segment created by this process: ops before it come from an earlier run. */
uint64_t spool_first_new_segment(struct spool *sp);

#endif
