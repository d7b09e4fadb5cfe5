/* SPDX-License-Identifier: MIT */
/* recorder: the lossless path from the tracker to PostgreSQL.  The producer (ingest or import)
 * appends ops to an in-memory queue under a lock held only for pointer updates; the writer
 * thread takes batches for pg_writer; the spiller thread moves the oldest ops to the on-disk
 * spool when the queue grows past queue_max (database away or slow).  Order is kept: the spool
 * always holds older ops than the queue. */
#include "store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_OPS 512
#define RETRY_US 1000000 /* between attempts while PostgreSQL is away */

struct opblock {
    struct opblock *next;
    int head, tail;
    struct track_op ops[BLOCK_OPS];
};

struct recorder {
    struct recorder_opts opts;
    char *dsn;
    pthread_mutex_t mu;
    pthread_cond_t cv_work;    /* writer: ops arrived */
    pthread_cond_t cv_spill;   /* spiller: queue too long */
    pthread_cond_t cv_drained; /* drain waiters: something committed */
    struct opblock *qhead, *qtail, *free_blocks;
    long qcount;
    int stop;
    int spiller_busy;
    struct spool *spool;
    struct pg_writer *writer;
    pthread_t writer_thread, spill_thread;
    /* counters (under mu) */
    uint64_t pushed, committed, dropped, frames_written, sessions_started, sessions_ended;
    uint64_t db_errors;
    int db_up;
    int64_t oldest_pending_ts;
    int recovered;
    int inflight; /* the writer holds a batch taken from the queue, not yet committed/spooled */
    int stop_deadline_passed; /* shutting down: a failed write goes to the spool, no retry */
};

static struct opblock *block_get(struct recorder *r)
{
    struct opblock *b = r->free_blocks;
    if (b)
        r->free_blocks = b->next;
    else
        b = xmalloc(sizeof *b);
    b->next = NULL;
    b->head = b->tail = 0;
    return b;
}

void recorder_push(struct recorder *r, const struct track_op *op)
{
    pthread_mutex_lock(&r->mu);
    if (r->qtail == NULL || r->qtail->tail == BLOCK_OPS) {
        struct opblock *b = block_get(r);
        if (r->qtail)
            r->qtail->next = b;
        else
            r->qhead = b;
        r->qtail = b;
    }
    r->qtail->ops[r->qtail->tail++] = *op;
    r->qcount++;
    r->pushed++;
    if (op->type == TRACK_START)
        r->sessions_started++;
    if (r->qcount >= r->opts.batch_rows)
        pthread_cond_signal(&r->cv_work);
    if (r->qcount > r->opts.queue_max)
        pthread_cond_signal(&r->cv_spill);
    pthread_mutex_unlock(&r->mu);
}

/* Takes up to max ops from the queue head (under mu). */
static size_t queue_take(struct recorder *r, struct track_op *out, size_t max)
{
    size_t n = 0;
    while (n < max && r->qhead) {
        struct opblock *b = r->qhead;
        size_t k = (size_t)(b->tail - b->head);
        if (k > max - n)
            k = max - n;
        memcpy(out + n, b->ops + b->head, k * sizeof *out);
        b->head += (int)k;
        n += k;
        r->qcount -= (long)k;
        if (b->head == b->tail) {
            if (b == r->qtail && b->tail < BLOCK_OPS) {
                b->head = b->tail = 0; /* keep the tail block for the producer */
                break;
            }
            r->qhead = b->next;
            if (r->qhead == NULL)
                r->qtail = NULL;
            b->next = r->free_blocks;
            r->free_blocks = b;
        }
    }
    return n;
}

/* Moves the oldest queued ops to disk while the queue is longer than queue_max. */
static void *spill_thread(void *arg)
{
    struct recorder *r = arg;
    struct track_op *ops = xmalloc(BLOCK_OPS * sizeof *ops);
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        if (r->qcount <= r->opts.queue_max || r->inflight) {
            pthread_cond_wait(&r->cv_spill, &r->mu);
            continue;
        }
        size_t n = queue_take(r, ops, BLOCK_OPS);
        r->spiller_busy = 1;
        pthread_mutex_unlock(&r->mu);
        char *cause = NULL;
        if (spool_append(r->spool, ops, n, &cause) < 0) {
            log_err("recorder: %s; %zu frames lost", cause, n);
            free(cause);
            pthread_mutex_lock(&r->mu);
            r->dropped += n;
            r->committed += n; /* nothing more will happen to them */
        } else {
            pthread_mutex_lock(&r->mu);
        }
        r->spiller_busy = 0;
        pthread_cond_broadcast(&r->cv_work);
    }
    pthread_mutex_unlock(&r->mu);
    free(ops);
    return NULL;
}

