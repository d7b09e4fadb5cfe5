/* SPDX-License-Identifier: MIT */
/* app: the terminal and the event loop of `beamtel tui`.  It owns ncurses: it starts and
 * restores the terminal (on every exit path: return, exit(), a fatal signal), maps styles to
 * colours (or to attributes under NO_COLOR), and copies only the cells that changed to the
 * screen.  The loop is the client module's: one lws_service() loop watching the WebSocket, the
 * keyboard (fd 0, adopted as a RAW file), a signalfd (SIGWINCH, SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT) and timers (redraw at most max_fps times a second, a 1 Hz tick). */
#include "tui.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

enum { TIMER_DRAW = 0, TIMER_TICK = 1 };

#define EXPIRED_MSG "session expired, run beamtel login"

struct app {
    struct tui_opts o;
    struct tui_model live;
    struct tui_model frozen; /* the picture kept while the display is paused */
    struct tui_view view;
    struct tui_layout layout;
    struct tui_screen *back;  /* what the next refresh should show */
    struct tui_screen *front; /* what the terminal shows */
    struct client_ws *ws;
    attr_t attrs[ST_COUNT];
    short pairs[ST_COUNT];
    int64_t last_draw_us, min_interval_us;
    int draw_pending, full_redraw;
    int rc;
    char *exit_msg;
};

/* ---- terminal state, global because signal handlers and atexit() need it ---- */

static volatile sig_atomic_t term_active;
static struct termios term_saved;
static int term_saved_ok;
static char term_restore_seq[256];
static size_t term_restore_len;
static int stderr_saved = -1; /* the real stderr while curses runs */
static int stderr_log = -1;   /* where stderr goes meanwhile (a memfd), replayed afterwards */
static SCREEN *term_screen;

/* Copies the last part of what was logged while curses ran to the real stderr.
 * Async-signal-safe (read, write, lseek). */
static void replay_stderr(void)
{
    char buf[4096];
    off_t end;
    ssize_t n;
    if (stderr_log < 0 || stderr_saved < 0)
        return;
    end = lseek(stderr_log, 0, SEEK_END);
    if (end <= 0)
        return;
    lseek(stderr_log, end > 8192 ? end - 8192 : 0, SEEK_SET);
    while ((n = read(stderr_log, buf, sizeof buf)) > 0)
        if (write(stderr_saved, buf, (size_t)n) < 0)
            break;
}

static void restore_stderr(void)
{
    if (stderr_saved >= 0) {
        replay_stderr();
        dup2(stderr_saved, STDERR_FILENO);
        close(stderr_saved);
        stderr_saved = -1;
    }
    if (stderr_log >= 0) {
        close(stderr_log);
        stderr_log = -1;
    }
}

/* The normal path (and atexit): ncurses puts the terminal back itself. */
static void term_stop(void)
{
    if (term_active) {
        term_active = 0;
        endwin();
    }
    if (term_screen) {
        delscreen(term_screen);
        term_screen = NULL;
    }
    restore_stderr();
}

