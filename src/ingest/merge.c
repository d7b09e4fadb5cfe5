/* SPDX-License-Identifier: MIT */
/* merge: the ingest core.  Decodes and validates datagrams, keeps one state per source, folds
 * MotionSim samples into the next OutGauge frame (§3.5) and hands frames to the glue.  Shared by
 * the UDP thread and `import`; owned by whichever single thread feeds it. */
#include "ingest.h"

#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 64
#define MOTION_MAX_AGE_US 250000       /* MotionSim older than this is not attached to a frame */
#define MOTION_ONLY_PERIOD_US 10000    /* MotionSim-only frames at ≤ 100 Hz */
#define PORT_SWITCH_SILENCE_US 1000000 /* a new port after this much silence is the same car */
#define USER_REMAP_US 2000000          /* how often a source's owner is looked up again */
#define SOURCE_FORGET_US (600LL * 1000000)
#define SNAPSHOT_MAX 256

struct src {
    struct src *next;       /* bucket by IP: same-host lookups (port switch, MotionSim) */
    struct src *next_exact; /* bucket by IP and port: the per-datagram lookup */
    struct sockaddr_storage addr;
    uint32_t id;
    char text[FRAME_SOURCE_LEN];
    char user[FRAME_USER_LEN];
    int user_mapped;
    int64_t user_mapped_us;
    int64_t last_og_us, last_ms_us, last_any_us;
    int changed_pending;
    /* MotionSim since the previous frame */
    double acc_sum[3];
    int n_acc;
    float mean_g[3];
    int64_t mean_us;
    float pos_m[3], vel_mps[3];
    int64_t last_motion_frame_us;
    char car[5];
    uint64_t packets;
};

struct ingest_core {
    struct ingest_core_opts opts;
    struct ingest_counters counters;
    struct src *buckets[NBUCKETS];
    struct src *exact[NBUCKETS];
    uint32_t next_id;
    int nsrc; /* sources remembered now, ≤ INGEST_MAX_SOURCES */
    struct ratelimit reject_log;
    pthread_mutex_t snap_mu; /* guards snap/nsnap: written on tick, read by status */
    struct ingest_source_info snap[SNAPSHOT_MAX];
    int nsnap;
};

struct ingest_core *ingest_core_new(const struct ingest_core_opts *opts)
{
    struct ingest_core *c = xcalloc(1, sizeof *c);
    c->opts = *opts;
    c->next_id = 1;
    c->reject_log.per_window = 5;
    pthread_mutex_init(&c->snap_mu, NULL);
    return c;
}

void ingest_core_free(struct ingest_core *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < NBUCKETS; i++) {
        struct src *s = c->buckets[i], *n;
        for (; s; s = n) {
            n = s->next;
            free(s);
        }
    }
    pthread_mutex_destroy(&c->snap_mu);
    free(c);
}

struct ingest_counters *ingest_core_counters(struct ingest_core *c)
{
    return &c->counters;
}

/* The IP part of an address, for hashing and same-host checks. */
static size_t ip_bytes(const struct sockaddr *sa, const uint8_t **p)
{
    if (sa->sa_family == AF_INET) {
        *p = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        *p = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        return 16;
    }
    *p = NULL;
    return 0;
}

static uint16_t port_of(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_port;
    if (sa->sa_family == AF_INET6)
        return ((const struct sockaddr_in6 *)sa)->sin6_port;
    return 0;
}

static int same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
    const uint8_t *pa, *pb;
    size_t na = ip_bytes(a, &pa), nb = ip_bytes(b, &pb);
    return na == nb && na > 0 && memcmp(pa, pb, na) == 0;
}

static unsigned bucket_of(const struct sockaddr *sa)
{
    const uint8_t *p;
    size_t n = ip_bytes(sa, &p);
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h % NBUCKETS;
}

static unsigned exact_bucket_of(const struct sockaddr *sa)
{
    return (bucket_of(sa) * 31u + port_of(sa)) % NBUCKETS;
}

static void exact_unlink(struct ingest_core *c, struct src *s)
{
    for (struct src **pp = &c->exact[exact_bucket_of((struct sockaddr *)&s->addr)]; *pp;
         pp = &(*pp)->next_exact)
        if (*pp == s) {
            *pp = s->next_exact;
            return;
        }
}

static void exact_link(struct ingest_core *c, struct src *s)
{
    unsigned b = exact_bucket_of((struct sockaddr *)&s->addr);
    s->next_exact = c->exact[b];
    c->exact[b] = s;
}

