/* SPDX-License-Identifier: MIT */
/* draw: the renderer — paints the model onto the screen panel by panel (header, speed, gear,
 * pedals, RPM, G-force, engine, session, lights, speed history, status line), then lets
 * overlay.c put a panel on top when there is something to say.  It reads the model and the view
 * and writes cells only: no terminal, no clock of its own. */
#include "tui.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MPS_TO_KMH 3.6
#define MPS_TO_MPH 2.2369362920544
#define STALE_US 2000000LL /* a frame older than this is drawn dimmed */
#define G_SCALE 1.25       /* g at the edge of the G-force circle; the ring is 1 g */

/* Units of one render. */
struct units {
    int metric;
    double speed_k;
    const char *speed_u, *dist_u, *temp_u, *press_u;
};

static struct units units_of(const struct tui_view *v, const struct tui_model *m)
{
    struct units u;
    u.metric = tui_units_metric(v, m);
    u.speed_k = u.metric ? MPS_TO_KMH : MPS_TO_MPH;
    u.speed_u = u.metric ? "km/h" : "mph";
    u.dist_u = u.metric ? "km" : "mi";
    u.temp_u = u.metric ? "C" : "F";
    u.press_u = u.metric ? "bar" : "psi";
    return u;
}

int tui_units_metric(const struct tui_view *v, const struct tui_model *m)
{
    if (v->units == TUI_UNITS_METRIC)
        return 1;
    if (v->units == TUI_UNITS_IMPERIAL)
        return 0;
    return m->f.valid ? m->f.km : 1;
}

static double dist_of(const struct units *u, double m)
{
    return u->metric ? m / 1000.0 : m / 1609.344;
}

static double temp_of(const struct units *u, double c)
{
    return u->metric ? c : c * 9.0 / 5.0 + 32.0;
}

static double press_of(const struct units *u, double bar)
{
    return u->metric ? bar : bar * 14.503773773;
}

static struct tui_rect inner(struct tui_rect r)
{
    struct tui_rect i = {r.x + 1, r.y + 1, r.w - 2, r.h - 2};
    return i;
}

static void fmt_duration(double s, char *out, size_t len)
{
    long t = isfinite(s) && s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(out, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, len, "%ld:%02ld", t / 60, t % 60);
}

