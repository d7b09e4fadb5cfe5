/* SPDX-License-Identifier: MIT */
/* replay: sends the datagrams of a capture from one UDP socket at their recorded pace (or
 * faster); it reads the configuration and owns the socket, but never decodes a payload. */
#include "cli.h"

#include "capture/capture.h"
#include "common/common.h"
#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_INTERVAL_US 100000 /* redraw at most 10 times a second */
#define RETRY_SLEEP_US 500          /* wait while the kernel has no buffer for us */

struct replay {
    const char *path;
    struct capture_opts copts;
    char to_str[64];
    int fd;
    double speed;    /* capture seconds per wall-clock second; 0 = as fast as possible */
    int progress;    /* draw the progress line */
    int64_t total;   /* datagrams found by the first pass */
    int64_t span_us; /* first to last timestamp */
    char *damage;    /* why the first pass stopped early; NULL when the file is whole */
    uint64_t sent, bytes;
    int64_t start_us; /* CLOCK_MONOTONIC at the first datagram */
    int64_t drawn_us; /* last progress redraw */
    int drawn_len;    /* width of that line, to blank what a shorter one leaves */
    int refused_warned;
};

/* First pass: counts the datagrams so that the progress bar knows its end, and finds a damaged
 * file before anything is sent.  A file that breaks off midway (tcpdump killed) is replayed up
 * to the break, with a warning. */
static int replay_scan(struct replay *r, char **cause)
{
    struct capture *c = capture_open(r->path, &r->copts, cause);
    struct capture_pkt pkt;
    struct capture_skips sk;
    int64_t first = 0, last = 0;
    int rc;

    if (c == NULL)
        return -1;
    while ((rc = capture_next(c, &pkt, &r->damage)) == 1) {
        if (r->total++ == 0)
            first = pkt.ts_us;
        last = pkt.ts_us;
    }
    r->span_us = last - first;
    capture_get_skips(c, &sk);
    if (capture_skipped(c) > 0)
        log_info("%s: skipped %llu frames (not UDP: %llu, truncated: %llu, IPv4 fragments: "
                 "%llu)",
                 r->path, (unsigned long long)capture_skipped(c), (unsigned long long)sk.not_udp,
                 (unsigned long long)sk.truncated, (unsigned long long)sk.fragments);
    if (rc < 0)
        log_warn("%s; replaying the %lld datagrams before the damage", r->damage,
                 (long long)r->total);
    if (r->total == 0) {
        *cause = xasprintf("%s (%s) holds no UDP datagrams", r->path, capture_describe(c));
        capture_close(c);
        return -1;
    }
    log_info("%s (%s): %lld datagrams over %.3f s", r->path, capture_describe(c),
             (long long)r->total, (double)r->span_us / 1e6);
    capture_close(c);
    return 0;
}

/* One unbound UDP socket connected to `to`; the kernel picks the ephemeral source port. */
static int replay_socket(struct replay *r, const struct sockaddr_storage *to, socklen_t tolen,
                         char **cause)
{
    addr_format((const struct sockaddr *)to, r->to_str, sizeof r->to_str);
    r->fd = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (r->fd < 0 || connect(r->fd, (const struct sockaddr *)to, tolen) < 0) {
        *cause = xasprintf("cannot send to %s: %s", r->to_str, strerror(errno));
        return -1;
    }
    return 0;
}

/* Sends one datagram, never dropping it: a full buffer is waited out, and the ICMP "port
 * unreachable" of an earlier datagram (reported on this send, which it cancels) is retried. */
static int replay_send(struct replay *r, const uint8_t *data, size_t len, char **cause)
{
    for (;;) {
        if (send(r->fd, data, len, 0) >= 0)
            return 0;
        if (errno == ENOBUFS || errno == EAGAIN || errno == EWOULDBLOCK) {
            time_sleep_us(RETRY_SLEEP_US);
        } else if (errno == ECONNREFUSED) {
            if (!r->refused_warned++)
                log_warn("nothing is listening on %s (yet); still sending", r->to_str);
        } else if (errno != EINTR) {
            *cause = xasprintf("cannot send to %s: %s", r->to_str, strerror(errno));
            return -1;
        }
        if (cli_stop_requested)
            return 1;
    }
}

static void replay_draw(struct replay *r, int64_t now_us, int final)
{
    char line[128];
    int pct = (int)(r->sent * 100 / (uint64_t)r->total), n, bar = pct / 5;

    if (!r->progress || (!final && now_us - r->drawn_us < PROGRESS_INTERVAL_US))
        return;
    r->drawn_us = now_us;
    n = snprintf(line, sizeof line, "\r[%.*s%*s] %3d%%  %llu/%lld datagrams  %.1f s", bar,
                 "####################", 20 - bar, "", pct, (unsigned long long)r->sent,
                 (long long)r->total, (double)(now_us - r->start_us) / 1e6);
    fprintf(stderr, "%s%*s", line, r->drawn_len > n ? r->drawn_len - n : 0, "");
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
    r->drawn_len = n;
}

