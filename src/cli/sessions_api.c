/* SPDX-License-Identifier: MIT */
/* sessions_api: `beamtel sessions --server URL` — the same reports as the --db path, read
 * through the HTTP API with the token stored by `beamtel login`. */
#include "cli.h"

#include "client/client.h"
#include "config/config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct api {
    struct client_token token;
    char *server;
};

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void str(const cJSON *o, const char *key, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int64_t ts(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    int64_t us = 0;
    if (cJSON_IsString(v) && client_parse_iso_time(v->valuestring, &us) < 0)
        us = 0;
    return us;
}

/* The inverse of store_session_to_json. */
static void row_from_json(const cJSON *o, struct session_row *r)
{
    const cJSON *open = cJSON_GetObjectItemCaseSensitive(o, "open");
    memset(r, 0, sizeof *r);
    r->id = (int64_t)num(o, "id");
    str(o, "user", r->user, sizeof r->user);
    str(o, "car", r->car, sizeof r->car);
    str(o, "source", r->source, sizeof r->source);
    str(o, "end_reason", r->end_reason, sizeof r->end_reason);
    r->start_us = ts(o, "start_time");
    r->end_us = ts(o, "end_time");
    r->closed = !cJSON_IsTrue(open);
    r->a.frame_count = (int64_t)num(o, "frame_count");
    r->a.duration_s = num(o, "duration_s");
    r->a.moving_time_s = num(o, "moving_time_s");
    r->a.distance_m = num(o, "distance_m");
    r->a.top_speed_mps = num(o, "top_speed_mps");
    r->a.avg_speed_mps = num(o, "avg_speed_mps");
    r->a.max_lat_g = num(o, "max_lat_g");
    r->a.max_accel_g = num(o, "max_accel_g");
    r->a.max_brake_g = num(o, "max_brake_g");
    r->a.consistency = num(o, "consistency");
    r->a.max_rpm = num(o, "max_rpm");
}

/* GETs path; 0 with the body in *out, or an exit code after printing the error. */
static int get(struct api *a, const char *path, struct buf *out)
{
    struct client_http_request req = {.method = "GET",
                                      .server = a->server,
                                      .path = path,
                                      .token = a->token.token,
                                      .timeout_ms = 60000};
    struct client_http_response resp;
    char *cause = NULL;
    memset(&resp, 0, sizeof resp);
    if (client_http(&req, &resp, &cause) < 0) {
        fprintf(stderr, "beamtel sessions: %s\n", cause);
        free(cause);
        return BT_EXIT_UNAVAILABLE;
    }
    if (resp.status != 200) {
        char *msg = client_http_error_text(&resp);
        int rc = resp.status == 401 ? BT_EXIT_AUTH : BT_EXIT_FAILURE;
        fprintf(stderr, "beamtel sessions: %s%s\n", msg,
                resp.status == 401 ? " (run beamtel login)" : "");
        free(msg);
        client_http_response_free(&resp);
        return rc;
    }
    buf_add(out, resp.body.data ? resp.body.data : "", resp.body.len);
    client_http_response_free(&resp);
    return 0;
}

/* Lists up to limit sessions, following next_before across pages. */
static int api_list(struct api *a, int limit, struct session_row **rows_out, int *n_out)
{
    struct session_row *rows = xcalloc((size_t)limit, sizeof *rows);
    long long before = 0;
    int n = 0, rc = 0;
    while (n < limit) {
        char path[96];
        struct buf b = {0};
        cJSON *doc;
        const cJSON *list, *next, *it;
        int page = limit - n > 200 ? 200 : limit - n;
        if (before > 0)
            snprintf(path, sizeof path, "/api/sessions?limit=%d&before=%lld", page, before);
        else
            snprintf(path, sizeof path, "/api/sessions?limit=%d", page);
        rc = get(a, path, &b);
        if (rc != 0) {
            buf_free(&b);
            break;
        }
        doc = cJSON_Parse(buf_cstr(&b));
        buf_free(&b);
        list = cJSON_GetObjectItemCaseSensitive(doc, "sessions");
        cJSON_ArrayForEach(it, list)
        {
            if (n < limit)
                row_from_json(it, &rows[n++]);
        }
        next = cJSON_GetObjectItemCaseSensitive(doc, "next_before");
        before = cJSON_IsNumber(next) ? (long long)next->valuedouble : 0;
        cJSON_Delete(doc);
        if (before <= 0)
            break;
    }
    *rows_out = rows;
    *n_out = n;
    return rc;
}

static int api_show(struct api *a, int64_t id, struct session_row *row, double spark[60],
                    int *has_spark)
{
    char path[96];
    struct buf b = {0};
    cJSON *doc;
    int rc;
    snprintf(path, sizeof path, "/api/sessions/%lld", (long long)id);
    rc = get(a, path, &b);
    if (rc != 0) {
        buf_free(&b);
        return rc;
    }
    doc = cJSON_Parse(buf_cstr(&b));
    row_from_json(doc, row);
    cJSON_Delete(doc);
    buf_reset(&b);
    *has_spark = 0;
    /* The sparkline: the peak |speed| of 60 equal time buckets, as the --db path draws it. */
    snprintf(path, sizeof path, "/api/sessions/%lld/frames?points=60", (long long)id);
    if (row->a.frame_count > 60 && get(a, path, &b) == 0) {
        const cJSON *max;
        int i = 0;
        doc = cJSON_Parse(buf_cstr(&b));
        max = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "speed_mps"),
                                               "max");
        const cJSON *it;
        cJSON_ArrayForEach(it, max)
        {
            if (i < 60)
                spark[i++] = cJSON_IsNumber(it) ? it->valuedouble : 0;
        }
        *has_spark = i == 60;
        cJSON_Delete(doc);
    }
    buf_free(&b);
    return 0;
}

int cli_sessions_api(const char *verb, int64_t id, const struct sessions_printer *pr)
{
    struct api a;
    char *cause = NULL;
    int st, rc;
    memset(&a, 0, sizeof a);
    st = cli_login_lookup(&a.token, &a.server, &cause);
    if (st != CLIENT_TOKEN_VALID) {
        fprintf(stderr, "beamtel sessions: %s\n",
                st == CLIENT_TOKEN_ERROR ? cause
                : st == CLIENT_TOKEN_EXPIRED
                    ? "the stored login has expired: run beamtel login"
                    : "not logged in to this server: run beamtel login --server URL");
        free(cause);
        client_token_free(&a.token);
        free(a.server);
        return st == CLIENT_TOKEN_ERROR ? BT_EXIT_FAILURE : BT_EXIT_AUTH;
    }
    if (strcmp(verb, "list") == 0) {
        struct session_row *rows = NULL;
        int n = 0;
        rc = api_list(&a, (int)config_get_int("limit"), &rows, &n);
        if (rc == 0)
            pr->list(rows, n);
        free(rows);
    } else if (strcmp(verb, "show") == 0) {
        struct session_row row;
        double spark[60];
        int has_spark = 0;
        rc = api_show(&a, id, &row, spark, &has_spark);
        if (rc == 0)
            pr->show(&row, has_spark ? spark : NULL);
    } else {
        char path[96];
        struct buf b = {0};
        snprintf(path, sizeof path, "/api/sessions/%lld/export.csv", (long long)id);
        rc = get(&a, path, &b);
        if (rc == 0)
            fwrite(b.data, 1, b.len, stdout);
        buf_free(&b);
    }
    client_token_free(&a.token);
    free(a.server);
    return rc;
}
