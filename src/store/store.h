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
    uint64_t queued;  /* ops waiting in memory */
    uint64_t spooled; /* ops waiting on disk */
    int64_t lag_us;   /* age of the oldest op not yet committed (0 when idle) */
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

/* ---- connection pool for request threads (pool.c) ---- */
struct store_pool;
struct store_pool *store_pool_new(const char *dsn, int max_idle);
void store_pool_free(struct store_pool *p);
/* A connection for this thread's request; NULL with *cause when PostgreSQL is unreachable. */
struct store_conn *store_pool_get(struct store_pool *p, char **cause);
/* Returns it; a connection that failed is closed instead of kept. */
void store_pool_put(struct store_pool *p, struct store_conn *c);
/* 1 when the connection is healthy. */
int store_conn_ok(struct store_conn *c);
/* Asks the server for a trivial answer; 0 when it replied. */
int store_ping(struct store_conn *c);

/* ---- users and source mapping (users.c) ---- */
struct user_row {
    int64_t id;
    char username[FRAME_USER_LEN];
    char *password_hash;    /* NULL: no password set */
    char last_ip[48];       /* "" when never logged in */
    char *fumbletron_token; /* NULL when unset */
    int fumbletron_valid;
    int64_t created_us;
};
void store_user_row_free(struct user_row *u);
/* Appends the user object of docs/PROTOCOL.md (with the Fumbletron-3156 badge). */
void store_user_to_json(const struct user_row *u, struct buf *b);
/* 1 found, 0 not found, -1 with *cause. */
int store_user_get(struct store_conn *c, const char *name, struct user_row *u, char **cause);
/* Adds a user (hash may be NULL).  0, or -1 with *cause (e.g. it exists). */
int store_user_add(struct store_conn *c, const char *name, const char *hash, char **cause);
/* Sets the password hash; 1 done, 0 no such user, -1 with *cause. */
int store_user_set_password(struct store_conn *c, const char *name, const char *hash, char **cause);
int store_user_set_fumbletron(struct store_conn *c, const char *name, const char *token, int valid,
                              char **cause);
int store_user_set_last_ip(struct store_conn *c, const char *name, const char *ip, char **cause);
/* Deletes a user and everything they own; 1 done, 0 no such user, -1 with *cause. */
int store_user_delete(struct store_conn *c, const char *name, char **cause);
/* Lists users by name; returns the count (≤ max) or -1.  Free each with store_user_row_free. */
int store_user_list(struct store_conn *c, struct user_row *rows, int max, char **cause);
/* Maps a source network (CIDR or address) to a user; 0 or -1 with *cause. */
int store_map_add(struct store_conn *c, const char *user, const char *cidr, char **cause);
/* Removes a mapping; 1 done, 0 none, -1 with *cause. */
int store_map_remove(struct store_conn *c, const char *cidr, char **cause);
/* One line of the §3.6 table: explicit mappings first (most specific first), then last_ip. */
struct source_map_entry {
    char cidr[64]; /* "10.0.0.0/8", "127.0.0.2/32" */
    char user[FRAME_USER_LEN];
    int explicit_map; /* 1 from ingest_sources, 0 from users.last_ip */
};
/* Reads the table; returns the count (≤ max) or -1 with *cause. */
int store_source_map_load(struct store_conn *c, struct source_map_entry *out, int max,
                          char **cause);

/* ---- session detail for the API (queries.c) ---- */
/* Deletes a user's session; 1 done, 0 not found (or another user's), -1 with *cause. */
int store_delete_session(struct store_conn *c, const char *user, int64_t id, char **cause);
/* Appends [{"ts","kind","detail"}...] for a session.  0 or -1 with *cause. */
int store_session_events_json(struct store_conn *c, int64_t id, struct buf *out, char **cause);
/* Appends the downsampled series object of docs/PROTOCOL.md (min/max per time bucket).
 * 0 or -1 with *cause. */
int store_session_series_json(struct store_conn *c, const struct session_row *row, int points,
                              struct buf *out, char **cause);
/* Streams a session's frames as CSV in chunks: open, then read until it returns 0. */
struct store_export;
struct store_export *store_export_open(struct store_conn *c, int64_t id, char **cause);
/* Appends up to ~1000 rows of CSV (the header first); returns 1 while more may come, 0 at the
 * end, -1 on error. */
int store_export_next(struct store_export *e, struct buf *out);
void store_export_close(struct store_export *e);
/* The CSV header of exports (also `sessions export`). */
extern const char store_export_header[];
/* Appends one frame as a CSV line (also `sessions export`). */
void store_export_frame_csv(const struct frame *f, struct buf *out);

#endif