/* Sleeps until the absolute CLOCK_MONOTONIC time due_us (µs), waking for progress redraws and
 * signals.  An absolute schedule lets no oversleep accumulate into drift. */
static void replay_wait(struct replay *r, int64_t due_us)
{
    int64_t now_us;

    while (!cli_stop_requested && (now_us = time_mono_us()) < due_us) {
        int64_t wake_us = due_us;
        struct timespec ts;

        if (r->progress && wake_us - now_us > PROGRESS_INTERVAL_US)
            wake_us = now_us + PROGRESS_INTERVAL_US;
        ts.tv_sec = (time_t)(wake_us / 1000000);
        ts.tv_nsec = (long)(wake_us % 1000000) * 1000;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: loop checks */
        replay_draw(r, time_mono_us(), 0);
    }
}

/* Second pass: sends every datagram on schedule.  Returns 0 (also when stopped by a signal)
 * or -1 with *cause. */
static int replay_run(struct replay *r, char **cause)
{
    struct capture *c;
    struct capture_pkt pkt;
    int64_t ts0 = 0;
    int rc = 0;

    r->start_us = time_mono_us();
    c = capture_open(r->path, &r->copts, cause);
    if (c == NULL)
        return -1;
    while (!cli_stop_requested && (int64_t)r->sent < r->total) {
        char *err = NULL;
        rc = capture_next(c, &pkt, &err);
        if (rc <= 0) { /* the first pass found the same end: nothing new to say */
            free(err);
            rc = 0;
            break;
        }
        if (r->sent == 0)
            ts0 = pkt.ts_us;
        if (r->speed > 0)
            replay_wait(r, r->start_us + (int64_t)((double)(pkt.ts_us - ts0) / r->speed));
        if (cli_stop_requested)
            break;
        rc = replay_send(r, pkt.data, pkt.len, cause);
        if (rc != 0)
            break;
        r->sent++;
        r->bytes += pkt.len;
        replay_draw(r, time_mono_us(), 0);
    }
    replay_draw(r, time_mono_us(), 1);
    capture_close(c);
    return rc < 0 ? -1 : 0;
}

static int replay_want_progress(void)
{
    const char *when = config_get_str("progress");

    if (strcmp(when, "always") == 0)
        return 1;
    if (strcmp(when, "never") == 0)
        return 0;
    return isatty(STDERR_FILENO);
}

/* `beamtel replay FILE`: sends a capture to --to at its recorded pace divided by --speed. */
int cmd_replay_main(int argc, char **argv)
{
    struct replay r = {.fd = -1};
    struct sockaddr_storage to;
    socklen_t tolen;
    char **pos, *cause = NULL;
    int npos, rc;

    if (cli_setup(CMD_REPLAY, argc, argv, &npos, &pos, &rc) < 0)
        return rc;
    if (npos != 1) {
        fprintf(stderr,
                "beamtel replay: expected one capture FILE, got %d arguments\n"
                "Try 'beamtel replay --help'.\n",
                npos);
        return BT_EXIT_USAGE;
    }
    r.path = pos[0];
    r.copts.raw_size = (int)config_get_int("raw-size");
    r.copts.raw_rate_hz = config_get_double("rate");
    r.speed = config_get_flag("as-fast-as-possible") ? 0 : config_get_double("speed");
    r.progress = replay_want_progress();

    if (addr_parse(config_get_str("to"), "127.0.0.1", &to, &tolen, &cause) < 0) {
        rc = BT_EXIT_USAGE;
        goto out;
    }
    if (replay_scan(&r, &cause) < 0) {
        rc = BT_EXIT_INPUT;
        goto out;
    }
    if (replay_socket(&r, &to, tolen, &cause) < 0) {
        rc = BT_EXIT_FAILURE;
        goto out;
    }
    cli_install_stop_signals();
    if (r.speed > 0)
        log_info("sending to %s at %gx: about %.1f s", r.to_str, r.speed,
                 (double)r.span_us / 1e6 / r.speed);
    else
        log_info("sending to %s as fast as possible", r.to_str);
    rc = replay_run(&r, &cause) < 0 ? BT_EXIT_FAILURE : BT_EXIT_OK;
    fprintf(stderr, "replay: sent %llu datagrams (%llu bytes) in %.2f s%s\n",
            (unsigned long long)r.sent, (unsigned long long)r.bytes,
            (double)(time_mono_us() - r.start_us) / 1e6,
            cli_stop_requested ? " (interrupted)" : "");
out:
    if (cause != NULL)
        fprintf(stderr, "beamtel replay: %s\n", cause);
    free(cause);
    free(r.damage);
    if (r.fd >= 0)
        close(r.fd);
    return rc;
}
