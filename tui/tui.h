/* SPDX-License-Identifier: MIT */
/* tui: the live terminal view of `beamtel tui` (ncurses), attached to a serve through the client
 * module's WebSocket stream.  The module's one header: the entry point tui_run() for the CLI,
 * then the pieces the files of tui/ share and the unit tests drive — the model (messages →
 * state, no I/O), the screen (a grid of cells the widgets draw into; no ncurses), the layout and
 * the renderer.  Only app.c touches ncurses, the terminal and the event loop.
 *
 * Threads: single-threaded.  Everything runs on the thread that calls tui_run(). */
#ifndef BEAMTEL_TUI_H
#define BEAMTEL_TUI_H

#include "client/client.h"
#include "common/common.h"

#include <stdint.h>

/* ---- entry point (app.c) ---- */

enum tui_units {
    TUI_UNITS_AUTO = 0, /* follow the game's OG_KM flag */
    TUI_UNITS_METRIC,
    TUI_UNITS_IMPERIAL,
};

struct tui_opts {
    const char *server; /* server URL */
    const char *token;  /* bearer token for the stream */
    const char *user;   /* shown until "hello" names the user */
    enum tui_units units;
    int ascii;   /* 1: ASCII only; 0: UTF-8 when the locale's codeset is UTF-8 */
    int max_fps; /* redraws per second at most (30) */
};

/* Runs the live view until q, a stop signal or a fatal error, and returns an exit code
 * (enum bt_exit): BT_EXIT_OK, BT_EXIT_AUTH when the server refused the token (4401), or
 * BT_EXIT_FAILURE.  The terminal is restored on every path, also by a crash or a signal; the
 * final message, if any, is printed on standard error afterwards. */
int tui_run(const struct tui_opts *opts);

/* ---- the model (model.c): what the server said, decoded; pure ---- */

#define TUI_SPARK_SLOT_US 100000 /* the speed history keeps one maximum per 100 ms ... */
#define TUI_SPARK_SLOTS 600      /* ... for 60 s */
#define TUI_TRAIL 40             /* G-force trail points, one per 50 ms */

/* The latest frame (docs/PROTOCOL.md "Frame"); NAN for null numbers. */
struct tui_frame {
    int valid;
    int64_t rx_us; /* monotonic time of arrival */
    double speed_mps, rpm, throttle, brake, clutch, fuel;
    double engine_temp_c, oil_temp_c, oil_pressure_bar, turbo_bar;
    int has_gear, gear; /* gear: -1 R, 0 N, 1.. */
    int km;             /* the game shows km/h */
    uint32_t flags, dash_lights, show_lights;
    char car[16], source[64];
    int has_g;
    double g_x, g_y; /* g: lateral, longitudinal (+ accelerating) */
    int has_session;
    char session_key[20];
    double session_duration_s, session_distance_m, session_top_mps;
};

/* The latest 1 Hz status message (the parts the status line shows). */
struct tui_status {
    int valid;
    int64_t rx_us;
    double packets_per_s;
    long long rejected;
    double last_packet_age_s; /* NAN: nothing has arrived yet */
    char source[64];          /* the caller's freshest source */
    char hint[320];           /* what to do when nothing arrives; "" when none */
    int db_up;                /* -1 unknown */
};

/* The connection as the stream client reported it. */
struct tui_conn {
    enum client_ws_state state;
    int close_code;
    char reason[256];
    int attempt;
    int64_t retry_at_us; /* WAITING: monotonic time of the next attempt */
    int ever_authenticated;
};

struct tui_model {
    struct tui_frame f;
    struct tui_status st;
    struct tui_conn conn;
    char server[256];
    char user[64];
    char badge[64];  /* "Fumbletron-3156: VALID"; "" until known */
    int badge_valid; /* -1 unknown */
    char server_version[32];

    /* 60 s of speed: max |speed| per 100 ms slot, slot number alongside to spot stale slots. */
    float spark[TUI_SPARK_SLOTS];
    int64_t spark_slot[TUI_SPARK_SLOTS];
    /* G-force trail (oldest first when unrolled from trail_head). */
    float trail_x[TUI_TRAIL], trail_y[TUI_TRAIL];
    int trail_n, trail_head;
    int64_t trail_last_us;
    double rpm_scale; /* full scale of the RPM bar, learned from the peaks */

    int has_last; /* the last session that ended, shown for a minute */
    double last_duration_s, last_distance_m, last_top_mps;
    int64_t last_until_us;
    uint64_t frames;  /* frames received */
    unsigned version; /* bumped on every change: the renderer's dirty flag */
};

void tui_model_init(struct tui_model *m, const char *server, const char *user);
/* Applies one WebSocket message (hello, frame, session, status); now_us is monotonic.  Returns
 * 1 when the model changed, 0 for messages it ignores, -1 for a message that is not JSON. */
int tui_model_feed(struct tui_model *m, const char *json, size_t len, int64_t now_us);
/* Applies a connection event of the stream client. */
void tui_model_conn(struct tui_model *m, const struct client_ws_event *ev, int64_t now_us);
/* The largest |speed| in the history slots [from, to) that are not stale at now; -1 if none. */
double tui_model_spark_max(const struct tui_model *m, int64_t from_slot, int64_t to_slot);

/* ---- the screen (widgets.c): cells that widgets draw into, diffed by app.c ---- */

