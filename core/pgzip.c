/* pgzip.c -- parallel gzip (see pgzip.h).
 *
 * A chunk goes through FREE -> FILLING (the caller copies input in) -> QUEUED -> BUSY (a
 * worker compresses it) -> DONE -> written to the sink in chunk order -> FREE. The caller's
 * thread fills, submits and writes; workers only compress. With one thread the caller
 * compresses each chunk itself when it is full.
 *
 * A slot has one buffer: the input, then (once compressed) its member. A worker compresses
 * into a buffer of its own and copies the member back over the input it no longer needs, so
 * the ring holds one buffer per slot instead of two (2 threads: 3.5 MiB instead of 5). */
#include "pgzip.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <libdeflate.h>

#include "ctx.h"

#define PGZ_MAX_THREADS 64
#define GZ_HEADER 10
#define GZ_TRAILER 8

enum { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct slot {
    int state;
    int err;      /* MSIG_E_* from the compression */
    int zero;     /* a whole chunk of zero bytes */
    int cached;   /* ... whose member is p->zero_member: nothing to compress */
    uint8_t *buf; /* out_cap bytes: len bytes of input, then out_len of member */
    size_t len;
    size_t out_len;
};

struct worker {
    struct msigi_pgz *p;
    pthread_t tid;
    struct libdeflate_compressor *c;
    uint8_t *out; /* out_cap bytes: the member being made */
    int started;
};

struct msigi_pgz {
    struct msig_ctx *ctx;
    msig_write_fn *sink;
    void *sink_user;
    int err; /* sticky */
    int finished;
    size_t nslots;
    size_t out_cap;
    struct slot *slots;
    uint64_t seq_fill;   /* chunk being filled */
    uint64_t seq_write;  /* next chunk for the sink */
    uint64_t seq_queue;  /* next chunk for a worker */
    uint64_t seq_queued; /* chunks submitted */
    int nworkers;
    struct worker *workers;
    struct libdeflate_compressor *inline_c; /* one thread */
    uint8_t *inline_out;
    /* The member of a whole chunk of zero bytes, kept from the first one compressed: the
     * free space of a filesystem image is such chunks, and libdeflate makes the same bytes
     * from the same input every time, so the output does not change. */
    uint8_t *zero_member;
    size_t zero_len;
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    pthread_cond_t done_cv;
    int sync_init;
    int stop;
};

/* One chunk into one gzip member, made in out (out_cap bytes) and copied over the chunk's
 * input. Runs on a worker or on the caller's thread. */
static void compress_chunk(struct libdeflate_compressor *c, struct slot *s, uint8_t *out,
                           size_t out_cap)
{
    static const uint8_t hdr[GZ_HEADER] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };
    memcpy(out, hdr, sizeof(hdr));
    size_t n = libdeflate_deflate_compress(c, s->buf, s->len, out + GZ_HEADER,
                                           out_cap - GZ_HEADER - GZ_TRAILER);
    if (n == 0) { /* cannot happen: out_cap is libdeflate's bound */
        s->err = MSIG_E_FAILED;
        return;
    }
    uint32_t crc = libdeflate_crc32(0, s->buf, s->len);
    uint32_t isize = (uint32_t)s->len; /* a chunk is far below 4 GiB */
    uint8_t *t = out + GZ_HEADER + n;
    for (int i = 0; i < 4; i++) {
        t[i] = (uint8_t)(crc >> (8 * i));
        t[4 + i] = (uint8_t)(isize >> (8 * i));
    }
    s->out_len = GZ_HEADER + n + GZ_TRAILER;
    memcpy(s->buf, out, s->out_len);
    s->err = 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct msigi_pgz *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->seq_queue == p->seq_queued)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stop)
            break;
        struct slot *s = &p->slots[p->seq_queue % p->nslots];
        p->seq_queue++;
        if (s->state == SLOT_DONE) /* cached: nothing to do */
            continue;
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&p->mu);
        compress_chunk(w->c, s, w->out, p->out_cap);
        pthread_mutex_lock(&p->mu);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int pgz_fail(struct msigi_pgz *p, int code, const char *what)
{
    p->err = msigi_err(p->ctx, code, "%s", what);
    return p->err;
}

/* The first member made of a zero chunk is kept for the ones after it (caller's thread). */
static int keep_zero_member(struct msigi_pgz *p, const struct slot *s)
{
    if (!s->zero || s->cached || p->zero_member)
        return 0;
    if (!(p->zero_member = msigi_malloc(s->out_len)))
        return pgz_fail(p, MSIG_E_NOMEM, "out of memory keeping a gzip member");
    memcpy(p->zero_member, s->buf, s->out_len);
    p->zero_len = s->out_len;
    return 0;
}

