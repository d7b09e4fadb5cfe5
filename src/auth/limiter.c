/* SPDX-License-Identifier: MIT */
/* limiter: counts failed logins per client address in a sliding window, in a fixed-size table
 * (hash chains plus least-recently-failed eviction) behind one mutex; it allocates nothing after
 * auth_limiter_new(), so a flood of addresses cannot grow it. */
#include "auth.h"
#include "common/common.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LEN 64   /* "ffff:...:ffff/64" fits with room to spare */
#define BUCKETS 8192 /* power of two, 2 per slot */
#define NIL (-1)

struct slot {
    char key[KEY_LEN];
    int hnext;      /* next slot in the same hash bucket */
    int prev, next; /* recency list: head = most recently failed */
    int count;      /* failures remembered, ≤ max_failures */
    int wr;         /* ring index of the next write = the oldest once full */
};

struct auth_limiter {
    pthread_mutex_t mu;
    int max_failures;
    int window_s;
    int used; /* slots handed out so far; then the tail is recycled */
    int head, tail;
    int buckets[BUCKETS];
    struct slot slots[AUTH_LIMITER_SLOTS];
    int64_t *times; /* AUTH_LIMITER_SLOTS rings of max_failures failure times */
};

/* Canonical key of an address: IPv6 cut to its /64, IPv4-mapped IPv6 as plain IPv4, anything
 * else (already canonical numeric IPv4, or an unparsable string) as given, truncated. */
static void addr_key(const char *ip, char key[KEY_LEN])
{
    struct in6_addr a6;
    char txt[INET6_ADDRSTRLEN];

    if (ip != NULL && inet_pton(AF_INET6, ip, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            inet_ntop(AF_INET, &a6.s6_addr[12], txt, sizeof txt);
            snprintf(key, KEY_LEN, "%s", txt);
        } else {
            memset(&a6.s6_addr[8], 0, 8);
            inet_ntop(AF_INET6, &a6, txt, sizeof txt);
            snprintf(key, KEY_LEN, "%s/64", txt);
        }
        return;
    }
    /* Never the empty key: an empty key marks a free slot. */
    snprintf(key, KEY_LEN, "%s", ip != NULL && ip[0] != '\0' ? ip : "?");
}

static unsigned key_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *key; key++)
        h = (h ^ (uint8_t)*key) * 16777619u;
    return h & (BUCKETS - 1);
}

static int find(const struct auth_limiter *l, const char *key)
{
    for (int i = l->buckets[key_hash(key)]; i != NIL; i = l->slots[i].hnext)
        if (strcmp(l->slots[i].key, key) == 0)
            return i;
    return NIL;
}

static void list_unlink(struct auth_limiter *l, int i)
{
    struct slot *s = &l->slots[i];

    if (s->prev != NIL)
        l->slots[s->prev].next = s->next;
    else
        l->head = s->next;
    if (s->next != NIL)
        l->slots[s->next].prev = s->prev;
    else
        l->tail = s->prev;
    s->prev = s->next = NIL;
}

static void list_push_front(struct auth_limiter *l, int i)
{
    struct slot *s = &l->slots[i];

    s->prev = NIL;
    s->next = l->head;
    if (l->head != NIL)
        l->slots[l->head].prev = i;
    l->head = i;
    if (l->tail == NIL)
        l->tail = i;
}

static void bucket_unlink(struct auth_limiter *l, int i)
{
    int *pp = &l->buckets[key_hash(l->slots[i].key)];

    while (*pp != NIL && *pp != i)
        pp = &l->slots[*pp].hnext;
    if (*pp == i)
        *pp = l->slots[i].hnext;
    l->slots[i].hnext = NIL;
}

/* Removes slot i from the table; its index stays in the recency list's tail for reuse. */
static void forget(struct auth_limiter *l, int i)
{
    bucket_unlink(l, i);
    l->slots[i].key[0] = '\0';
    l->slots[i].count = 0;
    l->slots[i].wr = 0;
    list_unlink(l, i);
    /* Put it last so that it is the first one recycled. */
    l->slots[i].prev = l->tail;
    if (l->tail != NIL)
        l->slots[l->tail].next = i;
    l->tail = i;
    if (l->head == NIL)
        l->head = i;
}

