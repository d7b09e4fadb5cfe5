/* SPDX-License-Identifier: MIT */
/* simulate: drives synthetic cars (src/sim) in real time and sends their OutGauge and MotionSim
 * datagrams, one UDP socket per car, on an absolute schedule; it never receives anything. */
#include "cli.h"

#include "common/common.h"
#include "config/config.h"
#include "ingest/ingest.h"
#include "sim/sim.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Schedule: OutGauge tick k is due at t0 + k/hz and MotionSim tick k at t0 + k/motionsim_hz,
 * the same instants for every car, so one wake-up serves all cars.  Tick times are computed
 * from t0, never by adding periods, so lateness does not accumulate.  At a wake-up each car is
 * stepped to every due tick in time order and the resulting datagrams go out in one sendmmsg()
 * on its socket.  When the sender falls more than BATCH_MAX / 2 ticks of a kind behind, the
 * oldest due ticks are skipped (and counted) rather than sent in a burst.
 */

#define BATCH_MAX 64
#define SLEEP_MAX_NS 100000000LL /* re-check the stop flag at least this often */
#define NS_PER_S 1000000000LL

enum { EV_OUTGAUGE, EV_MOTIONSIM };

struct sim_event {
    double t_s; /* since the start of the schedule */
    int kind;   /* EV_* */
};

struct sim_tx {
    struct sim_car *car;
    int fd;
    double t_s; /* how far the car has been stepped */
};

struct simulate {
    struct sim_tx *tx;
    int ncars;
    double og_hz, ms_hz;
    char to[80];
    uint64_t og_sent, ms_sent;
    uint64_t refused; /* ECONNREFUSED reports: nothing listening at the destination */
    uint64_t dropped; /* local send buffer full or another send error */
    uint64_t skipped; /* ticks not sent because the sender fell behind */
    int warned_refused, warned_error, warned_behind;
    uint8_t bufs[BATCH_MAX][OUTGAUGE_LEN]; /* one car's batch at a time */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Sleeps until the absolute CLOCK_MONOTONIC time; returns early on a signal. */
static void sleep_until_ns(int64_t when_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(when_ns / NS_PER_S),
                          .tv_nsec = (long)(when_ns % NS_PER_S)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* Time of tick k at hz, in ns after t0. */
static int64_t tick_ns(uint64_t k, double hz)
{
    return (int64_t)((double)k * 1e9 / hz);
}

/* Raises the open-file limit when the cars need more sockets than the soft limit allows. */
static void raise_fd_limit(int ncars)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)ncars + 32;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* Creates the cars and their connected sockets (each gets its own ephemeral source port).  On
 * success 0 is returned; on failure -1 and *cause is set. */
static int open_cars(struct simulate *s, const struct sockaddr_storage *to, socklen_t tolen,
                     uint32_t seed, char **cause)
{
    raise_fd_limit(s->ncars);
    s->tx = xcalloc((size_t)s->ncars, sizeof *s->tx);
    for (int i = 0; i < s->ncars; i++)
        s->tx[i].fd = -1;
    for (int i = 0; i < s->ncars; i++) {
        struct sim_tx *tx = &s->tx[i];
        tx->fd = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (tx->fd < 0) {
            *cause = xasprintf("socket for car %d: %s", i + 1, strerror(errno));
            return -1;
        }
        if (connect(tx->fd, (const struct sockaddr *)to, tolen) < 0) {
            *cause = xasprintf("connect to %s: %s", s->to, strerror(errno));
            return -1;
        }
        tx->car = sim_car_new(i, seed);
    }
    return 0;
}

static void close_cars(struct simulate *s)
{
    if (s->tx == NULL)
        return;
    for (int i = 0; i < s->ncars; i++) {
        if (s->tx[i].fd >= 0)
            close(s->tx[i].fd);
        if (s->tx[i].car != NULL)
            sim_car_free(s->tx[i].car);
    }
    free(s->tx);
    s->tx = NULL;
}

static void count_sent(struct simulate *s, const struct sim_event *ev, unsigned from, unsigned n)
{
    for (unsigned i = from; i < from + n; i++) {
        if (ev[i].kind == EV_OUTGAUGE)
            s->og_sent++;
        else
            s->ms_sent++;
    }
}

/* Sends one car's batch.  A connected UDP socket reports an ICMP "port unreachable" for an
 * earlier datagram as ECONNREFUSED on a later send, which then sends nothing: count it, say so
 * once, and send again.  A full send buffer drops the rest of the batch (never blocks). */
static void send_batch(struct simulate *s, int fd, struct mmsghdr *msgs, const struct sim_event *ev,
                       unsigned n)
{
    unsigned done = 0, refusals = 0;

    while (done < n) {
        int r = sendmmsg(fd, msgs + done, n - done, MSG_DONTWAIT);
        if (r > 0) {
            count_sent(s, ev, done, (unsigned)r);
            done += (unsigned)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == ECONNREFUSED && refusals++ <= n) {
            s->refused++;
            if (!s->warned_refused) {
                s->warned_refused = 1;
                fprintf(stderr,
                        "simulate: %s refuses the datagrams (nothing listening?); "
                        "sending anyway\n",
                        s->to);
            }
            continue;
        }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS &&
            errno != ECONNREFUSED && !s->warned_error) {
            s->warned_error = 1;
            fprintf(stderr, "simulate: send to %s: %s (counting drops from now on)\n", s->to,
                    strerror(errno));
        }
        s->dropped += n - done;
        break;
    }
}