/* A fatal signal: only async-signal-safe calls, with what term_start() prepared. */
static void on_fatal_signal(int sig)
{
    if (term_active) {
        term_active = 0;
        if (term_restore_len)
            (void)!write(STDOUT_FILENO, term_restore_seq, term_restore_len);
        if (term_saved_ok)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &term_saved);
    }
    if (stderr_saved >= 0) {
        replay_stderr();
        dup2(stderr_saved, STDERR_FILENO);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void add_cap(const char *name)
{
    char *s = tigetstr((char *)name);
    size_t n;
    if (s == NULL || s == (char *)-1)
        return;
    n = strlen(s);
    if (term_restore_len + n < sizeof term_restore_seq) {
        memcpy(term_restore_seq + term_restore_len, s, n);
        term_restore_len += n;
    }
}

/* Sends stderr to a memory file while curses owns the screen (a log line would tear the
 * picture); term_stop() prints what was logged.  A redirected stderr is left alone. */
static void capture_stderr(void)
{
    int fd;
    if (!isatty(STDERR_FILENO))
        return;
    fd = memfd_create("beamtel-tui-log", MFD_CLOEXEC);
    if (fd < 0)
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    stderr_saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (stderr_saved < 0) {
        close(fd);
        return;
    }
    dup2(fd, STDERR_FILENO);
    stderr_log = fd;
}

static int term_start(char **cause)
{
    static int registered;
    static const int fatal_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    const char *term = getenv("TERM");

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        *cause = xstrdup("standard input and output must be a terminal (try beamtel stream)");
        return -1;
    }
    term_saved_ok = tcgetattr(STDIN_FILENO, &term_saved) == 0;
    if (!registered) {
        atexit(term_stop);
        registered = 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    for (size_t i = 0; i < BT_ARRAY_LEN(fatal_sigs); i++)
        sigaction(fatal_sigs[i], &sa, NULL);

    capture_stderr();
    term_screen = newterm(term && *term ? term : "vt100", stdout, stdin);
    if (term_screen == NULL) {
        restore_stderr();
        *cause = xasprintf("cannot use the terminal type \"%s\" (check TERM)", term ? term : "");
        return -1;
    }
    set_term(term_screen);
    term_active = 1;
    term_restore_len = 0;
    add_cap("sgr0");
    add_cap("cnorm");
    add_cap("rmkx");
    add_cap("rmcup");
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    leaveok(stdscr, TRUE);
    set_escdelay(25);
    /* No typeahead check in doupdate(): it polls stdin and flushes in small pieces; the loop
     * reads the keyboard as soon as it is readable anyway. */
    typeahead(-1);
    curs_set(0);
    return 0;
}

/* ---- styles ---- */

struct style_def {
    short fg, bg, fg256, bg256; /* colours (8 / 256 colour terminals); -1: default */
    attr_t attr;                /* with colours */
    attr_t mono;                /* without (NO_COLOR, monochrome terminals) */
};

/* clang-format off */
static const struct style_def style_defs[ST_COUNT] = {
    [ST_NORMAL] = {-1, -1, -1, -1, 0, 0},
    [ST_DIM] = {-1, -1, 244, -1, A_DIM, A_DIM},
    [ST_BOLD] = {-1, -1, -1, -1, A_BOLD, A_BOLD},
    [ST_BORDER] = {COLOR_BLUE, -1, 67, -1, 0, 0},
    [ST_TITLE] = {COLOR_CYAN, -1, 81, -1, A_BOLD, A_BOLD},
    [ST_HEADER] = {COLOR_WHITE, COLOR_BLUE, 255, 24, 0, A_REVERSE},
    [ST_HEADER_HI] = {COLOR_YELLOW, COLOR_BLUE, 226, 24, A_BOLD, A_REVERSE | A_BOLD},
    [ST_STATUS] = {COLOR_BLACK, COLOR_CYAN, 252, 237, 0, A_REVERSE},
    [ST_STATUS_HI] = {COLOR_BLACK, COLOR_CYAN, 118, 237, A_BOLD, A_REVERSE | A_BOLD},
    [ST_GOOD] = {COLOR_GREEN, -1, 78, -1, A_BOLD, A_BOLD},
    [ST_WARN] = {COLOR_YELLOW, -1, 220, -1, A_BOLD, A_BOLD},
    [ST_BAD] = {COLOR_RED, -1, 203, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [ST_DIGITS] = {COLOR_WHITE, -1, 231, -1, A_BOLD, A_BOLD},
    [ST_GEAR] = {COLOR_YELLOW, -1, 220, -1, A_BOLD, A_BOLD},
    [ST_THROTTLE] = {COLOR_GREEN, -1, 76, -1, 0, 0},
    [ST_BRAKE] = {COLOR_RED, -1, 196, -1, 0, 0},
    [ST_CLUTCH] = {COLOR_CYAN, -1, 75, -1, 0, 0},
    [ST_FUEL] = {COLOR_YELLOW, -1, 214, -1, 0, 0},
    [ST_RPM_LOW] = {COLOR_GREEN, -1, 76, -1, 0, 0},
    [ST_RPM_MID] = {COLOR_YELLOW, -1, 220, -1, 0, 0},
    [ST_RPM_HIGH] = {COLOR_RED, -1, 196, -1, A_BOLD, A_BOLD},
    [ST_BAR_EMPTY] = {-1, -1, 238, -1, A_DIM, A_DIM},
    [ST_REDZONE] = {COLOR_RED, -1, 88, -1, A_DIM, 0},
    [ST_GDOT] = {COLOR_YELLOW, -1, 226, -1, A_BOLD, A_BOLD},
    [ST_TRAIL] = {COLOR_MAGENTA, -1, 170, -1, 0, 0},
    [ST_RING] = {COLOR_BLUE, -1, 60, -1, 0, A_DIM},
    [ST_LIGHT_OFF] = {-1, -1, 240, -1, A_DIM, A_DIM},
    [ST_LIGHT_INFO] = {COLOR_BLACK, COLOR_GREEN, 16, 78, 0, A_REVERSE},
    [ST_LIGHT_WARN] = {COLOR_BLACK, COLOR_YELLOW, 16, 220, 0, A_REVERSE},
    [ST_LIGHT_ALERT] = {COLOR_WHITE, COLOR_RED, 231, 160, A_BOLD, A_REVERSE | A_BOLD},
    [ST_SPARK] = {COLOR_CYAN, -1, 44, -1, 0, 0},
    [ST_OVERLAY] = {COLOR_WHITE, COLOR_BLACK, 252, 236, 0, 0},
    [ST_OVERLAY_TITLE] = {COLOR_YELLOW, COLOR_BLACK, 220, 236, A_BOLD, A_BOLD},
    [ST_KEY] = {COLOR_CYAN, COLOR_BLACK, 81, 236, A_BOLD, A_BOLD},
    [ST_BADGE_OK] = {COLOR_BLACK, COLOR_GREEN, 16, 78, A_BOLD, A_REVERSE | A_BOLD},
    [ST_BADGE_BAD] = {COLOR_WHITE, COLOR_RED, 231, 160, A_BOLD, A_REVERSE | A_BOLD},
};
/* clang-format on */

static void setup_styles(struct app *a)
{
    const char *nc = getenv("NO_COLOR");
    int color = has_colors() && !(nc && *nc); /* https://no-color.org */

    if (color && start_color() == OK) {
        int c256 = COLORS >= 256;
        use_default_colors();
        for (int i = 0; i < ST_COUNT; i++) {
            const struct style_def *d = &style_defs[i];
            init_pair((short)(i + 1), c256 ? d->fg256 : d->fg, c256 ? d->bg256 : d->bg);
            a->pairs[i] = (short)(i + 1);
            a->attrs[i] = d->attr;
        }
        return;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        a->pairs[i] = 0;
        a->attrs[i] = style_defs[i].mono;
    }
}

/* ---- drawing ---- */

static void screens_alloc(struct app *a, int cols, int rows)
{
    int ascii = a->back ? a->back->ascii : a->o.ascii;
    tui_screen_free(a->back);
    tui_screen_free(a->front);
    a->back = tui_screen_new(cols, rows, ascii);
    a->front = tui_screen_new(cols, rows, ascii);
    tui_layout_compute(&a->layout, cols, rows);
    a->full_redraw = 1;
}

/* Copies the cells that differ from what the terminal shows; ncurses sends only those. */
static void blit(struct app *a)
{
    struct tui_screen *b = a->back, *f = a->front;
    for (int y = 0; y < b->h; y++)
        for (int x = 0; x < b->w; x++) {
            struct tui_cell *nc = &b->cells[y * b->w + x], *oc = &f->cells[y * f->w + x];
            wchar_t wc[2] = {(wchar_t)nc->ch, 0};
            cchar_t cc;
            if (!a->full_redraw && nc->ch == oc->ch && nc->style == oc->style)
                continue;
            setcchar(&cc, wc, a->attrs[nc->style], a->pairs[nc->style], NULL);
            mvwadd_wch(stdscr, y, x, &cc); /* the bottom-right cell returns ERR: harmless */
            *oc = *nc;
        }
    a->full_redraw = 0;
    wnoutrefresh(stdscr);
    doupdate();
}

static void draw_now(struct app *a)
{
    int64_t now = time_mono_us();
    const struct tui_model *m = &a->live;
    if (a->view.paused) {
        /* The gauges keep their picture; connection, status and identity stay live. */
        a->frozen.conn = a->live.conn;
        a->frozen.st = a->live.st;
        memcpy(a->frozen.user, a->live.user, sizeof a->frozen.user);
        memcpy(a->frozen.badge, a->live.badge, sizeof a->frozen.badge);
        a->frozen.badge_valid = a->live.badge_valid;
        m = &a->frozen;
    }
    tui_render(a->back, &a->layout, m, &a->view, now);
    blit(a);
    a->last_draw_us = now;
}

/* Asks for a redraw, at most max_fps per second: changes in between share one redraw. */
static void request_draw(struct app *a)
{
    int64_t due;
    if (a->draw_pending)
        return;
    due = a->last_draw_us + a->min_interval_us - time_mono_us();
    a->draw_pending = 1;
    client_ws_timer(a->ws, TIMER_DRAW, due > 0 ? due : 0);
}

/* ---- events ---- */

static void quit(struct app *a, int rc, const char *msg)
{
    a->rc = rc;
    if (msg && a->exit_msg == NULL)
        a->exit_msg = xstrdup(msg);
    client_ws_stop(a->ws);
}

static void on_state(const struct client_ws_event *ev, void *arg)
{
    struct app *a = arg;
    tui_model_conn(&a->live, ev, time_mono_us());
    if (ev->state == CLIENT_WS_CLOSED && ev->close_code == CLIENT_CLOSE_AUTH) {
        log_debug("%s", ev->reason);
        quit(a, BT_EXIT_AUTH, EXPIRED_MSG);
        return;
    }
    request_draw(a);
}

static void on_message(const char *json, size_t len, void *arg)
{
    struct app *a = arg;
    if (tui_model_feed(&a->live, json, len, time_mono_us()) > 0)
        request_draw(a);
}

static void resize(struct app *a)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0 || ws.ws_row == 0)
        return;
    resize_term(ws.ws_row, ws.ws_col);
    screens_alloc(a, ws.ws_col, ws.ws_row);
    clearok(curscr, TRUE);
    request_draw(a);
}

