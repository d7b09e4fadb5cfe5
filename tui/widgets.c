/* SPDX-License-Identifier: MIT */
/* widgets: the screen (a grid of one-column cells), text, boxes, bars and the big-digit font,
 * in UTF-8 or ASCII.  No ncurses here: app.c copies the cells that changed to the terminal, and
 * unit tests read the grid as text. */
#include "tui.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const struct tui_glyphs glyphs_utf8 = {
    .h = 0x2500, .v = 0x2502, .tl = 0x250C, .tr = 0x2510, .bl = 0x2514, .br = 0x2518,
    .pixel = 0x2588,
    .bar_full = 0x2588, .bar_empty = 0x2591,
    .bar_part = {0x20, 0x258F, 0x258E, 0x258D, 0x258C, 0x258B, 0x258A, 0x2589},
    .spark = {0x20, 0x2581, 0x2582, 0x2583, 0x2584, 0x2585, 0x2586, 0x2587, 0x2588},
    .spark_levels = 8,
    .dot = 0x25CF, .trail_new = 0x2022, .trail_old = 0x00B7, .ring = 0x00B7, .center = 0x253C,
    .bullet = 0x25CF, .arrow_l = 0x25C0, .arrow_r = 0x25B6,
    .sep = " \xe2\x94\x82 ", .deg = "\xc2\xb0", .ellipsis = "\xe2\x80\xa6",
};

static const struct tui_glyphs glyphs_ascii = {
    .h = '-', .v = '|', .tl = '+', .tr = '+', .bl = '+', .br = '+',
    .pixel = '#',
    .bar_full = '#', .bar_empty = '.',
    .bar_part = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '},
    .spark = {' ', '_', '-', '=', '#', '#', '#', '#', '#'},
    .spark_levels = 4,
    .dot = '@', .trail_new = 'o', .trail_old = '.', .ring = '.', .center = '+',
    .bullet = '*', .arrow_l = '<', .arrow_r = '>',
    .sep = " | ", .deg = "", .ellipsis = "~",
};
/* clang-format on */

const struct tui_glyphs *tui_glyphs(int ascii)
{
    return ascii ? &glyphs_ascii : &glyphs_utf8;
}

struct tui_screen *tui_screen_new(int w, int h, int ascii)
{
    struct tui_screen *s = xcalloc(1, sizeof *s);
    s->w = w > 0 ? w : 1;
    s->h = h > 0 ? h : 1;
    s->ascii = ascii;
    s->cells = xcalloc((size_t)s->w * (size_t)s->h, sizeof *s->cells);
    tui_screen_clear(s);
    return s;
}

void tui_screen_free(struct tui_screen *s)
{
    if (s) {
        free(s->cells);
        free(s);
    }
}

void tui_screen_clear(struct tui_screen *s)
{
    for (int i = 0; i < s->w * s->h; i++) {
        s->cells[i].ch = ' ';
        s->cells[i].style = ST_NORMAL;
    }
}

void tui_put(struct tui_screen *s, int x, int y, uint32_t ch, int style)
{
    if (x < 0 || y < 0 || x >= s->w || y >= s->h)
        return;
    s->cells[y * s->w + x].ch = ch;
    s->cells[y * s->w + x].style = (uint8_t)style;
}

/* Code points known to take exactly one column in every terminal, independent of the locale
 * (wcwidth() would tie rendering to LC_CTYPE and make tests flaky). */
static int one_column(uint32_t c)
{
    if (c >= 0x20 && c < 0x7F)
        return 1;
    if (c >= 0xA0 && c <= 0x24F)
        return c != 0xAD; /* soft hyphen */
    if ((c >= 0x370 && c <= 0x4FF) || (c >= 0x2010 && c <= 0x2027) ||
        (c >= 0x2030 && c <= 0x205E) || (c >= 0x2190 && c <= 0x21FF) ||
        (c >= 0x2200 && c <= 0x22FF) || (c >= 0x2500 && c <= 0x25FC) ||
        (c >= 0x2800 && c <= 0x28FF))
        return 1;
    return 0;
}

/* Decodes one UTF-8 sequence; returns its length (≥ 1) and *cp (0xFFFD when invalid). */
static int utf8_next(const unsigned char *p, uint32_t *cp)
{
    int n;
    uint32_t c;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2;
        c = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3;
        c = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4;
        c = p[0] & 0x07;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return i;
        }
        c = (c << 6) | (p[i] & 0x3F);
    }
    *cp = c;
    return n;
}

int tui_text(struct tui_screen *s, int x, int y, int maxw, int style, const char *utf8)
{
    const unsigned char *p = (const unsigned char *)utf8;
    int cols = 0;
    if (maxw < 0)
        maxw = s->w - x;
    while (*p && cols < maxw) {
        uint32_t c;
        p += utf8_next(p, &c);
        if (!one_column(c) || (s->ascii && c > 0x7E))
            c = (s->ascii && c == 0xB0) ? ' ' : '?';
        tui_put(s, x + cols, y, c, style);
        cols++;
    }
    return cols;
}

int tui_textf(struct tui_screen *s, int x, int y, int maxw, int style, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return tui_text(s, x, y, maxw, style, line);
}

static size_t utf8_put(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

char *tui_screen_text(const struct tui_screen *s)
{
    char *out = xmalloc((size_t)s->w * (size_t)s->h * 4 + (size_t)s->h + 1), *o = out;
    for (int y = 0; y < s->h; y++) {
        for (int x = 0; x < s->w; x++)
            o += utf8_put(o, s->cells[y * s->w + x].ch);
        *o++ = '\n';
    }
    *o = '\0';
    return out;
}

void tui_fill(struct tui_screen *s, struct tui_rect r, int style)
{
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++)
            tui_put(s, x, y, ' ', style);
}

