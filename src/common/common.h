/* SPDX-License-Identifier: MIT */
/* common: logging, allocation, time, addresses, growable buffers and the one data model
 * (struct frame and its JSON form) shared by every module; it depends on nothing but libc. */
#ifndef BEAMTEL_COMMON_H
#define BEAMTEL_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define BT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define BT_NORETURN __attribute__((noreturn))
#define BT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes of every subcommand; beamtel(1) EXIT STATUS lists the same values. */
enum bt_exit {
    BT_EXIT_OK = 0,
    BT_EXIT_FAILURE = 1,     /* runtime error */
    BT_EXIT_USAGE = 2,       /* bad command line or configuration value */
    BT_EXIT_BIND = 3,        /* a listening address could not be bound (e.g. port in use) */
    BT_EXIT_DATABASE = 4,    /* PostgreSQL unreachable or a query failed */
    BT_EXIT_AUTH = 5,        /* authentication failed or the stored token expired */
    BT_EXIT_UNAVAILABLE = 6, /* the server could not be reached */
    BT_EXIT_INPUT = 7,       /* an input file could not be read or parsed */
};

/* ---- logging (log.c) ---- */
enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *s);
void log_msg(enum log_level level, const char *fmt, ...) BT_PRINTF(2, 3);
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
/* Prints "beamtel: message" to stderr and exits with code; for start-up and CLI code only. */
void fatal(int code, const char *fmt, ...) BT_PRINTF(2, 3) BT_NORETURN;

/* A token bucket for messages that an attacker or a bad peer could trigger per packet. */
struct ratelimit {
    int64_t window_start_us;
    int per_window;
    int used;
    int64_t suppressed;
};
/* Returns 1 when a message may be logged now; counts the suppressed ones otherwise. */
int ratelimit_ok(struct ratelimit *rl, int64_t now_us);

/* ---- allocation (xmalloc.c): never NULL; abort on out-of-memory ---- */
#define BT_ALLOC __attribute__((returns_nonnull, warn_unused_result))
void *xmalloc(size_t n) BT_ALLOC __attribute__((malloc));
void *xcalloc(size_t nmemb, size_t size) BT_ALLOC __attribute__((malloc));
void *xrealloc(void *p, size_t n) BT_ALLOC;
char *xstrdup(const char *s) BT_ALLOC __attribute__((malloc));
char *xasprintf(const char *fmt, ...) BT_PRINTF(1, 2) BT_ALLOC __attribute__((malloc));

/* ---- growable byte buffer (buf.c) ---- */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) BT_PRINTF(2, 3);
void buf_addc(struct buf *b, char c);
/* Appends s as a JSON string literal (quotes included), escaping control and non-ASCII bytes. */
void buf_add_json_str(struct buf *b, const char *s, size_t n);
/* Appends a JSON number with up to `digits` significant digits, or null when v is not finite. */
void buf_add_json_num(struct buf *b, double v, int digits);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Returns a NUL-terminated view of the buffer. */
const char *buf_cstr(struct buf *b);

/* ---- time and misc (util.c) ---- */
int64_t time_now_us(void);  /* CLOCK_REALTIME in µs */
int64_t time_mono_us(void); /* CLOCK_MONOTONIC in µs */
void time_sleep_us(int64_t us);
/* Formats a µs timestamp as ISO 8601 UTC with milliseconds ("2026-12-03T17:22:08.123Z"). */
void time_format_iso(int64_t ts_us, char *out, size_t outlen);

/* Parses "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" (numeric hosts and names).  On success 0
 * is returned and *ss and *len are set; on failure -1 and *cause is set (caller frees). */
int addr_parse(const char *s, const char *default_host, struct sockaddr_storage *ss, socklen_t *len,
               char **cause);
/* Formats an address as "1.2.3.4:5" or "[::1]:5". */
void addr_format(const struct sockaddr *sa, char *out, size_t outlen);

/* Parses a whole string as a number; returns -1 on trailing junk, overflow or emptiness. */
int parse_double(const char *s, double *out);
int parse_long(const char *s, long *out);
/* Reads a whole small file (≤ max bytes); strips one trailing newline.  NULL + *cause on error. */
char *file_read_all(const char *path, size_t max, size_t *len, char **cause);
/* Makes a directory and its parents with the given mode; 0 or -1 with errno. */
int mkdir_p(const char *path, unsigned mode);

