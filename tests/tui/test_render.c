/* SPDX-License-Identifier: MIT */
/* test_render: the TUI's model and renderer against synthetic WebSocket messages, without a
 * terminal — the screen grid is read back as text.  Checks the values shown (speed in big
 * digits and as text, gear, units, badge, status line, session, lights, G-force), that every
 * panel is whole at 80×24 and larger sizes, the ASCII fallback, and the overlays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tui/tui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1000000000LL /* monotonic µs of the first message */

static const char *const HELLO =
    "{\"type\":\"hello\",\"version\":\"0.1.0\",\"user\":{\"id\":1,\"username\":\"local\","
    "\"fumbletron\":{\"token\":\"FT3156-X\",\"valid\":true,\"badge\":\"Fumbletron-3156: VALID\"}}}";

static const char *const STATUS =
    "{\"type\":\"status\",\"ingest\":{\"packets_per_s\":60,\"rejected\":3,"
    "\"last_packet_age_s\":0.2},\"sources\":[{\"source\":\"127.0.0.1:50123\","
    "\"last_seen_age_s\":0.2}],\"recorder\":{\"db_up\":true},\"hint\":null}";

/* A frame as serve sends it: 20 m/s, gear 3, km/h, ABS available and lit. */
static void frame_json(char *out, size_t len, double speed, int gear, int with_g, double gx,
                       double gy)
{
    char g[128];
    if (with_g)
        snprintf(g, sizeof g, "\"g_force_x\":%g,\"g_force_y\":%g,\"g_force_z\":0", gx, gy);
    else
        snprintf(g, sizeof g, "\"g_force_x\":null,\"g_force_y\":null,\"g_force_z\":null");
    snprintf(out, len,
             "{\"type\":\"frame\",\"ts_us\":1,\"source\":\"127.0.0.1:50123\",\"car\":\"beam\","
             "\"speed_mps\":%g,\"rpm\":4200,\"gear\":%d,\"gear_label\":\"%d\",\"throttle\":0.6,"
             "\"brake\":0,\"clutch\":0.25,\"fuel\":0.4,\"engine_temp_c\":90,\"oil_temp_c\":95,"
             "\"oil_pressure_bar\":3.2,\"turbo_bar\":0.5,\"flags\":49152,\"km\":true,"
             "\"dash_lights\":1024,\"show_lights\":1024,%s,"
             "\"session\":{\"key\":\"42df149f23116968\",\"duration_s\":754,"
             "\"distance_m\":4210,\"top_speed_mps\":52}}",
             speed, gear, gear, g);
}

struct fixture {
    struct tui_model m;
    struct tui_view v;
    struct tui_layout l;
    struct tui_screen *s;
    char *text;
};

static void feed(struct fixture *fx, const char *json, int64_t now)
{
    assert_int_equal(tui_model_feed(&fx->m, json, strlen(json), now), 1);
}

static void live(struct fixture *fx)
{
    struct client_ws_event ev = {CLIENT_WS_AUTHENTICATED, 0, NULL, 0, 0};
    tui_model_conn(&fx->m, &ev, T0);
}

static void render(struct fixture *fx, int cols, int rows, int ascii, int64_t now)
{
    tui_screen_free(fx->s);
    free(fx->text);
    fx->s = tui_screen_new(cols, rows, ascii);
    tui_layout_compute(&fx->l, cols, rows);
    tui_render(fx->s, &fx->l, &fx->m, &fx->v, now);
    fx->text = tui_screen_text(fx->s);
}

static struct fixture *fixture_new(void)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    tui_model_init(&fx->m, "http://127.0.0.1:8080", "local");
    return fx;
}

static void fixture_free(struct fixture *fx)
{
    tui_screen_free(fx->s);
    free(fx->text);
    free(fx);
}

