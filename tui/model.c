/* SPDX-License-Identifier: MIT */
/* model: turns the stream's messages (hello, frame, session, status) and the client's
 * connection events into the state the view draws.  Pure: no terminal, no socket, no clock of
 * its own (the caller passes monotonic time), so unit tests feed it synthetic messages. */
#include "tui.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define RPM_SCALE_MIN 6000.0

void tui_model_init(struct tui_model *m, const char *server, const char *user)
{
    memset(m, 0, sizeof *m);
    snprintf(m->server, sizeof m->server, "%s", server ? server : "");
    snprintf(m->user, sizeof m->user, "%s", user ? user : "");
    m->badge_valid = -1;
    m->st.db_up = -1;
    m->st.last_packet_age_s = NAN;
    m->conn.state = CLIENT_WS_CONNECTING;
    m->rpm_scale = RPM_SCALE_MIN;
    for (int i = 0; i < TUI_SPARK_SLOTS; i++)
        m->spark_slot[i] = -1;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static void str(const cJSON *o, const char *key, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(out, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static uint32_t u32(const cJSON *o, const char *key)
{
    double d = num(o, key);
    return isfinite(d) && d >= 0 && d <= 4294967295.0 ? (uint32_t)d : 0;
}

static void user_object(struct tui_model *m, const cJSON *user)
{
    const cJSON *ft = cJSON_GetObjectItemCaseSensitive(user, "fumbletron");
    const cJSON *valid = cJSON_GetObjectItemCaseSensitive(ft, "valid");
    if (!cJSON_IsObject(user))
        return;
    str(user, "username", m->user, sizeof m->user);
    str(ft, "badge", m->badge, sizeof m->badge);
    m->badge_valid = cJSON_IsBool(valid) ? cJSON_IsTrue(valid) : -1;
    if (m->badge[0] == '\0' && m->badge_valid >= 0)
        snprintf(m->badge, sizeof m->badge, "Fumbletron-3156: %s",
                 m->badge_valid ? "VALID" : "INVALID");
}

static void spark_add(struct tui_model *m, double v, int64_t now_us)
{
    int64_t slot = now_us / TUI_SPARK_SLOT_US;
    int i = (int)(slot % TUI_SPARK_SLOTS);
    if (!isfinite(v))
        return;
    v = fabs(v);
    if (m->spark_slot[i] != slot) {
        m->spark_slot[i] = slot;
        m->spark[i] = (float)v;
    } else if (v > m->spark[i]) {
        m->spark[i] = (float)v;
    }
}

double tui_model_spark_max(const struct tui_model *m, int64_t from_slot, int64_t to_slot)
{
    double best = -1;
    for (int64_t s = from_slot; s < to_slot; s++) {
        int i;
        if (s < 0)
            continue;
        i = (int)(s % TUI_SPARK_SLOTS);
        if (m->spark_slot[i] == s && m->spark[i] > best)
            best = m->spark[i];
    }
    return best;
}

static void trail_add(struct tui_model *m, double x, double y, int64_t now_us)
{
    if (now_us - m->trail_last_us < 50000 && m->trail_n > 0)
        return;
    m->trail_last_us = now_us;
    m->trail_x[m->trail_head] = (float)x;
    m->trail_y[m->trail_head] = (float)y;
    m->trail_head = (m->trail_head + 1) % TUI_TRAIL;
    if (m->trail_n < TUI_TRAIL)
        m->trail_n++;
}

static void feed_frame(struct tui_model *m, const cJSON *o, int64_t now_us)
{
    struct tui_frame *f = &m->f;
    const cJSON *gear = cJSON_GetObjectItemCaseSensitive(o, "gear");
    const cJSON *km = cJSON_GetObjectItemCaseSensitive(o, "km");
    const cJSON *sess = cJSON_GetObjectItemCaseSensitive(o, "session");

    f->valid = 1;
    f->rx_us = now_us;
    f->speed_mps = num(o, "speed_mps");
    f->rpm = num(o, "rpm");
    f->throttle = num(o, "throttle");
    f->brake = num(o, "brake");
    f->clutch = num(o, "clutch");
    f->fuel = num(o, "fuel");
    f->engine_temp_c = num(o, "engine_temp_c");
    f->oil_temp_c = num(o, "oil_temp_c");
    f->oil_pressure_bar = num(o, "oil_pressure_bar");
    f->turbo_bar = num(o, "turbo_bar");
    f->has_gear = cJSON_IsNumber(gear);
    f->gear = f->has_gear ? gear->valueint : 0;
    f->flags = u32(o, "flags");
    f->km = cJSON_IsBool(km) ? cJSON_IsTrue(km) : (f->flags & OG_KM) != 0;
    f->dash_lights = u32(o, "dash_lights");
    f->show_lights = u32(o, "show_lights");
    str(o, "car", f->car, sizeof f->car);
    str(o, "source", f->source, sizeof f->source);
    f->g_x = num(o, "g_force_x");
    f->g_y = num(o, "g_force_y");
    f->has_g = isfinite(f->g_x) && isfinite(f->g_y);
    f->has_session = cJSON_IsObject(sess);
    if (f->has_session) {
        str(sess, "key", f->session_key, sizeof f->session_key);
        f->session_duration_s = num(sess, "duration_s");
        f->session_distance_m = num(sess, "distance_m");
        f->session_top_mps = num(sess, "top_speed_mps");
    }
    m->frames++;
    spark_add(m, f->speed_mps, now_us);
    if (f->has_g)
        trail_add(m, f->g_x, f->g_y, now_us);
    else
        m->trail_n = 0;
    /* The RPM scale grows with the peaks seen, in steps of 1000, and never shrinks within a run:
     * a bar whose end moves every second is unreadable. */
    if (isfinite(f->rpm) && f->rpm > m->rpm_scale * 0.97)
        m->rpm_scale = ceil(f->rpm * 1.08 / 1000.0) * 1000.0;
}

static void feed_status(struct tui_model *m, const cJSON *o, int64_t now_us)
{
    const cJSON *ing = cJSON_GetObjectItemCaseSensitive(o, "ingest");
    const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(o, "sources");
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(o, "recorder");
    const cJSON *dbup = cJSON_GetObjectItemCaseSensitive(rec, "db_up");
    const cJSON *best = NULL;
    double best_age = INFINITY, rej;
    struct tui_status *st = &m->st;

    st->valid = 1;
    st->rx_us = now_us;
    st->packets_per_s = num(ing, "packets_per_s");
    rej = num(ing, "rejected");
    st->rejected = isfinite(rej) ? (long long)rej : 0;
    st->last_packet_age_s = num(ing, "last_packet_age_s");
    st->db_up = cJSON_IsBool(dbup) ? cJSON_IsTrue(dbup) : -1;
    str(o, "hint", st->hint, sizeof st->hint);
    /* The freshest of the caller's own sources. */
    if (cJSON_IsArray(srcs)) {
        const cJSON *s;
        cJSON_ArrayForEach(s, srcs)
        {
            double age = num(s, "last_seen_age_s");
            if (best == NULL || (isfinite(age) && age < best_age)) {
                best = s;
                best_age = isfinite(age) ? age : INFINITY;
            }
        }
    }
    if (best)
        str(best, "source", st->source, sizeof st->source);
    else
        st->source[0] = '\0';
}

static void feed_session(struct tui_model *m, const cJSON *o, int64_t now_us)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "session");
    char ev[16];
    str(o, "event", ev, sizeof ev);
    if (strcmp(ev, "end") == 0) {
        m->has_last = 1;
        m->last_duration_s = num(s, "duration_s");
        m->last_distance_m = num(s, "distance_m");
        m->last_top_mps = num(s, "top_speed_mps");
        m->last_until_us = now_us + 60 * 1000000LL;
        m->f.has_session = 0;
    } else if (strcmp(ev, "start") == 0) {
        m->has_last = 0;
    }
}

int tui_model_feed(struct tui_model *m, const char *json, size_t len, int64_t now_us)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    int rc = 1;

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -1;
    }
    if (!cJSON_IsString(type)) {
        rc = 0;
    } else if (strcmp(type->valuestring, "frame") == 0) {
        feed_frame(m, root, now_us);
    } else if (strcmp(type->valuestring, "status") == 0) {
        feed_status(m, root, now_us);
    } else if (strcmp(type->valuestring, "hello") == 0) {
        user_object(m, cJSON_GetObjectItemCaseSensitive(root, "user"));
        str(root, "version", m->server_version, sizeof m->server_version);
    } else if (strcmp(type->valuestring, "session") == 0) {
        feed_session(m, root, now_us);
    } else {
        rc = 0;
    }
    cJSON_Delete(root);
    if (rc > 0)
        m->version++;
    return rc;
}

void tui_model_conn(struct tui_model *m, const struct client_ws_event *ev, int64_t now_us)
{
    struct tui_conn *c = &m->conn;
    c->state = ev->state;
    c->attempt = ev->attempt;
    switch (ev->state) {
    case CLIENT_WS_CLOSED:
    case CLIENT_WS_ERROR:
        c->close_code = ev->close_code;
        snprintf(c->reason, sizeof c->reason, "%s", ev->reason ? ev->reason : "");
        break;
    case CLIENT_WS_WAITING:
        c->retry_at_us = now_us + ev->retry_in_us;
        break;
    case CLIENT_WS_AUTHENTICATED:
        c->ever_authenticated = 1;
        c->reason[0] = '\0';
        c->close_code = 0;
        /* A new connection starts a new picture of the server's counters. */
        m->st.valid = 0;
        break;
    default:
        break;
    }
    m->version++;
}
