/* SPDX-License-Identifier: MIT */
/* http_internal: what router.c, api.c and files.c share; nothing outside src/http includes it. */
#ifndef BEAMTEL_HTTP_INTERNAL_H
#define BEAMTEL_HTTP_INTERNAL_H

#include "http.h"

#include "auth/auth.h"
#include "store/store.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sys/socket.h>

struct http {
    struct http_opts opts;
    /* router */
    int listen_fd;
    int wake[2];
    pthread_t router;
    int router_running;
    volatile int stop;
    char bound[FRAME_SOURCE_LEN];
    /* MHD */
    struct MHD_Daemon *daemon;
    struct store_pool *pool;
    struct auth_limiter *limiter;
    char *web_root; /* realpath, or NULL */
    int web_root_fd;
    /* connections handed to MHD and not yet closed, in all and per client address; the router
     * refuses new ones over the limits so that MHD never reaches its own limit */
    pthread_mutex_t conn_mu;
    int conns;
    struct conn_count {
        char ip[48];
        int n;
    } per_ip[1024];
};

int http_router_start(struct http *h, char **cause);
void http_router_stop(struct http *h);
/* Gives an accepted HTTP connection to libmicrohttpd (router thread). */
void http_api_add_connection(struct http *h, int fd, const struct sockaddr *peer, socklen_t len);
/* Starts and stops the MHD daemon. */
int http_api_start(struct http *h, char **cause);
void http_api_stop(struct http *h);
/* Serves a static file or the SPA's index.html (files.c). */
enum MHD_Result http_files_serve(struct http *h, struct MHD_Connection *conn, const char *url,
                                 const char *method);
/* Queues a JSON error {"error":{"code","message"}}. */
enum MHD_Result http_error(struct MHD_Connection *conn, unsigned status, const char *code,
                           const char *message);

#endif
