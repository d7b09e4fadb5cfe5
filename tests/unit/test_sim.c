/* SPDX-License-Identifier: MIT */
/* test_sim: the synthetic driver obeys its physics (v²/R, dv/dt, gears, laps) and its datagrams
 * decode back to its state; no sockets or clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/common.h"
#include "ingest/ingest.h"
#include "sim/sim.h"

#include <math.h>
#include <string.h>

#define DT_S (1.0 / 60.0)
#define TEN_MINUTES_STEPS (10 * 60 * 60)
#define REDLINE_RPM 7500.0

/* What ten simulated minutes of one car looked like. */
struct drive_stats {
    int laps_seen;
    double lap_min_s, lap_max_s;
    double brake_max, throttle_max;
    int arc_samples;
};

static void drive_ten_minutes(int index, uint32_t seed, struct drive_stats *st)
{
    struct sim_car *car = sim_car_new(index, seed);
    double prev_pos = sim_car_lap_pos_m(car), prev_dist = sim_car_distance_m(car);
    double lap_start_s = -1;

    memset(st, 0, sizeof *st);
    st->lap_min_s = 1e9;
    for (int i = 1; i <= TEN_MINUTES_STEPS; i++) {
        double v0 = sim_car_speed(car), v, r, lat, expect, pos, dist;
        double t = i * DT_S;

        sim_car_step(car, DT_S);
        v = sim_car_speed(car);
        assert_true(isfinite(v));
        assert_true(v >= 0.0 && v <= 90.0);

        /* Lateral acceleration is exactly v²/R on an arc, 0 on a straight. */
        r = sim_car_turn_radius_m(car);
        lat = sim_car_lat_acc(car);
        if (r != 0) {
            expect = v * v / fabs(r);
            assert_true(fabs(fabs(lat) - expect) <= 1e-6 * fmax(expect, 1e-9));
            /* Left turn (r > 0): centripetal acceleration points left, vehicle x is right. */
            assert_true(expect == 0 || (r > 0) == (lat < 0));
            st->arc_samples++;
        } else {
            assert_true(lat == 0.0);
        }

        /* Longitudinal acceleration is dv/dt over the step. */
        expect = (v - v0) / DT_S;
        assert_true(fabs(sim_car_long_acc(car) - expect) <= 1e-9 * fmax(1.0, fabs(expect)));

        assert_in_range(sim_car_gear(car), 1, 6);
        assert_true(sim_car_rpm(car) >= 700.0 && sim_car_rpm(car) <= REDLINE_RPM + 50.0);
        assert_true(sim_car_throttle(car) >= 0.0 && sim_car_throttle(car) <= 1.0);
        assert_true(sim_car_brake(car) >= 0.0 && sim_car_brake(car) <= 1.0);
        assert_true(sim_car_throttle(car) == 0.0 || sim_car_brake(car) == 0.0);
        st->brake_max = fmax(st->brake_max, sim_car_brake(car));
        st->throttle_max = fmax(st->throttle_max, sim_car_throttle(car));

        /* Distance only grows; the lap position wraps once per lap. */
        dist = sim_car_distance_m(car);
        assert_true(dist >= prev_dist);
        prev_dist = dist;
        pos = sim_car_lap_pos_m(car);
        if (pos < prev_pos) {
            if (lap_start_s >= 0) {
                double lap_s = t - lap_start_s;
                assert_true(lap_s >= 60.0 && lap_s <= 200.0);
                assert_true(fabs(sim_car_last_lap_s(car) - lap_s) <= 2 * DT_S);
                st->lap_min_s = fmin(st->lap_min_s, lap_s);
                st->lap_max_s = fmax(st->lap_max_s, lap_s);
            }
            lap_start_s = t;
            st->laps_seen++;
        }
        prev_pos = pos;
    }
    assert_int_equal(sim_car_laps(car), st->laps_seen);
    assert_true(sim_car_distance_m(car) > 5.0 * sim_track_length_m());
    sim_car_free(car);
}

static void test_ten_minutes(void **state)
{
    (void)state;
    for (int index = 0; index < 4; index++) {
        struct drive_stats st;
        drive_ten_minutes(index, 1, &st);
        assert_true(st.laps_seen >= 4);
        assert_true(st.lap_max_s > 0);
        assert_true(st.brake_max > 0.5);
        assert_true(st.throttle_max >= 0.999);
        assert_true(st.arc_samples > 1000);
    }
}

