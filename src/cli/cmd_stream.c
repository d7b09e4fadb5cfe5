/* SPDX-License-Identifier: MIT */
/* stream: prints the live "frame" messages of a serve's WebSocket as NDJSON on standard output,
 * one flushed line per frame, until interrupted or --count frames.  For jq, scripts and tests:
 * it never reconnects, and its exit code says why it stopped. */
#include "cli.h"

#include "client/client.h"
#include "common/common.h"
#include "config/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPIRED_MSG "session expired or invalid: run beamtel login"

struct stream_cli {
    struct client_ws *ws;
    long long count, max;
    int rc;
};

static void stream_on_state(const struct client_ws_event *ev, void *arg)
{
    struct stream_cli *s = arg;
    switch (ev->state) {
    case CLIENT_WS_AUTHENTICATED:
        log_debug("streaming from %s", client_ws_server(s->ws));
        return;
    case CLIENT_WS_ERROR:
        fprintf(stderr, "beamtel stream: %s\n", ev->reason);
        s->rc = BT_EXIT_UNAVAILABLE;
        break;
    case CLIENT_WS_CLOSED:
        if (ev->close_code == CLIENT_CLOSE_AUTH) {
            log_debug("the server said: %s", ev->reason);
            fprintf(stderr, "beamtel stream: " EXPIRED_MSG "\n");
            s->rc = BT_EXIT_AUTH;
        } else {
            fprintf(stderr, "beamtel stream: %s\n", ev->reason);
            s->rc = BT_EXIT_UNAVAILABLE;
        }
        break;
    default:
        return;
    }
    client_ws_stop(s->ws);
}

/* Writes one NDJSON line; JSON text can only hold raw line breaks as whitespace between tokens,
 * so replacing them keeps the document and makes it one line. */
static int write_line(const char *json, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = json[i];
        if (ch == '\n' || ch == '\r')
            ch = ' ';
        if (putchar_unlocked(ch) == EOF)
            return -1;
    }
    if (putchar_unlocked('\n') == EOF || fflush(stdout) == EOF)
        return -1;
    return 0;
}

static void stream_on_message(const char *json, size_t len, void *arg)
{
    struct stream_cli *s = arg;
    cJSON *root = cJSON_ParseWithLength(json, len);
    cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    int is_frame = cJSON_IsString(type) && strcmp(type->valuestring, "frame") == 0;

    cJSON_Delete(root);
    if (!is_frame)
        return;
    if (write_line(json, len) < 0) {
        /* A closed pipe (| head) ends the stream quietly; other write errors are failures. */
        if (errno != EPIPE) {
            fprintf(stderr, "beamtel stream: cannot write to standard output: %s\n",
                    strerror(errno));
            s->rc = BT_EXIT_FAILURE;
        }
        client_ws_stop(s->ws);
        return;
    }
    if (s->max > 0 && ++s->count >= s->max)
        client_ws_stop(s->ws);
}

static void stream_on_signal(int signo, void *arg)
{
    struct stream_cli *s = arg;
    (void)signo;
    client_ws_stop(s->ws);
}

int cmd_stream_main(int argc, char **argv)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct client_token t = {0};
    struct client_ws_opts o;
    struct client_ws_ops ops = {stream_on_state, stream_on_message, NULL, stream_on_signal, NULL};
    struct stream_cli s = {NULL, 0, 0, BT_EXIT_OK};
    char **pos, *server = NULL, *cause = NULL;
    int npos, rc, st;

    if (cli_setup(CMD_STREAM, argc, argv, &npos, &pos, &rc) < 0)
        return rc;
    if (npos > 0) {
        fprintf(stderr,
                "beamtel stream: unexpected argument \"%s\"\nTry 'beamtel stream --help'.\n",
                pos[0]);
        return BT_EXIT_USAGE;
    }
    s.max = config_get_int("count");
    st = cli_login_lookup(&t, &server, &cause);
    switch (st) {
    case CLIENT_TOKEN_VALID:
        break;
    case CLIENT_TOKEN_ABSENT:
        fprintf(stderr, "beamtel stream: not logged in to %s: run beamtel login%s%s\n", server,
                config_get_str("server") ? " --server " : "",
                config_get_str("server") ? server : "");
        rc = BT_EXIT_AUTH;
        goto out;
    case CLIENT_TOKEN_EXPIRED:
        fprintf(stderr, "beamtel stream: " EXPIRED_MSG "\n");
        rc = BT_EXIT_AUTH;
        goto out;
    default:
        fprintf(stderr, "beamtel stream: %s\n", cause);
        rc = server ? BT_EXIT_AUTH : BT_EXIT_USAGE;
        goto out;
    }

    memset(&o, 0, sizeof o);
    o.server = server;
    o.token = t.token;
    o.reconnect = 0;
    o.input_fd = -1;
    o.signals = sigs;
    o.nsignals = (int)BT_ARRAY_LEN(sigs);
    s.ws = client_ws_new(&o, &ops, &s, &cause);
    if (s.ws == NULL) {
        fprintf(stderr, "beamtel stream: %s\n", cause);
        rc = BT_EXIT_FAILURE;
        goto out;
    }
    client_ws_run(s.ws);
    client_ws_free(s.ws);
    rc = s.rc;
out:
    client_token_free(&t);
    free(server);
    free(cause);
    return rc;
}
