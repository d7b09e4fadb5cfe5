/* SPDX-License-Identifier: MIT */
/* gen: the benchmark's UDP load generator.  N sources (one socket and source port each, like N
 * cars) send 96-byte OutGauge datagrams of a car at a constant 20 m/s to one address, R datagrams
 * a second in total for D seconds, paced against an absolute schedule and sent with sendmmsg in
 * batches.  It prints one JSON line with what it sent; it never reads anything back.
 *
 *   gen --to 127.0.0.1:4444 --rate 20000 --duration 10 [--sources 32] [--batch 64]
 *
 * Not part of beamtel: built by tests/bench/run.sh with `cc -O2`. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OG_LEN 96
#define MAX_BATCH 1024
#define MAX_SOURCES 4096

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until_ns(int64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(p, u);
}

/* A 96-byte OutGauge datagram (DESIGN §3.1, little-endian) of a car in 3rd gear at 20 m/s:
 * every frame is a moving frame, so serve stores every one of them. */
static void build_outgauge(uint8_t out[OG_LEN], int32_t id)
{
    memset(out, 0, OG_LEN);
    put_u32(out + 0, 0);        /* time: BeamNG sends 0 */
    memcpy(out + 4, "beam", 4); /* car, no NUL */
    put_u16(out + 8, 0xC000);   /* OG_KM | OG_BAR */
    out[10] = 4;                /* gear byte: 0 R, 1 N, 2 1st … 4 = 3rd */
    out[11] = 0;                /* plid */
    put_f32(out + 12, 20.0f);   /* speed m/s */
    put_f32(out + 16, 4200.0f); /* rpm */
    put_f32(out + 20, 0.4f);    /* turbo bar */
    put_f32(out + 24, 92.0f);   /* engine temperature °C */
    put_f32(out + 28, 0.6f);    /* fuel 0..1 */
    put_f32(out + 32, 3.1f);    /* oil pressure */
    put_f32(out + 36, 98.0f);   /* oil temperature °C */
    /* lights available: full beam, handbrake, ABS, low beam; lit: low beam */
    put_u32(out + 40, (1u << 1) | (1u << 2) | (1u << 10) | (1u << 12));
    put_u32(out + 44, 1u << 12);
    put_f32(out + 48, 0.55f);       /* throttle */
    put_f32(out + 52, 0.0f);        /* brake */
    put_f32(out + 56, 0.0f);        /* clutch */
    memcpy(out + 60, "72 km/h", 7); /* display1; display2 empty */
    put_u32(out + 92, (uint32_t)id);
}

static void usage(void)
{
    fprintf(stderr, "usage: gen --to HOST:PORT --rate DGRAMS_PER_S --duration S "
                    "[--sources N] [--batch B]\n");
    exit(2);
}

static int parse_target(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    struct addrinfo hints, *ai = NULL;
    if (colon == NULL || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &ai) != 0 || ai == NULL)
        return -1;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int main(int argc, char **argv)
{
    const char *to = NULL;
    double rate = 0, duration = 0;
    long nsrc = 32, batch = 64;
    struct sockaddr_storage dst;
    socklen_t dstlen = 0;
    static uint8_t pkt[OG_LEN];
    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iov;
    int *fds;
    uint64_t total, sent = 0, failed = 0, send_errors = 0, calls = 0;
    int64_t t0, t_end, max_behind_ns = 0;
    long cur = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            usage();
        if (strcmp(a, "--to") == 0)
            to = v;
        else if (strcmp(a, "--rate") == 0)
            rate = strtod(v, NULL);
        else if (strcmp(a, "--duration") == 0)
            duration = strtod(v, NULL);
        else if (strcmp(a, "--sources") == 0)
            nsrc = strtol(v, NULL, 10);
        else if (strcmp(a, "--batch") == 0)
            batch = strtol(v, NULL, 10);
        else
            usage();
        i++;
    }
    if (to == NULL || !(rate > 0) || !(duration > 0) || nsrc < 1 || nsrc > MAX_SOURCES ||
        batch < 1 || batch > MAX_BATCH)
        usage();
    if (parse_target(to, &dst, &dstlen) < 0) {
        fprintf(stderr, "gen: cannot resolve %s\n", to);
        return 1;
    }

    /* One connected socket per source: its own source port, so serve sees nsrc cars. */
    fds = calloc((size_t)nsrc, sizeof *fds);
    for (long i = 0; i < nsrc; i++) {
        int sndbuf = 4 << 20;
        fds[i] = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&dst, dstlen) < 0) {
            fprintf(stderr, "gen: socket/connect: %s\n", strerror(errno));
            return 1;
        }
        setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    }
    /* Every datagram of a batch is the same bytes: the payload is not what is measured. */
    build_outgauge(pkt, 0);
    iov.iov_base = pkt;
    iov.iov_len = OG_LEN;
    for (int i = 0; i < MAX_BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    total = (uint64_t)llround(rate * duration);
    /* Wake about once a millisecond, for at least one datagram and at most one batch. */
    uint64_t wake_every = (uint64_t)(rate / 1000.0);
    if (wake_every < 1)
        wake_every = 1;
    if (wake_every > (uint64_t)batch)
        wake_every = (uint64_t)batch;

    t0 = mono_ns();
    while (sent < total) {
        int64_t now = mono_ns();
        /* Absolute schedule: datagram k is due at t0 + k / rate. */
        uint64_t due = (uint64_t)((double)(now - t0) * rate / 1e9) + 1;
        if (due > total)
            due = total;
        if (due <= sent) {
            uint64_t next = sent + wake_every;
            if (next > total)
                next = total;
            sleep_until_ns(t0 + (int64_t)((double)(next - 1) * 1e9 / rate));
            continue;
        }
        {
            int64_t behind = now - (t0 + (int64_t)((double)sent * 1e9 / rate));
            if (behind > max_behind_ns)
                max_behind_ns = behind;
        }
        while (sent < due) {
            uint64_t want = due - sent;
            int n;
            if (want > (uint64_t)batch)
                want = (uint64_t)batch;
            n = sendmmsg(fds[cur], msgs, (unsigned)want, 0);
            calls++;
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                /* ENOBUFS, ECONNREFUSED (nobody listening yet): the schedule moves on and the
                 * datagrams count as failed, not as sent. */
                send_errors++;
                failed += want;
                sent += want;
            } else {
                sent += (uint64_t)n;
            }
            cur = (cur + 1) % nsrc;
        }
    }
    t_end = mono_ns();
    {
        double el = (double)(t_end - t0) / 1e9;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        printf("{\"sent\":%llu,\"failed\":%llu,\"target_rate\":%.0f,\"sources\":%ld,"
               "\"elapsed_s\":%.3f,\"achieved_rate\":%.0f,\"max_behind_ms\":%.1f,\"sendmmsg_"
               "calls\":%llu,"
               "\"send_errors\":%llu,\"cpu_s\":%.2f}\n",
               (unsigned long long)(sent - failed), (unsigned long long)failed, rate, nsrc, el,
               (double)(sent - failed) / el, (double)max_behind_ns / 1e6, (unsigned long long)calls,
               (unsigned long long)send_errors, cpu);
    }
    for (long i = 0; i < nsrc; i++)
        close(fds[i]);
    free(fds);
    return 0;
}
