/* SPDX-License-Identifier: MIT */
/* sourcemap: the §3.6 owner lookup for the ingest thread — explicit CIDR mappings, then the
 * address a user last logged in from — as an immutable table swapped in by the housekeeping
 * thread.  The ingest thread holds the lock only while matching a few entries. */
#include "cli.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MAX 4096

struct map_entry {
    int family;
    uint8_t addr[16];
    int prefix;
    char user[FRAME_USER_LEN];
};

struct sourcemap {
    pthread_mutex_t mu;
    struct map_entry *entries;
    int n;
};

struct sourcemap *sourcemap_new(void)
{
    struct sourcemap *m = xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void sourcemap_free(struct sourcemap *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m->entries);
    free(m);
}

/* Parses "a.b.c.d/n" or "v6/n" (prefix optional); 0 or -1. */
static int parse_cidr(const char *s, struct map_entry *e)
{
    char tmp[64];
    char *slash;
    long prefix = -1;
    snprintf(tmp, sizeof tmp, "%s", s);
    slash = strchr(tmp, '/');
    if (slash) {
        *slash = '\0';
        if (parse_long(slash + 1, &prefix) < 0)
            return -1;
    }
    if (inet_pton(AF_INET, tmp, e->addr) == 1) {
        e->family = AF_INET;
        e->prefix = prefix < 0 ? 32 : (int)prefix;
        return e->prefix <= 32 ? 0 : -1;
    }
    if (inet_pton(AF_INET6, tmp, e->addr) == 1) {
        e->family = AF_INET6;
        e->prefix = prefix < 0 ? 128 : (int)prefix;
        return e->prefix <= 128 ? 0 : -1;
    }
    return -1;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

void sourcemap_lookup(struct sourcemap *m, const struct sockaddr *sa, char *user, size_t len)
{
    const uint8_t *ip;
    int family = sa->sa_family;
    uint8_t v4[4];
    if (family == AF_INET) {
        ip = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        ip = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        /* An IPv4 sender seen through a dual-stack socket matches IPv4 entries. */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(ip, mapped, 12) == 0) {
            memcpy(v4, ip + 12, 4);
            ip = v4;
            family = AF_INET;
        }
    } else {
        return;
    }
    pthread_mutex_lock(&m->mu);
    /* Entries are ordered: explicit mappings, most specific first, then last_ip. */
    for (int i = 0; i < m->n; i++)
        if (m->entries[i].family == family &&
            prefix_match(ip, m->entries[i].addr, m->entries[i].prefix)) {
            snprintf(user, len, "%s", m->entries[i].user);
            break;
        }
    pthread_mutex_unlock(&m->mu);
}

int sourcemap_refresh(struct sourcemap *m, struct store_conn *c, char **cause)
{
    struct source_map_entry *rows = xcalloc(MAP_MAX, sizeof *rows);
    struct map_entry *entries, *old;
    int n = store_source_map_load(c, rows, MAP_MAX, cause), k = 0;
    if (n < 0) {
        free(rows);
        return -1;
    }
    entries = xcalloc((size_t)n + 1, sizeof *entries);
    for (int i = 0; i < n; i++) {
        if (parse_cidr(rows[i].cidr, &entries[k]) < 0)
            continue;
        memcpy(entries[k].user, rows[i].user, sizeof entries[k].user);
        k++;
    }
    free(rows);
    pthread_mutex_lock(&m->mu);
    old = m->entries;
    m->entries = entries;
    m->n = k;
    pthread_mutex_unlock(&m->mu);
    free(old);
    return k;
}
