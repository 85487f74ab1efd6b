/* zstream.c -- streaming compression (gzip via ISA-L's igzip, xz via liblzma, zstd via
 * libzstd, or pass-through), reproducible on output; decompression is in zdec.c. */
#include "zstream.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "ctx.h"

#define ZBUF_SIZE (128u * 1024u) /* source read buffer and sink buffer */
#define XZ_PRESET 6
#define XZ_MAX_THREADS 4 /* ~140 MiB each at preset 6 */

/* ISA-L igzip level for gzip output (see msigi_zenc_new); overridable at build time only
 * to measure the others. */
#ifndef MSIGI_GZIP_LEVEL
#define MSIGI_GZIP_LEVEL 3
#endif

/* Parallel gzip: fixed chunking so the output only depends on the data. */
#define PGZ_CHUNK (256u * 1024u)
#define PGZ_DICT (32u * 1024u)
#define PGZ_MAX_THREADS 64

/* ------------------------------------------------------------------ names and ids */

static const struct {
    const char *name;
    int id;
} compressors[] = {
    { "none", MSIG_COMPRESS_NONE },           { "gzip", MSIG_COMPRESS_GZIP },
    { "lzma", MSIG_COMPRESS_LZMA },           { "zstd_fastest", MSIG_COMPRESS_ZSTD_FASTEST },
    { "zstd_fast", MSIG_COMPRESS_ZSTD_FAST }, { "zstd_better", MSIG_COMPRESS_ZSTD_BETTER },
    { "zstd_best", MSIG_COMPRESS_ZSTD_BEST },
};

int msigi_z_compression_from_name(struct msig_ctx *ctx, const char *name, int *compression)
{
    if (!name || !compression)
        return msigi_err(ctx, MSIG_E_INVALID, "compressor name or result is NULL");
    for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
        if (strcmp(name, compressors[i].name) == 0) {
            *compression = compressors[i].id;
            return 0;
        }
    }
    /* The text mender-artifact prints for an unknown id. */
    return msigi_err(ctx, MSIG_E_INVALID,
                     "compressor '%s' is not supported: invalid compressor id: %s", name, name);
}

const char *msigi_z_compression_name(int compression)
{
    for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++)
        if (compressors[i].id == compression)
            return compressors[i].name;
    return NULL;
}

int msig_compression_from_name(const char *name, int *compression)
{
    return msigi_z_compression_from_name(NULL, name, compression);
}

int msigi_z_family(int compression)
{
    switch (compression) {
    case MSIG_COMPRESS_NONE:
        return MSIGI_Z_NONE;
    case MSIG_COMPRESS_GZIP:
        return MSIGI_Z_GZIP;
    case MSIG_COMPRESS_LZMA:
        return MSIGI_Z_XZ;
    case MSIG_COMPRESS_ZSTD_FASTEST:
    case MSIG_COMPRESS_ZSTD_FAST:
    case MSIG_COMPRESS_ZSTD_BETTER:
    case MSIG_COMPRESS_ZSTD_BEST:
        return MSIGI_Z_ZSTD;
    default:
        return -1;
    }
}

const char *msigi_z_suffix(int family)
{
    switch (family) {
    case MSIGI_Z_GZIP:
        return ".gz";
    case MSIGI_Z_XZ:
        return ".xz";
    case MSIGI_Z_ZSTD:
        return ".zst";
    default:
        return "";
    }
}

static int has_suffix(const char *name, size_t n, const char *suffix)
{
    size_t s = strlen(suffix);
    return n > s && memcmp(name + n - s, suffix, s) == 0;
}

int msigi_z_family_from_name(const char *name, size_t *base_len)
{
    static const int families[] = { MSIGI_Z_GZIP, MSIGI_Z_XZ, MSIGI_Z_ZSTD };
    size_t n = name ? strlen(name) : 0;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        const char *suffix = msigi_z_suffix(families[i]);
        if (has_suffix(name, n, suffix)) {
            if (base_len)
                *base_len = n - strlen(suffix);
            return families[i];
        }
    }
    if (base_len)
        *base_len = n;
    return MSIGI_Z_NONE;
}