/* The circuit closes: over one lap at 1 kHz the position moves no faster than the car and the
 * heading turns no faster than v/R, including across segment joins and the start line. */
static void test_track_continuous(void **state)
{
    struct sim_car *car = sim_car_new(2, 7);
    uint8_t buf[MOTIONSIM_LEN];
    struct motionsim prev, cur;
    struct frame og;
    enum ingest_reject why;
    const double dt = 1e-3;
    int laps0 = sim_car_laps(car);

    (void)state;
    frame_init(&og);
    sim_car_motionsim(car, buf);
    assert_int_equal(ingest_decode(buf, sizeof buf, &og, &prev, &why), PKT_MOTIONSIM);
    for (int i = 0; i < 200 * 1000 && sim_car_laps(car) < laps0 + 2; i++) {
        double dx, dy, step_m, dyaw;
        sim_car_step(car, dt);
        sim_car_motionsim(car, buf);
        assert_int_equal(ingest_decode(buf, sizeof buf, &og, &cur, &why), PKT_MOTIONSIM);
        dx = cur.pos_m[0] - prev.pos_m[0];
        dy = cur.pos_m[1] - prev.pos_m[1];
        step_m = sqrt(dx * dx + dy * dy);
        /* float positions of ~1 km carry ~1e-4 m of rounding */
        assert_true(step_m <= 90.0 * dt + 1e-3);
        dyaw = remainder((double)cur.rpy_rad[2] - prev.rpy_rad[2], 2.0 * M_PI);
        assert_true(fabs(dyaw) <= 90.0 / 25.0 * dt + 1e-4);
        assert_true(cur.pos_m[2] == 0.0f && cur.up[2] == 1.0f);
        prev = cur;
    }
    assert_int_equal(sim_car_laps(car), laps0 + 2);
    sim_car_free(car);
}

static void test_datagrams_decode(void **state)
{
    struct sim_car *car = sim_car_new(1, 42);
    int abs_seen = 0, shift_seen = 0;

    (void)state;
    for (int i = 0; i < 120 * 60; i++) {
        uint8_t og_buf[96], ms_buf[88];
        struct frame f;
        struct motionsim ms;
        enum ingest_reject why;
        double v, r, speed;

        sim_car_step(car, DT_S);
        assert_int_equal(sim_car_outgauge(car, (uint32_t)i * 16u, og_buf), 96);
        assert_int_equal(sim_car_motionsim(car, ms_buf), 88);

        frame_init(&f);
        assert_int_equal(ingest_decode(og_buf, sizeof og_buf, &f, &ms, &why), PKT_OUTGAUGE);
        v = sim_car_speed(car);
        assert_true(f.speed_mps == (float)v);
        assert_true(f.rpm == (float)sim_car_rpm(car));
        assert_int_equal(f.gear, sim_car_gear(car));
        assert_int_equal(og_buf[10], sim_car_gear(car) + 1); /* 0 = R, 1 = N, 2 = 1st */
        assert_string_equal(f.car, "beam");
        assert_int_equal(f.flags, OG_KM | OG_BAR);
        assert_int_equal(f.og_time_ms, (uint32_t)i * 16u);
        assert_true(f.throttle == (float)sim_car_throttle(car));
        assert_true(f.brake == (float)sim_car_brake(car));
        assert_true(f.clutch == (float)sim_car_clutch(car));
        assert_true(f.engine_temp_c > 80.0f && f.engine_temp_c < 100.0f);
        assert_true(f.fuel > 0.0f && f.fuel <= 1.0f);
        assert_true((f.show_lights & DL_HANDBRAKE) == 0);
        assert_true((f.show_lights & ~f.dash_lights) == 0);
        assert_string_equal(f.display1, "");
        if (f.show_lights & DL_ABS) {
            assert_true(f.brake > 0.5f);
            abs_seen = 1;
        }
        if (f.show_lights & DL_SHIFT) {
            assert_true(f.rpm > 6000.0f);
            shift_seen = 1;
        }

        assert_int_equal(ingest_decode(ms_buf, sizeof ms_buf, &f, &ms, &why), PKT_MOTIONSIM);
        assert_true(ms.acc_mps2[0] == (float)sim_car_lat_acc(car));
        assert_true(ms.acc_mps2[1] == (float)sim_car_long_acc(car));
        assert_true(ms.acc_mps2[2] == 0.0f);
        speed = sqrt((double)ms.vel_mps[0] * ms.vel_mps[0] + (double)ms.vel_mps[1] * ms.vel_mps[1]);
        assert_true(fabs(speed - v) <= 1e-4 * fmax(1.0, v));
        /* velocity points along the heading (yaw) */
        assert_true(fabs(ms.vel_mps[0] - v * cos(ms.rpy_rad[2])) <= 1e-3 * fmax(1.0, v));
        assert_true(fabs(ms.vel_mps[1] - v * sin(ms.rpy_rad[2])) <= 1e-3 * fmax(1.0, v));
        r = sim_car_turn_radius_m(car);
        if (r != 0)
            assert_true(fabs(ms.rpy_rate[2] - v / r) <= 1e-5 * fmax(1.0, fabs(v / r)));
        else
            assert_true(ms.rpy_rate[2] == 0.0f);
    }
    assert_true(abs_seen);
    assert_true(shift_seen);
    sim_car_free(car);
}