/* Number of display columns of UTF-8 text. */
static int text_cols(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* ---- header and status line ---- */

static void draw_header(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                        const struct tui_view *v)
{
    int x = 0, bw;
    const char *badge = m->badge[0] ? m->badge : "Fumbletron-3156: ?";

    tui_fill(s, l->header, ST_HEADER);
    x += tui_text(s, x, 0, -1, ST_HEADER_HI, " beamtel ");
    x += tui_text(s, x, 0, -1, ST_HEADER, tui_glyphs(s->ascii)->sep + 1);
    bw = text_cols(badge) + 2;
    x += tui_textf(s, x, 0, l->cols - x - bw - (v->paused ? 10 : 1), ST_HEADER, "%s @ %s",
                   m->user[0] ? m->user : "?", m->server);
    if (v->paused)
        tui_text(s, l->cols - bw - 10, 0, 9, ST_HEADER_HI, " PAUSED ");
    tui_textf(s, l->cols - bw, 0, bw,
              m->badge_valid > 0    ? ST_BADGE_OK
              : m->badge_valid == 0 ? ST_BADGE_BAD
                                    : ST_HEADER,
              " %s ", badge);
}

/* One part of the status line, in a long and a short form. */
struct seg {
    char text[96], brief[96];
    int style;
};

static void conn_segment(const struct tui_model *m, int64_t now, struct seg *sg, int ascii)
{
    const char *dot = ascii ? "*" : "\xe2\x97\x8f";
    double in = (double)(m->conn.retry_at_us - now) / 1e6;
    switch (m->conn.state) {
    case CLIENT_WS_AUTHENTICATED:
        snprintf(sg->text, sizeof sg->text, "%s live", dot);
        sg->style = ST_STATUS_HI;
        break;
    case CLIENT_WS_CONNECTING:
        snprintf(sg->text, sizeof sg->text, "%s connecting", dot);
        sg->style = ST_WARN;
        break;
    case CLIENT_WS_AUTHENTICATING:
        snprintf(sg->text, sizeof sg->text, "%s logging in", dot);
        sg->style = ST_WARN;
        break;
    case CLIENT_WS_WAITING:
        snprintf(sg->text, sizeof sg->text, "%s reconnecting in %.0f s", dot,
                 in > 0 ? ceil(in) : 0);
        sg->style = ST_BAD;
        break;
    default:
        snprintf(sg->text, sizeof sg->text, "%s disconnected", dot);
        sg->style = ST_BAD;
        break;
    }
    snprintf(sg->brief, sizeof sg->brief, "%s", sg->text);
}

/* Connection state, packets/s, rejected packets, source address, last packet age. */
static int status_segments(const struct tui_model *m, int64_t now, struct seg *sg, int ascii)
{
    const struct tui_status *st = &m->st;
    double age = st->last_packet_age_s;
    int n = 0;

    memset(sg, 0, 6 * sizeof *sg);
    conn_segment(m, now, &sg[n++], ascii);
    if (!st->valid || m->conn.state != CLIENT_WS_AUTHENTICATED)
        return n;
    snprintf(sg[n].text, sizeof sg[n].text, "%.0f pkt/s",
             isfinite(st->packets_per_s) ? st->packets_per_s : 0);
    snprintf(sg[n].brief, sizeof sg[n].brief, "%.0f/s",
             isfinite(st->packets_per_s) ? st->packets_per_s : 0);
    sg[n++].style = ST_STATUS;
    snprintf(sg[n].text, sizeof sg[n].text, "rejected %lld", st->rejected);
    snprintf(sg[n].brief, sizeof sg[n].brief, "rej %lld", st->rejected);
    sg[n++].style = st->rejected > 0 ? ST_BAD : ST_STATUS;
    snprintf(sg[n].text, sizeof sg[n].text, "%s", st->source[0] ? st->source : "no source");
    snprintf(sg[n].brief, sizeof sg[n].brief, "%s", sg[n].text);
    sg[n++].style = ST_STATUS;
    if (isfinite(age)) {
        age += (double)(now - st->rx_us) / 1e6;
        if (age < 60)
            snprintf(sg[n].text, sizeof sg[n].text, "last packet %.1f s ago", age);
        else
            snprintf(sg[n].text, sizeof sg[n].text, "last packet %.0f min ago", floor(age / 60));
        snprintf(sg[n].brief, sizeof sg[n].brief, "last %.*f%s", age < 60 ? 1 : 0,
                 age < 60 ? age : floor(age / 60), age < 60 ? " s" : " min");
    } else {
        snprintf(sg[n].text, sizeof sg[n].text, "no packet yet");
        snprintf(sg[n].brief, sizeof sg[n].brief, "no packet");
    }
    sg[n++].style = !isfinite(age) || age > 5 ? ST_WARN : ST_STATUS;
    if (st->db_up == 0) {
        snprintf(sg[n].text, sizeof sg[n].text, "database down");
        snprintf(sg[n].brief, sizeof sg[n].brief, "db down");
        sg[n++].style = ST_BAD;
    }
    return n;
}

static void draw_status(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                        int64_t now)
{
    const struct tui_glyphs *g = tui_glyphs(s->ascii);
    const char *keys = l->cols >= 100 ? " ? help  q quit " : " ?:help q:quit ";
    struct seg sg[6];
    int n = status_segments(m, now, sg, s->ascii), sep = text_cols(g->sep), total = 0, brief, x = 1,
        limit = l->cols - text_cols(keys) - 1;

    tui_fill(s, l->status, ST_STATUS);
    for (int i = 0; i < n; i++)
        total += text_cols(sg[i].text) + (i ? sep : 0);
    brief = 1 + total > limit;
    for (int i = 0; i < n; i++) {
        const char *t = brief ? sg[i].brief : sg[i].text;
        if (x + (i ? sep : 0) + text_cols(t) > limit)
            break; /* whole segments only */
        if (i)
            x += tui_text(s, x, l->status.y, -1, ST_STATUS, g->sep);
        x += tui_text(s, x, l->status.y, -1, sg[i].style, t);
    }
    tui_text(s, l->cols - text_cols(keys), l->status.y, -1, ST_STATUS_HI, keys);
}

/* ---- top band ---- */

static int frame_style(const struct tui_model *m, int64_t now, int style)
{
    return (!m->f.valid || now - m->f.rx_us > STALE_US) ? ST_DIM : style;
}

static void draw_speed(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                       const struct units *u, int64_t now)
{
    struct tui_rect r = inner(l->speed);
    char digits[24], label[32];
    int sx = l->digit_sx, sy = l->digit_sy, y, w;
    double v = m->f.valid ? fabs(m->f.speed_mps) * u->speed_k : NAN;

    if (isfinite(v)) {
        long iv = lround(v);
        snprintf(digits, sizeof digits, "%3ld", iv > 999 ? 999 : iv);
        snprintf(label, sizeof label, "%.1f %s", v, u->speed_u);
    } else {
        snprintf(digits, sizeof digits, " --");
        snprintf(label, sizeof label, "-- %s", u->speed_u);
    }
    tui_box(s, l->speed, "Speed", label, ST_BORDER);
    w = tui_bigtext_width("888", sx);
    y = r.y + (r.h - 5 * sy) / 2;
    tui_bigtext(s, r.x + 1, y, digits, sx, sy, frame_style(m, now, ST_DIGITS));
    tui_text(s, r.x + 2 + w, y + 5 * sy - 1, r.w - w - 2, ST_DIM, u->speed_u);
}

static void draw_gear(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                      int64_t now)
{
    struct tui_rect r = inner(l->gear);
    char g[4] = "-";
    int style = ST_GEAR, w, sx = l->digit_sx, sy = l->digit_sy;

    if (m->f.valid && m->f.has_gear) {
        if (m->f.gear < 0) {
            snprintf(g, sizeof g, "R");
            style = ST_BAD;
        } else if (m->f.gear == 0) {
            snprintf(g, sizeof g, "N");
            style = ST_GOOD;
        } else if (m->f.gear <= 9) {
            snprintf(g, sizeof g, "%d", m->f.gear);
        } else {
            snprintf(g, sizeof g, "%d", m->f.gear % 100);
            sx = 1; /* two digits: narrower pixels */
        }
        if (m->f.show_lights & DL_SHIFT)
            style = ST_RPM_HIGH;
    }
    tui_box(s, l->gear, "Gear", NULL, ST_BORDER);
    w = tui_bigtext_width(g, sx);
    tui_bigtext(s, r.x + (r.w - w) / 2, r.y + (r.h - 5 * sy) / 2, g, sx, sy,
                frame_style(m, now, style));
}

static void pedal(struct tui_screen *s, int x, int y, int w, const char *name, double v, int style)
{
    char pct[8];
    int bw = w - 10 - 5;
    tui_text(s, x, y, 9, ST_NORMAL, name);
    if (bw > 0)
        tui_bar(s, x + 10, y, bw, v, style, 2.0);
    if (isfinite(v))
        snprintf(pct, sizeof pct, "%4.0f%%", fmax(0, fmin(1, v)) * 100);
    else
        snprintf(pct, sizeof pct, "  --%%");
    tui_text(s, x + w - 5, y, 5, ST_NORMAL, pct);
}

static void draw_pedals(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m)
{
    struct tui_rect r = inner(l->pedals);
    int step = r.h >= 5 ? r.h / 3 : 1, y = r.y + (r.h - 2 * step - 1) / 2;
    const struct tui_frame *f = &m->f;

    tui_box(s, l->pedals, "Pedals", NULL, ST_BORDER);
    pedal(s, r.x + 1, y, r.w - 2, "Throttle", f->valid ? f->throttle : NAN, ST_THROTTLE);
    pedal(s, r.x + 1, y + step, r.w - 2, "Brake", f->valid ? f->brake : NAN, ST_BRAKE);
    pedal(s, r.x + 1, y + 2 * step, r.w - 2, "Clutch", f->valid ? f->clutch : NAN, ST_CLUTCH);
}

/* The RPM strip: a tachometer bar, green up to 70 %, yellow to 85 %, red beyond (the red zone
 * shows on the empty bar too, so the driver sees where the limit is). */
static void draw_rpm(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m)
{
    struct tui_rect r = l->rpm_boxed ? inner(l->rpm) : l->rpm;
    double rpm = m->f.valid ? m->f.rpm : NAN, frac;
    char val[32], scale[32];
    int x = r.x, bw;

    if (l->rpm_boxed) {
        snprintf(scale, sizeof scale, "0-%.0f", m->rpm_scale);
        tui_box(s, l->rpm, "RPM", scale, ST_BORDER);
        x += 1;
    } else {
        x += 1 + tui_text(s, x + 1, r.y, 4, ST_TITLE, "RPM ");
        r.w -= 1; /* a margin on both sides, like the lights row */
    }
    if (isfinite(rpm))
        snprintf(val, sizeof val, "%6.0f rpm", rpm);
    else
        snprintf(val, sizeof val, "    -- rpm");
    bw = r.x + r.w - x - (int)strlen(val) - 2;
    frac = isfinite(rpm) ? rpm / m->rpm_scale : NAN;
    tui_bar(s, x, r.y, bw, frac, ST_RPM_LOW, 0.85);
    for (int i = 0; i < bw; i++) {
        struct tui_cell *c = &s->cells[r.y * s->w + x + i];
        if (c->style != ST_RPM_LOW)
            continue;
        c->style = i >= bw * 85 / 100 ? ST_RPM_HIGH : i >= bw * 70 / 100 ? ST_RPM_MID : ST_RPM_LOW;
        if (m->f.show_lights & DL_SHIFT)
            c->style = ST_RPM_HIGH;
    }
    tui_text(s, x + bw + 1, r.y, -1, ST_BOLD, val);
}

/* ---- middle band ---- */

static void braille_ring(struct tui_screen *s, struct tui_rect c, double r_dots)
{
    int wd = c.w * 2, hd = c.h * 4;
    double cx = (wd - 1) / 2.0, cy = (hd - 1) / 2.0;
    for (int i = 0; i < 720; i++) {
        double a = i * M_PI / 360.0;
        int dx = (int)lround(cx + r_dots * cos(a)), dy = (int)lround(cy + r_dots * sin(a));
        static const uint32_t bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
        struct tui_cell *cell;
        if (dx < 0 || dy < 0 || dx >= wd || dy >= hd)
            continue;
        cell = &s->cells[(c.y + dy / 4) * s->w + c.x + dx / 2];
        if (cell->ch < 0x2800 || cell->ch > 0x28FF)
            cell->ch = 0x2800;
        cell->ch |= bit[dy % 4][dx % 2];
        cell->style = ST_RING;
    }
}

static void ascii_ring(struct tui_screen *s, struct tui_rect c, double rx, double ry)
{
    for (int i = 0; i < 96; i++) {
        double a = i * M_PI / 48.0;
        tui_put(s, c.x + (int)lround((c.w - 1) / 2.0 + rx * cos(a)),
                c.y + (int)lround((c.h - 1) / 2.0 + ry * sin(a)), '.', ST_RING);
    }
}

static void g_to_cell(struct tui_rect c, double gx, double gy, int *x, int *y)
{
    double rx = (c.w - 1) / 2.0, ry = (c.h - 1) / 2.0, len = hypot(gx, gy);
    if (len > G_SCALE) { /* off the scale: pin to the edge in the right direction */
        gx *= G_SCALE / len;
        gy *= G_SCALE / len;
    }
    *x = c.x + (int)lround(rx + gx / G_SCALE * rx);
    *y = c.y + (int)lround(ry - gy / G_SCALE * ry); /* up = accelerating */
}

static void draw_gforce(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m)
{
    const struct tui_glyphs *g = tui_glyphs(s->ascii);
    struct tui_rect r = inner(l->gforce), c;
    int lx, x, y;

    tui_box(s, l->gforce, "G-force", NULL, ST_BORDER);
    c.h = r.h;
    c.w = 2 * r.h + 1;
    if (c.w > r.w - 12)
        c.w = r.w - 12;
    c.x = r.x + 1;
    c.y = r.y;
    lx = c.x + c.w + 1;
    if (s->ascii)
        ascii_ring(s, c, (c.w - 1) / 2.0 / G_SCALE, (c.h - 1) / 2.0 / G_SCALE);
    else
        /* x.5 puts the ring's extremes on whole dots on both sides: a symmetric ring. */
        braille_ring(s, c, floor((fmin(c.w * 2, c.h * 4) / 2.0 - 1) / G_SCALE) + 0.5);
    tui_put(s, c.x + (c.w - 1) / 2, c.y + (c.h - 1) / 2, g->center, ST_RING);

    if (!m->f.valid || !m->f.has_g) {
        tui_text(s, lx, r.y + r.h / 2 - 1, r.x + r.w - lx, ST_DIM, "no Motion");
        tui_text(s, lx, r.y + r.h / 2, r.x + r.w - lx, ST_DIM, "Sim data");
        return;
    }
    /* The trail, oldest first, then the dot on top. */
    for (int i = 0; i < m->trail_n; i++) {
        int k = (m->trail_head - m->trail_n + i + TUI_TRAIL) % TUI_TRAIL;
        g_to_cell(c, m->trail_x[k], m->trail_y[k], &x, &y);
        tui_put(s, x, y, i >= m->trail_n * 2 / 3 ? g->trail_new : g->trail_old, ST_TRAIL);
    }
    g_to_cell(c, m->f.g_x, m->f.g_y, &x, &y);
    tui_put(s, x, y, g->dot, ST_GDOT);
    tui_textf(s, lx, r.y + r.h / 2 - 2, r.x + r.w - lx, ST_NORMAL, "lat %+.2f", m->f.g_x);
    tui_textf(s, lx, r.y + r.h / 2 - 1, r.x + r.w - lx, ST_NORMAL, "lon %+.2f", m->f.g_y);
    tui_textf(s, lx, r.y + r.h / 2 + 1, r.x + r.w - lx, ST_DIM, "ring 1 g");
    tui_textf(s, lx, r.y + r.h / 2 + 2, r.x + r.w - lx, ST_DIM, "up: accel");
}

static int temp_style(double c, double warn, double bad)
{
    return !isfinite(c) ? ST_DIM : c >= bad ? ST_BAD : c >= warn ? ST_WARN : ST_NORMAL;
}

static void row_value(struct tui_screen *s, struct tui_rect r, int y, const char *name, int style,
                      int decimals, double v, const char *unit)
{
    char val[32];
    if (isfinite(v))
        snprintf(val, sizeof val, "%.*f", decimals, v);
    else
        snprintf(val, sizeof val, "--");
    tui_text(s, r.x + 1, y, 10, ST_NORMAL, name);
    tui_textf(s, r.x + 11, y, r.w - 12, style, "%6s %s", val, unit);
}

static void draw_engine(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                        const struct units *u)
{
    const struct tui_frame *f = &m->f;
    struct tui_rect r = inner(l->engine);
    char tu[8], fuel[8];
    int y = r.y, bw;
    double nan = NAN;

    snprintf(tu, sizeof tu, "%s%s", tui_glyphs(s->ascii)->deg, u->temp_u);
    tui_box(s, l->engine, "Engine", NULL, ST_BORDER);
    row_value(s, r, y++, "Water", temp_style(f->valid ? f->engine_temp_c : nan, 105, 115), 0,
              f->valid ? temp_of(u, f->engine_temp_c) : nan, tu);
    row_value(s, r, y++, "Oil", temp_style(f->valid ? f->oil_temp_c : nan, 130, 145), 0,
              f->valid ? temp_of(u, f->oil_temp_c) : nan, tu);
    row_value(s, r, y++, "Oil press", ST_NORMAL, u->metric ? 1 : 0,
              f->valid ? press_of(u, f->oil_pressure_bar) : nan, u->press_u);
    row_value(s, r, y++, "Turbo", ST_NORMAL, u->metric ? 2 : 1,
              f->valid ? press_of(u, f->turbo_bar) : nan, u->press_u);
    if (y >= r.y + r.h)
        return;
    y = r.y + r.h - 1 > y ? y + 1 : y;
    tui_text(s, r.x + 1, y, 10, ST_NORMAL, "Fuel");
    if (f->valid && isfinite(f->fuel))
        snprintf(fuel, sizeof fuel, "%3.0f%%", fmax(0, fmin(1, f->fuel)) * 100);
    else
        snprintf(fuel, sizeof fuel, " --%%");
    bw = r.w - 11 - 6;
    if (bw > 0)
        tui_bar(s, r.x + 11, y, bw, f->valid ? f->fuel : NAN,
                f->valid && f->fuel < 0.1 ? ST_BAD : ST_FUEL, 2.0);
    tui_text(s, r.x + r.w - 5, y, 4, ST_NORMAL, fuel);
}

static void draw_session(struct tui_screen *s, const struct tui_layout *l,
                         const struct tui_model *m, const struct units *u, int64_t now)
{
    const struct tui_frame *f = &m->f;
    struct tui_rect r = inner(l->session);
    char dur[24];
    int y = r.y, live = f->valid && f->has_session;
    int last = !live && m->has_last && now < m->last_until_us;
    double d_s = live ? f->session_duration_s : m->last_duration_s;
    double d_m = live ? f->session_distance_m : m->last_distance_m;
    double top = live ? f->session_top_mps : m->last_top_mps;

    tui_box(s, l->session, "Session", NULL, ST_BORDER);
    if (live)
        tui_textf(s, r.x + 1, y++, r.w - 2, ST_GOOD, "%s recording",
                  s->ascii ? "*" : "\xe2\x97\x8f");
    else if (last)
        tui_text(s, r.x + 1, y++, r.w - 2, ST_TITLE, "last session (ended)");
    else
        tui_text(s, r.x + 1, y++, r.w - 2, ST_DIM, "no session");
    if (live || last) {
        int style = live ? ST_NORMAL : ST_DIM;
        fmt_duration(d_s, dur, sizeof dur);
        tui_textf(s, r.x + 1, y++, r.w - 2, style, "Time  %10s", dur);
        tui_textf(s, r.x + 1, y++, r.w - 2, style, "Dist  %10.2f %s", dist_of(u, d_m), u->dist_u);
        tui_textf(s, r.x + 1, y++, r.w - 2, style, "Top   %10.0f %s", top * u->speed_k, u->speed_u);
    } else {
        tui_text(s, r.x + 1, y++, r.w - 2, ST_DIM, "starts when you drive");
    }
    if (f->valid && f->car[0] && y < r.y + r.h)
        tui_textf(s, r.x + 1, y++, r.w - 2, ST_DIM, "Car   %10s", f->car);
}

/* ---- lights and speed history ---- */

/* clang-format off */
static const struct {
    uint32_t bit;
    const char *name;
    int style;
} lights[] = {
    {DL_SIGNAL_L, NULL, ST_LIGHT_INFO},  {DL_SIGNAL_R, NULL, ST_LIGHT_INFO},
    {DL_SHIFT, "SHIFT", ST_LIGHT_ALERT}, {DL_HANDBRAKE, "HANDBRAKE", ST_LIGHT_WARN},
    {DL_ABS, "ABS", ST_LIGHT_WARN},      {DL_TC, "TC", ST_LIGHT_WARN},
    {DL_ESC, "ESC", ST_LIGHT_WARN},      {DL_FULLBEAM, "HIGH", ST_LIGHT_INFO},
    {DL_LOWBEAM, "LOW", ST_LIGHT_INFO},  {DL_FOGLIGHTS, "FOG", ST_LIGHT_INFO},
    {DL_PITSPEED, "PIT", ST_LIGHT_INFO}, {DL_OILWARN, "OIL", ST_LIGHT_ALERT},
    {DL_BATTERY, "BATT", ST_LIGHT_ALERT}, {DL_CHECKENGINE, "ENGINE", ST_LIGHT_WARN},
    {DL_RADIATOR, "RADIATOR", ST_LIGHT_ALERT}, {DL_CLUTCHTEMP, "CLUTCH HOT", ST_LIGHT_WARN},
    {DL_BRAKETEMP, "BRAKES HOT", ST_LIGHT_WARN},
    {DL_TIREFLAT_FL | DL_TIREFLAT_FR | DL_TIREFLAT_RL | DL_TIREFLAT_RR, "FLAT TYRE",
     ST_LIGHT_ALERT},
};
/* clang-format on */

static void draw_lights(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m)
{
    const struct tui_glyphs *g = tui_glyphs(s->ascii);
    const struct tui_frame *f = &m->f;
    int x = 1, y = l->lights.y;

    x += tui_text(s, x, y, -1, ST_TITLE, "Lights ");
    if (!f->valid || f->dash_lights == 0) {
        tui_text(s, x + 1, y, l->cols - x - 2, ST_DIM, "no dashboard data");
        return;
    }
    for (size_t i = 0; i < BT_ARRAY_LEN(lights); i++) {
        const char *name = lights[i].name;
        int lit = (f->show_lights & lights[i].bit) != 0, w;
        if (!(f->dash_lights & lights[i].bit))
            continue;
        if (name == NULL) { /* turn signals: an arrow */
            uint32_t a = lights[i].bit == DL_SIGNAL_L ? g->arrow_l : g->arrow_r;
            if (x + 3 > l->cols)
                break;
            tui_put(s, x + 1, y, a, lit ? lights[i].style : ST_LIGHT_OFF);
            x += 3;
            continue;
        }
        w = (int)strlen(name) + 2;
        if (x + w > l->cols - 1)
            break;
        tui_textf(s, x, y, w, lit ? lights[i].style : ST_LIGHT_OFF, " %s ", name);
        x += w + 1;
    }
}

/* A scale for the history that moves in round steps. */
static double nice_scale(double v)
{
    static const double steps[] = {25, 50, 100, 150, 200, 250, 300, 400, 500, 750, 1000};
    for (size_t i = 0; i < BT_ARRAY_LEN(steps); i++)
        if (v <= steps[i])
            return steps[i];
    return ceil(v / 500) * 500;
}

static void draw_spark(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                       const struct units *u, int64_t now)
{
    const struct tui_glyphs *g = tui_glyphs(s->ascii);
    struct tui_rect r = inner(l->spark);
    int64_t now_slot = now / TUI_SPARK_SLOT_US, first = now_slot - TUI_SPARK_SLOTS + 1;
    double maxv = tui_model_spark_max(m, first, now_slot + 1), scale;
    int levels = g->spark_levels * r.h;
    char title[64], label[48];

    scale = nice_scale(fmax(maxv * u->speed_k, 1));
    snprintf(title, sizeof title, "Speed, last 60 s (0-%.0f %s)", scale, u->speed_u);
    if (maxv >= 0)
        snprintf(label, sizeof label, "max %.0f %s", maxv * u->speed_k, u->speed_u);
    else
        label[0] = '\0';
    tui_box(s, l->spark, title, label, ST_BORDER);
    if (r.w <= 0)
        return;
    for (int c = 0; c < r.w; c++) {
        int64_t a = first + (int64_t)c * TUI_SPARK_SLOTS / r.w;
        int64_t b = first + (int64_t)(c + 1) * TUI_SPARK_SLOTS / r.w;
        double v = tui_model_spark_max(m, a, b > a ? b : a + 1);
        int level;
        if (v < 0)
            continue; /* no data: a gap */
        level = (int)lround(v * u->speed_k / scale * levels);
        if (level < 1)
            level = 1; /* standing still still shows as a baseline */
        for (int row = 0; row < r.h; row++) {
            int in = level - row * g->spark_levels;
            if (in <= 0)
                break;
            tui_put(s, r.x + c, r.y + r.h - 1 - row,
                    g->spark[in > g->spark_levels ? g->spark_levels : in], ST_SPARK);
        }
    }
}

static void draw_too_small(struct tui_screen *s, const struct tui_layout *l,
                           const struct tui_model *m, const struct units *u)
{
    char g[16] = "-";
    if (m->f.valid && m->f.has_gear)
        snprintf(g, sizeof g, "%s", m->f.gear < 0 ? "R" : m->f.gear == 0 ? "N" : "");
    if (m->f.valid && m->f.has_gear && m->f.gear > 0)
        snprintf(g, sizeof g, "%d", m->f.gear);
    tui_textf(s, 1, 2, l->cols - 2, ST_WARN, "Terminal too small: %dx%d (needs %dx%d)", l->cols,
              l->rows, TUI_MIN_COLS, TUI_MIN_ROWS);
    if (m->f.valid && l->rows > 4)
        tui_textf(s, 1, 4, l->cols - 2, ST_BOLD, "%.0f %s  gear %s  %.0f rpm",
                  fabs(m->f.speed_mps) * u->speed_k, u->speed_u, g, m->f.rpm);
}

void tui_render(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                const struct tui_view *v, int64_t now)
{
    struct units u = units_of(v, m);

    tui_screen_clear(s);
    draw_header(s, l, m, v);
    if (l->too_small) {
        draw_too_small(s, l, m, &u);
        if (l->rows > 1)
            draw_status(s, l, m, now);
        return;
    }
    draw_speed(s, l, m, &u, now);
    draw_gear(s, l, m, now);
    draw_pedals(s, l, m);
    draw_rpm(s, l, m);
    draw_gforce(s, l, m);
    draw_engine(s, l, m, &u);
    draw_session(s, l, m, &u, now);
    draw_lights(s, l, m);
    draw_spark(s, l, m, &u, now);
    draw_status(s, l, m, now);

    tui_overlays(s, l, m, v, now);
}
