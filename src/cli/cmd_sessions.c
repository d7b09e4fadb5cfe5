/* SPDX-License-Identifier: MIT */
/* cmd_sessions: `beamtel sessions [list|show ID|export ID]` — reports from PostgreSQL as an
 * aligned table, JSON or CSV, and a readable one-session report with a speed sparkline. */
#include "cli.h"

#include "config/config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPARK_WIDTH 60

struct units {
    const char *speed_name;
    double speed_k; /* m/s → unit */
    const char *dist_name;
    double dist_k; /* m → unit */
};
static const struct units METRIC = {"km/h", 3.6, "km", 0.001};
static const struct units IMPERIAL = {"mph", 2.2369362920544, "mi", 0.00062137119223733};

/* Formats v with the given number of decimals, or "-" when undefined (NULL). */
static void fmt_opt(char *out, size_t n, double v, int decimals)
{
    if (isfinite(v))
        snprintf(out, n, "%.*f", decimals, v);
    else
        snprintf(out, n, "-");
}

static void fmt_duration(char *out, size_t n, double s)
{
    if (!isfinite(s)) {
        snprintf(out, n, "-");
        return;
    }
    long t = lround(s > 0 && s < 1e8 ? s : 0);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

static void csv_num(double v, int digits)
{
    if (isfinite(v))
        printf("%.*g", digits, v);
}

static const char *const CSV_HEADER =
    "id,user,car,source,start_time,end_time,duration_s,moving_time_s,distance_m,frame_count,"
    "top_speed_mps,avg_speed_mps,max_lat_g,consistency,max_rpm";

static void print_csv_row(const struct session_row *r)
{
    char start[40], end[40] = "";
    time_format_iso(r->start_us, start, sizeof start);
    if (r->end_us)
        time_format_iso(r->end_us, end, sizeof end);
    printf("%" PRId64 ",%s,%s,%s,%s,%s,", r->id, r->user, r->car, r->source, start, end);
    csv_num(r->a.duration_s, 10);
    putchar(',');
    csv_num(r->a.moving_time_s, 10);
    putchar(',');
    csv_num(r->a.distance_m, 10);
    printf(",%" PRId64 ",", r->a.frame_count);
    csv_num(r->a.top_speed_mps, 9);
    putchar(',');
    csv_num(r->a.avg_speed_mps, 9);
    putchar(',');
    csv_num(r->a.max_lat_g, 6);
    putchar(',');
    csv_num(r->a.consistency, 6);
    putchar(',');
    csv_num(r->a.max_rpm, 7);
    putchar('\n');
}

static void print_table(const struct session_row *rows, int n, const struct units *u)
{
    printf("%6s  %-19s  %8s  %9s  %8s  %8s  %7s  %5s  %6s\n", "ID", "START (UTC)", "DURATION",
           "DISTANCE", "TOP", "AVG", "LAT G", "CONS", "FRAMES");
    for (int i = 0; i < n; i++) {
        const struct session_row *r = &rows[i];
        char start[40], dur[40], dist[40], top[40], avg[40], lat[40], cons[40];
        time_format_iso(r->start_us, start, sizeof start);
        start[10] = ' ';
        start[19] = '\0';
        fmt_duration(dur, sizeof dur, r->a.duration_s);
        fmt_opt(dist, sizeof dist, r->a.distance_m * u->dist_k, 2);
        fmt_opt(top, sizeof top, r->a.top_speed_mps * u->speed_k, 1);
        fmt_opt(avg, sizeof avg, r->a.avg_speed_mps * u->speed_k, 1);
        fmt_opt(lat, sizeof lat, r->a.max_lat_g, 2);
        fmt_opt(cons, sizeof cons, r->a.consistency, 1);
        printf("%6" PRId64 "  %-19s  %8s  %6s %-2s  %8s  %8s  %7s  %5s  %6" PRId64 "%s\n", r->id,
               start, dur, dist, u->dist_name, top, avg, lat, cons, r->a.frame_count,
               r->closed ? "" : "  (open)");
    }
    if (n == 0)
        printf("no sessions yet: drive with BeamNG.drive sending OutGauge to 'beamtel serve'\n");
    else
        printf("speeds in %s\n", u->speed_name);
}

static const struct units *units_chosen(void)
{
    return strcmp(config_get_str("units"), "imperial") == 0 ? &IMPERIAL : &METRIC;
}

static void print_list(const struct session_row *rows, int n)
{
    if (config_get_flag("json")) {
        struct buf b = {0};
        buf_addc(&b, '[');
        for (int i = 0; i < n; i++) {
            if (i)
                buf_addc(&b, ',');
            store_session_to_json(&rows[i], &b);
        }
        buf_adds(&b, "]\n");
        fputs(buf_cstr(&b), stdout);
        buf_free(&b);
    } else if (config_get_flag("csv")) {
        puts(CSV_HEADER);
        for (int i = 0; i < n; i++)
            print_csv_row(&rows[i]);
    } else {
        print_table(rows, n, units_chosen());
    }
}

static int do_list(struct store_conn *c)
{
    int limit = (int)config_get_int("limit"), n;
    struct session_row *rows = xcalloc((size_t)limit, sizeof *rows);
    char *cause = NULL;
    n = store_list_sessions(c, NULL, 0, limit, rows, &cause);
    if (n < 0) {
        fprintf(stderr, "beamtel sessions: %s\n", cause);
        free(cause);
        free(rows);
        return BT_EXIT_DATABASE;
    }
    print_list(rows, n);
    free(rows);
    return BT_EXIT_OK;
}

/* Speed samples for the sparkline: the max of each of SPARK_WIDTH time buckets. */
struct spark {
    int64_t start_us, span_us;
    double max[SPARK_WIDTH];
};

static int spark_frame(const struct frame *f, void *arg)
{
    struct spark *s = arg;
    int i;
    if (!isfinite(f->speed_mps) || s->span_us <= 0)
        return 0;
    i = (int)((f->ts_us - s->start_us) * SPARK_WIDTH / (s->span_us + 1));
    if (i < 0 || i >= SPARK_WIDTH)
        return 0;
    if (fabs(f->speed_mps) > s->max[i])
        s->max[i] = fabs(f->speed_mps);
    return 0;
}

static void print_sparkline(const double *max, double top)
{
    static const char *const utf8[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ascii[] = " .:-=+*#";
    const char *lang = getenv("LC_ALL") ? getenv("LC_ALL") : getenv("LANG");
    int use_utf8 = lang && (strstr(lang, "UTF-8") || strstr(lang, "utf8"));
    printf("  speed      ");
    for (int i = 0; i < SPARK_WIDTH; i++) {
        int lvl = top > 0 ? (int)(max[i] / top * 7.999) : 0;
        if (lvl < 0)
            lvl = 0;
        if (lvl > 7)
            lvl = 7;
        if (use_utf8)
            fputs(utf8[lvl], stdout);
        else
            putchar(ascii[lvl]);
    }
    putchar('\n');
}

static void print_show(const struct session_row *rp, const double *spark)
{
    const struct units *u = units_chosen();
    struct session_row r = *rp;
    char start[40], end[40] = "-", dur[40], mov[40];
    if (config_get_flag("json")) {
        struct buf b = {0};
        store_session_to_json(&r, &b);
        buf_addc(&b, '\n');
        fputs(buf_cstr(&b), stdout);
        buf_free(&b);
        return;
    }
    time_format_iso(r.start_us, start, sizeof start);
    if (r.end_us)
        time_format_iso(r.end_us, end, sizeof end);
    fmt_duration(dur, sizeof dur, r.a.duration_s);
    fmt_duration(mov, sizeof mov, r.a.moving_time_s);
    printf("session %" PRId64 "  %s  car \"%s\" from %s%s\n", r.id, r.user, r.car, r.source,
           r.closed ? "" : "  (open)");
    printf("  start      %s\n  end        %s%s%s%s\n", start, end, r.end_reason[0] ? " (" : "",
           r.end_reason, r.end_reason[0] ? ")" : "");
    printf("  duration   %s (moving %s, %.3f s)\n", dur, mov, r.a.moving_time_s);
    printf("  distance   %.3f %s (%.2f m)\n", r.a.distance_m * u->dist_k, u->dist_name,
           r.a.distance_m);
    if (isfinite(r.a.top_speed_mps))
        printf("  top speed  %.2f %s (%.4f m/s)\n", r.a.top_speed_mps * u->speed_k, u->speed_name,
               r.a.top_speed_mps);
    if (isfinite(r.a.avg_speed_mps))
        printf("  avg speed  %.2f %s (%.4f m/s)\n", r.a.avg_speed_mps * u->speed_k, u->speed_name,
               r.a.avg_speed_mps);
    if (isfinite(r.a.max_lat_g))
        printf("  max lat G  %.4f g (accel %.3f g, brake %.3f g)\n", r.a.max_lat_g, r.a.max_accel_g,
               r.a.max_brake_g);
    else
        printf("  max lat G  - (no MotionSim data)\n");
    if (isfinite(r.a.consistency))
        printf("  consistency %.2f / 100\n", r.a.consistency);
    if (isfinite(r.a.max_rpm))
        printf("  max rpm    %.0f\n", r.a.max_rpm);
    printf("  frames     %" PRId64 "\n", r.a.frame_count);
    if (spark)
        print_sparkline(spark, r.a.top_speed_mps);
}

static int do_show(struct store_conn *c, int64_t id)
{
    struct session_row r;
    char *cause = NULL;
    int found = store_get_session(c, NULL, id, &r, &cause);
    if (found < 0) {
        fprintf(stderr, "beamtel sessions: %s\n", cause);
        free(cause);
        return BT_EXIT_DATABASE;
    }
    if (found == 0) {
        fprintf(stderr, "beamtel sessions: no session %" PRId64 "\n", id);
        return BT_EXIT_FAILURE;
    }
    /* An open session has no end yet: its span runs to the last moving frame so far. */
    int64_t span_us = r.end_us ? r.end_us - r.start_us
                               : (isfinite(r.a.duration_s) ? (int64_t)(r.a.duration_s * 1e6) : 0);
    if (!config_get_flag("json") && r.a.frame_count > 60 && span_us > 0) {
        struct spark s;
        memset(&s, 0, sizeof s);
        s.start_us = r.start_us;
        s.span_us = span_us;
        if (store_each_frame(c, r.id, spark_frame, &s, &cause) == 0) {
            print_show(&r, s.max);
            return BT_EXIT_OK;
        }
        free(cause);
    }
    print_show(&r, NULL);
    return BT_EXIT_OK;
}

static int export_errno; /* errno of the first failed write of an export */

static int export_frame(const struct frame *f, void *arg)
{
    struct buf *b = arg;
    buf_reset(b);
    store_export_frame_csv(f, b);
    if (fwrite(b->data, 1, b->len, stdout) != b->len) {
        export_errno = errno;
        return -1;
    }
    return 0;
}

static int do_export(struct store_conn *c, int64_t id)
{
    struct session_row r;
    char *cause = NULL;
    int rc, found = store_get_session(c, NULL, id, &r, &cause);
    if (found <= 0) {
        if (found < 0)
            fprintf(stderr, "beamtel sessions: %s\n", cause);
        else
            fprintf(stderr, "beamtel sessions: no session %" PRId64 "\n", id);
        free(cause);
        return found < 0 ? BT_EXIT_DATABASE : BT_EXIT_FAILURE;
    }
    struct buf line = {0};
    fputs(store_export_header, stdout);
    rc = store_each_frame(c, id, export_frame, &line, &cause);
    buf_free(&line);
    if (rc < 0) {
        if (cause == NULL && export_errno == EPIPE)
            return BT_EXIT_OK; /* the reader went away (| head) */
        fprintf(stderr, "beamtel sessions: %s\n", cause ? cause : "write error");
        free(cause);
        return BT_EXIT_FAILURE;
    }
    return BT_EXIT_OK;
}

int cmd_sessions_main(int argc, char **argv)
{
    int npos = 0, rc = BT_EXIT_OK;
    char **pos = NULL, *cause = NULL;
    const char *verb;
    static const struct sessions_printer printer = {print_list, print_show};
    struct store_conn *c = NULL;
    long id = 0;

    if (cli_setup(CMD_SESSIONS, argc, argv, &npos, &pos, &rc) < 0)
        goto out;
    verb = npos > 0 ? pos[0] : "list";
    if (strcmp(verb, "list") == 0 ? npos > 1
                                  : (strcmp(verb, "show") && strcmp(verb, "export")) || npos != 2 ||
                                        parse_long(pos[1], &id) < 0 || id <= 0) {
        fprintf(stderr, "beamtel sessions: expected 'list', 'show ID' or 'export ID'\n"
                        "Try 'beamtel sessions --help'.\n");
        rc = BT_EXIT_USAGE;
        goto out;
    }
    if (strcmp(verb, "export") == 0 && config_get_flag("json")) {
        fprintf(stderr, "beamtel sessions: export writes CSV (--csv)\n");
        rc = BT_EXIT_USAGE;
        goto out;
    }
    if (config_get_str("server") && *config_get_str("server")) {
        rc = cli_sessions_api(verb, id, &printer);
        goto out;
    }
    c = store_connect(config_db_dsn(), &cause);
    if (c == NULL) {
        fprintf(stderr,
                "beamtel sessions: %s\n(is PostgreSQL running? set --db, PG* variables or the "
                "db key; the quickstart's cluster: scripts/quickstart.sh status)\n",
                cause);
        rc = BT_EXIT_DATABASE;
        goto out;
    }
    if (strcmp(verb, "list") == 0)
        rc = do_list(c);
    else if (strcmp(verb, "show") == 0)
        rc = do_show(c, id);
    else
        rc = do_export(c, id);
out:
    store_disconnect(c);
    free(cause);
    return rc;
}
