/* SPDX-License-Identifier: MIT */
/* layout: where every panel goes for a terminal size.  80×24 is the design size (every panel
 * fits whole); larger terminals give the extra rows to the RPM strip, the G-force circle and
 * the speed history, and bigger digits once there is room for them.  Pure arithmetic. */
#include "tui.h"

#include <string.h>

static struct tui_rect rect(int x, int y, int w, int h)
{
    struct tui_rect r = {x, y, w, h};
    return r;
}

void tui_layout_compute(struct tui_layout *l, int cols, int rows)
{
    int extra, top_h, mid_h, spark_h, rpm_h, y, gw, speed_w, gear_w, rest;

    memset(l, 0, sizeof *l);
    l->cols = cols;
    l->rows = rows;
    l->header = rect(0, 0, cols, 1);
    l->status = rect(0, rows - 1, cols, 1);
    if (cols < TUI_MIN_COLS || rows < TUI_MIN_ROWS) {
        l->too_small = 1;
        return;
    }

    /* Rows: header 1, top band 7, RPM 1, middle 9, lights 1, speed history 4, status 1. */
    extra = rows - TUI_MIN_ROWS;
    rpm_h = 1;
    if (extra >= 2) {
        rpm_h = 3;
        l->rpm_boxed = 1;
        extra -= 2;
    }
    top_h = 7;
    l->digit_sx = 2;
    l->digit_sy = 1;
    if (extra >= 8 && cols >= 108) { /* pixels of 4×2 cells keep the digits' proportions */
        l->digit_sx = 4;
        l->digit_sy = 2;
        top_h = 12;
        extra -= 5;
    }
    spark_h = 4 + (extra / 2 < 6 ? extra / 2 : 6);
    extra -= spark_h - 4;
    mid_h = 9 + extra;

    /* Top band: speed digits (3 glyphs and a unit label), gear digit, pedal bars. */
    speed_w = 11 * l->digit_sx + 9;
    gear_w = 4 * l->digit_sx + 4;
    y = 1;
    l->speed = rect(0, y, speed_w, top_h);
    l->gear = rect(speed_w, y, gear_w, top_h);
    l->pedals = rect(speed_w + gear_w, y, cols - speed_w - gear_w, top_h);
    y += top_h;
    l->rpm = rect(0, y, cols, rpm_h);
    y += rpm_h;

    /* Middle band: the G-force circle is about twice as wide as tall (cells are tall). */
    gw = 2 * (mid_h - 2) + 1 + 15;
    if (gw > cols * 45 / 100)
        gw = cols * 45 / 100;
    rest = cols - gw;
    l->gforce = rect(0, y, gw, mid_h);
    l->engine = rect(gw, y, rest / 2, mid_h);
    l->session = rect(gw + rest / 2, y, rest - rest / 2, mid_h);
    y += mid_h;
    l->lights = rect(0, y, cols, 1);
    y += 1;
    l->spark = rect(0, y, cols, spark_h);
}