/* 1 when the screen shows text in big digits at scale sx, sy somewhere. */
static int has_big(const struct tui_screen *s, const char *text, int sx, int sy)
{
    int w = tui_bigtext_width(text, sx), h = 5 * sy;
    struct tui_screen *pat = tui_screen_new(w, h, s->ascii);
    int found = 0;
    tui_bigtext(pat, 0, 0, text, sx, sy, 0);
    for (int y = 0; y + h <= s->h && !found; y++)
        for (int x = 0; x + w <= s->w && !found; x++) {
            int ok = 1;
            for (int py = 0; py < h && ok; py++)
                for (int px = 0; px < w && ok; px++)
                    ok = s->cells[(y + py) * s->w + x + px].ch == pat->cells[py * w + px].ch;
            /* whole glyphs only: the columns around the pattern are not pixels */
            if (ok && x > 0 && s->cells[y * s->w + x - 1].ch == tui_glyphs(s->ascii)->pixel)
                ok = 0;
            found = ok;
        }
    tui_screen_free(pat);
    return found;
}

static int count_cp(const struct tui_screen *s, int y, uint32_t ch)
{
    int n = 0;
    for (int x = 0; x < s->w; x++)
        n += s->cells[y * s->w + x].ch == ch;
    return n;
}

/* Every box is whole: on each row, each ┌ has its ┐ and each └ its ┘ and vertical lines pair
 * up, so no panel is cut at the right edge. */
static void assert_boxes_whole(const struct tui_screen *s)
{
    const struct tui_glyphs *g = tui_glyphs(s->ascii);
    if (s->ascii)
        return; /* '+' is every corner in ASCII; the UTF-8 run checks the geometry */
    for (int y = 1; y < s->h - 1; y++) { /* header and status line use │ as a separator */
        assert_int_equal(count_cp(s, y, g->tl), count_cp(s, y, g->tr));
        assert_int_equal(count_cp(s, y, g->bl), count_cp(s, y, g->br));
        assert_int_equal(count_cp(s, y, g->v) % 2, 0);
    }
}

static void test_speed_gear_badge(void **state)
{
    struct fixture *fx = fixture_new();
    char f[2048];
    (void)state;

    feed(fx, HELLO, T0);
    live(fx);
    feed(fx, STATUS, T0);
    frame_json(f, sizeof f, 20.0, 3, 0, 0, 0);
    feed(fx, f, T0 + 1000);
    render(fx, 100, 30, 0, T0 + 2000);

    assert_true(has_big(fx->s, "72", fx->l.digit_sx, fx->l.digit_sy));
    assert_non_null(strstr(fx->text, "72.0 km/h"));
    assert_true(has_big(fx->s, "3", fx->l.digit_sx, fx->l.digit_sy));
    assert_non_null(strstr(fx->text, "Fumbletron-3156: VALID"));
    assert_non_null(strstr(fx->text, "local @ http://127.0.0.1:8080"));
    assert_non_null(strstr(fx->text, "4200 rpm"));
    assert_non_null(strstr(fx->text, "60%")); /* throttle */
    assert_non_null(strstr(fx->text, "25%")); /* clutch */
    assert_non_null(strstr(fx->text, "90 \xc2\xb0"
                                     "C"));
    assert_non_null(strstr(fx->text, "recording"));
    assert_non_null(strstr(fx->text, "12:34")); /* 754 s */
    assert_non_null(strstr(fx->text, "4.21 km"));
    assert_non_null(strstr(fx->text, "187 km/h")); /* 52 m/s top */
    assert_non_null(strstr(fx->text, " ABS "));
    assert_non_null(strstr(fx->text, "60 pkt/s"));
    assert_non_null(strstr(fx->text, "rejected 3"));
    assert_non_null(strstr(fx->text, "127.0.0.1:50123"));
    assert_non_null(strstr(fx->text, "last packet 0.2 s ago"));
    assert_non_null(strstr(fx->text, "no Motion"));
    assert_null(strstr(fx->text, "Waiting for telemetry"));
    assert_boxes_whole(fx->s);

    /* u: imperial */
    fx->v.units = TUI_UNITS_IMPERIAL;
    render(fx, 100, 30, 0, T0 + 2000);
    assert_true(has_big(fx->s, "45", fx->l.digit_sx, fx->l.digit_sy));
    assert_non_null(strstr(fx->text, "44.7 mph"));
    assert_non_null(strstr(fx->text, "2.62 mi"));
    assert_non_null(strstr(fx->text, "194 \xc2\xb0"
                                     "F"));
    fixture_free(fx);
}

