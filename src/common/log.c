/* SPDX-License-Identifier: MIT */
/* log: leveled messages to stderr (journald captures them) and rate limits for per-packet
 * warnings; it never logs on its own and holds no lock across I/O beyond one write. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_level = LOG_LVL_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
    log_level = level;
}
enum log_level log_get_level(void)
{
    return log_level;
}

int log_level_parse(const char *s)
{
    for (size_t i = 0; i < BT_ARRAY_LEN(level_names); i++)
        if (strcmp(s, level_names[i]) == 0)
            return (int)i;
    if (strcmp(s, "warning") == 0)
        return LOG_LVL_WARN;
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char line[2048];
    size_t n = 0;
    va_list ap;

    if (level > log_level)
        return;
    /* Under systemd the journal adds its own timestamps; on a terminal a short one helps. */
    if (isatty(STDERR_FILENO)) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        n = strftime(line, sizeof line, "%H:%M:%S ", &tm);
    }
    n += (size_t)snprintf(line + n, sizeof line - n, "%s: ", level_names[level]);
    va_start(ap, fmt);
    if (n < sizeof line)
        n += (size_t)vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (n >= sizeof line - 1)
        n = sizeof line - 2;
    line[n++] = '\n';
    /* One write per line so that threads do not interleave within a line. */
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}

void fatal(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("beamtel: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

int ratelimit_ok(struct ratelimit *rl, int64_t now_us)
{
    if (now_us - rl->window_start_us >= 10 * 1000000LL) {
        if (rl->suppressed > 0)
            log_warn("(%lld similar messages suppressed)", (long long)rl->suppressed);
        rl->window_start_us = now_us;
        rl->used = 0;
        rl->suppressed = 0;
    }
    if (rl->used < (rl->per_window > 0 ? rl->per_window : 5)) {
        rl->used++;
        return 1;
    }
    rl->suppressed++;
    return 0;
}
