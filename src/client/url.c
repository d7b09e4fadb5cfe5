/* SPDX-License-Identifier: MIT */
/* url: server URLs (parsing, the canonical form a token is stored under), the diagnosis of a
 * failed connection, and the bridge from libwebsockets' log into ours.  No lws service here. */
#include "client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

int client_url_parse(const char *url, struct client_url *u, char **cause)
{
    const char *p = url, *host, *hend, *slash;
    size_t hlen;

    memset(u, 0, sizeof *u);
    if (url == NULL || *url == '\0') {
        *cause = xstrdup("empty server URL");
        return -1;
    }
    if (strncasecmp(p, "https://", 8) == 0) {
        u->tls = 1;
        p += 8;
    } else if (strncasecmp(p, "http://", 7) == 0) {
        p += 7;
    } else if (strstr(p, "://") != NULL) {
        *cause = xasprintf("unsupported server URL \"%s\": use http:// or https://", url);
        return -1;
    }
    u->port = u->tls ? 443 : 80;
    slash = strchr(p, '/');
    if (slash == NULL)
        slash = p + strlen(p);
    if (*p == '[') { /* [v6]:port */
        host = p + 1;
        hend = memchr(host, ']', (size_t)(slash - host));
        if (hend == NULL) {
            *cause = xasprintf("bad server URL \"%s\": unterminated [", url);
            return -1;
        }
        p = hend + 1;
    } else {
        host = p;
        hend = memchr(p, ':', (size_t)(slash - p));
        if (hend == NULL)
            hend = slash;
        p = hend;
    }
    hlen = (size_t)(hend - host);
    if (hlen == 0 || hlen >= sizeof u->host) {
        *cause = xasprintf("bad server URL \"%s\": no host", url);
        return -1;
    }
    memcpy(u->host, host, hlen);
    for (size_t i = 0; i < hlen; i++)
        u->host[i] = (char)tolower((unsigned char)u->host[i]);
    if (*p == ':') {
        long port;
        char tmp[16];
        size_t n = (size_t)(slash - p - 1);
        if (n == 0 || n >= sizeof tmp) {
            *cause = xasprintf("bad server URL \"%s\": bad port", url);
            return -1;
        }
        memcpy(tmp, p + 1, n);
        tmp[n] = '\0';
        if (parse_long(tmp, &port) < 0 || port < 1 || port > 65535) {
            *cause = xasprintf("bad server URL \"%s\": bad port", url);
            return -1;
        }
        u->port = (int)port;
    } else if (p != slash) {
        *cause = xasprintf("bad server URL \"%s\"", url);
        return -1;
    }
    /* The prefix: everything after the authority without query, fragment or trailing '/'. */
    hlen = strcspn(slash, "?#");
    while (hlen > 0 && slash[hlen - 1] == '/')
        hlen--;
    if (hlen >= sizeof u->prefix) {
        *cause = xasprintf("bad server URL \"%s\": path too long", url);
        return -1;
    }
    memcpy(u->prefix, slash, hlen);
    return 0;
}

char *client_url_canonical(const struct client_url *u)
{
    int v6 = strchr(u->host, ':') != NULL;
    return xasprintf("%s://%s%s%s:%d%s", u->tls ? "https" : "http", v6 ? "[" : "", u->host,
                     v6 ? "]" : "", u->port, u->prefix);
}

char *client_url_normalize(const char *url, char **cause)
{
    struct client_url u;
    if (client_url_parse(url, &u, cause) < 0)
        return NULL;
    return client_url_canonical(&u);
}

/* One non-blocking connect with a deadline; 0 on success, else an errno value. */
static int probe_connect(const struct addrinfo *ai, int timeout_ms)
{
    int fd, err = 0;
    socklen_t len = sizeof err;
    struct pollfd pfd;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        close(fd);
        return 0;
    }
    if (errno != EINPROGRESS) {
        err = errno;
        close(fd);
        return err;
    }
    pfd.fd = fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, timeout_ms) <= 0) {
        close(fd);
        return ETIMEDOUT;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    close(fd);
    return err;
}

/* The last error libwebsockets logged, for above_tcp(): its connection-error texts are terse
 * ("connect SSL err 1") while the log says why ("self-signed certificate"). */
static char lws_last_error[256];

/* The reason of a failure above TCP, from libwebsockets' text. */
static char *above_tcp(const struct client_url *u, const char *lws_reason)
{
    const char *r = lws_reason && *lws_reason ? lws_reason : NULL;
    if (lws_last_error[0] && (strstr(lws_last_error, "cert") || strstr(lws_last_error, "X509")))
        return xasprintf("the server's TLS certificate was not accepted: %s", lws_last_error);
    if (r && (strstr(r, "cert") || strstr(r, "X509")))
        return xasprintf("the server's TLS certificate was not accepted: %s", r);
    if (r && (strstr(r, "SSL") || strstr(r, "ssl") || strstr(r, "TLS") || strstr(r, "tls")))
        return xstrdup(u->tls ? "the TLS handshake failed (does this port speak https?)"
                              : "a TLS error on a plain http:// connection");
    return xstrdup(r ? r : "the connection closed without an answer");
}

char *client_url_diagnose(const struct client_url *u, const char *lws_reason, int timeout_ms)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    int rc, err = ETIMEDOUT;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", u->port);
    rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc != 0)
        return xasprintf("cannot resolve %s: %s", u->host, gai_strerror(rc));
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        err = probe_connect(ai, timeout_ms);
        if (err == 0)
            break;
    }
    freeaddrinfo(res);
    if (err == 0)
        return above_tcp(u, lws_reason);
    if (err == ETIMEDOUT)
        return xstrdup("timed out");
    {
        /* strerror() capitalises ("Connection refused"); messages continue a sentence. */
        char *s = xstrdup(strerror(err));
        s[0] = (char)tolower((unsigned char)s[0]);
        return s;
    }
}

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    const char *p;
    /* lws lines end in '\n'. */
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if ((level & LLL_ERR) && (p = strstr(line, "SSL error: ")) != NULL)
        snprintf(lws_last_error, sizeof lws_last_error, "%.*s", (int)(n - (size_t)(p - line)),
                 p + 11);
    log_debug("lws: %.*s", (int)n, line);
}

void client_lws_log_setup(void)
{
    lws_last_error[0] = '\0';
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
}