static int all_zero(const uint8_t *b, size_t len)
{
    return len > 0 && b[0] == 0 && memcmp(b, b + 1, len - 1) == 0;
}

/* Writes the finished members in order; with wait, blocks until member seq_write is done. */
static int drain(struct msigi_pgz *p, int wait)
{
    while (p->seq_write < p->seq_queued) {
        struct slot *s = &p->slots[p->seq_write % p->nslots];
        if (p->nworkers > 0) {
            pthread_mutex_lock(&p->mu);
            while (wait && s->state != SLOT_DONE)
                pthread_cond_wait(&p->done_cv, &p->mu);
            int st = s->state;
            /* A cached chunk no worker has passed over yet: passed over here, before its
             * slot is reused (a worker takes the slot of seq_queue, whatever it holds). */
            if (st == SLOT_DONE && s->cached && p->seq_queue == p->seq_write)
                p->seq_queue++;
            pthread_mutex_unlock(&p->mu);
            if (st != SLOT_DONE)
                return 0;
        }
        if (s->err)
            return pgz_fail(p, s->err, "gzip compression of a chunk failed");
        if (keep_zero_member(p, s) != 0)
            return p->err;
        errno = 0;
        if (p->sink(p->sink_user, s->cached ? p->zero_member : s->buf,
                    s->cached ? p->zero_len : s->out_len) != 0) {
            int e = errno;
            p->err = msigi_err(p->ctx, MSIG_E_IO, "writing compressed data failed: %s",
                               e ? strerror(e) : "sink error");
            return p->err;
        }
        p->seq_write++;
        s->state = SLOT_FREE; /* only the caller's thread touches FREE and FILLING slots */
    }
    return 0;
}

/* Queues the chunk being filled and starts the next one in a free slot. */
static int submit(struct msigi_pgz *p)
{
    struct slot *s = &p->slots[p->seq_fill % p->nslots];
    s->zero = s->len == MSIGI_PGZ_CHUNK && all_zero(s->buf, s->len);
    s->cached = s->zero && p->zero_member != NULL;
    s->err = 0;
    if (!s->cached && p->nworkers == 0)
        compress_chunk(p->inline_c, s, p->inline_out, p->out_cap);
    if (p->nworkers == 0) {
        s->state = SLOT_DONE;
        p->seq_queued++;
    } else {
        /* A cached chunk goes in the queue as done: the workers pass over it. */
        pthread_mutex_lock(&p->mu);
        s->state = s->cached ? SLOT_DONE : SLOT_QUEUED;
        p->seq_queued++;
        pthread_cond_signal(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
    }
    p->seq_fill++;
    if (drain(p, 0) != 0)
        return p->err;
    while (p->seq_fill - p->seq_write >= p->nslots)
        if (drain(p, 1) != 0)
            return p->err;
    struct slot *n = &p->slots[p->seq_fill % p->nslots];
    n->len = 0;
    n->state = SLOT_FILLING;
    return 0;
}

int msigi_pgz_write(struct msigi_pgz *p, const void *buf, size_t len)
{
    const uint8_t *b = buf;
    if (p->err)
        return msigi_err(p->ctx, p->err, "write to the gzip encoder after an error");
    while (len > 0) {
        struct slot *s = &p->slots[p->seq_fill % p->nslots];
        size_t n = MSIGI_PGZ_CHUNK - s->len;
        if (n > len)
            n = len;
        memcpy(s->buf + s->len, b, n);
        s->len += n;
        b += n;
        len -= n;
        if (s->len == MSIGI_PGZ_CHUNK && submit(p) != 0)
            return p->err;
    }
    return 0;
}

int msigi_pgz_finish(struct msigi_pgz *p)
{
    if (p->err)
        return msigi_err(p->ctx, p->err, "finish of the gzip encoder after an error");
    if (p->finished)
        return msigi_err(p->ctx, MSIG_E_INVALID, "gzip encoder finished twice");
    p->finished = 1;
    /* An empty input is one empty member: a gzip file has at least one. */
    struct slot *s = &p->slots[p->seq_fill % p->nslots];
    if ((s->len > 0 || p->seq_fill == 0) && submit(p) != 0)
        return p->err;
    while (p->seq_write < p->seq_queued)
        if (drain(p, 1) != 0)
            return p->err;
    return 0;
}

void msigi_pgz_free(struct msigi_pgz *p)
{
    if (!p)
        return;
    if (p->sync_init) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
    }
    for (int i = 0; p->workers && i < p->nworkers; i++) {
        if (p->workers[i].started)
            pthread_join(p->workers[i].tid, NULL);
        if (p->workers[i].c)
            libdeflate_free_compressor(p->workers[i].c);
        msigi_free(p->workers[i].out);
    }
    if (p->inline_c)
        libdeflate_free_compressor(p->inline_c);
    msigi_free(p->inline_out);
    if (p->sync_init) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->work_cv);
        pthread_cond_destroy(&p->done_cv);
    }
    for (size_t i = 0; p->slots && i < p->nslots; i++)
        msigi_free(p->slots[i].buf);
    msigi_free(p->slots);
    msigi_free(p->zero_member);
    msigi_free(p->workers);
    msigi_free(p);
}

