/* SPDX-License-Identifier: MIT */
/* cmd_serve: `beamtel serve` — binds the UDP port, starts the recorder and the ingest thread,
 * then waits for signals in main: SIGTERM/SIGINT stop cleanly (every queued frame written, open
 * sessions closed), SIGHUP re-reads the configuration's log level. */
#include "cli.h"

#include "config/config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHUTDOWN_DRAIN_MS 30000
#define QUIET_WARN_US (5 * 1000000LL)

struct serve {
    struct pipeline *pipe;
    struct recorder *rec;
    struct ingest *in;
};

/* Runs on the ingest thread every 100 ms. */
static void on_tick(int64_t now_us, void *arg)
{
    struct serve *s = arg;
    pipeline_tick(s->pipe, now_us);
}

static int start_recorder(struct serve *s, char **cause)
{
    struct recorder_opts ropts;
    char *spool;
    const char *dsn = config_db_dsn();

    /* The schema is applied on every start (idempotent); a database that is down now only
     * delays recording. */
    if (store_migrate(dsn, cause) < 0) {
        log_warn("%s; recording starts when PostgreSQL is reachable", *cause);
        free(*cause);
        *cause = NULL;
    }
    spool = xasprintf("%s/spool", config_state_dir());
    memset(&ropts, 0, sizeof ropts);
    ropts.dsn = dsn;
    ropts.spool_dir = spool;
    ropts.queue_max = config_get_int("queue-max");
    ropts.batch_rows = (int)config_get_int("batch-rows");
    ropts.batch_ms = (int)config_get_int("batch-ms");
    ropts.recover = 1;
    s->rec = recorder_new(&ropts, cause);
    free(spool);
    return s->rec ? 0 : -1;
}

static void log_final(struct serve *s)
{
    struct buf b = {0};
    buf_addc(&b, '{');
    pipeline_counters_json(s->pipe, s->rec, &b);
    buf_addc(&b, '}');
    log_info("final: %s", buf_cstr(&b));
    buf_free(&b);
}

/* Waits for signals; warns once when no telemetry arrives. */
static void wait_for_stop(struct serve *s, const sigset_t *set, int argc, char **argv)
{
    int warned_quiet = 0;
    int64_t started = time_now_us();
    struct ingest_counters *c = ingest_core_counters(pipeline_core(s->pipe));
    for (;;) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("stopping (%s): writing every queued frame", strsignal(sig));
            return;
        }
        if (sig == SIGHUP) {
            int npos;
            char **pos = NULL, *cause = NULL;
            if (config_load(CMD_SERVE, argc, argv, &npos, &pos, &cause) < 0) {
                log_err("reload: %s; keeping the running configuration", cause);
                free(cause);
            } else {
                log_info("reload: log level is now %s", config_get_str("log-level"));
            }
            continue;
        }
        if (!warned_quiet && atomic_load(&c->last_packet_us) == 0 &&
            time_now_us() - started >= QUIET_WARN_US) {
            log_warn("no telemetry yet on udp %s: in BeamNG.drive open Options > Other > "
                     "Protocols, enable OutGauge and Motion Sim, and set this machine's IP and "
                     "port %s",
                     ingest_bound_addr(s->in), strrchr(ingest_bound_addr(s->in), ':') + 1);
            warned_quiet = 1;
        }
    }
}

int cmd_serve_main(int argc, char **argv)
{
    int npos = 0, rc = BT_EXIT_OK;
    char **pos = NULL, *cause = NULL;
    struct serve s;
    struct ingest_opts iopts;
    sigset_t set;

    memset(&s, 0, sizeof s);
    if (cli_setup(CMD_SERVE, argc, argv, &npos, &pos, &rc) < 0)
        goto out;
    if (npos != 0) {
        fprintf(stderr, "beamtel serve: unexpected argument \"%s\"\n", pos[0]);
        rc = BT_EXIT_USAGE;
        goto out;
    }
    /* Threads inherit this mask: signals are taken only by main's sigtimedwait. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    memset(&iopts, 0, sizeof iopts);
    iopts.udp_addr = config_get_str("udp");
    iopts.rcvbuf_bytes = (int)config_get_int("rcvbuf");
    iopts.on_tick = on_tick;
    iopts.arg = &s;
    /* Bind first: "port in use" must be reported at once, before the database is tried. */
    s.pipe = pipeline_new(NULL);
    s.in = ingest_new(&iopts, pipeline_core(s.pipe), &cause);
    if (s.in == NULL) {
        fprintf(stderr, "beamtel serve: %s\n", cause);
        rc = errno == EADDRINUSE || errno == EACCES || errno == EADDRNOTAVAIL ? BT_EXIT_BIND
                                                                              : BT_EXIT_FAILURE;
        goto out;
    }
    if (!config_get_flag("no-record")) {
        if (start_recorder(&s, &cause) < 0) {
            fprintf(stderr, "beamtel serve: %s\n", cause);
            rc = BT_EXIT_FAILURE;
            goto out;
        }
        pipeline_set_recorder(s.pipe, s.rec);
    }
    if (ingest_start(s.in, &cause) < 0) {
        fprintf(stderr, "beamtel serve: %s\n", cause);
        rc = BT_EXIT_FAILURE;
        goto out;
    }
    log_info("listening on udp %s (receive buffer %d bytes)%s", ingest_bound_addr(s.in),
             ingest_rcvbuf(s.in), s.rec ? "" : "; not recording (--no-record)");

    wait_for_stop(&s, &set, argc, argv);

    ingest_stop(s.in);
    pipeline_close_all(s.pipe); /* the ingest thread is gone: main owns the pipeline now */
    if (s.rec && recorder_drain(s.rec, SHUTDOWN_DRAIN_MS) < 0)
        log_warn("PostgreSQL did not take every frame in %d s; the rest is kept in the spool "
                 "and written at the next start",
                 SHUTDOWN_DRAIN_MS / 1000);
    log_final(&s);
out:
    recorder_free(s.rec, 0);
    ingest_free(s.in);
    pipeline_free(s.pipe);
    free(cause);
    return rc;
}