/* Gathers the next batch: spooled ops first (they are older), then the queue.  Waits up to
 * batch_ms for a full batch.  Returns the count; *from_spool says where they came from. */
static size_t gather(struct recorder *r, struct track_op *ops, size_t max, int *from_spool,
                     struct spool_pos *pos)
{
    size_t n;
    int64_t deadline;
    *from_spool = 0;
    if (spool_pending(r->spool) > 0) {
        n = spool_read(r->spool, ops, max, pos);
        if (n > 0) {
            *from_spool = 1;
            return n;
        }
    }
    pthread_mutex_lock(&r->mu);
    deadline = time_mono_us() + (int64_t)r->opts.batch_ms * 1000;
    while (!r->stop && r->qcount < r->opts.batch_rows && !r->spiller_busy) {
        struct timespec ts;
        int64_t now = time_mono_us();
        if (now >= deadline && r->qcount > 0)
            break;
        if (now >= deadline)
            deadline = now + (int64_t)r->opts.batch_ms * 1000;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t wait = deadline - now;
        ts.tv_sec += wait / 1000000;
        ts.tv_nsec += (wait % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->cv_work, &r->mu, &ts);
        if (spool_pending(r->spool) > 0)
            break;
    }
    if (spool_pending(r->spool) > 0) {
        pthread_mutex_unlock(&r->mu);
        n = spool_read(r->spool, ops, max, pos);
        *from_spool = n > 0;
        return n;
    }
    n = queue_take(r, ops, max);
    r->inflight = n > 0; /* the spiller waits until this batch is committed or spooled */
    pthread_mutex_unlock(&r->mu);
    return n;
}

static void *writer_thread(void *arg)
{
    struct recorder *r = arg;
    size_t max = (size_t)r->opts.batch_rows + 64;
    struct track_op *ops = xmalloc(max * sizeof *ops);
    size_t n = 0;
    int from_spool = 0, logged_down = 0;
    struct spool_pos pos = {0, 0};
    uint64_t boot_segment = spool_first_new_segment(r->spool);

    /* Connect at once so that the status tells whether PostgreSQL is reachable, and close
     * what a crash left open right away when no spool from an earlier run must go first. */
    {
        char *cause = NULL;
        uint64_t f = 0, e = 0;
        int up = pg_writer_write(r->writer, ops, 0, &f, &e, &cause) == 0;
        pthread_mutex_lock(&r->mu);
        r->db_up = up;
        pthread_mutex_unlock(&r->mu);
        free(cause);
        cause = NULL;
        if (up && spool_pending(r->spool) == 0) {
            if (!r->opts.recover || pg_writer_recover(r->writer, &cause) >= 0)
                r->recovered = 1;
            free(cause);
        }
    }
    for (;;) {
        char *cause = NULL;
        uint64_t frames = 0, ended = 0;
        if (n == 0) {
            pthread_mutex_lock(&r->mu);
            int stopping = r->stop && r->qcount == 0 && spool_pending(r->spool) == 0;
            pthread_mutex_unlock(&r->mu);
            if (stopping)
                break;
            n = gather(r, ops, max, &from_spool, &pos);
            if (n == 0)
                continue;
            r->oldest_pending_ts = ops[0].ts_us;
        }
        /* Sessions an earlier run left open are closed once its spooled ops are written. */
        if (!r->recovered && (!from_spool || pos.segment >= boot_segment)) {
            if (r->opts.recover) {
                int closed = pg_writer_recover(r->writer, &cause);
                if (closed < 0) {
                    free(cause);
                    cause = NULL;
                } else {
                    r->recovered = 1;
                }
            } else {
                r->recovered = 1;
            }
        }
        if (pg_writer_write(r->writer, ops, n, &frames, &ended, &cause) < 0) {
            pthread_mutex_lock(&r->mu);
            r->db_up = 0;
            r->db_errors++;
            int stop_now = r->stop_deadline_passed;
            pthread_mutex_unlock(&r->mu);
            if (!logged_down) {
                log_warn("recorder: %s; frames wait in memory and in the spool until "
                         "PostgreSQL is back",
                         cause);
                logged_down = 1;
            } else {
                log_debug("recorder: %s", cause);
            }
            free(cause);
            if (stop_now) {
                /* Shutting down with the database away: keep this batch on disk. */
                if (!from_spool) {
                    char *c2 = NULL;
                    if (spool_append(r->spool, ops, n, &c2) < 0) {
                        log_err("recorder: %s", c2);
                        free(c2);
                    }
                }
                n = 0;
                break;
            }
            if (!from_spool) {
                /* The batch goes to disk before anything newer may (the spiller waits while a
                 * batch from the queue is in flight), so a crash never leaves a gap in a
                 * session; the retry reads it back from the spool. */
                char *c2 = NULL;
                if (spool_append(r->spool, ops, n, &c2) == 0)
                    n = 0;
                else {
                    log_err("recorder: %s", c2);
                    free(c2);
                }
                pthread_mutex_lock(&r->mu);
                if (n == 0)
                    r->inflight = 0;
                pthread_cond_broadcast(&r->cv_spill);
                pthread_mutex_unlock(&r->mu);
            }
            time_sleep_us(RETRY_US);
            continue;
        }
        if (logged_down) {
            log_info("recorder: PostgreSQL is back; writing the frames that waited");
            logged_down = 0;
        }
        if (from_spool)
            spool_release(r->spool, &pos);
        pthread_mutex_lock(&r->mu);
        r->db_up = 1;
        r->inflight = 0;
        pthread_cond_broadcast(&r->cv_spill);
        r->committed += n;
        r->frames_written += frames;
        r->sessions_ended += ended;
        r->oldest_pending_ts = 0;
        pthread_cond_broadcast(&r->cv_drained);
        pthread_mutex_unlock(&r->mu);
        n = 0;
    }
    free(ops);
    return NULL;
}

