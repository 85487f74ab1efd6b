/* rdinner.c -- an inner tar (header.tar, data/NNNN.tar) over a decoder of the current outer
 * entry: outer archive -> (hash) -> decoder -> strict tar layer -> libarchive. For data
 * entries with threads > 1, the decode stage runs the outer reads and the decoder on a worker
 * thread and hands the decompressed blocks on in order (pipe.h). */
#include "rd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static msig_ssize zsrc_read(void *user, void *buf, size_t len)
{
    struct msigi_rd_zsrc *zs = user;
    la_ssize_t n = archive_read_data(zs->rd->outer, buf, len);
    if (n < 0) {
        zs->failed = 1;
        struct msigi_rd *rd = zs->rd;
        if (!rd->src_failed) {
            const char *e = archive_error_string(rd->outer);
            snprintf(rd->outer_msg, sizeof(rd->outer_msg), "%s", e ? e : "malformed tar archive");
        }
        errno = EIO;
        return -1;
    }
    if (n > 0 && zs->md)
        EVP_DigestUpdate(zs->md, buf, (size_t)n);
    return n;
}

/* The decode stage's fill function: runs on the worker, which owns the outer stream. */
static msig_ssize dec_fill(void *user, uint8_t *buf, size_t cap, uint64_t *tag)
{
    struct msigi_rd_inner *in = user;
    msig_ssize n = msigi_zdec_read(in->dec, buf, cap);
    *tag = in->zs.rd->done;
    return n;
}

/* The outer stream belongs to the calling thread again (the decode worker has ended). */
static void stage_end(struct msigi_rd *rd)
{
    rd->octx = rd->ctx;
    rd->on_worker = 0;
}

/* The next decompressed bytes: from the decode stage, or from the decoder directly. Both give
 * the same results in the same order; the stage's errors are taken over here, in order. */
static msig_ssize inner_pull(struct msigi_rd_inner *in, const uint8_t **p)
{
    struct msigi_rd *rd = in->zs.rd;
    if (!in->pipe) {
        *p = in->buf;
        return msigi_zdec_read(in->dec, in->buf, MSIGI_RD_DECBUF);
    }
    uint64_t done = 0;
    msig_ssize n = msigi_pipe_next(in->pipe, p, &done);
    msigi_rd_progress(rd, done);
    if (n < 0 && (in->wctx.errcode || in->wctx.errbuf[0])) {
        memcpy(rd->ctx->errbuf, in->wctx.errbuf, sizeof(rd->ctx->errbuf));
        rd->ctx->errcode = in->wctx.errcode;
    }
    if (n <= 0)
        stage_end(rd);
    return n;
}

static la_ssize_t inner_read_cb(struct archive *a, void *user, const void **buf)
{
    struct msigi_rd_inner *in = user;
    const uint8_t *p = NULL;
    msig_ssize n = inner_pull(in, &p);
    if (n < 0) {
        in->dec_failed = 1;
        archive_set_error(a, EIO, "decompression failed");
        return -1;
    }
    if ((n > 0 ? msigi_tg_feed(&in->guard, p, (size_t)n) : msigi_tg_finish(&in->guard)) != 0) {
        archive_set_error(a, EINVAL, "%s", in->guard.msg);
        return -1;
    }
    *buf = p;
    return (la_ssize_t)n;
}

/* Stops the decode stage. What the worker did ahead of the calling thread is dropped: a
 * failure it met further on was not reached in stream order, as with one thread. */
static void inner_stop(struct msigi_rd_inner *in)
{
    if (!in->pipe)
        return;
    msigi_pipe_free(in->pipe);
    in->pipe = NULL;
    if (!in->dec_failed) {
        in->zs.rd->src_failed = 0;
        in->zs.failed = 0;
    }
    stage_end(in->zs.rd);
}

void msigi_rd_inner_close(struct msigi_rd_inner *in)
{
    inner_stop(in);
    if (in->a)
        archive_read_free(in->a);
    msigi_zdec_free(in->dec);
    msigi_tg_free(&in->guard);
    msigi_free(in->buf);
    msigi_free(in->obuf);
    memset(in, 0, sizeof(*in));
}

/* Starts the decode stage: from here until it ends, the worker owns the outer stream and the
 * decoder, whose errors go to in->wctx. */
static int inner_stage(struct msigi_rd *rd, struct msigi_rd_inner *in, const char *what)
{
    int rc = msigi_zdec_new_threads(&in->wctx, rd->zfamily, rd->threads, zsrc_read, &in->zs, what,
                                    &in->dec);
    if (rc == 0) {
        rd->octx = &in->wctx;
        rd->on_worker = 1;
        rc = msigi_pipe_start(&in->wctx, dec_fill, in, MSIGI_RD_DEC_SLOTS, MSIGI_RD_DECBUF,
                              &in->pipe);
        if (rc)
            stage_end(rd);
    }
    if (rc) {
        memcpy(rd->ctx->errbuf, in->wctx.errbuf, sizeof(rd->ctx->errbuf));
        rd->ctx->errcode = in->wctx.errcode;
    }
    return rc;
}