/* ---- the frame (frame.c) ---- */

/* Dashboard light bits (OutGauge dashLights/showLights). */
enum {
    DL_SHIFT = 1u << 0,
    DL_FULLBEAM = 1u << 1,
    DL_HANDBRAKE = 1u << 2,
    DL_PITSPEED = 1u << 3,
    DL_TC = 1u << 4,
    DL_SIGNAL_L = 1u << 5,
    DL_SIGNAL_R = 1u << 6,
    DL_SIGNAL_ANY = 1u << 7,
    DL_OILWARN = 1u << 8,
    DL_BATTERY = 1u << 9,
    DL_ABS = 1u << 10,
    DL_LOWBEAM = 1u << 12,
    DL_ESC = 1u << 13,
    DL_CHECKENGINE = 1u << 14,
    DL_CLUTCHTEMP = 1u << 15,
    DL_FOGLIGHTS = 1u << 16,
    DL_BRAKETEMP = 1u << 17,
    DL_TIREFLAT_FL = 1u << 18,
    DL_TIREFLAT_FR = 1u << 19,
    DL_TIREFLAT_RL = 1u << 20,
    DL_TIREFLAT_RR = 1u << 21,
    DL_RADIATOR = 1u << 22,
};
/* OutGauge flags. */
enum { OG_TURBO = 0x2000, OG_KM = 0x4000, OG_BAR = 0x8000 };

#define FRAME_SOURCE_LEN 48
#define FRAME_USER_LEN 33 /* user names are 1..32 bytes */

/* One time step of one source, in SI units.  Floats that a packet did not carry are NaN
 * (JSON null, SQL NULL).  Plain data: copied by value across threads. */
struct frame {
    int64_t ts_us;                 /* arrival (or capture) time, µs since the epoch */
    char user[FRAME_USER_LEN];     /* owner's user name (§3.6); "" = none */
    uint64_t session_key;          /* live session it belongs to; 0 = none */
    uint32_t seq;                  /* 1-based position in the session; 0 = not stored */
    uint32_t source_id;            /* ingest's id of the source (see ingest.h) */
    uint8_t source_changed;        /* 1 on the first frame after a new source port */
    char source[FRAME_SOURCE_LEN]; /* "ip:port" of the OutGauge (or MotionSim) sender */
    char car[5];                   /* OutGauge car, NUL-terminated, escaped on output */
    uint8_t has_outgauge;          /* 1 when the speed/rpm/... fields come from OutGauge */
    uint8_t has_ext;               /* 1 when the 112-byte extension was present */
    uint8_t has_motion;            /* 1 when g_force and pos/vel come from MotionSim */
    int8_t gear;                   /* -1 R, 0 N, 1.. */
    uint8_t plid;
    uint16_t flags; /* OG_* */
    uint32_t og_time_ms;
    float speed_mps; /* signed: negative in reverse */
    float rpm;
    float turbo_bar;
    float engine_temp_c;
    float fuel; /* 0..1 */
    float oil_pressure_bar;
    float oil_temp_c;
    uint32_t dash_lights;          /* DL_* available */
    uint32_t show_lights;          /* DL_* lit */
    float throttle, brake, clutch; /* 0..1 */
    char display1[17], display2[17];
    int32_t og_id;
    char gear_ext; /* 112-byte extension */
    float cruise_speed_mps;
    uint32_t cruise_mode;
    float fuel_capacity;
    float g_force_x, g_force_y, g_force_z; /* g; x lateral, y longitudinal; mean of MotionSim */
    float pos_m[3], vel_mps[3];
};

/* Fills a frame with NaN floats and zero integers. */
void frame_init(struct frame *f);
/* Appends the one JSON object form of a frame (without the WebSocket "type" member unless
 * with_type).  Strings are escaped; non-finite floats are null. */
void frame_to_json(const struct frame *f, struct buf *out, int with_type);
/* Human gear label: "R", "N", "1".. into out (≥ 4 bytes). */
const char *frame_gear_label(int gear, char *out, size_t outlen);

#endif
