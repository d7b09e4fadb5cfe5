/* SPDX-License-Identifier: MIT */
/* test_decode: OutGauge and MotionSim decoding and the §3.4 validation rules on byte vectors,
 * including every field of a real Live for Speed datagram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ingest/ingest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_f32(uint8_t *p, float v)
{
    memcpy(p, &v, 4);
} /* tests run little-endian */

/* A plausible BeamNG OutGauge body at 20 m/s in 3rd gear. */
static void sample_frame(struct frame *f)
{
    frame_init(f);
    memcpy(f->car, "beam", 5);
    f->flags = OG_KM | OG_BAR;
    f->gear = 3;
    f->speed_mps = 20.0f;
    f->rpm = 4200.5f;
    f->turbo_bar = 0.4f;
    f->engine_temp_c = 90.25f;
    f->fuel = 0.5f;
    f->oil_pressure_bar = 3.5f;
    f->oil_temp_c = 100.0f;
    f->dash_lights = DL_ABS | DL_HANDBRAKE;
    f->show_lights = DL_ABS;
    f->throttle = 0.75f;
    f->brake = 0.0f;
    f->clutch = 0.0f;
    f->og_id = 7;
    f->gear_ext = 'D';
    f->cruise_speed_mps = 25.0f;
    f->cruise_mode = 2;
    f->fuel_capacity = 60.0f;
}

static int decode(const uint8_t *b, size_t len, struct frame *f, enum ingest_reject *why)
{
    struct motionsim ms;
    frame_init(f);
    return ingest_decode(b, len, f, &ms, why);
}

static void test_lfs_xrt_every_field(void **state)
{
    const char *dir = getenv("BEAMTEL_SHARED_DATA");
    char path[1024];
    uint8_t b[200];
    size_t n;
    FILE *fp;
    struct frame f;
    enum ingest_reject why;
    (void)state;
    if (dir == NULL)
        dir = "../shared/data";
    snprintf(path, sizeof path, "%s/lfs_outgauge_xrt_92B.bin", dir);
    fp = fopen(path, "rb");
    if (fp == NULL) {
        printf("skipping: %s not found (../shared/data is absent)\n", path);
        skip();
    }
    n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    assert_int_equal(n, 92);
    assert_int_equal(decode(b, n, &f, &why), PKT_OUTGAUGE);
    assert_string_equal(f.car, "XRT");
    assert_int_equal(f.og_time_ms, 67480);
    assert_int_equal(f.flags, 0xE000);
    assert_int_equal(f.gear, 2); /* byte 3 = 2nd */
    assert_int_equal(f.plid, 1);
    assert_float_equal(f.speed_mps, 11.1975, 1e-4);
    assert_float_equal(f.rpm, 2450.39, 1e-2);
    assert_float_equal(f.turbo_bar, -0.99999, 1e-5);
    assert_float_equal(f.engine_temp_c, 0.0, 0);
    assert_float_equal(f.fuel, 0.99985, 1e-5);
    assert_float_equal(f.oil_pressure_bar, 0.0, 0);
    assert_float_equal(f.oil_temp_c, 0.0, 0);
    assert_int_equal(f.dash_lights, 1894);
    assert_int_equal(f.show_lights, 0);
    assert_float_equal(f.throttle, 0.009347, 1e-6);
    assert_float_equal(f.brake, 9.544e-6, 1e-9);
    assert_float_equal(f.clutch, 0.15833, 1e-5);
    assert_string_equal(f.display1, "Fuel 99.9%   ");
    assert_string_equal(f.display2, "Brake Bal Fr 75%"); /* 16 bytes, no NUL, nothing past 92 */
    assert_int_equal(f.og_id, 0);
    assert_int_equal(f.has_ext, 0);
}