/* ------------------------------------------------------------------ parallel gzip */

/* The gzip encoder cuts the input into PGZ_CHUNK-byte chunks and compresses each with ISA-L
 * (isal_deflate, raw deflate) primed with the previous chunk's last 32 KiB
 * (isal_deflate_set_dict), ended with a sync flush (the last with end_of_stream), so the
 * chunks join into one deflate stream. One gzip header goes first, the CRC32 (ISA-L's
 * crc32_gzip_refl per chunk, joined with zlib's crc32_combine) and ISIZE last.
 * Chunking depends only on byte offsets, so the output is the same whatever the thread
 * count and however the caller splits its writes. With threads == 1 the chunks are
 * compressed on the caller's thread. At most `nslots` chunks are in memory. */

enum { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct pgz_slot {
    int state;
    int last;    /* end the deflate stream after this chunk */
    int err;     /* MSIG_E_* from the worker */
    uint8_t *in; /* PGZ_DICT bytes of dictionary, then the chunk */
    size_t dict_len;
    size_t len; /* chunk bytes after the dictionary */
    uint8_t *out;
    size_t out_len;
    uint32_t crc;
};

/* An ISA-L deflate stream and the level buffer its level needs, allocated once; or, for
 * portable output, a zlib deflate stream. */
struct pgz_deflater {
    struct isal_zstream *zs;
    uint8_t *level_buf;
    uint32_t level_buf_size;
    z_stream z;
    int z_init;
};

struct pgz_worker {
    struct pgz *p;
    pthread_t tid;
    struct pgz_deflater df;
    int started;
};

struct pgz {
    int level;
    int portable; /* zlib instead of ISA-L (see MSIGI_ZENC_F_PORTABLE) */
    size_t nslots;
    size_t out_cap;
    struct pgz_slot *slots;
    uint64_t seq_fill;   /* chunk being filled */
    uint64_t seq_write;  /* next chunk to write to the sink */
    uint64_t seq_queue;  /* next chunk for a worker to take */
    uint64_t seq_queued; /* chunks submitted */
    uint64_t total;      /* uncompressed bytes */
    uint32_t crc;
    int header_done;
    int nworkers;
    struct pgz_worker *workers;
    struct pgz_deflater inline_df; /* threads == 1 */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    pthread_cond_t done_cv;
    int sync_init;
    int stop;
};

/* The same chunk with zlib: same chunking, dictionary and flushes as with ISA-L. */
static void pgz_compress_zlib(z_stream *z, struct pgz_slot *s, size_t out_cap)
{
    s->err = 0;
    s->out_len = 0;
    s->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), s->in + PGZ_DICT, (uInt)s->len);
    if (deflateReset(z) != Z_OK ||
        (s->dict_len > 0 &&
         deflateSetDictionary(z, s->in + PGZ_DICT - s->dict_len, (uInt)s->dict_len) != Z_OK)) {
        s->err = MSIG_E_FAILED;
        return;
    }
    z->next_in = s->in + PGZ_DICT;
    z->avail_in = (uInt)s->len;
    z->next_out = s->out;
    z->avail_out = (uInt)out_cap;
    int zr = deflate(z, s->last ? Z_FINISH : Z_SYNC_FLUSH);
    /* out_cap is over deflateBound(), so one call finishes the chunk. */
    if ((s->last && zr != Z_STREAM_END) || (!s->last && zr != Z_OK) || z->avail_in != 0 ||
        z->avail_out == 0) {
        s->err = zr == Z_MEM_ERROR ? MSIG_E_NOMEM : MSIG_E_FAILED;
        return;
    }
    s->out_len = out_cap - z->avail_out;
}