/* A slot for key: a never-used one while any is left, else the least recently failed one. */
static int take_slot(struct auth_limiter *l, const char *key)
{
    int i;

    if (l->used < AUTH_LIMITER_SLOTS) {
        i = l->used++;
    } else {
        i = l->tail;
        if (l->slots[i].key[0] != '\0')
            bucket_unlink(l, i);
        list_unlink(l, i);
    }
    snprintf(l->slots[i].key, KEY_LEN, "%s", key);
    l->slots[i].count = 0;
    l->slots[i].wr = 0;
    l->slots[i].hnext = l->buckets[key_hash(key)];
    l->buckets[key_hash(key)] = i;
    list_push_front(l, i);
    return i;
}

struct auth_limiter *auth_limiter_new(int max_failures, int window_s)
{
    struct auth_limiter *l = xcalloc(1, sizeof *l);

    if (max_failures < 1)
        max_failures = 1;
    if (max_failures > AUTH_LIMITER_MAX_FAILURES)
        max_failures = AUTH_LIMITER_MAX_FAILURES;
    l->max_failures = max_failures;
    l->window_s = window_s > 0 ? window_s : 1;
    l->head = l->tail = NIL;
    for (int i = 0; i < BUCKETS; i++)
        l->buckets[i] = NIL;
    for (int i = 0; i < AUTH_LIMITER_SLOTS; i++)
        l->slots[i].hnext = l->slots[i].prev = l->slots[i].next = NIL;
    l->times = xcalloc((size_t)AUTH_LIMITER_SLOTS * (size_t)max_failures, sizeof *l->times);
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

int auth_limiter_blocked(struct auth_limiter *l, const char *ip, int64_t now_s, int *retry_after_s)
{
    char key[KEY_LEN];
    int i, blocked = 0;

    addr_key(ip, key);
    pthread_mutex_lock(&l->mu);
    i = find(l, key);
    if (i != NIL && l->slots[i].count >= l->max_failures) {
        /* The ring is full: its oldest entry is the max_failures-th most recent failure. */
        int64_t oldest = l->times[(size_t)i * (size_t)l->max_failures + (size_t)l->slots[i].wr];
        int64_t until = oldest + l->window_s;
        if (until > now_s) {
            int64_t wait = until - now_s;
            blocked = 1;
            if (retry_after_s)
                *retry_after_s = (int)(wait > l->window_s ? l->window_s : wait);
        }
    }
    pthread_mutex_unlock(&l->mu);
    if (!blocked && retry_after_s)
        *retry_after_s = 0;
    return blocked;
}

void auth_limiter_fail(struct auth_limiter *l, const char *ip, int64_t now_s)
{
    char key[KEY_LEN];
    struct slot *s;
    int i;

    addr_key(ip, key);
    pthread_mutex_lock(&l->mu);
    i = find(l, key);
    if (i == NIL) {
        i = take_slot(l, key);
    } else {
        list_unlink(l, i);
        list_push_front(l, i);
    }
    s = &l->slots[i];
    l->times[(size_t)i * (size_t)l->max_failures + (size_t)s->wr] = now_s;
    s->wr = (s->wr + 1) % l->max_failures;
    if (s->count < l->max_failures)
        s->count++;
    pthread_mutex_unlock(&l->mu);
}

void auth_limiter_success(struct auth_limiter *l, const char *ip)
{
    char key[KEY_LEN];
    int i;

    addr_key(ip, key);
    pthread_mutex_lock(&l->mu);
    i = find(l, key);
    if (i != NIL)
        forget(l, i);
    pthread_mutex_unlock(&l->mu);
}

void auth_limiter_free(struct auth_limiter *l)
{
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->times);
    free(l);
}