static void test_same_body_92_96_112(void **state)
{
    struct frame src, f92, f96, f112;
    uint8_t b92[92], b96[96], b112[112];
    enum ingest_reject why;
    (void)state;
    sample_frame(&src);
    ingest_encode_outgauge(&src, b92, 92);
    ingest_encode_outgauge(&src, b96, 96);
    ingest_encode_outgauge(&src, b112, 112);
    assert_int_equal(decode(b92, 92, &f92, &why), PKT_OUTGAUGE);
    assert_int_equal(decode(b96, 96, &f96, &why), PKT_OUTGAUGE);
    assert_int_equal(decode(b112, 112, &f112, &why), PKT_OUTGAUGE);
    /* The common part is identical. */
    assert_float_equal(f92.speed_mps, 20.0, 0);
    assert_float_equal(f96.speed_mps, 20.0, 0);
    assert_float_equal(f112.speed_mps, 20.0, 0);
    assert_int_equal(f92.gear, 3);
    assert_int_equal(f96.gear, 3);
    assert_int_equal(f112.gear, 3);
    assert_float_equal(f92.rpm, f112.rpm, 0);
    assert_float_equal(f96.throttle, 0.75, 0);
    assert_int_equal(f92.dash_lights, f112.dash_lights);
    assert_string_equal(f92.car, "beam");
    assert_int_equal(f96.og_id, 7);
    assert_int_equal(f112.og_id, 7);
    /* Only 112 bytes carry the extension. */
    assert_int_equal(f96.has_ext, 0);
    assert_int_equal(f112.has_ext, 1);
    assert_int_equal(f112.gear_ext, 'D');
    assert_float_equal(f112.cruise_speed_mps, 25.0, 0);
    assert_int_equal(f112.cruise_mode, 2);
    assert_float_equal(f112.fuel_capacity, 60.0, 0);
    /* Longer than 112 is never rejected only for its length. */
    uint8_t b128[128];
    memset(b128, 0, sizeof b128);
    memcpy(b128, b112, 112);
    assert_int_equal(decode(b128, 128, &f112, &why), PKT_OUTGAUGE);
}

static void test_lengths_rejected(void **state)
{
    uint8_t b[200];
    struct frame f;
    enum ingest_reject why;
    static const size_t bad[] = {0, 1, 4, 64, 87, 88, 91, 93, 95, 97, 100, 111};
    (void)state;
    memset(b, 0x11, sizeof b);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = REJ_MAX;
        assert_int_equal(decode(b, bad[i], &f, &why), -1);
        assert_int_equal(why, REJ_LENGTH);
    }
    /* 88 bytes without the BNG1 magic is not MotionSim either. */
    memcpy(b, "BNG2", 4);
    assert_int_equal(decode(b, 88, &f, &why), -1);
    assert_int_equal(why, REJ_LENGTH);
}

static void test_nonfinite_and_ranges(void **state)
{
    struct frame src, f;
    uint8_t b[96];
    enum ingest_reject why;
    (void)state;
    sample_frame(&src);

    ingest_encode_outgauge(&src, b, 96);
    put_f32(b + 12, NAN);
    assert_int_equal(decode(b, 96, &f, &why), -1);
    assert_int_equal(why, REJ_NONFINITE);

    ingest_encode_outgauge(&src, b, 96);
    put_f32(b + 16, INFINITY);
    assert_int_equal(decode(b, 96, &f, &why), -1);
    assert_int_equal(why, REJ_NONFINITE);

    ingest_encode_outgauge(&src, b, 96);
    put_f32(b + 12, 300.5f);
    assert_int_equal(decode(b, 96, &f, &why), -1);
    assert_int_equal(why, REJ_SPEED);
    put_f32(b + 12, -300.0f); /* the limit itself is allowed */
    assert_int_equal(decode(b, 96, &f, &why), PKT_OUTGAUGE);

    ingest_encode_outgauge(&src, b, 96);
    b[10] = 22;
    assert_int_equal(decode(b, 96, &f, &why), -1);
    assert_int_equal(why, REJ_GEAR);
    b[10] = 21;
    assert_int_equal(decode(b, 96, &f, &why), PKT_OUTGAUGE);
    assert_int_equal(f.gear, 20);

    ingest_encode_outgauge(&src, b, 96);
    put_f32(b + 48, 1.02f);
    assert_int_equal(decode(b, 96, &f, &why), -1);
    assert_int_equal(why, REJ_PEDAL);
    put_f32(b + 48, 1.01f);
    put_f32(b + 52, -0.011f);
    assert_int_equal(decode(b, 96, &f, &why), -1);
    assert_int_equal(why, REJ_PEDAL);

    ingest_encode_outgauge(&src, b, 96);
    b[5] = 0x07; /* BEL in the car name */
    assert_int_equal(decode(b, 96, &f, &why), -1);
    assert_int_equal(why, REJ_CAR);
    b[5] = 0xC3;
    assert_int_equal(decode(b, 96, &f, &why), -1);
    assert_int_equal(why, REJ_CAR);
}