/* Compresses one chunk with df (reset here). Runs on a worker or the caller's thread. */
static void pgz_compress(struct pgz_deflater *df, int level, struct pgz_slot *s, size_t out_cap)
{
    if (df->z_init) {
        pgz_compress_zlib(&df->z, s, out_cap);
        return;
    }
    struct isal_zstream *zs = df->zs;
    s->err = 0;
    s->out_len = 0;
    s->crc = crc32_gzip_refl(0, s->in + PGZ_DICT, s->len);
    isal_deflate_init(zs);
    zs->level = (uint32_t)level;
    zs->level_buf = df->level_buf;
    zs->level_buf_size = df->level_buf_size;
    zs->gzip_flag = IGZIP_DEFLATE; /* raw: the gzip wrapper is written once around all chunks */
    zs->flush = s->last ? NO_FLUSH : SYNC_FLUSH;
    zs->end_of_stream = (uint16_t)(s->last != 0);
    if (s->dict_len > 0 && isal_deflate_set_dict(zs, s->in + PGZ_DICT - s->dict_len,
                                                 (uint32_t)s->dict_len) != COMP_OK) {
        s->err = MSIG_E_FAILED;
        return;
    }
    zs->next_in = s->in + PGZ_DICT;
    zs->avail_in = (uint32_t)s->len;
    zs->next_out = s->out;
    zs->avail_out = (uint32_t)out_cap;
    /* out_cap is twice the chunk: more than deflate can need, so the calls end with all
     * input taken and the flush (or the end of the stream) written. */
    for (int round = 0; round < 8; round++) {
        if (isal_deflate(zs) != COMP_OK) {
            s->err = MSIG_E_FAILED;
            return;
        }
        int st = zs->internal_state.state;
        if (zs->avail_in == 0 && (s->last ? st == ZSTATE_END : st == ZSTATE_NEW_HDR)) {
            s->out_len = out_cap - zs->avail_out;
            return;
        }
        if (zs->avail_out == 0)
            break;
    }
    s->err = MSIG_E_FAILED;
}

static void *pgz_worker_main(void *arg)
{
    struct pgz_worker *w = arg;
    struct pgz *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->seq_queue == p->seq_queued)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stop)
            break;
        struct pgz_slot *s = &p->slots[p->seq_queue % p->nslots];
        p->seq_queue++;
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&p->mu);
        pgz_compress(&w->df, p->level, s, p->out_cap);
        pthread_mutex_lock(&p->mu);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pgz_deflater_free(struct pgz_deflater *df)
{
    if (df->z_init)
        deflateEnd(&df->z);
    df->z_init = 0;
    msigi_free(df->zs);
    msigi_free(df->level_buf);
    df->zs = NULL;
    df->level_buf = NULL;
}

/* The level buffer ISA-L needs for a level. Level 3: the "medium" size (about 200 KiB)
 * gave 0.2-0.3% smaller output than the default "large" one at the same speed, as measured
 * on an ext4 image and on /usr/lib files. */
static uint32_t pgz_level_buf_size(int level)
{
    switch (level) {
    case 0:
        return 0;
    case 1:
        return ISAL_DEF_LVL1_DEFAULT;
    case 2:
        return ISAL_DEF_LVL2_DEFAULT;
    default:
        return ISAL_DEF_LVL3_MEDIUM;
    }
}

/* zlib level of the portable gzip output. */
#define PGZ_PORTABLE_ZLIB_LEVEL 6

static int pgz_deflater_init(struct pgz_deflater *df, int level, int portable)
{
    if (portable) {
        /* Raw deflate (-15): the gzip wrapper is written once around all chunks. */
        if (deflateInit2(&df->z, PGZ_PORTABLE_ZLIB_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK)
            return -1;
        df->z_init = 1;
        return 0;
    }
    df->level_buf_size = pgz_level_buf_size(level);
    df->zs = msigi_calloc(1, sizeof(*df->zs));
    df->level_buf = df->level_buf_size ? msigi_malloc(df->level_buf_size) : NULL;
    if (!df->zs || (df->level_buf_size && !df->level_buf))
        return -1;
    return 0;
}

static void pgz_free(struct pgz *p)
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
        pgz_deflater_free(&p->workers[i].df);
    }
    pgz_deflater_free(&p->inline_df);
    if (p->sync_init) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->work_cv);
        pthread_cond_destroy(&p->done_cv);
    }
    for (size_t i = 0; p->slots && i < p->nslots; i++) {
        msigi_free(p->slots[i].in);
        msigi_free(p->slots[i].out);
    }
    msigi_free(p->slots);
    msigi_free(p->workers);
    msigi_free(p);
}

