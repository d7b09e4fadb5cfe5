/* SPDX-License-Identifier: MIT */
/* spool: ops that wait on disk while PostgreSQL is away or slow, as numbered segment files of
 * fixed-size records under <state>/spool.  Segments survive a crash and are replayed on the next
 * start; a torn record at the end of a segment (power loss) is ignored. */
#include "store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEGMENT_OPS 65536
#define MAGIC "BTSPOOL1"

struct spool_header {
    char magic[8];
    uint32_t op_size; /* sizeof(struct track_op) of the writer: segments are not portable */
    uint32_t reserved;
};

struct spool {
    pthread_mutex_t mu;
    char *dir;
    uint64_t first_new;  /* number for the next new segment when none is open */
    uint64_t boot_first; /* first segment number of this process: older ones are from before */
    uint64_t write_seg;  /* segment being appended to (0: none open) */
    uint64_t write_count;
    int write_fd;
    uint64_t read_seg;   /* segment being read */
    uint64_t read_index; /* next op within it */
    FILE *read_fp;
    uint64_t pending;
};

static char *seg_path(const struct spool *sp, uint64_t seg)
{
    return xasprintf("%s/%012" PRIu64 ".ops", sp->dir, seg);
}

/* Counts the whole records of a segment file. */
static uint64_t seg_count(const struct spool *sp, uint64_t seg)
{
    struct stat st;
    char *p = seg_path(sp, seg);
    uint64_t n = 0;
    if (stat(p, &st) == 0 && (size_t)st.st_size >= sizeof(struct spool_header))
        n = ((uint64_t)st.st_size - sizeof(struct spool_header)) / sizeof(struct track_op);
    free(p);
    return n;
}

struct spool *spool_open(const char *dir, char **cause)
{
    struct spool *sp;
    DIR *d;
    struct dirent *de;
    uint64_t lo = UINT64_MAX, hi = 0;