/* The game's unit flag decides until the viewer chooses. */
static void test_units_follow_game(void **state)
{
    struct fixture *fx = fixture_new();
    char f[2048], *p;
    (void)state;
    live(fx);
    frame_json(f, sizeof f, 20.0, 3, 0, 0, 0);
    p = strstr(f, "\"km\":true");
    memcpy(p, "\"km\":0   ", 9); /* not a bool: flags 49152 (OG_KM set) decide */
    feed(fx, f, T0);
    assert_int_equal(tui_units_metric(&fx->v, &fx->m), 1);
    frame_json(f, sizeof f, 20.0, 3, 0, 0, 0);
    p = strstr(f, "\"km\":true");
    memmove(p + 10, p + 9, strlen(p + 9) + 1);
    memcpy(p, "\"km\":false", 10);
    feed(fx, f, T0);
    assert_int_equal(tui_units_metric(&fx->v, &fx->m), 0);
    render(fx, 80, 24, 0, T0);
    assert_non_null(strstr(fx->text, "44.7 mph"));
    fx->v.units = TUI_UNITS_METRIC;
    assert_int_equal(tui_units_metric(&fx->v, &fx->m), 1);
    fixture_free(fx);
}

static void test_sizes_whole(void **state)
{
    static const int sizes[][2] = {{80, 24},  {81, 25},  {100, 30}, {120, 40},
                                   {132, 43}, {200, 60}, {80, 50},  {250, 24}};
    struct fixture *fx = fixture_new();
    char f[2048];
    (void)state;
    feed(fx, HELLO, T0);
    live(fx);
    feed(fx, STATUS, T0);
    for (int i = 0; i < 50; i++) {
        frame_json(f, sizeof f, 10.0 + i, 3, 1, 0.5 * sin(i / 5.0), 0.4 * cos(i / 5.0));
        feed(fx, f, T0 + i * 100000LL);
    }
    for (size_t i = 0; i < BT_ARRAY_LEN(sizes); i++) {
        int cols = sizes[i][0], rows = sizes[i][1];
        char speed[16];
        render(fx, cols, rows, 0, T0 + 5000000);
        assert_false(fx->l.too_small);
        assert_boxes_whole(fx->s);
        snprintf(speed, sizeof speed, "%.0f", 59 * 3.6);
        assert_true(has_big(fx->s, speed, fx->l.digit_sx, fx->l.digit_sy));
        assert_true(has_big(fx->s, "3", fx->l.digit_sx, fx->l.digit_sy));
        assert_non_null(strstr(fx->text, "Fumbletron-3156: VALID"));
        /* the panels stay inside the screen */
        assert_true(fx->l.spark.y + fx->l.spark.h == rows - 1);
        assert_true(fx->l.pedals.x + fx->l.pedals.w == cols);
        assert_true(fx->l.session.x + fx->l.session.w == cols);
        /* the status line keeps the keys and the packet age */
        assert_non_null(strstr(fx->text, "help"));
        assert_non_null(strstr(fx->text, "last"));
    }
    fixture_free(fx);
}