static int pgz_new(struct msig_ctx *ctx, int level, int threads, int portable, struct pgz **out)
{
    int rc = MSIG_E_NOMEM;
    struct pgz *p = msigi_calloc(1, sizeof(*p));
    *out = NULL;
    if (!p)
        goto nomem;
    p->level = level;
    p->portable = portable;
    p->nworkers = threads > 1 ? threads : 0;
    p->nslots = threads > 1 ? (size_t)threads * 2 + 1 : 2;
    p->slots = msigi_calloc(p->nslots, sizeof(*p->slots));
    if (!p->slots)
        goto nomem;
    /* Twice the chunk is more than any deflate encoding of it (at most 15 bits a byte plus
     * block headers). */
    p->out_cap = 2 * PGZ_CHUNK + 4096;
    if (p->nworkers == 0) {
        if (pgz_deflater_init(&p->inline_df, level, portable) != 0)
            goto nomem;
    } else {
        p->workers = msigi_calloc((size_t)p->nworkers, sizeof(*p->workers));
        if (!p->workers)
            goto nomem;
        for (int i = 0; i < p->nworkers; i++) {
            p->workers[i].p = p;
            if (pgz_deflater_init(&p->workers[i].df, level, portable) != 0)
                goto nomem;
        }
    }
    for (size_t i = 0; i < p->nslots; i++) {
        p->slots[i].in = msigi_malloc(PGZ_DICT + PGZ_CHUNK);
        p->slots[i].out = msigi_malloc(p->out_cap);
        if (!p->slots[i].in || !p->slots[i].out)
            goto nomem;
    }
    p->slots[0].state = SLOT_FILLING;
    p->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    if (p->nworkers > 0) {
        if (pthread_mutex_init(&p->mu, NULL) != 0)
            goto nomem;
        if (pthread_cond_init(&p->work_cv, NULL) != 0) {
            pthread_mutex_destroy(&p->mu);
            goto nomem;
        }
        if (pthread_cond_init(&p->done_cv, NULL) != 0) {
            pthread_cond_destroy(&p->work_cv);
            pthread_mutex_destroy(&p->mu);
            goto nomem;
        }
        p->sync_init = 1;
        for (int i = 0; i < p->nworkers; i++) {
            int e = pthread_create(&p->workers[i].tid, NULL, pgz_worker_main, &p->workers[i]);
            if (e != 0) {
                rc = msigi_err(ctx, MSIG_E_FAILED, "cannot start gzip worker thread %d: %s", i + 1,
                               strerror(e));
                goto out;
            }
            p->workers[i].started = 1;
        }
    }
    *out = p;
    p = NULL; /* transferred */
    rc = 0;
    goto out;
nomem:
    rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory starting the gzip encoder");
out:
    pgz_free(p);
    return rc;
}

/* ------------------------------------------------------------------ encoder */

struct msigi_zenc {
    struct msig_ctx *ctx;
    int family;
    int level;
    msig_write_fn *sink;
    void *sink_user;
    int err; /* sticky error */
    int finished;
    uint8_t *out; /* ZBUF_SIZE */
    struct pgz *pgz;
    lzma_stream x;
    int x_init;
    ZSTD_CCtx *zc;
};

static int enc_sink(struct msigi_zenc *e, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    errno = 0;
    if (e->sink(e->sink_user, buf, len) != 0) {
        int en = errno;
        e->err = msigi_err(e->ctx, MSIG_E_IO, "writing compressed data failed: %s",
                           en ? strerror(en) : "sink error");
        return e->err;
    }
    return 0;
}

static int enc_fail(struct msigi_zenc *e, int code, const char *what)
{
    e->err = msigi_err(e->ctx, code, "%s", what);
    return e->err;
}