void tui_box(struct tui_screen *s, struct tui_rect r, const char *title, const char *label,
             int style)
{
    const struct tui_glyphs *g = tui_glyphs(s->ascii);
    if (r.w < 2 || r.h < 2)
        return;
    for (int x = r.x + 1; x < r.x + r.w - 1; x++) {
        tui_put(s, x, r.y, g->h, style);
        tui_put(s, x, r.y + r.h - 1, g->h, style);
    }
    for (int y = r.y + 1; y < r.y + r.h - 1; y++) {
        tui_put(s, r.x, y, g->v, style);
        tui_put(s, r.x + r.w - 1, y, g->v, style);
    }
    tui_put(s, r.x, r.y, g->tl, style);
    tui_put(s, r.x + r.w - 1, r.y, g->tr, style);
    tui_put(s, r.x, r.y + r.h - 1, g->bl, style);
    tui_put(s, r.x + r.w - 1, r.y + r.h - 1, g->br, style);
    if (title && *title && r.w > 6) {
        int n;
        tui_put(s, r.x + 1, r.y, ' ', style);
        n = tui_text(s, r.x + 2, r.y, r.w - 5, ST_TITLE, title);
        tui_put(s, r.x + 2 + n, r.y, ' ', style);
    }
    if (label && *label && r.w > 6) {
        /* Right-aligned on the bottom border: measure first by drawing off-screen width. */
        int len = 0;
        for (const unsigned char *p = (const unsigned char *)label; *p; p++)
            len += (*p & 0xC0) != 0x80;
        if (len > r.w - 5)
            len = r.w - 5;
        tui_put(s, r.x + r.w - 4 - len, r.y + r.h - 1, ' ', style);
        tui_text(s, r.x + r.w - 3 - len, r.y + r.h - 1, len, ST_TITLE, label);
        tui_put(s, r.x + r.w - 3, r.y + r.h - 1, ' ', style);
    }
}

void tui_bar(struct tui_screen *s, int x, int y, int w, double value, int style, double red_from)
{
    const struct tui_glyphs *g = tui_glyphs(s->ascii);
    double v = isfinite(value) ? (value < 0 ? 0 : value > 1 ? 1 : value) : 0;
    int eighths = (int)lround(v * w * 8), full = eighths / 8, part = eighths % 8;

    if (s->ascii) { /* no partial cells: round to the nearest whole one */
        full = (int)lround(v * w);
        part = 0;
    }
    for (int i = 0; i < w; i++) {
        if (i < full)
            tui_put(s, x + i, y, g->bar_full, style);
        else if (i == full && part > 0)
            tui_put(s, x + i, y, g->bar_part[part], style);
        else
            tui_put(s, x + i, y, g->bar_empty,
                    (double)i >= red_from * w ? ST_REDZONE : ST_BAR_EMPTY);
    }
}

/* The big-digit font: 5 rows of '#' pixels; every glyph is 3 wide except N. */
/* clang-format off */
static const struct {
    char ch;
    const char *rows[5];
} font[] = {
    {'0', {"###", "# #", "# #", "# #", "###"}}, {'1', {"## ", " # ", " # ", " # ", "###"}},
    {'2', {"###", "  #", "###", "#  ", "###"}}, {'3', {"###", "  #", " ##", "  #", "###"}},
    {'4', {"# #", "# #", "###", "  #", "  #"}}, {'5', {"###", "#  ", "###", "  #", "###"}},
    {'6', {"###", "#  ", "###", "# #", "###"}}, {'7', {"###", "  #", "  #", "  #", "  #"}},
    {'8', {"###", "# #", "###", "# #", "###"}}, {'9', {"###", "# #", "###", "  #", "###"}},
    {'R', {"## ", "# #", "## ", "# #", "# #"}}, {'N', {"#  #", "## #", "# ##", "#  #", "#  #"}},
    {'-', {"   ", "   ", "###", "   ", "   "}}, {' ', {"   ", "   ", "   ", "   ", "   "}},
};
/* clang-format on */

static int glyph_index(char c)
{
    for (size_t i = 0; i < BT_ARRAY_LEN(font); i++)
        if (font[i].ch == c)
            return (int)i;
    return (int)BT_ARRAY_LEN(font) - 1; /* blank */
}

int tui_bigtext_width(const char *text, int sx)
{
    int w = 0;
    for (const char *p = text; *p; p++)
        w += ((int)strlen(font[glyph_index(*p)].rows[0]) + (p[1] ? 1 : 0)) * sx;
    return w;
}

int tui_bigtext(struct tui_screen *s, int x, int y, const char *text, int sx, int sy, int style)
{
    const struct tui_glyphs *g = tui_glyphs(s->ascii);
    int cx = x;
    for (const char *p = text; *p; p++) {
        int gi = glyph_index(*p), gw = (int)strlen(font[gi].rows[0]);
        for (int row = 0; row < 5; row++)
            for (int col = 0; col < gw; col++) {
                int on = font[gi].rows[row][col] == '#';
                for (int dy = 0; dy < sy; dy++)
                    for (int dx = 0; dx < sx; dx++)
                        tui_put(s, cx + col * sx + dx, y + row * sy + dy, on ? g->pixel : ' ',
                                style);
            }
        cx += (gw + (p[1] ? 1 : 0)) * sx;
    }
    return cx - x;
}