/* Steps one car through the due events and sends what they produced. */
static void serve_car(struct simulate *s, struct sim_tx *tx, const struct sim_event *ev,
                      unsigned nev)
{
    uint8_t(*bufs)[OUTGAUGE_LEN] = s->bufs;
    struct mmsghdr msgs[BATCH_MAX];
    struct iovec iov[BATCH_MAX];

    memset(msgs, 0, sizeof msgs[0] * nev);
    for (unsigned i = 0; i < nev; i++) {
        size_t len;
        sim_car_step(tx->car, ev[i].t_s - tx->t_s);
        tx->t_s = ev[i].t_s;
        if (ev[i].kind == EV_OUTGAUGE)
            len = sim_car_outgauge(tx->car, (uint32_t)llround(ev[i].t_s * 1000.0), bufs[i]);
        else
            len = sim_car_motionsim(tx->car, bufs[i]);
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = len;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    send_batch(s, tx->fd, msgs, ev, nev);
}

/* Counts the ticks of one kind due by now_ns (and before end_ns) from *k on; beyond cap the
 * oldest are skipped by advancing *k.  Returns how many are to be sent from *k on. */
static unsigned due_ticks(struct simulate *s, uint64_t *k, double hz, int64_t now_ns,
                          int64_t end_ns, unsigned cap)
{
    uint64_t last, due;

    if (hz <= 0 || tick_ns(*k, hz) > now_ns || tick_ns(*k, hz) >= end_ns)
        return 0;
    /* The estimate can be off by one either way after rounding; tick_ns() decides. */
    last = (uint64_t)floor((double)now_ns * hz / 1e9);
    if (last < *k)
        last = *k;
    while (tick_ns(last + 1, hz) <= now_ns && tick_ns(last + 1, hz) < end_ns)
        last++;
    while (last > *k && (tick_ns(last, hz) > now_ns || tick_ns(last, hz) >= end_ns))
        last--;
    due = last - *k + 1;
    if (due > cap) {
        s->skipped += (due - cap) * (uint64_t)s->ncars;
        *k += due - cap;
        due = cap;
        if (!s->warned_behind) {
            s->warned_behind = 1;
            fprintf(stderr, "simulate: cannot keep up; skipping late datagrams\n");
        }
    }
    return (unsigned)due;
}

/* Merges the due OutGauge and MotionSim ticks into ev[] in time order; returns the count. */
static unsigned collect_events(struct simulate *s, uint64_t *k_og, uint64_t *k_ms, int64_t now_ns,
                               int64_t end_ns, struct sim_event *ev)
{
    unsigned n_og = due_ticks(s, k_og, s->og_hz, now_ns, end_ns, BATCH_MAX / 2);
    unsigned n_ms = due_ticks(s, k_ms, s->ms_hz, now_ns, end_ns, BATCH_MAX / 2);
    unsigned n = 0;

    while (n_og > 0 || n_ms > 0) {
        int64_t t_og = n_og > 0 ? tick_ns(*k_og, s->og_hz) : INT64_MAX;
        int64_t t_ms = n_ms > 0 ? tick_ns(*k_ms, s->ms_hz) : INT64_MAX;
        if (t_og <= t_ms) {
            ev[n++] = (struct sim_event){(double)t_og / 1e9, EV_OUTGAUGE};
            (*k_og)++;
            n_og--;
        } else {
            ev[n++] = (struct sim_event){(double)t_ms / 1e9, EV_MOTIONSIM};
            (*k_ms)++;
            n_ms--;
        }
    }
    return n;
}

/* Runs the schedule until end_ns (relative to the start) or a stop signal. */
static void run(struct simulate *s, int64_t duration_ns)
{
    int64_t t0 = mono_ns(), end_ns = duration_ns > 0 ? duration_ns : INT64_MAX;
    uint64_t k_og = 0, k_ms = 0;
    struct sim_event ev[BATCH_MAX];

    while (!cli_stop_requested) {
        int64_t next = INT64_MAX, now;
        unsigned nev;

        if (s->og_hz > 0)
            next = tick_ns(k_og, s->og_hz);
        if (s->ms_hz > 0 && tick_ns(k_ms, s->ms_hz) < next)
            next = tick_ns(k_ms, s->ms_hz);
        if (next > end_ns)
            next = end_ns;
        now = mono_ns() - t0;
        if (now >= end_ns)
            break;
        if (now < next) {
            sleep_until_ns(t0 + (next - now > SLEEP_MAX_NS ? now + SLEEP_MAX_NS : next));
            continue;
        }
        nev = collect_events(s, &k_og, &k_ms, now, end_ns, ev);
        for (int i = 0; i < s->ncars && nev > 0; i++)
            serve_car(s, &s->tx[i], ev, nev);
    }
}

/* `beamtel simulate`: parse, open one socket per car, run the schedule, report. */
int cmd_simulate_main(int argc, char **argv)
{
    struct simulate s;
    struct sockaddr_storage to;
    socklen_t tolen;
    char **pos, *cause = NULL;
    int npos, rc;
    double duration_s;
    int64_t start_ns;

    if (cli_setup(CMD_SIMULATE, argc, argv, &npos, &pos, &rc) < 0)
        return rc;
    memset(&s, 0, sizeof s);
    if (npos > 0)
        fprintf(stderr,
                "beamtel simulate: unexpected argument \"%s\"\n"
                "Try 'beamtel simulate --help'.\n",
                pos[0]); /* the array is ours; its strings belong to argv */
    if (npos > 0)
        return BT_EXIT_USAGE;
    s.ncars = (int)config_get_int("cars");
    s.og_hz = config_get_double("hz");
    s.ms_hz = config_get_double("motionsim-hz");
    duration_s = config_get_double("duration");
    if (s.og_hz <= 0 && s.ms_hz <= 0) {
        fprintf(stderr, "beamtel simulate: --hz and --motionsim-hz are both 0: nothing to send\n");
        return BT_EXIT_USAGE;
    }
    if (addr_parse(config_get_str("to"), "127.0.0.1", &to, &tolen, &cause) < 0) {
        fprintf(stderr, "beamtel simulate: --to: %s\n", cause);
        free(cause);
        return BT_EXIT_USAGE;
    }
    addr_format((const struct sockaddr *)&to, s.to, sizeof s.to);
    if ((to.ss_family == AF_INET && ((struct sockaddr_in *)&to)->sin_port == 0) ||
        (to.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&to)->sin6_port == 0)) {
        fprintf(stderr, "beamtel simulate: --to %s: port 0 is not a destination\n", s.to);
        return BT_EXIT_USAGE;
    }

    rc = BT_EXIT_OK;
    if (open_cars(&s, &to, tolen, (uint32_t)config_get_int("seed"), &cause) < 0) {
        fprintf(stderr, "beamtel simulate: %s\n", cause);
        free(cause);
        rc = BT_EXIT_FAILURE;
        goto out;
    }
    cli_install_stop_signals();
    fprintf(stderr, "simulate: %d car(s) → %s, OutGauge %g Hz, MotionSim %g Hz\n", s.ncars, s.to,
            s.og_hz, s.ms_hz);
    start_ns = mono_ns();
    run(&s, (int64_t)(duration_s * 1e9));
    fprintf(stderr, "simulate: sent %llu OutGauge and %llu MotionSim datagrams in %.1f s\n",
            (unsigned long long)s.og_sent, (unsigned long long)s.ms_sent,
            (double)(mono_ns() - start_ns) / 1e9);
    if (s.refused > 0 || s.dropped > 0 || s.skipped > 0)
        fprintf(stderr,
                "simulate: %llu refused by the destination, %llu dropped locally, "
                "%llu skipped (fell behind)\n",
                (unsigned long long)s.refused, (unsigned long long)s.dropped,
                (unsigned long long)s.skipped);
out:
    close_cars(&s);
    return rc;
}