static void test_all_zero_is_no_vehicle_data(void **state)
{
    uint8_t b[96];
    struct frame f;
    enum ingest_reject why;
    (void)state;
    memset(b, 0, sizeof b);
    assert_int_equal(decode(b, 96, &f, &why), PKT_EMPTY);
    /* BeamNG's header with an empty body is the same thing. */
    memcpy(b + 4, "beam", 4);
    assert_int_equal(decode(b, 96, &f, &why), PKT_EMPTY);
    assert_int_equal(f.has_outgauge, 0);
}

static void test_reverse_gear(void **state)
{
    struct frame src, f;
    uint8_t b[96];
    enum ingest_reject why;
    char label[8];
    (void)state;
    sample_frame(&src);
    src.gear = -1; /* encodes byte 0 */
    src.speed_mps = -3.0f;
    ingest_encode_outgauge(&src, b, 96);
    assert_int_equal(b[10], 0);
    assert_int_equal(decode(b, 96, &f, &why), PKT_OUTGAUGE);
    assert_int_equal(f.gear, -1);
    assert_string_equal(frame_gear_label(f.gear, label, sizeof label), "R");
    assert_float_equal(f.speed_mps, -3.0, 0);
    assert_string_equal(frame_gear_label(0, label, sizeof label), "N");
    assert_string_equal(frame_gear_label(1, label, sizeof label), "1");
}

static void test_motionsim(void **state)
{
    struct motionsim in, out;
    struct frame f;
    uint8_t b[88];
    enum ingest_reject why;
    (void)state;
    memset(&in, 0, sizeof in);
    in.acc_mps2[0] = 8.0f;
    in.vel_mps[1] = 20.0f;
    in.pos_m[2] = 12.5f;
    in.up[2] = 1.0f;
    ingest_encode_motionsim(&in, b);
    assert_memory_equal(b, "BNG1", 4);
    frame_init(&f);
    assert_int_equal(ingest_decode(b, 88, &f, &out, &why), PKT_MOTIONSIM);
    assert_float_equal(out.acc_mps2[0], 8.0, 0);
    assert_float_equal(out.vel_mps[1], 20.0, 0);
    assert_float_equal(out.pos_m[2], 12.5, 0);
    assert_float_equal(out.up[2], 1.0, 0);
    put_f32(b + 28, NAN);
    assert_int_equal(ingest_decode(b, 88, &f, &out, &why), -1);
    assert_int_equal(why, REJ_NONFINITE);
}

static void test_frame_json_escapes_and_nulls(void **state)
{
    struct frame f;
    struct buf b = {0};
    (void)state;
    frame_init(&f);
    f.ts_us = 1700000000123456LL;
    memcpy(f.car, "a\"\x01", 4);
    f.has_outgauge = 1;
    f.speed_mps = 20.0f;
    frame_to_json(&f, &b, 1);
    assert_non_null(strstr(buf_cstr(&b), "\"type\":\"frame\""));
    assert_non_null(strstr(buf_cstr(&b), "\"car\":\"a\\\"\\u0001\""));
    assert_non_null(strstr(buf_cstr(&b), "\"speed_mps\":20,"));
    assert_non_null(strstr(buf_cstr(&b), "\"rpm\":null"));
    assert_null(strstr(buf_cstr(&b), "nan"));
    assert_non_null(strstr(buf_cstr(&b), "\"ts\":\"2023-11-14T22:13:20.123Z\""));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lfs_xrt_every_field),
        cmocka_unit_test(test_same_body_92_96_112),
        cmocka_unit_test(test_lengths_rejected),
        cmocka_unit_test(test_nonfinite_and_ranges),
        cmocka_unit_test(test_all_zero_is_no_vehicle_data),
        cmocka_unit_test(test_reverse_gear),
        cmocka_unit_test(test_motionsim),
        cmocka_unit_test(test_frame_json_escapes_and_nulls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