/* Writes the finished chunks in order; with wait, blocks until chunk seq_write is done. */
static int pgz_drain(struct msigi_zenc *e, int wait)
{
    struct pgz *p = e->pgz;
    while (p->seq_write < p->seq_queued) {
        struct pgz_slot *s = &p->slots[p->seq_write % p->nslots];
        if (p->nworkers > 0) {
            pthread_mutex_lock(&p->mu);
            while (wait && s->state != SLOT_DONE)
                pthread_cond_wait(&p->done_cv, &p->mu);
            int st = s->state;
            pthread_mutex_unlock(&p->mu);
            if (st != SLOT_DONE)
                return 0;
        }
        if (s->err)
            return enc_fail(e, s->err,
                            s->err == MSIG_E_NOMEM ? "out of memory in the gzip encoder"
                                                   : "gzip compression of a chunk failed");
        if (!p->header_done) {
            /* RFC 1952 header: deflate, no flags, mtime 0, XFL 0, OS 255. */
            static const uint8_t hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };
            if (enc_sink(e, hdr, sizeof(hdr)) != 0)
                return e->err;
            p->header_done = 1;
        }
        if (enc_sink(e, s->out, s->out_len) != 0)
            return e->err;
        p->crc = (uint32_t)crc32_combine(p->crc, s->crc, (z_off_t)s->len);
        p->seq_write++;
        s->state = SLOT_FREE; /* only the caller's thread touches FREE/FILLING slots */
    }
    return 0;
}