/* staged: run decompression on a worker thread (data entries, threads > 1). */
int msigi_rd_inner_open(struct msigi_rd *rd, struct msigi_rd_inner *in, const char *what,
                        EVP_MD_CTX *md, int staged)
{
    memset(in, 0, sizeof(*in));
    msigi_tg_init(&in->guard);
    in->zs.rd = rd;
    in->zs.md = md;
    in->buf = msigi_malloc(MSIGI_RD_DECBUF);
    in->obuf = msigi_malloc(MSIGI_RD_IOBUF);
    if (!in->buf || !in->obuf)
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory reading %s", what);
    int rc = staged && rd->threads > 1
                 ? inner_stage(rd, in, what)
                 : msigi_zdec_new(rd->ctx, rd->zfamily, zsrc_read, &in->zs, what, &in->dec);
    if (rc)
        return rc;
    in->a = archive_read_new();
    if (!in->a || archive_read_support_format_tar(in->a) != ARCHIVE_OK)
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "cannot set up the tar reader for %s", what);
    if (archive_read_open(in->a, in, NULL, inner_read_cb, NULL) != ARCHIVE_OK) {
        if (in->dec_failed)
            return msigi_rd_inner_error(rd, in, what, "opening");
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s is not a tar archive: %s", rd->name, what,
                         archive_error_string(in->a));
    }
    return 0;
}

/* Error from the inner archive: prefer the decoder's or the outer stream's own message. */
int msigi_rd_inner_error(struct msigi_rd *rd, struct msigi_rd_inner *in, const char *what,
                         const char *doing)
{
    inner_stop(in);
    /* A failure of the outer stream counts once the decoder has passed it on (dec_failed):
     * the xz decoder hands out what it decoded before it first, whatever the threads. */
    if (rd->src_failed && in->dec_failed)
        return rd->ctx->errcode ? rd->ctx->errcode : MSIG_E_IO;
    if (in->zs.failed && in->dec_failed)
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s", rd->name, what, rd->outer_msg);
    if (in->dec_failed)
        return msigi_err_prefix(
            rd->ctx, msigi_zdec_error(in->dec) ? msigi_zdec_error(in->dec) : MSIG_E_FORMAT, "%s",
            rd->name);
    const char *e = archive_error_string(in->a);
    return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: %s: %s", rd->name, what, doing,
                     e ? e : "malformed tar archive");
}

/* After the inner tar's end: the compressed stream must end cleanly, with nothing after it. */
int msigi_rd_inner_drain(struct msigi_rd *rd, struct msigi_rd_inner *in, const char *what)
{
    for (;;) {
        const uint8_t *p = NULL;
        msig_ssize n = inner_pull(in, &p);
        if (n < 0) {
            in->dec_failed = 1;
            return msigi_rd_inner_error(rd, in, what, "draining");
        }
        if (n == 0)
            return 0;
        for (msig_ssize i = 0; i < n; i++) {
            if (p[i] != 0)
                return msigi_err(rd->ctx, MSIG_E_FORMAT,
                                 "%s: %s has data after the end of its tar archive", rd->name,
                                 what);
        }
    }
}

int msigi_rd_inner_read_small(struct msigi_rd *rd, struct msigi_rd_inner *in,
                              struct archive_entry *e, const char *what, uint8_t **out,
                              size_t *out_len)
{
    const char *name = archive_entry_pathname(e);
    la_int64_t size = archive_entry_size(e);
    *out = NULL;
    *out_len = 0;
    if (size < 0 || (uint64_t)size > MSIGI_RD_MAX_JSON_BYTES)
        return msigi_err(rd->ctx, MSIG_E_LIMIT,
                         "%s: %s: '%s' is %lld bytes, more than the "
                         "limit of %u",
                         rd->name, what, name, (long long)size, MSIGI_RD_MAX_JSON_BYTES);
    uint8_t *buf = msigi_malloc((size_t)size + 1);
    if (!buf)
        return msigi_err(rd->ctx, MSIG_E_NOMEM, "out of memory");
    la_ssize_t r = msigi_rd_read_exact(in->a, buf, (size_t)size);
    if (r < 0) {
        msigi_free(buf);
        return msigi_rd_inner_error(rd, in, what, "reading");
    }
    size_t got = (size_t)r;
    if (got != (size_t)size) {
        msigi_free(buf);
        return msigi_err(rd->ctx, MSIG_E_FORMAT, "%s: %s: '%s' is truncated", rd->name, what, name);
    }
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return 0;
}
