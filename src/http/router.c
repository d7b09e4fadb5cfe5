/* SPDX-License-Identifier: MIT */
/* router: owns the listening socket of the HTTP port.  It accepts, peeks at each request head
 * without consuming it, and hands the socket to libmicrohttpd (HTTP) or to the stream module
 * (WebSocket upgrade), as DESIGN §2.1 describes.  It never reads a byte for real. */
#include "http_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define PEEK_MAX 8192
#define PENDING_MAX 256
#define PENDING_TIMEOUT_US (10 * 1000000LL)

enum verdict { NEED_MORE = 0, TO_HTTP, TO_WS };

struct pending {
    int fd;
    int64_t deadline;
    struct sockaddr_storage peer;
    socklen_t peerlen;
};

/* Finds "\r\n\r\n" (or "\n\n"); returns the offset after it or 0. */
static size_t head_end(const char *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (b[i] == '\n' && b[i + 1] == '\n')
            return i + 2;
        if (i + 3 < n && b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
            return i + 4;
    }
    return 0;
}

/* Is there an "Upgrade: websocket" header line in the head? */
static int has_ws_upgrade(const char *b, size_t n)
{
    const char *p = b, *end = b + n;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (len > 8 && strncasecmp(p, "upgrade:", 8) == 0) {
            for (size_t i = 8; i + 9 <= len; i++)
                if (strncasecmp(p + i, "websocket", 9) == 0)
                    return 1;
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return 0;
}

/* Classifies a peeked request head (DESIGN §2.1). */
static enum verdict classify(const char *b, size_t n)
{
    const char *eol = memchr(b, '\n', n), *sp1, *path, *sp2;
    size_t pathlen;
    if (eol == NULL)
        return n >= PEEK_MAX ? TO_HTTP : NEED_MORE;
    if (n < 4 || memcmp(b, "GET ", 4) != 0)
        return TO_HTTP; /* complete request line, not GET: MHD answers it */
    sp1 = b + 3;
    path = sp1 + 1;
    sp2 = memchr(path, ' ', (size_t)(eol - path));
    pathlen = sp2 ? (size_t)(sp2 - path) : (size_t)(eol - path);
    if ((pathlen == 3 && memcmp(path, "/ws", 3) == 0) ||
        (pathlen > 3 && memcmp(path, "/ws", 3) == 0 && (path[3] == '?' || path[3] == '/')))
        return TO_WS;
    if (head_end(b, n) == 0)
        return n >= PEEK_MAX ? TO_HTTP : NEED_MORE;
    return has_ws_upgrade(b, head_end(b, n)) ? TO_WS : TO_HTTP;
}

static void set_lowat(int fd, int v)
{
    setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
}

static void hand_off(struct http *h, struct pending *p, enum verdict v)
{
    set_lowat(p->fd, 1);
    if (v == TO_WS) {
        if (h->opts.stream) {
            stream_adopt_fd(h->opts.stream, p->fd);
            return;
        }
        static const char unavailable[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                          "Content-Length: 0\r\nConnection: close\r\n\r\n";
        if (write(p->fd, unavailable, sizeof unavailable - 1) < 0)
            log_debug("router: %s", strerror(errno));
        close(p->fd);
        return;
    }
    http_api_add_connection(h, p->fd, (struct sockaddr *)&p->peer, p->peerlen);
}

static void *router_thread(void *arg)
{
    struct http *h = arg;
    struct pending pend[PENDING_MAX];
    struct pollfd pfd[PENDING_MAX + 2];
    int npend = 0;
    static char peek[PEEK_MAX];

    while (!h->stop) {
        int n = 0;
        pfd[n++] = (struct pollfd){.fd = h->listen_fd, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
        for (int i = 0; i < npend; i++)
            pfd[n++] = (struct pollfd){.fd = pend[i].fd, .events = POLLIN};
        if (poll(pfd, (nfds_t)n, 500) < 0 && errno != EINTR) {
            log_err("router: poll: %s", strerror(errno));
            time_sleep_us(100000);
            continue;
        }
        if (pfd[1].revents)
            break;
        int64_t now = time_mono_us();
        /* Pending sockets first: their slots are needed for new ones. */
        for (int i = npend - 1; i >= 0; i--) {
            struct pending *p = &pend[i];
            short re = pfd[2 + i].revents;
            int drop = 0;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t got = recv(p->fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
                if (got <= 0) {
                    drop = got == 0 || (errno != EAGAIN && errno != EINTR);
                } else {
                    enum verdict v = classify(peek, (size_t)got);
                    if (v == NEED_MORE) {
                        /* Without this poll would report the same bytes again at once. */
                        set_lowat(p->fd, (int)got + 1);
                    } else {
                        hand_off(h, p, v);
                        pend[i] = pend[--npend];
                        continue;
                    }
                }
            }
            if (!drop && now >= p->deadline)
                drop = 1;
            if (drop) {
                close(p->fd);
                pend[i] = pend[--npend];
            }
        }
        if (pfd[0].revents & POLLIN) {
            for (int k = 0; k < 64; k++) {
                struct pending p;
                p.peerlen = sizeof p.peer;
                p.fd = accept4(h->listen_fd, (struct sockaddr *)&p.peer, &p.peerlen,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (p.fd < 0) {
                    if (errno == EMFILE || errno == ENFILE)
                        log_warn("router: out of file descriptors");
                    break;
                }
                if (npend == PENDING_MAX) {
                    /* Full of half-sent requests (slowloris): drop the oldest, not the newest,
                     * so that a client that sends its head at once still gets through. */
                    int oldest = 0;
                    for (int j = 1; j < npend; j++)
                        if (pend[j].deadline < pend[oldest].deadline)
                            oldest = j;
                    close(pend[oldest].fd);
                    pend[oldest] = pend[--npend];
                }
                p.deadline = now + PENDING_TIMEOUT_US;
                pend[npend++] = p;
            }
        }
    }
    for (int i = 0; i < npend; i++)
        close(pend[i].fd);
    return NULL;
}

int http_router_start(struct http *h, char **cause)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;

    if (addr_parse(h->opts.listen_addr, "127.0.0.1", &ss, &len, cause) < 0)
        return -1;
    h->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (h->listen_fd < 0) {
        *cause = xasprintf("tcp socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(h->listen_fd, (struct sockaddr *)&ss, len) < 0 || listen(h->listen_fd, 128) < 0) {
        int e = errno;
        if (e == EADDRINUSE)
            *cause =
                xasprintf("cannot listen on http %s: port already in use", h->opts.listen_addr);
        else
            *cause = xasprintf("cannot listen on http %s: %s", h->opts.listen_addr, strerror(e));
        errno = e;
        return -1;
    }
    len = sizeof ss;
    getsockname(h->listen_fd, (struct sockaddr *)&ss, &len);
    addr_format((struct sockaddr *)&ss, h->bound, sizeof h->bound);
    if (pipe2(h->wake, O_CLOEXEC) < 0 || pthread_create(&h->router, NULL, router_thread, h) != 0) {
        *cause = xasprintf("cannot start the router: %s", strerror(errno));
        return -1;
    }
    h->router_running = 1;
    return 0;
}

void http_router_stop(struct http *h)
{
    if (!h->router_running)
        return;
    h->stop = 1;
    if (write(h->wake[1], "x", 1) < 0)
        log_debug("router: wake: %s", strerror(errno));
    pthread_join(h->router, NULL);
    h->router_running = 0;
}
