/* SPDX-License-Identifier: MIT */
/* cli: the subcommands (one file each) and the glue that wires modules together; the only
 * code that reads the global configuration. */
#ifndef BEAMTEL_CLI_H
#define BEAMTEL_CLI_H

/* Each returns an exit code (enum bt_exit).  argv[0] is the subcommand name. */
int cmd_serve_main(int argc, char **argv);
int cmd_sessions_main(int argc, char **argv);
int cmd_import_main(int argc, char **argv);
int cmd_replay_main(int argc, char **argv);
int cmd_record_main(int argc, char **argv);
int cmd_simulate_main(int argc, char **argv);
int cmd_db_main(int argc, char **argv);
int cmd_login_main(int argc, char **argv);
int cmd_stream_main(int argc, char **argv);
int cmd_tui_main(int argc, char **argv);
int cmd_user_main(int argc, char **argv);

/* ---- cmd_login.c: the stored login, shared by login, stream, tui and sessions --server ---- */
struct client_token;
/* The server to use (--server, else the stored login's, else http://127.0.0.1:8080) in *server
 * (caller frees) and the stored token for it in *t.  Returns an enum client_token_status
 * (ABSENT when the stored login is for another server); ERROR sets *cause. */
int cli_login_lookup(struct client_token *t, char **server, char **cause);
/* Logs in with a password, stores the token, prints "logged in as NAME until TIME"; returns
 * an exit code (errors are printed as "beamtel CMD: ..."). */
int cli_login_with(const char *cmd, const char *server, const char *user, const char *password,
                   struct client_token *t);
/* The same after asking for the password on the terminal. */
int cli_login_prompt(const char *cmd, const char *server, const char *user, struct client_token *t);

/* Loads the configuration for one subcommand and handles --help; returns -1 when the caller
 * should return *rc (help printed or an error reported), else 0 with the positional args. */
int cli_setup(unsigned cmd, int argc, char **argv, int *npos, char ***pos, int *rc);

/* Set by SIGINT/SIGTERM handlers installed by cli_install_stop_signals(). */
extern volatile int cli_stop_requested;
void cli_install_stop_signals(void);

/* ---- pipeline.c: decode → session tracker → recorder, shared by serve and import ---- */
#include "analytics/analytics.h"
#include "ingest/ingest.h"
#include "store/store.h"

struct pipeline;
/* Builds the pipeline from the loaded configuration (default user, session rules); rec may be
 * NULL (live only).  Frames are also handed to on_frame when set (the live stream). */
struct pipeline *pipeline_new(struct recorder *rec);
void pipeline_free(struct pipeline *p);
/* Attaches the recorder before the ingest thread starts. */
void pipeline_set_recorder(struct pipeline *p, struct recorder *rec);
struct stream;
struct sourcemap;
/* Attaches the live stream and the §3.6 owner table before the ingest thread starts. */
void pipeline_set_stream(struct pipeline *p, struct stream *s, struct sourcemap *map);
struct ingest_core *pipeline_core(struct pipeline *p);
/* Feeds a datagram; for import, time comes from the capture (ticks are run as time passes). */
void pipeline_feed(struct pipeline *p, int64_t ts_us, const struct sockaddr *src,
                   const uint8_t *buf, size_t len);
/* Advances timers (pause timeout, idle sources). */
void pipeline_tick(struct pipeline *p, int64_t now_us);
/* Ends every open session (shutdown, end of import). */
void pipeline_close_all(struct pipeline *p);
/* Keys of the sessions started so far (import reports them). */
const uint64_t *pipeline_session_keys(const struct pipeline *p, int *n);
/* Appends the counters as JSON members (no braces): datagrams, outgauge, ..., frames,
 * stored_frames, sessions_started. */
void pipeline_counters_json(struct pipeline *p, struct recorder *rec, struct buf *out);

/* ---- sessions output, shared by the --db path and the --server path (sessions_api.c) ---- */
struct sessions_printer {
    void (*list)(const struct session_row *rows, int n);                /* table, --json or --csv */
    void (*show)(const struct session_row *row, const double *spark60); /* NULL: no line */
};
/* Runs `sessions list|show ID|export ID` against --server with the stored token; returns an
 * exit code. */
int cli_sessions_api(const char *verb, int64_t id, const struct sessions_printer *pr);

/* ---- sourcemap.c: §3.6 source → user table for the ingest thread ---- */
struct sourcemap;
struct sourcemap *sourcemap_new(void);
void sourcemap_free(struct sourcemap *m);
/* Writes the owner of the source address into user, or leaves it unchanged (no match). */
void sourcemap_lookup(struct sourcemap *m, const struct sockaddr *sa, char *user, size_t len);
/* Reloads the table from PostgreSQL; the entry count, or -1 with *cause. */
int sourcemap_refresh(struct sourcemap *m, struct store_conn *c, char **cause);

#endif
