/* SPDX-License-Identifier: MIT */
/* util: clocks, address parsing and formatting, strict number parsing and small file helpers. */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void time_sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void time_format_iso(int64_t ts_us, char *out, size_t outlen)
{
    time_t s = (time_t)(ts_us / 1000000);
    int64_t ms = (ts_us % 1000000) / 1000;
    struct tm tm;
    if (ms < 0) {
        s -= 1;
        ms += 1000;
    }
    gmtime_r(&s, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)ms);
}

int addr_parse(const char *s, const char *default_host, struct sockaddr_storage *ss, socklen_t *len,
               char **cause)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *res = NULL;
    long portnum;
    int rc;

    if (s == NULL || *s == '\0') {
        *cause = xstrdup("empty address");
        return -1;
    }
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host) {
            *cause = xasprintf("bad address \"%s\" (expected [V6]:PORT)", s);
            return -1;
        }
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL) {
            snprintf(host, sizeof host, "%s", default_host);
            port = s;
        } else {
            if ((size_t)(colon - s) >= sizeof host) {
                *cause = xasprintf("bad address \"%s\"", s);
                return -1;
            }
            memcpy(host, s, (size_t)(colon - s));
            host[colon - s] = '\0';
            if (host[0] == '\0')
                snprintf(host, sizeof host, "%s", default_host);
            port = colon + 1;
        }
    }
    if (parse_long(port, &portnum) < 0 || portnum < 0 || portnum > 65535) {
        *cause = xasprintf("bad port in \"%s\" (expected 0..65535)", s);
        return -1;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        *cause = xasprintf("cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

void addr_format(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, outlen, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, outlen, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(out, outlen, "?");
    }
}

int parse_double(const char *s, double *out)
{
    char *end;
    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    *out = strtod(s, &end);
    if (errno != 0 || *end != '\0')
        return -1;
    return 0;
}

int parse_long(const char *s, long *out)
{
    char *end;
    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    *out = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    return 0;
}

char *file_read_all(const char *path, size_t max, size_t *len, char **cause)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *data;
    size_t n = 0;
    if (fd < 0) {
        *cause = xasprintf("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    data = xmalloc(max + 1);
    for (;;) {
        ssize_t r = read(fd, data + n, max - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *cause = xasprintf("cannot read %s: %s", path, strerror(errno));
            free(data);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == max) {
            char extra;
            if (read(fd, &extra, 1) > 0) {
                *cause = xasprintf("%s is larger than %zu bytes", path, max);
                free(data);
                close(fd);
                return NULL;
            }
            break;
        }
    }
    close(fd);
    if (n > 0 && data[n - 1] == '\n')
        n--;
    if (n > 0 && data[n - 1] == '\r')
        n--;
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

int mkdir_p(const char *path, unsigned mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}
