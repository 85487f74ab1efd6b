/* wouter.c -- stage 4 of a write: the manifest(s), then the outer tar, written by hand
 * (tarhdr.h): version, manifest, manifest.sig, manifest-augment, header(s), and the data
 * entry, whose compressed bytes are copied from the scratch file of stage 2. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ctx.h"
#include "fileio.h"
#include "tarhdr.h"
#include "wstate.h"

static const uint8_t ZEROS[2 * MSIGI_TAR_BLOCK];

static int sha256_hex(struct msig_ctx *ctx, const void *buf, size_t len, char hex[65])
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return msigi_err(ctx, MSIG_E_FAILED, "SHA-256 failed");
    msigi_w_hex(md, 32, hex);
    return 0;
}

static int append_line(struct msig_ctx *ctx, char **buf, size_t *len, const char *hex,
                       const char *name)
{
    size_t add = strlen(hex) + 2 + strlen(name) + 1;
    char *n = msigi_realloc(*buf, *len + add + 1);
    if (!n)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory building the manifest");
    *buf = n;
    snprintf(n + *len, add + 1, "%s  %s\n", hex, name);
    *len += add;
    return 0;
}

int msigi_wouter_manifests(struct wstate *s, const char *version, size_t version_len)
{
    int rc;
    char hex[65], name[64];
    for (size_t i = 0; i < s->nmain; i++) {
        char *n = msigi_malloc(strlen(s->pl[i].base) + 11);
        if (!n)
            return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory building the manifest");
        sprintf(n, "data/0000/%s", s->pl[i].base);
        rc = append_line(s->ctx, &s->manifest, &s->manifest_len, s->pl[i].hex, n);
        msigi_free(n);
        if (rc != 0)
            return rc;
    }
    snprintf(name, sizeof(name), "header.tar%s", s->ext);
    if ((rc = sha256_hex(s->ctx, s->hdr.buf, s->hdr.len, hex)) != 0 ||
        (rc = append_line(s->ctx, &s->manifest, &s->manifest_len, hex, name)) != 0 ||
        (rc = sha256_hex(s->ctx, version, version_len, hex)) != 0 ||
        (rc = append_line(s->ctx, &s->manifest, &s->manifest_len, hex, "version")) != 0)
        return rc;
    if (!s->w->aug_type)
        return 0;
    for (size_t i = s->nmain; i < s->npl; i++) {
        char *n = msigi_malloc(strlen(s->pl[i].base) + 11);
        if (!n)
            return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory building the manifest");
        sprintf(n, "data/0000/%s", s->pl[i].base);
        rc = append_line(s->ctx, &s->manifest_aug, &s->manifest_aug_len, s->pl[i].hex, n);
        msigi_free(n);
        if (rc != 0)
            return rc;
    }
    snprintf(name, sizeof(name), "header-augment.tar%s", s->ext);
    if ((rc = sha256_hex(s->ctx, s->hdr_aug.buf, s->hdr_aug.len, hex)) != 0 ||
        (rc = append_line(s->ctx, &s->manifest_aug, &s->manifest_aug_len, hex, name)) != 0)
        return rc;
    return 0;
}

/* The outer tar being written. */
struct out {
    struct msig_ctx *ctx;
    int fd;
    uint64_t off;
    const char *what; /* output name for messages */
};

static int out_write(struct out *o, const void *buf, size_t len)
{
    if (msigi_write_all(o->fd, buf, len) != 0)
        return msigi_err(o->ctx, MSIG_E_IO, "cannot write %s: %s", o->what, strerror(errno));
    o->off += len;
    return 0;
}

static int out_entry(struct out *o, const char *name, const void *data, size_t len, uint32_t mode,
                     int64_t mtime)
{
    uint8_t hdr[MSIGI_TAR_HDR_MAX];
    size_t hlen = 0;
    int rc = msigi_tar_header(o->ctx, name, len, mode, mtime, hdr, &hlen);
    if (rc != 0 || (rc = out_write(o, hdr, hlen)) != 0 || (rc = out_write(o, data, len)) != 0)
        return rc;
    return out_write(o, ZEROS, msigi_tar_pad(len));
}

/* The data entry: its header, then the compressed data tar copied from the scratch file. */
static int data_entry(struct wstate *s, struct out *o, int64_t mtime, int data_fd, uint64_t size)
{
    struct msig_ctx *ctx = s->ctx;
    char name[32];
    uint8_t hdr[MSIGI_TAR_HDR_MAX];
    size_t hlen = 0;
    int rc;

    snprintf(name, sizeof(name), "data/0000.tar%s", s->ext);
    /* One block, as msig has always written it: 8 GiB and more would need a PAX record, and
     * a GNU header carries the size in base-256 instead. */
    if ((rc = msigi_tar_header(ctx, name, size, MSIGI_W_OUTER_MODE, mtime, hdr, &hlen)) != 0)
        return rc;
    if (hlen != MSIGI_TAR_BLOCK &&
        (rc = msigi_tar_header_gnu(ctx, name, size, MSIGI_W_OUTER_MODE, mtime, hdr, &hlen)) != 0)
        return rc;
    if ((rc = out_write(o, hdr, hlen)) != 0)
        return rc;
    if ((rc = msigi_copy_fd(ctx, data_fd, o->fd, size, "the compressed data", o->what)) != 0)
        return rc;
    o->off += size;
    return out_write(o, ZEROS, msigi_tar_pad(size));
}

int msigi_wouter_write(struct wstate *s, int out_fd, const char *what, const char *version,
                       size_t vlen, int data_fd, uint64_t data_size, uint64_t *written)
{
    int rc;
    char name[64];
    struct out ob = { .ctx = s->ctx, .fd = out_fd, .what = what };
    struct out *o = &ob;
    int64_t mtime = s->have_epoch ? s->epoch : s->now;
    if ((rc = out_entry(o, "version", version, vlen, MSIGI_W_STREAM_MODE, 0)) != 0 ||
        (rc = out_entry(o, "manifest", s->manifest, s->manifest_len, MSIGI_W_STREAM_MODE, 0)) != 0)
        return rc;
    if (s->sig &&
        (rc = out_entry(o, "manifest.sig", s->sig, s->sig_len, MSIGI_W_STREAM_MODE, 0)) != 0)
        return rc;
    if (s->manifest_aug && (rc = out_entry(o, "manifest-augment", s->manifest_aug,
                                           s->manifest_aug_len, MSIGI_W_STREAM_MODE, 0)) != 0)
        return rc;
    snprintf(name, sizeof(name), "header.tar%s", s->ext);
    if ((rc = out_entry(o, name, s->hdr.buf, s->hdr.len, MSIGI_W_OUTER_MODE, mtime)) != 0)
        return rc;
    if (s->w->aug_type) {
        snprintf(name, sizeof(name), "header-augment.tar%s", s->ext);
        if ((rc = out_entry(o, name, s->hdr_aug.buf, s->hdr_aug.len, MSIGI_W_OUTER_MODE, mtime)) !=
            0)
            return rc;
    }
    if ((rc = data_entry(s, o, mtime, data_fd, data_size)) != 0)
        return rc;
    /* End of archive: exactly two zero blocks, no record padding (as Go's archive/tar). */
    if ((rc = out_write(o, ZEROS, sizeof(ZEROS))) != 0)
        return rc;
    *written = o->off;
    return 0;
}