struct recorder *recorder_new(const struct recorder_opts *opts, char **cause)
{
    struct recorder *r = xcalloc(1, sizeof *r);
    r->opts = *opts;
    if (r->opts.batch_rows <= 0)
        r->opts.batch_rows = 4000;
    if (r->opts.batch_ms <= 0)
        r->opts.batch_ms = 100;
    if (r->opts.queue_max <= 0)
        r->opts.queue_max = 262144;
    r->spool = spool_open(opts->spool_dir, cause);
    if (r->spool == NULL) {
        free(r);
        return NULL;
    }
    r->writer = pg_writer_new(opts->dsn);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv_work, NULL);
    pthread_cond_init(&r->cv_spill, NULL);
    pthread_cond_init(&r->cv_drained, NULL);
    if (pthread_create(&r->writer_thread, NULL, writer_thread, r) != 0 ||
        pthread_create(&r->spill_thread, NULL, spill_thread, r) != 0) {
        *cause = xasprintf("cannot start the recorder threads: %s", strerror(errno));
        return NULL;
    }
    return r;
}

int recorder_drain(struct recorder *r, int timeout_ms)
{
    int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cv_work);
    while (r->committed < r->pushed) {
        struct timespec ts;
        if (time_mono_us() >= deadline) {
            rc = -1;
            break;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->cv_drained, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void recorder_get_stats(struct recorder *r, struct recorder_stats *out)
{
    pthread_mutex_lock(&r->mu);
    out->pushed = r->pushed;
    out->dropped = r->dropped;
    out->frames_written = r->frames_written;
    out->sessions_started = r->sessions_started;
    out->sessions_ended = r->sessions_ended;
    out->queued = (uint64_t)r->qcount;
    out->db_up = r->db_up;
    out->db_errors = r->db_errors;
    out->lag_us = r->oldest_pending_ts ? time_now_us() - r->oldest_pending_ts : 0;
    pthread_mutex_unlock(&r->mu);
    out->spooled = spool_pending(r->spool);
}

void recorder_free(struct recorder *r, int timeout_ms)
{
    struct opblock *b, *n;
    if (r == NULL)
        return;
    if (recorder_drain(r, timeout_ms) < 0)
        log_warn("recorder: PostgreSQL did not take every frame in time; the rest stays in the "
                 "spool for the next start");
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    r->stop_deadline_passed = 1;
    pthread_cond_broadcast(&r->cv_work);
    pthread_cond_broadcast(&r->cv_spill);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->spill_thread, NULL);
    pthread_join(r->writer_thread, NULL);
    /* Whatever is still queued goes to the spool so that it is written at the next start. */
    if (r->qcount > 0) {
        struct track_op *ops = xmalloc(BLOCK_OPS * sizeof *ops);
        size_t k;
        while ((k = queue_take(r, ops, BLOCK_OPS)) > 0) {
            char *cause = NULL;
            if (spool_append(r->spool, ops, k, &cause) < 0) {
                log_err("recorder: %s", cause);
                free(cause);
                break;
            }
        }
        free(ops);
    }
    for (b = r->qhead; b; b = n) {
        n = b->next;
        free(b);
    }
    for (b = r->free_blocks; b; b = n) {
        n = b->next;
        free(b);
    }
    pg_writer_free(r->writer);
    spool_close(r->spool);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv_work);
    pthread_cond_destroy(&r->cv_spill);
    pthread_cond_destroy(&r->cv_drained);
    free(r);
}