static void test_gforce(void **state)
{
    struct fixture *fx = fixture_new();
    char f[2048];
    int dots = 0, trail = 0;
    const struct tui_glyphs *g = tui_glyphs(0);
    (void)state;
    live(fx);
    for (int i = 0; i < 40; i++) {
        frame_json(f, sizeof f, 20.0, 3, 1, i / 40.0, 0);
        feed(fx, f, T0 + i * 60000LL);
    }
    render(fx, 80, 24, 0, T0 + 2400000);
    assert_non_null(strstr(fx->text, "lat +0.97"));
    assert_non_null(strstr(fx->text, "lon +0.00"));
    for (int y = fx->l.gforce.y; y < fx->l.gforce.y + fx->l.gforce.h; y++)
        for (int x = fx->l.gforce.x; x < fx->l.gforce.x + fx->l.gforce.w; x++) {
            uint32_t ch = fx->s->cells[y * fx->s->w + x].ch;
            dots += ch == g->dot;
            trail += ch == g->trail_new || ch == g->trail_old;
        }
    assert_int_equal(dots, 1);
    assert_true(trail >= 3);
    /* 0.97 g to the right: the dot is right of the centre, on the centre row */
    {
        int cy = fx->l.gforce.y + 1 + (fx->l.gforce.h - 2 - 1) / 2, found = -1;
        for (int x = fx->l.gforce.x; x < fx->l.gforce.x + fx->l.gforce.w; x++)
            if (fx->s->cells[cy * fx->s->w + x].ch == g->dot)
                found = x;
        assert_true(found > fx->l.gforce.x + 1 + (2 * (fx->l.gforce.h - 2) + 1) / 2);
    }
    fixture_free(fx);
}

static void test_ascii(void **state)
{
    struct fixture *fx = fixture_new();
    char f[2048];
    (void)state;
    feed(fx, HELLO, T0);
    live(fx);
    feed(fx, STATUS, T0);
    frame_json(f, sizeof f, 20.0, 3, 1, 0.2, -0.3);
    feed(fx, f, T0);
    render(fx, 80, 24, 1, T0);
    for (const unsigned char *p = (const unsigned char *)fx->text; *p; p++)
        assert_true(*p < 0x80);
    assert_true(has_big(fx->s, "72", fx->l.digit_sx, fx->l.digit_sy));
    assert_non_null(strstr(fx->text, "72.0 km/h"));
    assert_non_null(strstr(fx->text, "90 C"));
    assert_non_null(strstr(fx->text, "+-"));
    fixture_free(fx);
}

static void test_overlays(void **state)
{
    struct fixture *fx = fixture_new();
    struct client_ws_event ev = {CLIENT_WS_CONNECTING, 0, NULL, 0, 0};
    char f[2048];
    (void)state;

    tui_model_conn(&fx->m, &ev, T0);
    render(fx, 80, 24, 0, T0);
    assert_non_null(strstr(fx->text, "Connecting to http://127.0.0.1:8080"));
    assert_non_null(strstr(fx->text, "connecting"));
    assert_true(has_big(fx->s, " --", 2, 1)); /* no speed yet */

    ev.state = CLIENT_WS_ERROR;
    ev.reason = "cannot connect to http://127.0.0.1:8080: connection refused";
    ev.attempt = 3;
    tui_model_conn(&fx->m, &ev, T0);
    ev.state = CLIENT_WS_WAITING;
    ev.reason = NULL;
    ev.retry_in_us = 4000000;
    tui_model_conn(&fx->m, &ev, T0);
    render(fx, 80, 24, 0, T0 + 1000);
    assert_non_null(strstr(fx->text, "Cannot connect to http://127.0.0.1:8080: connection"));
    assert_non_null(strstr(fx->text, "Reconnecting in 4 s (attempt 4)"));
    assert_non_null(strstr(fx->text, "reconnecting in 4 s"));
    assert_boxes_whole(fx->s);

    /* connected, nothing arrives: the server's hint shows */
    live(fx);
    feed(fx,
         "{\"type\":\"status\",\"ingest\":{\"packets_per_s\":0,\"rejected\":0,"
         "\"last_packet_age_s\":null},\"sources\":[],\"hint\":\"no telemetry yet on udp "
         "0.0.0.0:4444: enable OutGauge\"}",
         T0);
    render(fx, 80, 24, 0, T0 + 1000);
    assert_non_null(strstr(fx->text, "Waiting for telemetry"));
    assert_non_null(strstr(fx->text, "enable OutGauge"));
    assert_non_null(strstr(fx->text, "no packet yet"));

    /* frames arrive: the overlay goes; they stop for 6 s: it returns */
    frame_json(f, sizeof f, 20.0, 3, 0, 0, 0);
    feed(fx, f, T0 + 2000);
    render(fx, 80, 24, 0, T0 + 3000);
    assert_null(strstr(fx->text, "Waiting for telemetry"));
    render(fx, 80, 24, 0, T0 + 6100000);
    assert_non_null(strstr(fx->text, "No telemetry for 6 s"));

    /* help wins over everything */
    fx->v.help = 1;
    render(fx, 80, 24, 0, T0 + 3000);
    assert_non_null(strstr(fx->text, "q  quit"));
    assert_non_null(strstr(fx->text, "km/h <-> mph"));
    fixture_free(fx);
}

