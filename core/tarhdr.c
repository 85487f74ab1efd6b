/* tarhdr.c -- tar header blocks for the outer tar, made by libarchive into memory. */
#include "tarhdr.h"

#include <errno.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "ctx.h"

struct sink {
    uint8_t *buf;
    size_t used;
    int closed; /* header captured: refuse the entry's padding and the trailer */
};

/* Collects the header blocks. Once they are captured the sink refuses further writes, so
 * closing the archive (which frees libarchive's state) stops at once instead of writing the
 * entry's data as zeros and a trailer. */
static la_ssize_t sink_write(struct archive *a, void *user, const void *data, size_t len)
{
    struct sink *s = user;
    if (s->closed) {
        archive_set_error(a, ECANCELED, "header captured");
        return -1;
    }
    if (len > MSIGI_TAR_HDR_MAX - s->used) {
        archive_set_error(a, ENOSPC, "tar header larger than %d bytes", MSIGI_TAR_HDR_MAX);
        return -1;
    }
    memcpy(s->buf + s->used, data, len);
    s->used += len;
    return (la_ssize_t)len;
}

size_t msigi_tar_pad(uint64_t size)
{
    return (size_t)((MSIGI_TAR_BLOCK - size % MSIGI_TAR_BLOCK) % MSIGI_TAR_BLOCK);
}

static int make_header(struct msig_ctx *ctx, int gnu, const char *name, uint64_t size,
                       uint32_t mode, int64_t mtime, uint8_t out[static MSIGI_TAR_HDR_MAX],
                       size_t *len)
{
    int rc = MSIG_E_FAILED;
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    struct sink sk = { out, 0, 0 };
    *len = 0;
    if (!a || !e) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory making the tar header of %s", name);
        goto out;
    }
    /* pax_restricted writes plain ustar unless the entry needs a PAX record. Unblocked
     * output (bytes per block 0) lets the header reach the buffer at once. */
    if ((gnu ? archive_write_set_format_gnutar(a) : archive_write_set_format_pax_restricted(a)) !=
            ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_open2(a, &sk, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
        rc = msigi_err(ctx, MSIG_E_FAILED, "cannot make tar header of %s: %s", name,
                       archive_error_string(a));
        goto out;
    }
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, mode & 07777);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        rc = msigi_err(ctx, MSIG_E_FAILED, "cannot make tar header of %s: %s", name,
                       archive_error_string(a));
        goto out;
    }
    if (sk.used == 0 || sk.used % MSIGI_TAR_BLOCK != 0) {
        rc = msigi_err(ctx, MSIG_E_FAILED, "tar header of %s has unexpected size %zu", name,
                       sk.used);
        goto out;
    }
    *len = sk.used;
    rc = 0;
out:
    if (e)
        archive_entry_free(e);
    if (a) {
        sk.closed = 1;
        archive_write_free(a); /* its close fails at the closed sink; state is freed */
    }
    return rc;
}

int msigi_tar_header(struct msig_ctx *ctx, const char *name, uint64_t size, uint32_t mode,
                     int64_t mtime, uint8_t out[static MSIGI_TAR_HDR_MAX], size_t *len)
{
    return make_header(ctx, 0, name, size, mode, mtime, out, len);
}

int msigi_tar_header_gnu(struct msig_ctx *ctx, const char *name, uint64_t size, uint32_t mode,
                         int64_t mtime, uint8_t out[static MSIGI_TAR_HDR_MAX], size_t *len)
{
    return make_header(ctx, 1, name, size, mode, mtime, out, len);
}
