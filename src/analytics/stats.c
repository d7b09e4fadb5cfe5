/* SPDX-License-Identifier: MIT */
/* stats: the §4.2 session analytics as a running accumulator, so that neither the recorder nor
 * the live view ever rescans frames.  Pure arithmetic. */
#include "analytics.h"

#include <math.h>

/* A gap longer than this contributes no moving time or distance (§4.2). */
#define MAX_STEP_US 1000000

void stats_init(struct stats *s)
{
    s->frame_count = 0;
    s->has_prev = 0;
    s->prev_ts_us = 0;
    s->prev_v = 0;
    s->moving_time_s = 0;
    s->distance_m = 0;
    s->sum_v2_dt = 0;
    s->top_speed_mps = NAN;
    s->max_rpm = NAN;
    s->max_lat_g = NAN;
    s->max_accel_g = NAN;
    s->max_brake_g = NAN;
}

/* fmax that lets a NaN accumulator take the first real value. */
static double max_nan(double acc, double v)
{
    if (!isfinite(v))
        return acc;
    return (isnan(acc) || v > acc) ? v : acc;
}

void stats_add(struct stats *s, int64_t ts_us, double speed_mps, double rpm, double g_x, double g_y)
{
    double v = isfinite(speed_mps) ? fabs(speed_mps) : 0.0;

    /* The previous frame's Δt is only known now: Δt_i = t_{i+1} - t_i. */
    if (s->has_prev) {
        int64_t dt_us = ts_us - s->prev_ts_us;
        if (dt_us > 0 && dt_us <= MAX_STEP_US) {
            double dt = (double)dt_us / 1e6;
            s->moving_time_s += dt;
            s->distance_m += s->prev_v * dt;
            s->sum_v2_dt += s->prev_v * s->prev_v * dt;
        }
    }
    s->has_prev = 1;
    s->prev_ts_us = ts_us;
    s->prev_v = v;
    s->frame_count++;
    if (isfinite(speed_mps))
        s->top_speed_mps = max_nan(s->top_speed_mps, v);
    s->max_rpm = max_nan(s->max_rpm, rpm);
    if (isfinite(g_x))
        s->max_lat_g = max_nan(s->max_lat_g, fabs(g_x));
    if (isfinite(g_y)) {
        s->max_accel_g = max_nan(s->max_accel_g, g_y);
        s->max_brake_g = max_nan(s->max_brake_g, -g_y);
    }
}

void stats_result(const struct stats *s, int64_t start_us, int64_t end_us,
                  struct session_analytics *out)
{
    double t = s->moving_time_s;
    out->frame_count = s->frame_count;
    out->duration_s = (double)(end_us - start_us) / 1e6;
    out->moving_time_s = t;
    out->distance_m = s->distance_m;
    out->top_speed_mps = s->top_speed_mps;
    out->max_rpm = s->max_rpm;
    out->max_lat_g = s->max_lat_g;
    out->max_accel_g = s->max_accel_g;
    out->max_brake_g = s->max_brake_g;
    if (t > 0) {
        double avg = s->distance_m / t;
        out->avg_speed_mps = avg;
        if (avg > 0) {
            /* σ² = Σ(v-avg)²Δt / T = Σv²Δt / T - avg² (rounding can make it slightly < 0). */
            double var = s->sum_v2_dt / t - avg * avg;
            double c = 100.0 * (1.0 - sqrt(var > 0 ? var : 0) / avg);
            out->consistency = c < 0 ? 0 : (c > 100 ? 100 : c);
        } else {
            out->consistency = NAN;
        }
    } else {
        out->avg_speed_mps = NAN;
        out->consistency = NAN;
    }
}
