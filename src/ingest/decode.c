/* SPDX-License-Identifier: MIT */
/* decode: OutGauge (92/96/≥112 bytes) and MotionSim ("BNG1", 88 bytes) datagrams to frames,
 * with the validation rules of §3.4.  Pure functions on byte vectors; never read past len. */
#include "ingest.h"

#include <math.h>
#include <string.h>

static const char *const reject_names[REJ_MAX] = {
    [REJ_LENGTH] = "length",   [REJ_NONFINITE] = "non_finite", [REJ_SPEED] = "speed_range",
    [REJ_GEAR] = "gear_range", [REJ_PEDAL] = "pedal_range",    [REJ_CAR] = "car_name",
    [REJ_NO_USER] = "no_user", [REJ_SOURCES] = "source_limit",
};

const char *ingest_reject_name(enum ingest_reject r)
{
    return (r >= 0 && r < REJ_MAX) ? reject_names[r] : "unknown";
}

uint64_t ingest_counters_rejected(const struct ingest_counters *c)
{
    uint64_t n = 0;
    for (int i = 0; i < REJ_MAX; i++)
        n += atomic_load_explicit(&c->rejected[i], memory_order_relaxed);
    return n;
}

/* Little-endian readers: the wire format is little-endian whatever the host is. */
static uint32_t rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float rd_f32(const uint8_t *p)
{
    uint32_t u = rd_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void wr_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    wr_u32(p, u);
}

static int pedal_ok(float v)
{
    return v >= -0.01f && v <= 1.01f;
}

/* Copies a fixed-size packet string that may fill its field without a NUL. */
static void copy_str(char *dst, const uint8_t *src, size_t n)
{
    size_t i;
    for (i = 0; i < n && src[i] != '\0'; i++)
        dst[i] = (char)src[i];
    dst[i] = '\0';
}

static int decode_outgauge(const uint8_t *b, size_t len, struct frame *f, enum ingest_reject *why)
{
    static const size_t float_offsets[] = {12, 16, 20, 24, 28, 32, 36, 48, 52, 56};
    int all_zero = 1;

    for (size_t i = 8; i < OUTGAUGE_LEN_NOID; i++)
        if (b[i] != 0) {
            all_zero = 0;
            break;
        }
    if (all_zero)
        return PKT_EMPTY;
    for (size_t i = 0; i < BT_ARRAY_LEN(float_offsets); i++)
        if (!isfinite(rd_f32(b + float_offsets[i]))) {
            *why = REJ_NONFINITE;
            return -1;
        }
    for (int i = 4; i < 8; i++)
        if (b[i] != 0 && (b[i] < 0x20 || b[i] > 0x7e)) {
            *why = REJ_CAR;
            return -1;
        }
    if (len >= OUTGAUGE_LEN_EXT) {
        if (!isfinite(rd_f32(b + 100)) || !isfinite(rd_f32(b + 108))) {
            *why = REJ_NONFINITE;
            return -1;
        }
    }
    f->speed_mps = rd_f32(b + 12);
    if (fabsf(f->speed_mps) > 300.0f) {
        *why = REJ_SPEED;
        return -1;
    }
    if (b[10] > 21) {
        *why = REJ_GEAR;
        return -1;
    }
    f->throttle = rd_f32(b + 48);
    f->brake = rd_f32(b + 52);
    f->clutch = rd_f32(b + 56);
    if (!pedal_ok(f->throttle) || !pedal_ok(f->brake) || !pedal_ok(f->clutch)) {
        *why = REJ_PEDAL;
        return -1;
    }
    f->og_time_ms = rd_u32(b);
    copy_str(f->car, b + 4, 4);
    f->flags = (uint16_t)(b[8] | b[9] << 8);
    f->gear = (int8_t)((int)b[10] - 1); /* 0 = R → -1, 1 = N → 0, 2 = 1st → 1 */
    f->plid = b[11];
    f->rpm = rd_f32(b + 16);
    f->turbo_bar = rd_f32(b + 20);
    f->engine_temp_c = rd_f32(b + 24);
    f->fuel = rd_f32(b + 28);
    f->oil_pressure_bar = rd_f32(b + 32);
    f->oil_temp_c = rd_f32(b + 36);
    f->dash_lights = rd_u32(b + 40);
    f->show_lights = rd_u32(b + 44);
    copy_str(f->display1, b + 60, 16);
    copy_str(f->display2, b + 76, 16);
    f->og_id = len >= OUTGAUGE_LEN ? (int32_t)rd_u32(b + 92) : 0;
    if (len >= OUTGAUGE_LEN_EXT) {
        f->has_ext = 1;
        f->gear_ext = (char)b[96];
        f->cruise_speed_mps = rd_f32(b + 100);
        f->cruise_mode = rd_u32(b + 104);
        f->fuel_capacity = rd_f32(b + 108);
    }
    f->has_outgauge = 1;
    return PKT_OUTGAUGE;
}

