/* SPDX-License-Identifier: MIT */
/* cmd_import: `beamtel import FILE` — a capture through exactly the serve pipeline, timed by the
 * capture's timestamps, then a summary of what was recorded. */
#include "cli.h"

#include "capture/capture.h"
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_human(const char *file, const char *format, struct pipeline *p,
                        const struct session_row *rows, int n)
{
    struct ingest_counters *c = ingest_core_counters(pipeline_core(p));
    uint64_t rej = ingest_counters_rejected(c);
    printf("%s (%s)\n", file, format);
    printf("  datagrams  %llu (%llu OutGauge, %llu MotionSim, %llu without vehicle data)\n",
           (unsigned long long)c->datagrams, (unsigned long long)c->outgauge,
           (unsigned long long)c->motionsim, (unsigned long long)c->empty);
    printf("  rejected   %llu", (unsigned long long)rej);
    for (int i = 0; i < REJ_MAX; i++)
        if (c->rejected[i])
            printf(" %s=%llu", ingest_reject_name((enum ingest_reject)i),
                   (unsigned long long)c->rejected[i]);
    printf("\n  sessions   %d\n", n);
    for (int i = 0; i < n; i++)
        printf("  #%lld  %lld frames  top %.4f m/s  %.2f m in %.3f s  avg %.4f m/s\n",
               (long long)rows[i].id, (long long)rows[i].a.frame_count, rows[i].a.top_speed_mps,
               rows[i].a.distance_m, rows[i].a.moving_time_s, rows[i].a.avg_speed_mps);
}

int cmd_import_main(int argc, char **argv)
{
    int npos = 0, rc = BT_EXIT_OK, nkeys = 0, nrows = 0;
    char **pos = NULL, *cause = NULL, *spool = NULL;
    struct capture *cap = NULL;
    struct capture_opts copts;
    struct capture_pkt pkt;
    struct recorder *rec = NULL;
    struct pipeline *p = NULL;
    struct session_row *rows = NULL;
    const uint64_t *keys;
    int record;
    const char *dsn;

    if (cli_setup(CMD_IMPORT, argc, argv, &npos, &pos, &rc) < 0)
        goto out;
    if (npos != 1) {
        fprintf(stderr, "beamtel import: expected one FILE\nTry 'beamtel import --help'.\n");
        rc = BT_EXIT_USAGE;
        goto out;
    }
    record = !config_get_flag("no-record");
    dsn = config_db_dsn();

    memset(&copts, 0, sizeof copts);
    copts.raw_size = config_get_str("raw-size") ? (int)config_get_int("raw-size") : 0;
    copts.raw_rate_hz = config_get_double("rate");
    copts.raw_start_us = time_now_us();
    cap = capture_open(pos[0], &copts, &cause);
    if (cap == NULL) {
        fprintf(stderr, "beamtel import: %s\n", cause);
        rc = BT_EXIT_INPUT;
        goto out;
    }
    if (record) {
        struct recorder_opts ropts;
        if (store_migrate(dsn, &cause) < 0) {
            fprintf(stderr, "beamtel import: %s\n", cause);
            rc = BT_EXIT_DATABASE;
            goto out;
        }
        /* A spool of its own: import must never replay or recover serve's state. */
        spool = xasprintf("%s/import-spool.%ld", config_state_dir(), (long)getpid());
        memset(&ropts, 0, sizeof ropts);
        ropts.dsn = dsn;
        ropts.spool_dir = spool;
        ropts.queue_max = config_get_int("queue-max");
        ropts.batch_rows = (int)config_get_int("batch-rows");
        ropts.batch_ms = (int)config_get_int("batch-ms");
        rec = recorder_new(&ropts, &cause);
        if (rec == NULL) {
            fprintf(stderr, "beamtel import: %s\n", cause);
            rc = BT_EXIT_FAILURE;
            goto out;
        }
    }
    p = pipeline_new(rec);
    for (;;) {
        int r = capture_next(cap, &pkt, &cause);
        if (r < 0) {
            fprintf(stderr, "beamtel import: %s\n", cause);
            rc = BT_EXIT_INPUT;
            break;
        }
        if (r == 0)
            break;
        pipeline_feed(p, pkt.ts_us, (struct sockaddr *)&pkt.src, pkt.data, pkt.len);
    }
    pipeline_close_all(p);
    if (rec && recorder_drain(rec, 600000) < 0) {
        fprintf(stderr, "beamtel import: PostgreSQL did not take the frames\n");
        rc = BT_EXIT_DATABASE;
    }
    keys = pipeline_session_keys(p, &nkeys);
    if (rec && nkeys > 0) {
        struct store_conn *sc = store_connect(dsn, &cause);
        rows = xcalloc((size_t)nkeys, sizeof *rows);
        if (sc)
            nrows = store_list_sessions_by_keys(sc, keys, nkeys, rows, &cause);
        store_disconnect(sc);
        if (sc == NULL || nrows < 0) {
            fprintf(stderr, "beamtel import: %s\n", cause);
            rc = BT_EXIT_DATABASE;
            nrows = 0;
        }
    }
    if (config_get_flag("json")) {
        struct buf b = {0};
        buf_adds(&b, "{\"file\":");
        buf_add_json_str(&b, pos[0], strlen(pos[0]));
        buf_adds(&b, ",\"format\":");
        buf_add_json_str(&b, capture_describe(cap), strlen(capture_describe(cap)));
        buf_addc(&b, ',');
        pipeline_counters_json(p, rec, &b);
        buf_adds(&b, ",\"sessions\":[");
        for (int i = 0; i < nrows; i++) {
            if (i)
                buf_addc(&b, ',');
            store_session_to_json(&rows[i], &b);
        }
        buf_adds(&b, "]}\n");
        fputs(buf_cstr(&b), stdout);
        buf_free(&b);
    } else {
        print_human(pos[0], capture_describe(cap), p, rows, nrows);
    }

out:
    if (rec)
        recorder_free(rec, 10000);
    if (spool)
        rmdir(spool); /* only when empty: otherwise it keeps what could not be written */
    pipeline_free(p);
    capture_close(cap);
    free(rows);
    free(spool);
    free(cause);
    return rc;
}