static int start_workers(struct msigi_pgz *p)
{
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return MSIG_E_NOMEM;
    if (pthread_cond_init(&p->work_cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return MSIG_E_NOMEM;
    }
    if (pthread_cond_init(&p->done_cv, NULL) != 0) {
        pthread_cond_destroy(&p->work_cv);
        pthread_mutex_destroy(&p->mu);
        return MSIG_E_NOMEM;
    }
    p->sync_init = 1;
    for (int i = 0; i < p->nworkers; i++) {
        int e = pthread_create(&p->workers[i].tid, NULL, worker_main, &p->workers[i]);
        if (e != 0)
            return msigi_err(p->ctx, MSIG_E_FAILED, "cannot start gzip worker thread %d of %d: %s",
                             i + 1, p->nworkers, strerror(e));
        p->workers[i].started = 1;
    }
    return 0;
}

int msigi_pgz_new(struct msig_ctx *ctx, int level, int threads, msig_write_fn *sink,
                  void *sink_user, struct msigi_pgz **out)
{
    int rc = MSIG_E_NOMEM;
    struct msigi_pgz *p = msigi_calloc(1, sizeof(*p));
    *out = NULL;
    if (!p)
        goto nomem;
    if (threads > PGZ_MAX_THREADS)
        threads = PGZ_MAX_THREADS;
    p->ctx = ctx;
    p->sink = sink;
    p->sink_user = sink_user;
    p->nworkers = threads > 1 ? threads : 0;
    /* Two chunks per worker and the one being filled: a worker seldom waits for the caller
     * to write out an older chunk. With 2 threads (taskset -c 0,1, a 256 MiB ext4 image)
     * threads + 1 slots took 1.17 s, threads + 2 1.10 s, these 5 1.02 s, 6 1.00 s. A slot
     * and a worker's buffer are 512 KiB each: a write peaks at about 14.8 MiB (16.3 when a
     * slot had an input and an output buffer; 6 runs each, 2026-12-08). */
    p->nslots = threads > 1 ? 2 * (size_t)threads + 1 : 1;
    if (!(p->slots = msigi_calloc(p->nslots, sizeof(*p->slots))))
        goto nomem;
    if (p->nworkers == 0) {
        if (!(p->inline_c = libdeflate_alloc_compressor(level)))
            goto nomem;
        p->out_cap = libdeflate_deflate_compress_bound(p->inline_c, MSIGI_PGZ_CHUNK);
    } else {
        if (!(p->workers = msigi_calloc((size_t)p->nworkers, sizeof(*p->workers))))
            goto nomem;
        for (int i = 0; i < p->nworkers; i++) {
            p->workers[i].p = p;
            if (!(p->workers[i].c = libdeflate_alloc_compressor(level)))
                goto nomem;
        }
        p->out_cap = libdeflate_deflate_compress_bound(p->workers[0].c, MSIGI_PGZ_CHUNK);
    }
    p->out_cap += GZ_HEADER + GZ_TRAILER;
    if (p->out_cap < MSIGI_PGZ_CHUNK) /* a slot holds a whole chunk of input too */
        p->out_cap = MSIGI_PGZ_CHUNK;
    for (int i = 0; i < p->nworkers; i++)
        if (!(p->workers[i].out = msigi_malloc(p->out_cap)))
            goto nomem;
    if (p->nworkers == 0 && !(p->inline_out = msigi_malloc(p->out_cap)))
        goto nomem;
    for (size_t i = 0; i < p->nslots; i++)
        if (!(p->slots[i].buf = msigi_malloc(p->out_cap)))
            goto nomem;
    p->slots[0].state = SLOT_FILLING;
    if (p->nworkers > 0 && (rc = start_workers(p)) != 0) {
        if (rc == MSIG_E_NOMEM)
            goto nomem;
        goto out;
    }
    *out = p;
    p = NULL; /* transferred */
    rc = 0;
    goto out;
nomem:
    rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory starting the gzip encoder");
out:
    msigi_pgz_free(p);
    return rc;
}