static int decode_motionsim(const uint8_t *b, struct motionsim *m, enum ingest_reject *why)
{
    float v[21];
    for (int i = 0; i < 21; i++) {
        v[i] = rd_f32(b + 4 + 4 * i);
        if (!isfinite(v[i])) {
            *why = REJ_NONFINITE;
            return -1;
        }
    }
    for (int i = 0; i < 3; i++) {
        m->pos_m[i] = v[i];
        m->vel_mps[i] = v[3 + i];
        m->acc_mps2[i] = v[6 + i];
        m->up[i] = v[9 + i];
        m->rpy_rad[i] = v[12 + i];
        m->rpy_rate[i] = v[15 + i];
        m->rpy_acc[i] = v[18 + i];
    }
    if (sqrt((double)v[3] * v[3] + (double)v[4] * v[4] + (double)v[5] * v[5]) > 300.0) {
        *why = REJ_SPEED;
        return -1;
    }
    return PKT_MOTIONSIM;
}

int ingest_decode(const uint8_t *buf, size_t len, struct frame *og, struct motionsim *ms,
                  enum ingest_reject *why)
{
    if (len == MOTIONSIM_LEN && memcmp(buf, "BNG1", 4) == 0)
        return decode_motionsim(buf, ms, why);
    if (len == OUTGAUGE_LEN_NOID || len == OUTGAUGE_LEN || len >= OUTGAUGE_LEN_EXT)
        return decode_outgauge(buf, len, og, why);
    *why = REJ_LENGTH;
    return -1;
}

static float or0(float v)
{
    return isfinite(v) ? v : 0.0f;
}

size_t ingest_encode_outgauge(const struct frame *f, uint8_t *b, size_t len)
{
    memset(b, 0, len);
    wr_u32(b, f->og_time_ms);
    memcpy(b + 4, f->car, strnlen(f->car, 4));
    b[8] = (uint8_t)f->flags;
    b[9] = (uint8_t)(f->flags >> 8);
    b[10] = (uint8_t)(f->gear + 1);
    b[11] = f->plid;
    wr_f32(b + 12, or0(f->speed_mps));
    wr_f32(b + 16, or0(f->rpm));
    wr_f32(b + 20, or0(f->turbo_bar));
    wr_f32(b + 24, or0(f->engine_temp_c));
    wr_f32(b + 28, or0(f->fuel));
    wr_f32(b + 32, or0(f->oil_pressure_bar));
    wr_f32(b + 36, or0(f->oil_temp_c));
    wr_u32(b + 40, f->dash_lights);
    wr_u32(b + 44, f->show_lights);
    wr_f32(b + 48, or0(f->throttle));
    wr_f32(b + 52, or0(f->brake));
    wr_f32(b + 56, or0(f->clutch));
    memcpy(b + 60, f->display1, strnlen(f->display1, 16));
    memcpy(b + 76, f->display2, strnlen(f->display2, 16));
    if (len >= OUTGAUGE_LEN)
        wr_u32(b + 92, (uint32_t)f->og_id);
    if (len >= OUTGAUGE_LEN_EXT) {
        b[96] = (uint8_t)f->gear_ext;
        wr_f32(b + 100, or0(f->cruise_speed_mps));
        wr_u32(b + 104, f->cruise_mode);
        wr_f32(b + 108, or0(f->fuel_capacity));
    }
    return len;
}

size_t ingest_encode_motionsim(const struct motionsim *m, uint8_t out[MOTIONSIM_LEN])
{
    const float *groups[7] = {m->pos_m,   m->vel_mps,  m->acc_mps2, m->up,
                              m->rpy_rad, m->rpy_rate, m->rpy_acc};
    memcpy(out, "BNG1", 4);
    for (int g = 0; g < 7; g++)
        for (int i = 0; i < 3; i++)
            wr_f32(out + 4 + 12 * g + 4 * i, groups[g][i]);
    return MOTIONSIM_LEN;
}
