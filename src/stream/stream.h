/* SPDX-License-Identifier: MIT */
/* stream: the live WebSocket side of `serve` — a hub that the ingest thread publishes frames
 * into without ever waiting, and the libwebsockets service thread that authenticates clients
 * (first message, 5 s) and sends each user only their own frames, latest-wins when a client is
 * slow.  libwebsockets is touched only on the service thread; other threads cross through
 * stream_publish_*() and stream_adopt_fd(), which take a short lock and call
 * lws_cancel_service() (Debian's lws has no SMP locks). */
#ifndef BEAMTEL_STREAM_H
#define BEAMTEL_STREAM_H

#include "analytics/analytics.h"
#include "common/common.h"

#include <stdint.h>

/* Verifies a bearer token for the stream; on success 0 with *user and *exp_s (the token's
 * expiry) set; on failure -1 and *cause (a short reason for the 4401 close).  Runs on the lws
 * thread: must not block (HMAC only, no database). */
typedef int (*stream_verify_fn)(const char *token, char *user, size_t userlen, int64_t *exp_s,
                                char **cause, void *arg);
/* Appends the status JSON members for one user (no braces); runs on the lws thread once a
 * second per user with clients; must not block. */
typedef void (*stream_status_fn)(const char *user, struct buf *out, void *arg);

struct stream_opts {
    stream_verify_fn verify;
    stream_status_fn status;
    void *arg;
    int auth_timeout_ms;  /* 5000 */
    int choke_timeout_ms; /* close a client that stays unable to take data this long (10000) */
    int sndbuf_bytes;     /* kernel send buffer per client, small so drops show (65536) */
    int ring_frames;      /* frames kept for clients to catch up (8192) */
};

struct stream;
/* Creates the lws context (no listening socket: the router hands sockets over) and starts the
 * service thread.  NULL with *cause on failure. */
struct stream *stream_new(const struct stream_opts *opts, char **cause);
/* Stops the service thread (clients are closed with 1001) and frees everything. */
void stream_free(struct stream *s);
/* Hands an accepted socket whose request is a WebSocket upgrade to the service thread, which
 * adopts it.  Any thread; never blocks. */
void stream_adopt_fd(struct stream *s, int fd);
/* Publishes a frame (ingest thread).  live may be NULL outside a session.  Never blocks. */
void stream_publish_frame(struct stream *s, const struct frame *f, const struct tracker_live *live);
/* Publishes a session start/end for a user's clients; json is the "session" object. */
void stream_publish_session(struct stream *s, const char *user, const char *event,
                            const char *json);
/* Caches the user object sent in "hello" (from login or /api/me). */
void stream_set_user_json(struct stream *s, const char *user, const char *json);
/* Authenticated clients connected now. */
int stream_client_count(struct stream *s);

#endif