/* Queues the chunk being filled and starts the next one. */
static int pgz_submit(struct msigi_zenc *e, int last)
{
    struct pgz *p = e->pgz;
    struct pgz_slot *s = &p->slots[p->seq_fill % p->nslots];
    s->last = last;
    if (p->nworkers == 0) {
        pgz_compress(&p->inline_df, p->level, s, p->out_cap);
        s->state = SLOT_DONE;
        p->seq_queued++;
    } else {
        pthread_mutex_lock(&p->mu);
        s->state = SLOT_QUEUED;
        p->seq_queued++;
        pthread_cond_signal(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
    }
    p->seq_fill++;
    if (pgz_drain(e, 0) != 0)
        return e->err;
    if (last)
        return 0;
    /* The next slot must have been written out before it is reused. */
    while (p->seq_fill - p->seq_write >= p->nslots)
        if (pgz_drain(e, 1) != 0)
            return e->err;
    struct pgz_slot *n = &p->slots[p->seq_fill % p->nslots];
    /* Dictionary: the last 32 KiB of the previous chunk (still in its slot, read only). */
    n->dict_len = s->len < PGZ_DICT ? s->len : PGZ_DICT;
    memcpy(n->in + PGZ_DICT - n->dict_len, s->in + PGZ_DICT + s->len - n->dict_len, n->dict_len);
    n->len = 0;
    n->state = SLOT_FILLING;
    return 0;
}

static int pgz_write(struct msigi_zenc *e, const uint8_t *buf, size_t len)
{
    struct pgz *p = e->pgz;
    while (len > 0) {
        struct pgz_slot *s = &p->slots[p->seq_fill % p->nslots];
        if (s->len == PGZ_CHUNK) {
            /* Only now is it known that this full chunk is not the last one. */
            if (pgz_submit(e, 0) != 0)
                return e->err;
            continue;
        }
        size_t n = PGZ_CHUNK - s->len;
        if (n > len)
            n = len;
        memcpy(s->in + PGZ_DICT + s->len, buf, n);
        s->len += n;
        p->total += n;
        buf += n;
        len -= n;
    }
    return 0;
}

static int pgz_finish(struct msigi_zenc *e)
{
    struct pgz *p = e->pgz;
    if (pgz_submit(e, 1) != 0)
        return e->err;
    while (p->seq_write < p->seq_queued)
        if (pgz_drain(e, 1) != 0)
            return e->err;
    uint8_t trailer[8];
    uint32_t isize = (uint32_t)(p->total & 0xffffffffu);
    for (int i = 0; i < 4; i++) {
        trailer[i] = (uint8_t)(p->crc >> (8 * i));
        trailer[4 + i] = (uint8_t)(isize >> (8 * i));
    }
    return enc_sink(e, trailer, sizeof(trailer));
}

static int xz_run(struct msigi_zenc *e, const uint8_t *buf, size_t len, lzma_action action)
{
    lzma_stream *x = &e->x;
    x->next_in = buf;
    x->avail_in = len;
    for (;;) {
        x->next_out = e->out;
        x->avail_out = ZBUF_SIZE;
        lzma_ret lr = lzma_code(x, action);
        if (lr != LZMA_OK && lr != LZMA_STREAM_END)
            return enc_fail(e, lr == LZMA_MEM_ERROR ? MSIG_E_NOMEM : MSIG_E_FAILED,
                            "xz compression failed");
        if (enc_sink(e, e->out, ZBUF_SIZE - x->avail_out) != 0)
            return e->err;
        if (action == LZMA_FINISH ? lr == LZMA_STREAM_END : (x->avail_in == 0 && x->avail_out != 0))
            return 0;
    }
}

static int zstd_run(struct msigi_zenc *e, const uint8_t *buf, size_t len, ZSTD_EndDirective op)
{
    ZSTD_inBuffer in = { buf, len, 0 };
    for (;;) {
        ZSTD_outBuffer out = { e->out, ZBUF_SIZE, 0 };
        size_t r = ZSTD_compressStream2(e->zc, &out, &in, op);
        if (ZSTD_isError(r)) {
            e->err = msigi_err(e->ctx,
                               ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? MSIG_E_NOMEM
                                                                                    : MSIG_E_FAILED,
                               "zstd compression failed: %s", ZSTD_getErrorName(r));
            return e->err;
        }
        if (enc_sink(e, e->out, out.pos) != 0)
            return e->err;
        if (op == ZSTD_e_end ? r == 0 : in.pos == in.size)
            return 0;
    }
}

static int zstd_level(int compression)
{
    switch (compression) {
    case MSIG_COMPRESS_ZSTD_FASTEST:
        return 1;
    case MSIG_COMPRESS_ZSTD_FAST:
        return 3;
    case MSIG_COMPRESS_ZSTD_BETTER:
        return 7;
    default:
        return 11;
    }
}

int msigi_zenc_new(struct msig_ctx *ctx, int compression, int threads, msig_write_fn *sink,
                   void *sink_user, struct msigi_zenc **out)
{
    return msigi_zenc_new_flags(ctx, compression, threads, 0, sink, sink_user, out);
}

int msigi_zenc_new_flags(struct msig_ctx *ctx, int compression, int threads, uint32_t flags,
                         msig_write_fn *sink, void *sink_user, struct msigi_zenc **out)
{
    int rc = MSIG_E_FAILED;
    struct msigi_zenc *e = NULL;
    if (!out || !sink)
        return msigi_err(ctx, MSIG_E_INVALID, "encoder needs a sink and a result pointer");
    *out = NULL;
    int family = msigi_z_family(compression);
    if (family < 0)
        return msigi_err(ctx, MSIG_E_INVALID, "unknown compression id %d", compression);
    if (threads < 1)
        threads = 1;
    if (threads > PGZ_MAX_THREADS)
        threads = PGZ_MAX_THREADS;
    e = msigi_calloc(1, sizeof(*e));
    if (!e || !(e->out = msigi_malloc(ZBUF_SIZE))) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory making an encoder");
        goto out;
    }
    e->ctx = ctx;
    e->family = family;
    e->sink = sink;
    e->sink_user = sink_user;
    switch (family) {
    case MSIGI_Z_GZIP:
        /* ISA-L igzip level 3, measured against mender-artifact 3.9.0 (klauspost pgzip,
         * default level) with 2 threads on a 256 MiB ext4 image: 0.79 s wall / 1.07 s CPU
         * against 1.23 s / 1.86 s, output 2.6% larger (3.5% on /usr/lib files). Levels 1
         * and 2 are 10-15% faster but 5-7% larger than mender-artifact; zlib level 3 (the
         * previous encoder) was as large and 2.6x the CPU. No ISA-L level reaches
         * mender-artifact's size. ISA-L picks SSE, AVX2 or AVX-512 code at run time, so
         * byte-identical output on every machine is only promised by the portable (zlib)
         * path that reproducible writes use. */
        rc = pgz_new(ctx, MSIGI_GZIP_LEVEL, threads, (flags & MSIGI_ZENC_F_PORTABLE) != 0, &e->pgz);
        if (rc != 0)
            goto out;
        break;
    case MSIGI_Z_XZ: {
        /* mender-artifact writes xz -9 (64 MiB dictionary); preset 6 (8 MiB dictionary)
         * is much faster and needs ~94 MiB instead of ~674 MiB to compress, and any xz
         * decoder reads it. With threads the multi-threaded encoder cuts the input into
         * independent blocks (3 x dictionary = 24 MiB); its output depends on the block size
         * only, not on the thread count. */
        lzma_stream init = LZMA_STREAM_INIT;
        e->x = init;
        lzma_ret lr;
        if (threads > 1) {
            lzma_mt mt;
            memset(&mt, 0, sizeof(mt));
            mt.threads = (uint32_t)(threads > XZ_MAX_THREADS ? XZ_MAX_THREADS : threads);
            mt.block_size = 0; /* the preset's default */
            mt.timeout = 0;
            mt.preset = XZ_PRESET;
            mt.check = LZMA_CHECK_CRC64;
            lr = lzma_stream_encoder_mt(&e->x, &mt);
        } else {
            lr = lzma_easy_encoder(&e->x, XZ_PRESET, LZMA_CHECK_CRC64);
        }
        if (lr != LZMA_OK) {
            rc = msigi_err(ctx, lr == LZMA_MEM_ERROR ? MSIG_E_NOMEM : MSIG_E_FAILED,
                           "cannot start the xz encoder (error %d)", (int)lr);
            goto out;
        }
        e->x_init = 1;
        break;
    }
    case MSIGI_Z_ZSTD:
        e->zc = ZSTD_createCCtx();
        if (!e->zc) {
            rc = msigi_err(ctx, MSIG_E_NOMEM, "cannot start the zstd encoder");
            goto out;
        }
        if (ZSTD_isError(
                ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel, zstd_level(compression))) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(e->zc, ZSTD_c_checksumFlag, 1))) {
            rc = msigi_err(ctx, MSIG_E_FAILED, "cannot set the zstd encoder parameters");
            goto out;
        }
        /* Workers when libzstd has them; without, it compresses on this thread. */
        if (threads > 1)
            (void)ZSTD_CCtx_setParameter(e->zc, ZSTD_c_nbWorkers, threads - 1);
        break;
    default:
        break;
    }
    *out = e;
    e = NULL; /* transferred */
    rc = 0;
