/* wtar.c -- the inner tars of a write (header and data): a libarchive writer whose output
 * goes through an encoder, entries from memory, file metadata. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "wstate.h"
#include "zenc.h"

void msigi_w_hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Reads up to len bytes, retrying on EINTR and short reads; returns the count or -1. */
ssize_t msigi_w_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, (uint8_t *)buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Glue from a libarchive writer to an encoder. */
static la_ssize_t la_to_zenc(struct archive *a, void *user, const void *buf, size_t len)
{
    struct msigi_lasink *ls = user;
    if (ls->discard) /* closing after a failure: the error is set, the output dropped */
        return (la_ssize_t)len;
    if (msigi_zenc_write(ls->enc, buf, len) != 0) {
        ls->failed = 1;
        archive_set_error(a, EIO, "compressing the tar stream failed");
        return -1;
    }
    return (la_ssize_t)len;
}

void msigi_wtar_close_failed(struct archive *a, struct msigi_lasink *ls)
{
    /* Not archive_write_fail: libarchive 3.6.2 leaks 33 bytes freeing a failed pax writer. */
    ls->discard = 1;
    (void)archive_write_close(a);
}

int msigi_wtar_open(struct wstate *s, struct archive **out, struct msigi_lasink *ls)
{
    struct archive *a = archive_write_new();
    *out = NULL;
    if (!a)
        return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory starting a tar writer");
    /* pax_restricted writes plain ustar unless an entry needs PAX (long names); unblocked
     * output ends with exactly two zero blocks, as Go's archive/tar. */
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_open(a, ls, NULL, la_to_zenc, NULL) != ARCHIVE_OK) {
        int rc = msigi_err(s->ctx, MSIG_E_FAILED, "cannot start a tar writer: %s",
                           archive_error_string(a));
        archive_write_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* The error of a failed archive call: the encoder's text when it failed underneath. */
int msigi_wtar_fail(struct wstate *s, struct archive *a, struct msigi_lasink *ls, const char *what)
{
    if (ls->failed)
        return msigi_err_prefix(s->ctx, MSIG_E_IO, "%s", what);
    return msigi_err(s->ctx, MSIG_E_FAILED, "%s: %s", what, archive_error_string(a));
}

int msigi_wtar_add_mem(struct wstate *s, struct archive *a, struct msigi_lasink *ls,
                       const char *name, const void *data, size_t len)
{
    int rc = 0;
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return msigi_err(s->ctx, MSIG_E_NOMEM, "out of memory adding %s", name);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, MSIGI_W_STREAM_MODE);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_mtime(e, 0, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (len && archive_write_data(a, data, len) != (la_ssize_t)len))
        rc = msigi_wtar_fail(s, a, ls, name);
    archive_entry_free(e);
    return rc;
}

/* Mode, mtime and owner of a file-backed entry. With SOURCE_DATE_EPOCH the mtime is
 * clamped to it and the owner is root with no names, so equal inputs give equal bytes. */
void msigi_wtar_file_meta(struct wstate *s, struct archive_entry *e, const struct stat *st)
{
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, st->st_mode & 07777);
    int64_t mtime = st->st_mtime;
    if (s->have_epoch) {
        if (mtime > s->epoch)
            mtime = s->epoch;
        archive_entry_set_mtime(e, (time_t)mtime, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        return;
    }
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    char buf[4096];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    if (getpwuid_r(st->st_uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
        archive_entry_copy_uname(e, pwp->pw_name);
    if (getgrgid_r(st->st_gid, &gr, buf, sizeof(buf), &grp) == 0 && grp)
        archive_entry_copy_gname(e, grp->gr_name);
}
