/* zenc.c -- the encoders (see zenc.h): one function per family for each step. */
#include "zenc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lzma.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "ctx.h"
#include "pgzip.h"
#include "zstream.h"

#define ZBUF_SIZE (128u * 1024u) /* sink buffer of xz and zstd */
#define MAX_THREADS 64

struct msigi_zenc {
    struct msig_ctx *ctx;
    int family;
    msig_write_fn *sink;
    void *sink_user;
    int err; /* sticky error */
    int finished;
    uint8_t *out; /* ZBUF_SIZE, xz and zstd */
    struct msigi_pgz *pgz;
    lzma_stream x;
    int x_init;
    ZSTD_CCtx *zc;
    void (*progress)(void *user, uint64_t in);
    void *progress_user;
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

/* ------------------------------------------------------------------ xz */

/* liblzma's multi-threaded encoder for every thread count, so that the input is always cut
 * into MSIGI_XZ_BLOCK blocks: the bytes do not depend on the thread count, and a reader can
 * decode the blocks in parallel. mender-artifact writes xz -9 (64 MiB dictionary, about
 * 674 MiB to compress). Measured on a full 24 MiB ext4 image: preset 6 in 12 MiB blocks is
 * 1.3% larger than xz -9 (8 MiB blocks: 3.3%, 6 MiB: 8.3%); nice_len 48 instead of 64 takes
 * 15% less time for 0.2% more (nice_len 32: 3.2% more). */
static int xz_start(struct msigi_zenc *e, int threads)
{
    lzma_stream init = LZMA_STREAM_INIT;
    lzma_mt mt;
    lzma_options_lzma opt;
    e->x = init;
    if (lzma_lzma_preset(&opt, MSIGI_XZ_PRESET))
        return msigi_err(e->ctx, MSIG_E_FAILED, "liblzma has no preset %d", MSIGI_XZ_PRESET);
    opt.nice_len = MSIGI_XZ_NICE_LEN;
    lzma_filter filters[] = { { LZMA_FILTER_LZMA2, &opt }, { LZMA_VLI_UNKNOWN, NULL } };
    memset(&mt, 0, sizeof(mt));
    mt.threads = (uint32_t)(threads > MSIGI_XZ_MAX_THREADS ? MSIGI_XZ_MAX_THREADS : threads);
    mt.block_size = MSIGI_XZ_BLOCK;
    mt.timeout = MSIGI_XZ_PROGRESS_MS; /* lzma_code returns then, for progress; no effect on
                                        * the bytes */
    mt.filters = filters;
    mt.check = LZMA_CHECK_CRC64;
    lzma_ret lr = lzma_stream_encoder_mt(&e->x, &mt);
    if (lr != LZMA_OK)
        return msigi_err(e->ctx, lr == LZMA_MEM_ERROR ? MSIG_E_NOMEM : MSIG_E_FAILED,
                         "cannot start the xz encoder with %u threads (liblzma error %d)",
                         mt.threads, (int)lr);
    e->x_init = 1;
    return 0;
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
        if (lr != LZMA_OK && lr != LZMA_STREAM_END) {
            e->err = msigi_err(e->ctx, lr == LZMA_MEM_ERROR ? MSIG_E_NOMEM : MSIG_E_FAILED,
                               "xz compression failed (liblzma error %d)", (int)lr);
            return e->err;
        }
        if (enc_sink(e, e->out, ZBUF_SIZE - x->avail_out) != 0)
            return e->err;
        if (e->progress) {
            uint64_t in = 0, out = 0;
            lzma_get_progress(x, &in, &out);
            e->progress(e->progress_user, in);
        }
        if (action == LZMA_FINISH ? lr == LZMA_STREAM_END : (x->avail_in == 0 && x->avail_out != 0))
            return 0;
    }
}

/* ------------------------------------------------------------------ zstd */

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

/* Always at least one libzstd worker: libzstd cuts the input into jobs of ZSTD_c_jobSize
 * in its multi-threaded mode only, and that layout is the same for every worker count. */
static int zstd_start(struct msigi_zenc *e, int compression, int threads)
{
    if (!(e->zc = ZSTD_createCCtx()))
        return msigi_err(e->ctx, MSIG_E_NOMEM, "cannot start the zstd encoder");
    size_t r;
    if (ZSTD_isError(
            r = ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel, zstd_level(compression))) ||
        ZSTD_isError(r = ZSTD_CCtx_setParameter(e->zc, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(r = ZSTD_CCtx_setParameter(e->zc, ZSTD_c_nbWorkers, threads)) ||
        ZSTD_isError(r = ZSTD_CCtx_setParameter(e->zc, ZSTD_c_jobSize, MSIGI_ZSTD_JOB)))
        return msigi_err(e->ctx, MSIG_E_FAILED,
                         "cannot set the zstd encoder parameters (level %d, %d workers): %s",
                         zstd_level(compression), threads, ZSTD_getErrorName(r));
    return 0;
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

/* ------------------------------------------------------------------ the encoder */

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
    (void)flags; /* MSIGI_ZENC_F_PORTABLE: every encoder is */
    if (!out || !sink)
        return msigi_err(ctx, MSIG_E_INVALID, "encoder needs a sink and a result pointer");
    *out = NULL;
    int family = msigi_z_family(compression);
    if (family < 0)
        return msigi_err(ctx, MSIG_E_INVALID, "unknown compression id %d", compression);
    if (threads < 1)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    e = msigi_calloc(1, sizeof(*e));
    if (!e ||
        ((family == MSIGI_Z_XZ || family == MSIGI_Z_ZSTD) && !(e->out = msigi_malloc(ZBUF_SIZE)))) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory making an encoder");
        goto out;
    }
    e->ctx = ctx;
    e->family = family;
    e->sink = sink;
    e->sink_user = sink_user;
    switch (family) {
    case MSIGI_Z_GZIP:
        rc = msigi_pgz_new(ctx, MSIGI_PGZ_LEVEL, threads, sink, sink_user, &e->pgz);
        break;
    case MSIGI_Z_XZ:
        rc = xz_start(e, threads);
        break;
    case MSIGI_Z_ZSTD:
        rc = zstd_start(e, compression, threads);
        break;
    default:
        rc = 0;
        break;
    }
    if (rc != 0)
        goto out;
    *out = e;
    e = NULL; /* transferred */
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
        return (e->err = msigi_pgz_write(e->pgz, buf, len));
    case MSIGI_Z_XZ:
        return xz_run(e, buf, len, LZMA_RUN);
    case MSIGI_Z_ZSTD:
        return zstd_run(e, buf, len, ZSTD_e_continue);
    default:
        return enc_sink(e, buf, len);
    }
}

int msigi_zenc_set_progress(struct msigi_zenc *e, void (*fn)(void *user, uint64_t in), void *user)
{
    if (!e || e->family != MSIGI_Z_XZ)
        return 0;
    e->progress = fn;
    e->progress_user = user;
    return 1;
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
        return (e->err = msigi_pgz_finish(e->pgz));
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
    msigi_pgz_free(e->pgz);
    if (e->x_init)
        lzma_end(&e->x);
    ZSTD_freeCCtx(e->zc);
    msigi_free(e->out);
    msigi_free(e);
}