static void on_key(struct app *a, wint_t k)
{
    switch (k) {
    case 'q':
    case 'Q':
        quit(a, BT_EXIT_OK, NULL);
        return;
    case 'u':
    case 'U':
        a->view.units =
            tui_units_metric(&a->view, &a->live) ? TUI_UNITS_IMPERIAL : TUI_UNITS_METRIC;
        break;
    case 'p':
    case 'P':
    case ' ':
        a->view.paused = !a->view.paused;
        if (a->view.paused)
            a->frozen = a->live;
        break;
    case '?':
    case 'h':
    case 'H':
        a->view.help = !a->view.help;
        break;
    case 27: /* Esc closes the help */
        a->view.help = 0;
        break;
    case 12: /* Ctrl-L */
        a->full_redraw = 1;
        clearok(curscr, TRUE);
        break;
    default:
        return;
    }
    request_draw(a);
}

static void on_input(void *arg)
{
    struct app *a = arg;
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    wint_t k;
    int r, n = 0;

    while ((r = wget_wch(stdscr, &k)) != ERR) {
        n++;
        if (r == KEY_CODE_YES && k == KEY_RESIZE)
            resize(a);
        else if (r == OK)
            on_key(a, k);
    }
    /* Readable but nothing to read: the terminal is gone (hang-up). */
    if (n == 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
        quit(a, BT_EXIT_OK, NULL);
}

static void on_signal(int signo, void *arg)
{
    struct app *a = arg;
    if (signo == SIGWINCH)
        resize(a);
    else
        quit(a, BT_EXIT_OK, NULL);
}

static void on_timer(int id, void *arg)
{
    struct app *a = arg;
    if (id == TIMER_DRAW) {
        a->draw_pending = 0;
        draw_now(a);
    } else if (id == TIMER_TICK) {
        /* Ages, countdowns and "no telemetry for N s" move with the clock. */
        request_draw(a);
        client_ws_timer(a->ws, TIMER_TICK, 1000000 - time_now_us() % 1000000);
    }
}

int tui_run(const struct tui_opts *opts)
{
    static const int sigs[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct client_ws_ops ops = {on_state, on_message, on_input, on_signal, on_timer};
    struct client_ws_opts wo;
    struct app *a = xcalloc(1, sizeof *a);
    char *cause = NULL;
    int rc, fps;

    a->o = *opts;
    setlocale(LC_CTYPE, "");
    if (!a->o.ascii && strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        a->o.ascii = 1;
    fps = opts->max_fps > 0 ? opts->max_fps : 30;
    a->min_interval_us = 1000000 / fps;
    a->view.units = opts->units;
    tui_model_init(&a->live, opts->server, opts->user);

    if (term_start(&cause) < 0) {
        fprintf(stderr, "beamtel tui: %s\n", cause);
        free(cause);
        free(a);
        return BT_EXIT_FAILURE;
    }
    setup_styles(a);
    screens_alloc(a, COLS, LINES);

    memset(&wo, 0, sizeof wo);
    wo.server = opts->server;
    wo.token = opts->token;
    wo.reconnect = 1;
    wo.backoff_min_ms = 500;
    wo.backoff_max_ms = 10000;
    wo.idle_timeout_ms = 10000; /* status arrives every second: 10 s of silence is a dead link */
    wo.input_fd = STDIN_FILENO;
    wo.signals = sigs;
    wo.nsignals = (int)BT_ARRAY_LEN(sigs);
    a->ws = client_ws_new(&wo, &ops, a, &cause);
    if (a->ws == NULL) {
        term_stop();
        fprintf(stderr, "beamtel tui: %s\n", cause);
        free(cause);
        tui_screen_free(a->back);
        tui_screen_free(a->front);
        free(a);
        return BT_EXIT_FAILURE;
    }
    draw_now(a);
    client_ws_timer(a->ws, TIMER_TICK, 1000000 - time_now_us() % 1000000);
    client_ws_run(a->ws);
    client_ws_free(a->ws);

    term_stop();
    if (a->exit_msg)
        fprintf(stderr, "beamtel tui: %s\n", a->exit_msg);
    rc = a->rc;
    free(a->exit_msg);
    tui_screen_free(a->back);
    tui_screen_free(a->front);
    free(a);
    return rc;
}
