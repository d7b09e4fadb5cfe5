/* SPDX-License-Identifier: MIT */
/* frame: initialisation and the one JSON encoding of a frame (WebSocket, HTTP, stream, sessions).
 * The field names here are a public contract documented in docs/PROTOCOL.md. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void frame_init(struct frame *f)
{
    memset(f, 0, sizeof *f);
    f->speed_mps = f->rpm = f->turbo_bar = f->engine_temp_c = f->fuel = NAN;
    f->oil_pressure_bar = f->oil_temp_c = NAN;
    f->throttle = f->brake = f->clutch = NAN;
    f->cruise_speed_mps = f->fuel_capacity = NAN;
    f->g_force_x = f->g_force_y = f->g_force_z = NAN;
    for (int i = 0; i < 3; i++)
        f->pos_m[i] = f->vel_mps[i] = NAN;
}

const char *frame_gear_label(int gear, char *out, size_t outlen)
{
    if (gear < 0)
        snprintf(out, outlen, "R");
    else if (gear == 0)
        snprintf(out, outlen, "N");
    else
        snprintf(out, outlen, "%d", gear);
    return out;
}

static void key_num(struct buf *b, const char *key, double v, int digits)
{
    buf_addf(b, ",\"%s\":", key);
    buf_add_json_num(b, v, digits);
}

static void key_str(struct buf *b, const char *key, const char *s)
{
    buf_addf(b, ",\"%s\":", key);
    buf_add_json_str(b, s, strlen(s));
}

void frame_to_json(const struct frame *f, struct buf *b, int with_type)
{
    char ts[40], gear[8];
    time_format_iso(f->ts_us, ts, sizeof ts);
    buf_addc(b, '{');
    if (with_type)
        buf_adds(b, "\"type\":\"frame\",");
    buf_addf(b, "\"ts_us\":%lld,\"ts\":\"%s\"", (long long)f->ts_us, ts);
    key_str(b, "source", f->source);
    if (f->session_key != 0)
        buf_addf(b, ",\"session_key\":\"%016llx\"", (unsigned long long)f->session_key);
    else
        buf_adds(b, ",\"session_key\":null");
    key_str(b, "car", f->car);
    key_num(b, "speed_mps", f->speed_mps, 7);
    key_num(b, "rpm", f->rpm, 7);
    if (f->has_outgauge) {
        buf_addf(b, ",\"gear\":%d", f->gear);
        key_str(b, "gear_label", frame_gear_label(f->gear, gear, sizeof gear));
    } else {
        buf_adds(b, ",\"gear\":null,\"gear_label\":null"); /* MotionSim-only frame */
    }
    key_num(b, "throttle", f->throttle, 6);
    key_num(b, "brake", f->brake, 6);
    key_num(b, "clutch", f->clutch, 6);
    key_num(b, "fuel", f->fuel, 6);
    key_num(b, "engine_temp_c", f->engine_temp_c, 6);
    key_num(b, "oil_temp_c", f->oil_temp_c, 6);
    key_num(b, "oil_pressure_bar", f->oil_pressure_bar, 6);
    key_num(b, "turbo_bar", f->turbo_bar, 6);
    buf_addf(b, ",\"flags\":%u,\"km\":%s,\"dash_lights\":%u,\"show_lights\":%u", f->flags,
             (f->flags & OG_KM) ? "true" : "false", f->dash_lights, f->show_lights);
    key_str(b, "display1", f->display1);
    key_str(b, "display2", f->display2);
    if (f->has_ext) {
        char ge[2] = {f->gear_ext, '\0'};
        key_str(b, "gear_ext", ge);
        key_num(b, "cruise_speed_mps", f->cruise_speed_mps, 7);
        buf_addf(b, ",\"cruise_mode\":%u", f->cruise_mode);
        key_num(b, "fuel_capacity", f->fuel_capacity, 7);
    }
    key_num(b, "g_force_x", f->g_force_x, 6);
    key_num(b, "g_force_y", f->g_force_y, 6);
    key_num(b, "g_force_z", f->g_force_z, 6);
    if (f->has_motion) {
        buf_addf(b, ",\"pos_m\":[");
        for (int i = 0; i < 3; i++) {
            if (i)
                buf_addc(b, ',');
            buf_add_json_num(b, f->pos_m[i], 9);
        }
        buf_adds(b, "],\"vel_mps\":[");
        for (int i = 0; i < 3; i++) {
            if (i)
                buf_addc(b, ',');
            buf_add_json_num(b, f->vel_mps[i], 7);
        }
        buf_addc(b, ']');
    } else {
        buf_adds(b, ",\"pos_m\":null,\"vel_mps\":null");
    }
    buf_addc(b, '}');
}
