/* SPDX-License-Identifier: MIT */
/* record: writes every datagram that arrives on a UDP address to a pcap file, with its kernel
 * arrival time and real addresses; it owns the socket and the writer and decodes nothing. */
#include "cli.h"

#include "capture/capture.h"
#include "common/common.h"
#include "config/config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define POLL_MS 100            /* how often signals, --duration and flushing are checked */
#define FLUSH_US 1000000       /* a crash loses at most this much of the recording */
#define RCVBUF_BYTES (4 << 20) /* what serve asks for too: bursts must not be dropped */
#define DATAGRAM_MAX 65536

struct record {
    const char *path;
    int fd;
    struct sockaddr_storage bound; /* local address, with the port the kernel chose */
    char bound_str[64];
    struct pcap_writer *w;
    uint64_t written;
    uint64_t count; /* stop after this many; 0 = no limit */
    uint8_t buf[DATAGRAM_MAX];
};

static int is_wildcard(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Binds the UDP socket.  Kernel timestamps give arrival times free of our own scheduling; on a
 * wildcard address the packet-info messages give the destination each datagram really had. */
static int record_bind(struct record *r, const struct sockaddr_storage *ss, socklen_t sslen,
                       char **cause)
{
    int one = 1, rcvbuf = RCVBUF_BYTES;
    socklen_t blen = sizeof r->bound;

    addr_format((const struct sockaddr *)ss, r->bound_str, sizeof r->bound_str);
    r->fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (r->fd < 0) {
        *cause = xasprintf("cannot create a UDP socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(r->fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof one);
    if (is_wildcard(ss)) {
        if (ss->ss_family == AF_INET)
            setsockopt(r->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
        else
            setsockopt(r->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    }
    if (bind(r->fd, (const struct sockaddr *)ss, sslen) < 0) {
        *cause = xasprintf("cannot bind UDP %s: %s", r->bound_str,
                           errno == EADDRINUSE ? "port already in use" : strerror(errno));
        return -1;
    }
    if (getsockname(r->fd, (struct sockaddr *)&r->bound, &blen) < 0)
        memcpy(&r->bound, ss, sizeof r->bound);
    addr_format((const struct sockaddr *)&r->bound, r->bound_str, sizeof r->bound_str);
    return 0;
}

/* Reads the arrival time and the real destination address from the control messages. */
static void record_ancillary(struct record *r, struct msghdr *msg, int64_t *ts_us,
                             struct sockaddr_storage *dst)
{
    *dst = r->bound;
    *ts_us = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMP) {
            struct timeval tv;
            memcpy(&tv, CMSG_DATA(cm), sizeof tv);
            *ts_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
        } else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
                   dst->ss_family == AF_INET) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof pi);
            ((struct sockaddr_in *)dst)->sin_addr = pi.ipi_addr;
        } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
                   dst->ss_family == AF_INET6) {
            struct in6_pktinfo pi6;
            memcpy(&pi6, CMSG_DATA(cm), sizeof pi6);
            ((struct sockaddr_in6 *)dst)->sin6_addr = pi6.ipi6_addr;
        }
    }
    if (*ts_us < 0)
        *ts_us = time_now_us();
}

/* Writes every datagram that is waiting, up to --count.  0, or -1 with *cause. */
static int record_drain(struct record *r, char **cause)
{
    while (r->count == 0 || r->written < r->count) {
        struct sockaddr_storage src, dst;
        union {
            char buf[256];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = r->buf, .iov_len = sizeof r->buf};
        struct msghdr msg = {
            .msg_name = &src,
            .msg_namelen = sizeof src,
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = ctl.buf,
            .msg_controllen = sizeof ctl.buf,
        };
        int64_t ts_us;
        ssize_t n = recvmsg(r->fd, &msg, MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            *cause = xasprintf("cannot receive on %s: %s", r->bound_str, strerror(errno));
            return -1;
        }
        record_ancillary(r, &msg, &ts_us, &dst);
        if (r->written == 0) {
            char from[64];
            addr_format((struct sockaddr *)&src, from, sizeof from);
            log_info("first datagram: %zd bytes from %s", n, from);
        }
        if (pcapw_write(r->w, ts_us, (struct sockaddr *)&src, (struct sockaddr *)&dst, r->buf,
                        (size_t)n, cause) < 0)
            return -1;
        r->written++;
    }
    return 0;
}

/* Polls until --count, --duration or a signal; flushes the file once a second. */
static int record_run(struct record *r, double duration_s, char **cause)
{
    int64_t now_us = time_mono_us(), flushed_us = now_us;
    int64_t deadline_us = duration_s > 0 ? now_us + (int64_t)(duration_s * 1e6) : 0;
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};

    while (!cli_stop_requested && (r->count == 0 || r->written < r->count)) {
        int timeout_ms = POLL_MS;

        now_us = time_mono_us();
        if (deadline_us > 0) {
            if (now_us >= deadline_us)
                break;
            if (deadline_us - now_us < POLL_MS * 1000)
                timeout_ms = (int)((deadline_us - now_us + 999) / 1000);
        }
        if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) {
            *cause = xasprintf("poll: %s", strerror(errno));
            return -1;
        }
        if ((pfd.revents & POLLIN) && record_drain(r, cause) < 0)
            return -1;
        pfd.revents = 0;
        if (time_mono_us() - flushed_us >= FLUSH_US) {
            if (pcapw_flush(r->w, cause) < 0)
                return -1;
            flushed_us = time_mono_us();
        }
    }
    return 0;
}

/* `beamtel record FILE`: writes what arrives on --udp to FILE until --count, --duration or a
 * signal. */
int cmd_record_main(int argc, char **argv)
{
    struct record *r = xcalloc(1, sizeof *r);
    struct sockaddr_storage ss;
    socklen_t sslen;
    char **pos, *cause = NULL, *close_cause = NULL;
    int npos, rc;

    r->fd = -1;
    if (cli_setup(CMD_RECORD, argc, argv, &npos, &pos, &rc) < 0)
        goto out;
    if (npos != 1) {
        fprintf(stderr,
                "beamtel record: expected one output FILE, got %d arguments\n"
                "Try 'beamtel record --help'.\n",
                npos);
        rc = BT_EXIT_USAGE;
        goto out;
    }
    r->path = pos[0];
    r->count = (uint64_t)config_get_int("count");
    if (addr_parse(config_get_str("udp"), "0.0.0.0", &ss, &sslen, &cause) < 0) {
        rc = BT_EXIT_USAGE;
        goto out;
    }
    if (record_bind(r, &ss, sslen, &cause) < 0) {
        rc = BT_EXIT_BIND;
        goto out;
    }
    r->w = pcapw_open(r->path, &cause);
    if (r->w == NULL) {
        rc = BT_EXIT_FAILURE;
        goto out;
    }
    cli_install_stop_signals();
    log_info("listening on UDP %s, writing %s", r->bound_str, r->path);
    rc = record_run(r, config_get_double("duration"), &cause) < 0 ? BT_EXIT_FAILURE : BT_EXIT_OK;
    /* Closing reports a full disk; an earlier error is the one worth showing. */
    if (pcapw_close(r->w, &close_cause) < 0) {
        rc = BT_EXIT_FAILURE;
        if (cause == NULL)
            cause = close_cause;
        else
            free(close_cause);
    }
    fprintf(stderr, "record: wrote %llu datagrams to %s\n", (unsigned long long)r->written,
            r->path);
out:
    if (cause != NULL)
        fprintf(stderr, "beamtel record: %s\n", cause);
    free(cause);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
    return rc;
}