static socklen_t sa_len(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static struct src *src_exact(struct ingest_core *c, const struct sockaddr *sa)
{
    uint16_t port = port_of(sa);
    for (struct src *s = c->exact[exact_bucket_of(sa)]; s; s = s->next_exact)
        if (port_of((struct sockaddr *)&s->addr) == port &&
            same_ip((struct sockaddr *)&s->addr, sa))
            return s;
    return NULL;
}

/* A new source, or NULL when too many are remembered already: a flood from thousands of ports
 * must not turn into thousands of sessions. */
static struct src *src_new(struct ingest_core *c, const struct sockaddr *sa)
{
    struct src *s;
    unsigned b = bucket_of(sa);
    if (c->nsrc >= INGEST_MAX_SOURCES)
        return NULL;
    c->nsrc++;
    s = xcalloc(1, sizeof *s);
    memcpy(&s->addr, sa, sa_len(sa));
    s->id = c->next_id++;
    addr_format(sa, s->text, sizeof s->text);
    s->next = c->buckets[b];
    c->buckets[b] = s;
    exact_link(c, s);
    return s;
}

/* Maps the source to its owner, re-checked every few seconds so that a login or a new mapping
 * takes effect without a restart.  Returns 0, or -1 when nobody owns it. */
static int src_owner(struct ingest_core *c, struct src *s, int64_t now_us)
{
    if (!s->user_mapped || now_us - s->user_mapped_us >= USER_REMAP_US ||
        now_us < s->user_mapped_us) {
        s->user[0] = '\0';
        if (c->opts.map_user)
            c->opts.map_user((struct sockaddr *)&s->addr, s->user, sizeof s->user, c->opts.arg);
        if (s->user[0] == '\0' && c->opts.default_user)
            strncpy(s->user, c->opts.default_user, sizeof s->user - 1);
        s->user_mapped_us = now_us;
        s->user_mapped = 1;
    }
    return s->user[0] ? 0 : -1;
}

/* The OutGauge source for a datagram from sa: the same address, or the same host's silent
 * source under a new port (BeamNG reopens its socket on a vehicle switch), or a new one. */
static struct src *src_for_outgauge(struct ingest_core *c, const struct sockaddr *sa,
                                    int64_t now_us)
{
    struct src *s = src_exact(c, sa), *best = NULL;
    if (s)
        return s;
    for (s = c->buckets[bucket_of(sa)]; s; s = s->next)
        if (s->last_og_us && same_ip((struct sockaddr *)&s->addr, sa) &&
            now_us - s->last_og_us >= PORT_SWITCH_SILENCE_US &&
            (best == NULL || s->last_og_us > best->last_og_us))
            best = s;
    if (best) {
        exact_unlink(c, best);
        memcpy(&best->addr, sa, sa_len(sa));
        exact_link(c, best);
        addr_format(sa, best->text, sizeof best->text);
        best->changed_pending = 1;
        return best;
    }
    return src_new(c, sa);
}

/* The source a MotionSim datagram belongs to: the OutGauge source of the same address, else the
 * same host's most recent OutGauge source, else a MotionSim-only source of its own. */
static struct src *src_for_motion(struct ingest_core *c, const struct sockaddr *sa, int64_t now_us)
{
    struct src *s = src_exact(c, sa), *best = NULL;
    if (s && s->last_og_us)
        return s;
    for (struct src *o = c->buckets[bucket_of(sa)]; o; o = o->next)
        if (o->last_og_us && same_ip((struct sockaddr *)&o->addr, sa) &&
            now_us - o->last_og_us < PORT_SWITCH_SILENCE_US &&
            (best == NULL || o->last_og_us > best->last_og_us))
            best = o;
    if (best)
        return best;
    return s ? s : src_new(c, sa);
}

static void reject(struct ingest_core *c, int64_t ts_us, const struct sockaddr *sa, size_t len,
                   enum ingest_reject why)
{
    atomic_fetch_add_explicit(&c->counters.rejected[why], 1, memory_order_relaxed);
    (void)ts_us;
    if (ratelimit_ok(&c->reject_log, time_mono_us())) {
        char text[FRAME_SOURCE_LEN];
        addr_format(sa, text, sizeof text);
        log_warn("rejected a %zu-byte datagram from %s: %s", len, text, ingest_reject_name(why));
    }
}

/* Fills the frame's MotionSim part from the samples since the previous frame. */
static void attach_motion(struct src *s, struct frame *f, int64_t now_us)
{
    if (s->n_acc > 0) {
        for (int i = 0; i < 3; i++)
            s->mean_g[i] = (float)(s->acc_sum[i] / s->n_acc / STANDARD_GRAVITY);
        s->mean_us = s->last_ms_us;
        s->n_acc = 0;
        memset(s->acc_sum, 0, sizeof s->acc_sum);
    }
    if (s->last_ms_us == 0 || now_us - s->last_ms_us > MOTION_MAX_AGE_US)
        return;
    f->has_motion = 1;
    f->g_force_x = s->mean_g[0];
    f->g_force_y = s->mean_g[1];
    f->g_force_z = s->mean_g[2];
    memcpy(f->pos_m, s->pos_m, sizeof f->pos_m);
    memcpy(f->vel_mps, s->vel_mps, sizeof f->vel_mps);
}

static void emit(struct ingest_core *c, struct src *s, struct frame *f, int64_t ts_us)
{
    f->ts_us = ts_us;
    f->source_id = s->id;
    memcpy(f->source, s->text, sizeof f->source);
    memcpy(f->user, s->user, sizeof f->user);
    f->source_changed = (uint8_t)s->changed_pending;
    s->changed_pending = 0;
    atomic_fetch_add_explicit(&c->counters.frames, 1, memory_order_relaxed);
    c->opts.on_frame(f, c->opts.arg);
}

void ingest_core_feed(struct ingest_core *c, int64_t ts_us, const struct sockaddr *sa,
                      const uint8_t *buf, size_t len)
{
    struct frame f;
    struct motionsim ms;
    enum ingest_reject why = REJ_LENGTH;
    struct src *s;
    int kind;

    atomic_fetch_add_explicit(&c->counters.datagrams, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->counters.bytes, len, memory_order_relaxed);
    atomic_store_explicit(&c->counters.last_packet_us, ts_us, memory_order_relaxed);
    frame_init(&f);
    kind = ingest_decode(buf, len, &f, &ms, &why);
    if (kind < 0) {
        reject(c, ts_us, sa, len, why);
        return;
    }
    if (kind == PKT_EMPTY) {
        atomic_fetch_add_explicit(&c->counters.empty, 1, memory_order_relaxed);
        return;
    }
    s = kind == PKT_OUTGAUGE ? src_for_outgauge(c, sa, ts_us) : src_for_motion(c, sa, ts_us);
    if (s == NULL) {
        reject(c, ts_us, sa, len, REJ_SOURCES);
        return;
    }
    if (src_owner(c, s, ts_us) < 0) {
        reject(c, ts_us, sa, len, REJ_NO_USER);
        return;
    }
    s->last_any_us = ts_us;
    s->packets++;
    if (kind == PKT_OUTGAUGE) {
        atomic_fetch_add_explicit(&c->counters.outgauge, 1, memory_order_relaxed);
        s->last_og_us = ts_us;
        memcpy(s->car, f.car, sizeof s->car);
        attach_motion(s, &f, ts_us);
        emit(c, s, &f, ts_us);
        return;
    }
    atomic_fetch_add_explicit(&c->counters.motionsim, 1, memory_order_relaxed);
    for (int i = 0; i < 3; i++) {
        s->acc_sum[i] += ms.acc_mps2[i];
        s->pos_m[i] = ms.pos_m[i];
        s->vel_mps[i] = ms.vel_mps[i];
    }
    s->n_acc++;
    s->last_ms_us = ts_us;
    /* Without OutGauge, MotionSim makes the frames itself, at most 100 a second. */
    if ((s->last_og_us == 0 || ts_us - s->last_og_us > MOTION_MAX_AGE_US) &&
        ts_us - s->last_motion_frame_us >= MOTION_ONLY_PERIOD_US) {
        double v2 = 0;
        for (int i = 0; i < 3; i++)
            v2 += (double)ms.vel_mps[i] * ms.vel_mps[i];
        frame_init(&f);
        f.speed_mps = (float)sqrt(v2);
        attach_motion(s, &f, ts_us);
        s->last_motion_frame_us = ts_us;
        emit(c, s, &f, ts_us);
    }
}

int ingest_core_sources(struct ingest_core *c, struct ingest_source_info *out, int max)
{
    int n;
    pthread_mutex_lock(&c->snap_mu);
    n = c->nsnap < max ? c->nsnap : max;
    memcpy(out, c->snap, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&c->snap_mu);
    return n;
}

void ingest_core_tick(struct ingest_core *c, int64_t now_us)
{
    struct ingest_source_info snap[SNAPSHOT_MAX];
    int nsnap = 0;
    for (int i = 0; i < NBUCKETS; i++)
        for (struct src *s = c->buckets[i]; s && nsnap < SNAPSHOT_MAX; s = s->next) {
            struct ingest_source_info *e = &snap[nsnap++];
            memcpy(e->source, s->text, sizeof e->source);
            memcpy(e->user, s->user, sizeof e->user);
            memcpy(e->car, s->car, sizeof e->car);
            e->last_seen_us = s->last_any_us;
            e->packets = s->packets;
            e->motionsim = s->last_ms_us && now_us - s->last_ms_us <= MOTION_MAX_AGE_US;
        }
    pthread_mutex_lock(&c->snap_mu);
    memcpy(c->snap, snap, (size_t)nsnap * sizeof snap[0]);
    c->nsnap = nsnap;
    pthread_mutex_unlock(&c->snap_mu);
    for (int i = 0; i < NBUCKETS; i++) {
        struct src **pp = &c->buckets[i];
        while (*pp) {
            struct src *s = *pp;
            if (now_us - s->last_any_us > SOURCE_FORGET_US && s->last_any_us != 0) {
                *pp = s->next;
                exact_unlink(c, s);
                free(s);
                c->nsrc--;
                continue;
            }
            pp = &s->next;
        }
    }
}
