/* SPDX-License-Identifier: MIT */
/* overlay: the panels drawn over the gauges when there is something to say — the connection
 * (connecting, the reason it failed, the reconnection countdown), no telemetry (with the
 * server's hint), and the help.  Cells only, like draw.c. */
#include "tui.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NO_DATA_US 5000000LL /* no frame for this long: the "no telemetry" panel shows */

/* Word-wraps text into the rectangle; returns the rows used. */
static int wrap(struct tui_screen *s, struct tui_rect r, int style, const char *text, int draw)
{
    char line[512];
    int rows = 0;
    const char *p = text;
    if (*p == '\0')
        return r.h > 0; /* an empty line is a blank row */
    while (*p && rows < r.h) {
        int n = 0, last_space = -1, cols = 0;
        while (p[n] && p[n] != '\n' && cols < r.w) {
            if (p[n] == ' ')
                last_space = n;
            if (((unsigned char)p[n] & 0xC0) != 0x80)
                cols++;
            n++;
        }
        /* keep multi-byte sequences whole */
        while (((unsigned char)p[n] & 0xC0) == 0x80)
            n++;
        if (p[n] && p[n] != '\n' && last_space > 0)
            n = last_space;
        if (n >= (int)sizeof line)
            n = (int)sizeof line - 1;
        memcpy(line, p, (size_t)n);
        line[n] = '\0';
        if (draw)
            tui_text(s, r.x, r.y + rows, r.w, style, line);
        rows++;
        p += n;
        while (*p == ' ' || *p == '\n')
            p++;
    }
    return rows;
}

static void overlay(struct tui_screen *s, const struct tui_layout *l, const char *title,
                    const char *const *lines, const int *styles, int n)
{
    int w = l->cols - 8 < 72 ? l->cols - 8 : 72, h = 2, y;
    struct tui_rect box, txt;
    for (int i = 0; i < n; i++) {
        struct tui_rect probe = {0, 0, w - 4, 20};
        h += wrap(s, probe, 0, lines[i], 0);
    }
    if (h > l->rows - 4)
        h = l->rows - 4;
    box.w = w;
    box.h = h + 2;
    box.x = (l->cols - w) / 2;
    box.y = (l->rows - box.h) / 2;
    tui_fill(s, box, ST_OVERLAY);
    tui_box(s, box, title, NULL, ST_OVERLAY_TITLE);
    y = box.y + 2;
    for (int i = 0; i < n; i++) {
        txt.x = box.x + 2;
        txt.y = y;
        txt.w = box.w - 4;
        txt.h = box.y + box.h - 1 - y;
        y += wrap(s, txt, styles[i], lines[i], 1);
    }
}

static void draw_conn_overlay(struct tui_screen *s, const struct tui_layout *l,
                              const struct tui_model *m, int64_t now)
{
    const struct tui_conn *c = &m->conn;
    char a[400], b[200];
    const char *lines[2] = {a, b};
    int styles[2] = {ST_OVERLAY, ST_OVERLAY};

    b[0] = '\0';
    switch (c->state) {
    case CLIENT_WS_CONNECTING:
        snprintf(a, sizeof a, "Connecting to %s ...", m->server);
        if (c->attempt > 0)
            snprintf(b, sizeof b, "attempt %d", c->attempt + 1);
        break;
    case CLIENT_WS_AUTHENTICATING:
        snprintf(a, sizeof a, "Connected to %s, logging in to the stream ...", m->server);
        break;
    case CLIENT_WS_WAITING: {
        double in = (double)(c->retry_at_us - now) / 1e6;
        snprintf(a, sizeof a, "%s", c->reason[0] ? c->reason : "Disconnected");
        a[0] = (char)toupper((unsigned char)a[0]);
        snprintf(b, sizeof b, "Reconnecting in %.0f s (attempt %d). Press q to quit.",
                 in > 0 ? ceil(in) : 0, c->attempt + 1);
        styles[0] = ST_BAD;
        break;
    }
    default:
        snprintf(a, sizeof a, "%s", c->reason[0] ? c->reason : "Disconnected");
        a[0] = (char)toupper((unsigned char)a[0]);
        styles[0] = ST_BAD;
        break;
    }
    overlay(s, l, c->ever_authenticated ? "Connection lost" : "Connection", lines, styles,
            b[0] ? 2 : 1);
}

static void draw_nodata_overlay(struct tui_screen *s, const struct tui_layout *l,
                                const struct tui_model *m, int64_t now)
{
    char a[160];
    const char *hint = m->st.hint[0] ? m->st.hint
                                     : "Drive in BeamNG.drive with OutGauge (and Motion Sim) "
                                       "sent to this server's UDP port.";
    const char *lines[2] = {a, hint};
    int styles[2] = {ST_OVERLAY_TITLE, ST_OVERLAY};
    if (!m->f.valid)
        snprintf(a, sizeof a, "Connected. No telemetry for %s yet.", m->user[0] ? m->user : "you");
    else
        snprintf(a, sizeof a, "No telemetry for %.0f s.", (double)(now - m->f.rx_us) / 1e6);
    overlay(s, l, "Waiting for telemetry", lines, styles, 2);
}

static void draw_help(struct tui_screen *s, const struct tui_layout *l)
{
    static const char *const lines[] = {
        "q  quit                  u  km/h <-> mph",
        "p  pause the display     ?  this help",
        "Ctrl-L  redraw",
        "",
        "Speed units follow the game's setting until u is pressed.",
        "G-force: the dot is the acceleration vector (up: accelerating, down: braking, "
        "sides: cornering); the ring is 1 g.",
        "RPM: green, yellow, then the red zone; the scale grows with the highest RPM seen.",
        "Status line: packets per second, rejected packets, the source of your telemetry and "
        "how long ago its last packet arrived.",
    };
    int styles[BT_ARRAY_LEN(lines)];
    for (size_t i = 0; i < BT_ARRAY_LEN(lines); i++)
        styles[i] = i < 3 ? ST_KEY : ST_OVERLAY;
    overlay(s, l, "Help", lines, styles, (int)BT_ARRAY_LEN(lines));
}

void tui_overlays(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                  const struct tui_view *v, int64_t now)
{
    if (l->too_small)
        return;
    if (v->help)
        draw_help(s, l);
    else if (m->conn.state != CLIENT_WS_AUTHENTICATED)
        draw_conn_overlay(s, l, m, now);
    else if (!m->f.valid || now - m->f.rx_us > NO_DATA_US)
        draw_nodata_overlay(s, l, m, now);
}
