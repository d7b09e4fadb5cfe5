/* SPDX-License-Identifier: MIT */
/* udp: the ingest thread.  One socket for both protocols, recvmmsg in batches, poll with a
 * 100 ms timeout for the timers; it never waits on anything but its own socket. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM_MAX 2048 /* longer datagrams are truncated (MSG_TRUNC) and judged on 2048 bytes */

struct ingest {
    struct ingest_opts opts;
    struct ingest_core *core;
    int fd;
    int wake[2]; /* pipe to interrupt poll on stop */
    char bound[FRAME_SOURCE_LEN];
    int rcvbuf;
    pthread_t thread;
    int running;
    atomic_int stop;
};

struct ingest *ingest_new(const struct ingest_opts *opts, struct ingest_core *core, char **cause)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct ingest *in;
    int fd, want = opts->rcvbuf_bytes;
    socklen_t optlen = sizeof(int);

    if (addr_parse(opts->udp_addr, "0.0.0.0", &ss, &len, cause) < 0)
        return NULL;
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *cause = xasprintf("udp socket: %s", strerror(errno));
        return NULL;
    }
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){0}, sizeof(int));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        if (e == EADDRINUSE)
            *cause = xasprintf("cannot listen on udp %s: port already in use (is another beamtel "
                               "or telemetry tool running?)",
                               opts->udp_addr);
        else
            *cause = xasprintf("cannot listen on udp %s: %s", opts->udp_addr, strerror(e));
        close(fd);
        errno = e;
        return NULL;
    }
    /* Ask for a large buffer; SO_RCVBUFFORCE works for root beyond rmem_max. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    /* The kernel then reports how many datagrams it dropped for lack of buffer space. */
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &(int){1}, sizeof(int));
    in = xcalloc(1, sizeof *in);
    in->opts = *opts;
    in->core = core;
    in->fd = fd;
    in->wake[0] = in->wake[1] = -1;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &in->rcvbuf, &optlen);
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    addr_format((struct sockaddr *)&ss, in->bound, sizeof in->bound);
    return in;
}

const char *ingest_bound_addr(const struct ingest *in)
{
    return in->bound;
}
int ingest_rcvbuf(const struct ingest *in)
{
    return in->rcvbuf;
}

static void *ingest_thread(void *arg)
{
    struct ingest *in = arg;
    static uint8_t bufs[BATCH][DGRAM_MAX];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage addrs[BATCH];
    static union {
        char buf[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } ctl[BATCH];
    struct ingest_counters *counters = ingest_core_counters(in->core);
    struct pollfd pfd[2] = {{.fd = in->fd, .events = POLLIN},
                            {.fd = in->wake[0], .events = POLLIN}};
    int64_t next_tick = time_mono_us();

    while (!atomic_load(&in->stop)) {
        int64_t now_mono = time_mono_us();
        /* Round up: a timeout rounded down to 0 ms would spin through the last millisecond. */
        int timeout_ms = (int)((next_tick - now_mono + 999) / 1000);
        if (timeout_ms < 0)
            timeout_ms = 0;
        if (poll(pfd, 2, timeout_ms) < 0 && errno != EINTR) {
            log_err("ingest: poll: %s", strerror(errno));
            time_sleep_us(100000);
        }
        if (pfd[1].revents)
            break;
        /* Drain the socket in batches before looking at the timers again. */
        for (int rounds = 0; rounds < 64 && (pfd[0].revents & POLLIN); rounds++) {
            int n;
            int64_t now;
            for (int i = 0; i < BATCH; i++) {
                iov[i].iov_base = bufs[i];
                iov[i].iov_len = DGRAM_MAX;
                memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
                msgs[i].msg_hdr.msg_name = &addrs[i];
                msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
                msgs[i].msg_hdr.msg_control = ctl[i].buf;
                msgs[i].msg_hdr.msg_controllen = sizeof ctl[i].buf;
            }
            n = recvmmsg(in->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
            if (n <= 0) {
                if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                    log_warn("ingest: recvmmsg: %s", strerror(errno));
                break;
            }
            now = time_now_us();
            for (int i = 0; i < n; i++) {
                size_t len = msgs[i].msg_len;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
                if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
                    uint32_t drops; /* cumulative for the socket */
                    memcpy(&drops, CMSG_DATA(cm), sizeof drops);
                    if (drops > atomic_load(&counters->kernel_drops)) {
                        log_warn("ingest: the kernel dropped %u datagrams so far (receive buffer "
                                 "full: raise --rcvbuf)",
                                 drops);
                        atomic_store(&counters->kernel_drops, drops);
                    }
                }
                if (len > DGRAM_MAX)
                    len = DGRAM_MAX;
                ingest_core_feed(in->core, now, (struct sockaddr *)&addrs[i], bufs[i], len);
            }
            if (n < BATCH)
                break;
        }
        now_mono = time_mono_us();
        if (now_mono >= next_tick) {
            int64_t now = time_now_us();
            ingest_core_tick(in->core, now);
            if (in->opts.on_tick)
                in->opts.on_tick(now, in->opts.arg);
            next_tick = now_mono + 100000;
        }
    }
    return NULL;
}

int ingest_start(struct ingest *in, char **cause)
{
    int rc;
    if (pipe2(in->wake, O_CLOEXEC) < 0) {
        *cause = xasprintf("pipe: %s", strerror(errno));
        return -1;
    }
    rc = pthread_create(&in->thread, NULL, ingest_thread, in);
    if (rc != 0) {
        *cause = xasprintf("cannot start the ingest thread: %s", strerror(rc));
        return -1;
    }
    in->running = 1;
    return 0;
}

void ingest_stop(struct ingest *in)
{
    if (!in->running)
        return;
    atomic_store(&in->stop, 1);
    if (write(in->wake[1], "x", 1) < 0)
        log_debug("ingest: wake: %s", strerror(errno));
    pthread_join(in->thread, NULL);
    in->running = 0;
}

void ingest_free(struct ingest *in)
{
    if (in == NULL)
        return;
    ingest_stop(in);
    close(in->fd);
    if (in->wake[0] >= 0) {
        close(in->wake[0]);
        close(in->wake[1]);
    }
    free(in);
}