static void test_too_small_and_paused(void **state)
{
    struct fixture *fx = fixture_new();
    char f[2048];
    (void)state;
    live(fx);
    frame_json(f, sizeof f, 20.0, 3, 0, 0, 0);
    feed(fx, f, T0);
    render(fx, 60, 20, 0, T0);
    assert_true(fx->l.too_small);
    assert_non_null(strstr(fx->text, "Terminal too small: 60x20 (needs 80x24)"));
    assert_non_null(strstr(fx->text, "72 km/h  gear 3"));
    fx->v.paused = 1;
    render(fx, 80, 24, 0, T0);
    assert_non_null(strstr(fx->text, "PAUSED"));
    fixture_free(fx);
}

static void test_model_messages(void **state)
{
    struct tui_model m;
    const char *end = "{\"type\":\"session\",\"event\":\"end\",\"session\":{\"duration_s\":90,"
                      "\"distance_m\":1500,\"top_speed_mps\":30}}";
    (void)state;
    tui_model_init(&m, "s", "u");
    assert_int_equal(tui_model_feed(&m, "not json", 8, T0), -1);
    assert_int_equal(tui_model_feed(&m, "{\"type\":\"pong\"}", 15, T0), 0);
    assert_int_equal(tui_model_feed(&m, "{}", 2, T0), 0);
    assert_int_equal(tui_model_feed(&m, end, strlen(end), T0), 1);
    assert_true(m.has_last);
    assert_true(m.last_distance_m == 1500);
    /* MotionSim-only frame: no gear, g present; NaN never reaches the model as a number */
    {
        const char *ms = "{\"type\":\"frame\",\"speed_mps\":5,\"gear\":null,\"rpm\":null,"
                         "\"g_force_x\":0.1,\"g_force_y\":-0.2}";
        assert_int_equal(tui_model_feed(&m, ms, strlen(ms), T0), 1);
        assert_false(m.f.has_gear);
        assert_true(m.f.has_g);
        assert_true(isnan(m.f.rpm));
    }
    /* The RPM scale follows the peaks in steps of 1000 and does not shrink. */
    {
        const char *hi = "{\"type\":\"frame\",\"rpm\":7400}",
                   *lo = "{\"type\":\"frame\",\"rpm\":800}";
        tui_model_feed(&m, hi, strlen(hi), T0);
        assert_true(m.rpm_scale == 8000);
        tui_model_feed(&m, lo, strlen(lo), T0);
        assert_true(m.rpm_scale == 8000);
    }
    /* 60 s history: slots older than 60 s are gone */
    {
        const char *fr = "{\"type\":\"frame\",\"speed_mps\":-12}";
        int64_t s0 = T0 / TUI_SPARK_SLOT_US;
        tui_model_feed(&m, fr, strlen(fr), T0);
        assert_true(tui_model_spark_max(&m, s0, s0 + 1) == 12);
        assert_true(tui_model_spark_max(&m, s0 + TUI_SPARK_SLOTS, s0 + TUI_SPARK_SLOTS + 1) < 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_speed_gear_badge),
        cmocka_unit_test(test_units_follow_game),
        cmocka_unit_test(test_sizes_whole),
        cmocka_unit_test(test_gforce),
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_overlays),
        cmocka_unit_test(test_too_small_and_paused),
        cmocka_unit_test(test_model_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
