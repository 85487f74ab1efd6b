/* wdata.c -- stage 2 of a write: the payload files into the compressed data tar, written to
 * the scratch file. Each file is read once: every buffer goes to the hashing stage
 * (hasher.c, its own thread) and then into the tar writer and its encoder (gzip, xz and
 * zstd on their worker threads), so reading, hashing and compressing overlap. The bytes
 * hashed are the bytes compressed, so a file that changes while it is written can no longer
 * give a checksum that does not match the data; a change of its size is still an error. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "fileio.h"
#include "hasher.h"
#include "wstate.h"
#include "zenc.h"

/* Sink of the data tar's encoder: the scratch file. */
struct scratch {
    int fd;
    uint64_t off;
    int failed_errno;
};

static int scratch_sink(void *user, const void *buf, size_t len)
{
    struct scratch *sc = user;
    if (msigi_write_all(sc->fd, buf, len) != 0) {
        sc->failed_errno = errno;
        return -1;
    }
    sc->off += len;
    return 0;
}

/* Progress from the encoder (xz): the tar bytes it compressed, at most the bytes read. */
struct enc_progress {
    struct wstate *s;
    int on;
};

static void enc_progress(void *user, uint64_t in)
{
    struct enc_progress *ep = user;
    struct wstate *s = ep->s;
    msigi_progress(s->ctx, in < s->done ? in : s->done, s->total);
}

/* Opens a payload for streaming; its size goes into the tar header, so it is taken now. */
static int open_payload(struct wstate *s, struct payload *p, struct stat *st, int *fd)
{
    *fd = open(p->path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, st) != 0)
        return msigi_err(s->ctx, MSIG_E_IO, "cannot read payload file %s: %s", p->path,
                         strerror(errno));
    if (!S_ISREG(st->st_mode))
        return msigi_err(s->ctx, MSIG_E_INVALID, "payload file %s is not a regular file", p->path);
    p->size = (uint64_t)st->st_size;
    return 0;
}

/* One payload file into the data tar, hashed on the way. */
static int stream_payload(struct wstate *s, struct archive *a, struct msigi_lasink *ls,
                          struct msigi_hasher *h, int enc_reports, struct payload *p)
{
    int rc = MSIG_E_FAILED;
    int fd = -1;
    struct stat st;
    struct archive_entry *e = NULL;
    uint8_t md[32];
    if (!(e = archive_entry_new())) {
        rc = msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory streaming %s", p->path);
        goto out;
    }
    if ((rc = open_payload(s, p, &st, &fd)) != 0)
        goto out;
    archive_entry_set_pathname(e, p->base);
    msigi_wtar_file_meta(s, e, &st);
    archive_entry_set_size(e, (la_int64_t)p->size);
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        rc = msigi_wtar_fail(s, a, ls, p->base);
        goto out;
    }
    uint64_t left = p->size;
    for (;;) {
        uint8_t *buf = msigi_hasher_buf(h);
        /* Read one byte past the expected end to notice a file that grew. */
        size_t want = left < MSIGI_W_IO_BUF ? (size_t)left + 1 : MSIGI_W_IO_BUF;
        ssize_t r = msigi_w_read_full(fd, buf, want);
        if (r < 0) {
            rc = msigi_err(s->ctx, MSIG_E_IO, "cannot read payload file %s: %s", p->path,
                           strerror(errno));
            goto out;
        }
        if ((uint64_t)r > left) {
            rc = msigi_err(s->ctx, MSIG_E_IO,
                           "%s changed while writing (it grew past its size of %llu bytes)",
                           p->path, (unsigned long long)p->size);
            goto out;
        }
        if (r == 0 && left) {
            rc = msigi_err(s->ctx, MSIG_E_IO,
                           "%s changed while writing (it ended at %llu bytes, was %llu)", p->path,
                           (unsigned long long)(p->size - left), (unsigned long long)p->size);
            goto out;
        }
        if (r == 0)
            break;
        if ((rc = msigi_hasher_push(h, (size_t)r)) != 0)
            goto out;
        s->done += (uint64_t)r;
        if (!enc_reports)
            msigi_progress(s->ctx, s->done, s->total);
        if (archive_write_data(a, buf, (size_t)r) != r) {
            rc = msigi_wtar_fail(s, a, ls, p->base);
            goto out;
        }
        left -= (uint64_t)r;
    }
    if ((rc = msigi_hasher_end(h, md)) != 0)
        goto out;
    msigi_w_hex(md, 32, p->hex);
    rc = 0;
out:
    if (e)
        archive_entry_free(e);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The total for the progress callback. */
static void progress_total(struct wstate *s)
{
    struct stat st;
    s->total = 0;
    for (size_t i = 0; i < s->npl; i++)
        if (stat(s->pl[i].path, &st) == 0 && S_ISREG(st.st_mode))
            s->total += (uint64_t)st.st_size;
}

int msigi_wdata_write(struct wstate *s, int fd, uint64_t *size)
{
    struct msig_ctx *ctx = s->ctx;
    int rc = MSIG_E_FAILED;
    struct archive *a = NULL;
    struct msigi_lasink ls = { 0 };
    struct msigi_hasher *h = NULL;
    struct scratch sc = { .fd = fd };
    int threads = msig_ctx_threads(ctx);
    struct enc_progress ep = { .s = s };

    progress_total(s);
    /* With one thread everything runs here (the xz and zstd encoders still keep their one
     * worker, see zenc.h); with more, hashing gets a thread and the encoder `threads`. */
    if ((rc = msigi_hasher_new(ctx, threads > 1, MSIGI_W_IO_BUF, &h)) != 0)
        goto out;
    if ((rc = msigi_zenc_new(ctx, s->w->compression, threads, scratch_sink, &sc, &ls.enc)) != 0)
        goto out;
    ep.on = msigi_zenc_set_progress(ls.enc, enc_progress, &ep);
    if ((rc = msigi_wtar_open(s, &a, &ls)) != 0)
        goto out;
    for (size_t i = 0; i < s->npl; i++)
        if ((rc = stream_payload(s, a, &ls, h, ep.on, &s->pl[i])) != 0)
            goto out;
    if (archive_write_close(a) != ARCHIVE_OK) {
        rc = msigi_wtar_fail(s, a, &ls, "finishing the data tar");
        goto out;
    }
    if ((rc = msigi_zenc_finish(ls.enc)) != 0)
        goto out;
    *size = sc.off;
    rc = 0;
out:
    if (rc != 0 && sc.failed_errno)
        rc = msigi_err(ctx, MSIG_E_IO, "cannot write the scratch file of the compressed data: %s",
                       strerror(sc.failed_errno));
    if (a) {
        if (rc != 0)
            msigi_wtar_close_failed(a, &ls);
        archive_write_free(a);
    }
    msigi_zenc_free(ls.enc);
    msigi_hasher_free(h);
    return rc;
}