static void test_deterministic(void **state)
{
    struct sim_car *a = sim_car_new(3, 99), *b = sim_car_new(3, 99);
    struct sim_car *other = sim_car_new(4, 99), *other_seed = sim_car_new(3, 100);
    int differ = 0, differ_seed = 0;

    (void)state;
    for (int i = 0; i < 30 * 60; i++) {
        uint8_t og_a[96], og_b[96], ms_a[88], ms_b[88], og_o[96], og_s[96];
        sim_car_step(a, DT_S);
        sim_car_step(b, DT_S);
        sim_car_step(other, DT_S);
        sim_car_step(other_seed, DT_S);
        sim_car_outgauge(a, (uint32_t)i, og_a);
        sim_car_outgauge(b, (uint32_t)i, og_b);
        sim_car_outgauge(other, (uint32_t)i, og_o);
        sim_car_outgauge(other_seed, (uint32_t)i, og_s);
        sim_car_motionsim(a, ms_a);
        sim_car_motionsim(b, ms_b);
        assert_memory_equal(og_a, og_b, sizeof og_a);
        assert_memory_equal(ms_a, ms_b, sizeof ms_a);
        differ |= memcmp(og_a, og_o, sizeof og_a) != 0;
        differ_seed |= memcmp(og_a, og_s, sizeof og_a) != 0;
    }
    assert_true(differ);
    assert_true(differ_seed);
    /* Cars with different indexes start at different places. */
    assert_true(fabs(sim_car_lap_pos_m(a) - sim_car_lap_pos_m(other)) > 1.0);
    sim_car_free(a);
    sim_car_free(b);
    sim_car_free(other);
    sim_car_free(other_seed);
}

/* Stepping at 1 kHz or 30 Hz drives the same car: after two minutes the distances agree to
 * within a fraction of a percent, and neither goes unstable. */
static void test_step_sizes_agree(void **state)
{
    struct sim_car *fine = sim_car_new(0, 5), *coarse = sim_car_new(0, 5);
    double d_fine, d_coarse;

    (void)state;
    for (int i = 0; i < 120 * 1000; i++) {
        sim_car_step(fine, 1e-3);
        assert_true(sim_car_speed(fine) >= 0 && sim_car_speed(fine) <= 90.0);
    }
    for (int i = 0; i < 120 * 30; i++) {
        sim_car_step(coarse, 1.0 / 30.0);
        assert_true(sim_car_speed(coarse) >= 0 && sim_car_speed(coarse) <= 90.0);
    }
    d_fine = sim_car_distance_m(fine);
    d_coarse = sim_car_distance_m(coarse);
    assert_true(fabs(d_fine - d_coarse) <= 0.002 * d_fine);
    /* A zero step changes nothing. */
    sim_car_step(fine, 0.0);
    assert_true(sim_car_distance_m(fine) == d_fine);
    sim_car_free(fine);
    sim_car_free(coarse);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ten_minutes),      cmocka_unit_test(test_track_continuous),
        cmocka_unit_test(test_datagrams_decode), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_step_sizes_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