out:
    msigi_zenc_free(e);
    return rc;
}

int msigi_zenc_write(struct msigi_zenc *e, const void *buf, size_t len)
{
    if (!e)
        return MSIG_E_INVALID;
    if (e->err)
        return msigi_err(e->ctx, e->err, "write to an encoder after an error");
    if (e->finished)
        return msigi_err(e->ctx, MSIG_E_INVALID, "write to an encoder after finish");
    if (len == 0)
        return 0;
    switch (e->family) {
    case MSIGI_Z_GZIP:
        return pgz_write(e, buf, len);
    case MSIGI_Z_XZ:
        return xz_run(e, buf, len, LZMA_RUN);
    case MSIGI_Z_ZSTD:
        return zstd_run(e, buf, len, ZSTD_e_continue);
    default:
        return enc_sink(e, buf, len);
    }
}

int msigi_zenc_finish(struct msigi_zenc *e)
{
    if (!e)
        return MSIG_E_INVALID;
    if (e->err)
        return msigi_err(e->ctx, e->err, "finish of an encoder after an error");
    if (e->finished)
        return msigi_err(e->ctx, MSIG_E_INVALID, "encoder finished twice");
    e->finished = 1;
    switch (e->family) {
    case MSIGI_Z_GZIP:
        return pgz_finish(e);
    case MSIGI_Z_XZ:
        return xz_run(e, NULL, 0, LZMA_FINISH);
    case MSIGI_Z_ZSTD:
        return zstd_run(e, NULL, 0, ZSTD_e_end);
    default:
        return 0;
    }
}

void msigi_zenc_free(struct msigi_zenc *e)
{
    if (!e)
        return;
    pgz_free(e->pgz);
    if (e->x_init)
        lzma_end(&e->x);
    ZSTD_freeCCtx(e->zc);
    msigi_free(e->out);
    msigi_free(e);
}