    if (mkdir_p(dir, 0700) < 0) {
        *cause = xasprintf("cannot create spool directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    d = opendir(dir);
    if (d == NULL) {
        *cause = xasprintf("cannot open spool directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    sp = xcalloc(1, sizeof *sp);
    pthread_mutex_init(&sp->mu, NULL);
    sp->dir = xstrdup(dir);
    sp->write_fd = -1;
    while ((de = readdir(d)) != NULL) {
        char *end;
        uint64_t n = strtoull(de->d_name, &end, 10);
        if (end == de->d_name || strcmp(end, ".ops") != 0)
            continue;
        if (n < lo)
            lo = n;
        if (n > hi)
            hi = n;
    }
    closedir(d);
    if (lo == UINT64_MAX) {
        sp->read_seg = 1;
        sp->first_new = 1;
        sp->boot_first = 1;
    } else {
        sp->read_seg = lo;
        sp->first_new = hi + 1;
        sp->boot_first = hi + 1;
        for (uint64_t s = lo; s <= hi; s++)
            sp->pending += seg_count(sp, s);
        if (sp->pending)
            log_info("recorder: %" PRIu64 " frames and events wait in the spool from an earlier "
                     "run; they are written first",
                     sp->pending);
    }
    sp->write_seg = 0;
    return sp;
}

void spool_close(struct spool *sp)
{
    if (sp == NULL)
        return;
    if (sp->write_fd >= 0)
        close(sp->write_fd);
    if (sp->read_fp)
        fclose(sp->read_fp);
    pthread_mutex_destroy(&sp->mu);
    free(sp->dir);
    free(sp);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int open_write_segment(struct spool *sp, char **cause)
{
    struct spool_header h;
    char *p;
    uint64_t seg = sp->write_seg ? sp->write_seg + 1 : sp->first_new;
    if (sp->write_fd >= 0)
        close(sp->write_fd);
    p = seg_path(sp, seg);
    sp->write_fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (sp->write_fd < 0) {
        *cause = xasprintf("cannot create %s: %s", p, strerror(errno));
        free(p);
        return -1;
    }
    free(p);
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.op_size = sizeof(struct track_op);
    if (write_all(sp->write_fd, &h, sizeof h) < 0) {
        *cause = xasprintf("cannot write the spool: %s", strerror(errno));
        return -1;
    }
    sp->write_seg = seg;
    sp->write_count = 0;
    return 0;
}

int spool_append(struct spool *sp, const struct track_op *ops, size_t n, char **cause)
{
    int rc = 0;
    pthread_mutex_lock(&sp->mu);
    while (n > 0) {
        size_t room, k;
        if ((sp->write_fd < 0 || sp->write_count >= SEGMENT_OPS) &&
            open_write_segment(sp, cause) < 0) {
            rc = -1;
            break;
        }
        room = SEGMENT_OPS - sp->write_count;
        k = n < room ? n : room;
        if (write_all(sp->write_fd, ops, k * sizeof *ops) < 0) {
            *cause = xasprintf("cannot write the spool: %s", strerror(errno));
            rc = -1;
            break;
        }
        sp->write_count += k;
        sp->pending += k;
        ops += k;
        n -= k;
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

/* The highest segment number that may hold ops. */
static uint64_t newest_segment(const struct spool *sp)
{
    return sp->write_seg ? sp->write_seg : sp->first_new - 1;
}

/* Opens read_seg for reading at read_index; returns 0, or -1 when it does not exist. */
static int open_read_segment(struct spool *sp)
{
    struct spool_header h;
    char *p = seg_path(sp, sp->read_seg);
    sp->read_fp = fopen(p, "rbe");
    free(p);
    if (sp->read_fp == NULL)
        return -1;
    if (fread(&h, sizeof h, 1, sp->read_fp) != 1 || memcmp(h.magic, MAGIC, 8) != 0 ||
        h.op_size != sizeof(struct track_op)) {
        log_err("recorder: spool segment %" PRIu64 " is from another version; skipped",
                sp->read_seg);
        fclose(sp->read_fp);
        sp->read_fp = NULL;
        return -1;
    }
    if (sp->read_index &&
        fseeko(sp->read_fp, (off_t)(sizeof h + sp->read_index * sizeof(struct track_op)),
               SEEK_SET) < 0)
        return -1;
    return 0;
}

size_t spool_read(struct spool *sp, struct track_op *ops, size_t max, struct spool_pos *after)
{
    size_t got = 0;
    pthread_mutex_lock(&sp->mu);
    while (got < max && sp->pending > 0) {
        size_t k;
        if (sp->read_fp == NULL && open_read_segment(sp) < 0) {
            /* Missing or unusable segment: move on unless it is the one being written. */
            uint64_t lost = seg_count(sp, sp->read_seg);
            if (sp->read_seg >= newest_segment(sp))
                break;
            lost = lost > sp->read_index ? lost - sp->read_index : 0;
            sp->pending = sp->pending > lost ? sp->pending - lost : 0;
            sp->read_seg++;
            sp->read_index = 0;
            continue;
        }
        clearerr(sp->read_fp);
        k = fread(ops + got, sizeof *ops, max - got, sp->read_fp);
        got += k;
        sp->read_index += k;
        sp->pending -= k < sp->pending ? k : sp->pending;
        if (k == 0) {
            /* End of this segment: if a newer one exists, continue there. */
            if (sp->read_seg >= newest_segment(sp))
                break;
            fclose(sp->read_fp);
            sp->read_fp = NULL;
            sp->read_seg++;
            sp->read_index = 0;
        }
    }
    after->segment = sp->read_seg;
    after->index = sp->read_index;
    pthread_mutex_unlock(&sp->mu);
    return got;
}

void spool_release(struct spool *sp, const struct spool_pos *pos)
{
    DIR *d;
    struct dirent *de;
    pthread_mutex_lock(&sp->mu);
    d = opendir(sp->dir);
    while (d && (de = readdir(d)) != NULL) {
        char *end;
        uint64_t n = strtoull(de->d_name, &end, 10);
        if (end == de->d_name || strcmp(end, ".ops") != 0 || n >= pos->segment)
            continue;
        char *p = seg_path(sp, n);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    /* The segment being read is fully consumed and nothing else is pending: reset it too. */
    if (sp->pending == 0 && sp->read_seg == sp->write_seg && sp->write_fd >= 0 &&
        pos->segment == sp->read_seg && pos->index == sp->write_count) {
        char *p = seg_path(sp, sp->write_seg);
        close(sp->write_fd);
        sp->write_fd = -1;
        if (sp->read_fp)
            fclose(sp->read_fp);
        sp->read_fp = NULL;
        unlink(p);
        free(p);
        sp->read_seg = sp->write_seg + 1;
        sp->read_index = 0;
        sp->first_new = sp->write_seg + 1;
        sp->write_seg = 0;
    }
    pthread_mutex_unlock(&sp->mu);
}

uint64_t spool_pending(struct spool *sp)
{
    uint64_t n;
    pthread_mutex_lock(&sp->mu);
    n = sp->pending;
    pthread_mutex_unlock(&sp->mu);
    return n;
}

uint64_t spool_first_new_segment(struct spool *sp)
{
    return sp->boot_first;
}