/* Styles: a role, mapped to colours or to mono attributes by app.c (NO_COLOR). */
enum tui_style {
    ST_NORMAL = 0,
    ST_DIM,
    ST_BOLD,
    ST_BORDER,
    ST_TITLE,
    ST_HEADER,
    ST_HEADER_HI,
    ST_STATUS,
    ST_STATUS_HI,
    ST_GOOD,
    ST_WARN,
    ST_BAD,
    ST_DIGITS,
    ST_GEAR,
    ST_THROTTLE,
    ST_BRAKE,
    ST_CLUTCH,
    ST_FUEL,
    ST_RPM_LOW,
    ST_RPM_MID,
    ST_RPM_HIGH,
    ST_BAR_EMPTY,
    ST_REDZONE,
    ST_GDOT,
    ST_TRAIL,
    ST_RING,
    ST_LIGHT_OFF,
    ST_LIGHT_INFO,
    ST_LIGHT_WARN,
    ST_LIGHT_ALERT,
    ST_SPARK,
    ST_OVERLAY,
    ST_OVERLAY_TITLE,
    ST_KEY,
    ST_BADGE_OK,
    ST_BADGE_BAD,
    ST_COUNT
};

struct tui_cell {
    uint32_t ch;   /* Unicode code point, always one column wide */
    uint8_t style; /* enum tui_style */
};

struct tui_screen {
    int w, h;
    struct tui_cell *cells;
    int ascii; /* draw with ASCII only */
};

struct tui_screen *tui_screen_new(int w, int h, int ascii);
void tui_screen_free(struct tui_screen *s);
void tui_screen_clear(struct tui_screen *s);
/* Puts one code point (clipped to the screen). */
void tui_put(struct tui_screen *s, int x, int y, uint32_t ch, int style);
/* Writes UTF-8 text, at most maxw columns (maxw < 0: to the edge); control and wide
 * characters become '?', and non-ASCII too in ASCII mode.  Returns the columns written. */
int tui_text(struct tui_screen *s, int x, int y, int maxw, int style, const char *utf8);
int tui_textf(struct tui_screen *s, int x, int y, int maxw, int style, const char *fmt, ...)
    BT_PRINTF(6, 7);
/* The screen as UTF-8 text, one '\n'-terminated line per row, trailing blanks kept. */
char *tui_screen_text(const struct tui_screen *s);

/* ---- layout (layout.c): where each panel goes for a terminal size ---- */

struct tui_rect {
    int x, y, w, h;
};

#define TUI_MIN_COLS 80
#define TUI_MIN_ROWS 24

struct tui_layout {
    int cols, rows;
    int too_small;          /* below 80×24: a compact view only */
    int digit_sx, digit_sy; /* big digits: columns and rows per font pixel */
    int rpm_boxed;          /* the RPM strip has a box of its own */
    struct tui_rect header, speed, gear, pedals, rpm, gforce, engine, session, lights, spark,
        status;
};

void tui_layout_compute(struct tui_layout *l, int cols, int rows);

/* ---- rendering (draw.c, overlay.c): the model onto the screen ---- */

/* What the viewer chose, as opposed to what the server said. */
struct tui_view {
    enum tui_units units; /* AUTO: the frame's km flag */
    int paused;           /* the gauges keep their last picture */
    int help;             /* the help panel is open */
};

/* Draws the whole view for the model at monotonic time now_us. */
void tui_render(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                const struct tui_view *v, int64_t now_us);
/* 1 when speeds show in km/h under this view and frame. */
int tui_units_metric(const struct tui_view *v, const struct tui_model *m);
/* Draws the panel that belongs over the gauges, if any (overlay.c): help when open, else the
 * connection while it is not up, else "no telemetry" while no frame arrives. */
void tui_overlays(struct tui_screen *s, const struct tui_layout *l, const struct tui_model *m,
                  const struct tui_view *v, int64_t now);

/* ---- widgets (widgets.c): the building blocks tui_render() uses ---- */

/* The characters of one drawing style: UTF-8 (box drawing, blocks) or plain ASCII. */
struct tui_glyphs {
    uint32_t h, v, tl, tr, bl, br; /* box lines and corners */
    uint32_t pixel;                /* one pixel of the big digits */
    uint32_t bar_full, bar_empty;
    uint32_t bar_part[8]; /* [n]: a cell n/8 full (UTF-8 only; [0] unused) */
    uint32_t spark[9];    /* [n]: a cell n/spark_levels full */
    int spark_levels;     /* 8 in UTF-8, 4 in ASCII */
    uint32_t dot, trail_new, trail_old, ring, center;
    uint32_t bullet, arrow_l, arrow_r;
    const char *sep; /* between status line segments */
    const char *deg; /* degree sign, or "" in ASCII ("90 C") */
    const char *ellipsis;
};

const struct tui_glyphs *tui_glyphs(int ascii);

/* A box with a title on its top border and an optional label on its bottom-right border. */
void tui_box(struct tui_screen *s, struct tui_rect r, const char *title, const char *label,
             int style);
/* Fills a rectangle with spaces in a style. */
void tui_fill(struct tui_screen *s, struct tui_rect r, int style);
/* A horizontal bar of w columns for value 0..1 (NAN: empty), with partial cells in UTF-8.
 * Cells at or beyond red_from (0..1; > 1 for none) of an empty bar use ST_REDZONE. */
void tui_bar(struct tui_screen *s, int x, int y, int w, double value, int style, double red_from);
/* Big digits ("0123456789RN-" and ' '), 5 font rows tall scaled by sx, sy; returns the width. */
int tui_bigtext(struct tui_screen *s, int x, int y, const char *text, int sx, int sy, int style);
/* Width of tui_bigtext() for text. */
int tui_bigtext_width(const char *text, int sx);

#endif
