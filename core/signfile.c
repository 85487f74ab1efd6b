/* signfile.c -- `sign`: inserts manifest.sig into an existing artifact without decompressing
 * or rewriting anything (spec §12). libarchive finds the entry boundaries; the bytes before
 * the new entry and everything after it are copied from the input unchanged, with
 * copy_file_range where the kernel offers it. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ctx.h"
#include "fileio.h"
#include "manifest.h"
#include "signer.h"
#include "tarhdr.h"

#define COPYBUF (256u * 1024u)

struct plan {
    int64_t insert_at; /* where manifest.sig goes: the header of the entry after manifest */
    int64_t resume_at; /* where copying resumes: insert_at, or after a replaced signature */
    uint8_t *manifest;
    size_t manifest_len;
};

/* Walks the outer tar of fd and fills the plan. */
static int make_plan(struct msig_ctx *ctx, int fd, const char *name, uint32_t flags,
                     struct plan *pl)
{
    int rc = 0;
    struct archive *a = archive_read_new();
    memset(pl, 0, sizeof(*pl));
    pl->insert_at = pl->resume_at = -1;
    if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
        rc =
            msigi_err(ctx, MSIG_E_FORMAT, "%s: not a Mender Artifact: %s", name,
                      a && archive_error_string(a) ? archive_error_string(a) : "not a tar archive");
        goto out;
    }
    int after_manifest = 0;
    for (;;) {
        struct archive_entry *e;
        int ar = archive_read_next_header(a, &e);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
            rc = msigi_err(ctx, MSIG_E_FORMAT, "%s: %s", name, archive_error_string(a));
            goto out;
        }
        const char *en = archive_entry_pathname(e);
        if (!en)
            en = "";
        int64_t pos = archive_read_header_position(a);
        if (after_manifest == 1) {
            pl->insert_at = pl->resume_at = pos;
            if (strcmp(en, "manifest.sig") != 0)
                break;
            if (!(flags & MSIG_SIGN_F_FORCE)) {
                rc = msigi_err(ctx, MSIG_E_EXISTS,
                               "Artifact already signed, refusing to "
                               "re-sign. Use force option to override");
                goto out;
            }
            after_manifest = 2; /* the next header ends the old signature */
            continue;
        }
        if (after_manifest == 2) {
            pl->resume_at = pos;
            break;
        }
        if (strcmp(en, "manifest.sig") == 0) {
            rc = msigi_err(ctx, MSIG_E_FORMAT, "%s: manifest.sig appears before manifest", name);
            goto out;
        }
        if (strcmp(en, "manifest") != 0)
            continue;
        la_int64_t size = archive_entry_size(e);
        if (size < 0 || (uint64_t)size > MSIGI_MANIFEST_MAX_BYTES) {
            rc = msigi_err(ctx, MSIG_E_LIMIT,
                           "%s: manifest is %lld bytes, more than the limit "
                           "of %u",
                           name, (long long)size, MSIGI_MANIFEST_MAX_BYTES);
            goto out;
        }
        pl->manifest = msigi_malloc((size_t)size + 1);
        if (!pl->manifest) {
            rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory reading the manifest");
            goto out;
        }
        la_ssize_t got = archive_read_data(a, pl->manifest, (size_t)size);
        if (got != size) {
            rc = msigi_err(ctx, MSIG_E_FORMAT, "%s: manifest is truncated", name);
            goto out;
        }
        pl->manifest_len = (size_t)size;
        after_manifest = 1;
    }
    if (!pl->manifest) {
        rc = msigi_err(ctx, MSIG_E_FORMAT, "%s: `manifest` not found. Corrupt Artifact?", name);
        goto out;
    }
    if (pl->insert_at < 0 || pl->resume_at < 0) {
        rc = msigi_err(ctx, MSIG_E_FORMAT,
                       "%s: the artifact ends after its manifest%s; there is "
                       "no header or payload to sign",
                       name, after_manifest == 2 ? " and signature" : "");
        goto out;
    }
    /* Mender verifiers check the canonical re-serialisation of the manifest (spec §4.1): a
     * signature over anything else would not verify anywhere, so refuse to make one. */
    struct msigi_manifest m = { 0 };
    rc = msigi_manifest_parse(ctx, &m, pl->manifest, pl->manifest_len, "manifest", 0);
    msigi_manifest_clear(&m);
    if (rc) {
        msigi_err_prefix(ctx, rc, "%s: refusing to sign a non-canonical manifest", name);
        goto out;
    }
out:
    if (a)
        archive_read_free(a);
    if (rc) {
        msigi_free(pl->manifest);
        pl->manifest = NULL;
    }
    return rc;
}

/* Copies in[from, to) (to < 0: to the end) to out's current position. */
static int copy_range(struct msig_ctx *ctx, int in, int out, int64_t from, int64_t to,
                      const char *name, uint64_t total)
{
    off_t off = (off_t)from;
    int use_cfr = 1;
    uint8_t *buf = NULL;
    int rc = 0;
    for (;;) {
        size_t want = COPYBUF * 16;
        if (to >= 0) {
            if (off >= (off_t)to)
                break;
            if ((int64_t)want > to - (int64_t)off)
                want = (size_t)(to - (int64_t)off);
        }
        ssize_t n = -1;
        if (use_cfr) {
            n = copy_file_range(in, &off, out, NULL, want, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                          errno == EOPNOTSUPP || errno == EBADF)) {
                use_cfr = 0;
                continue;
            }
        } else {
            if (!buf && !(buf = msigi_malloc(COPYBUF))) {
                rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory copying %s", name);
                break;
            }
            n = pread(in, buf, want < COPYBUF ? want : COPYBUF, off);
            if (n > 0) {
                if (msigi_write_all(out, buf, (size_t)n) != 0) {
                    rc = msigi_err(ctx, MSIG_E_IO, "writing the signed copy of %s: %s", name,
                                   strerror(errno));
                    break;
                }
                off += n;
            }
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = msigi_err(ctx, MSIG_E_IO, "copying %s: %s", name, strerror(errno));
            break;
        }
        if (n == 0) {
            if (to >= 0)
                rc = msigi_err(ctx, MSIG_E_IO, "%s shrank while it was being signed", name);
            break;
        }
        msigi_progress(ctx, (uint64_t)off, total > (uint64_t)off ? total : (uint64_t)off);
    }
    msigi_free(buf);
    return rc;
}

/* Signs in_fd into out_fd (both regular files). */
static int sign_fd(struct msig_ctx *ctx, struct msig_key *key, int in_fd, int out_fd,
                   const char *name, uint32_t flags)
{
    struct plan pl;
    char *b64 = NULL;
    size_t b64_len = 0;
    int rc = make_plan(ctx, in_fd, name, flags, &pl);
    if (rc)
        return rc;
    if ((rc = msigi_sign_manifest(ctx, key, pl.manifest, pl.manifest_len, &b64, &b64_len)))
        goto out;
    uint8_t hdr[MSIGI_TAR_HDR_MAX];
    size_t hdr_len = 0;
    static const uint8_t zeros[MSIGI_TAR_BLOCK];
    /* mender-artifact's sign writes manifest.sig with mode 0644, mtime 0 (spec §1.3). */
    if ((rc = msigi_tar_header(ctx, "manifest.sig", b64_len, 0644, 0, hdr, &hdr_len)))
        goto out;
    struct stat st;
    uint64_t total = fstat(in_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    if ((rc = copy_range(ctx, in_fd, out_fd, 0, pl.insert_at, name, total)))
        goto out;
    if (msigi_write_all(out_fd, hdr, hdr_len) || msigi_write_all(out_fd, b64, b64_len) ||
        msigi_write_all(out_fd, zeros, msigi_tar_pad(b64_len))) {
        rc = msigi_err(ctx, MSIG_E_IO, "writing the signed copy of %s: %s", name, strerror(errno));
        goto out;
    }
    rc = copy_range(ctx, in_fd, out_fd, pl.resume_at, -1, name, total);
out:
    msigi_free(pl.manifest);
    msigi_free(b64);
    return rc;
}

/* Opens the input without blocking on a FIFO; only a regular file is signed. */
static int open_input(struct msig_ctx *ctx, const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (fd < 0)
        return msigi_err(ctx, MSIG_E_IO, "Can not open artifact: open %s: %s", path,
                         strerror(errno));
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return msigi_err(ctx, MSIG_E_IO, "%s is not a regular file%s", path,
                         S_ISFIFO(st->st_mode)
                             ? " (a FIFO): sign reads artifacts from files, "
                               "or from standard input with msig_artifact_sign_stream"
                             : "");
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* In place: no other process may sign or change the file meanwhile (flock), and the path
 * must still name the file that was read, unchanged, when the new one replaces it. */
static int still_same(struct msig_ctx *ctx, int fd, const char *path, const struct stat *was)
{
    struct stat now, at;

    if (fstat(fd, &now) != 0 || stat(path, &at) != 0 || at.st_dev != was->st_dev ||
        at.st_ino != was->st_ino || now.st_size != was->st_size ||
        now.st_mtim.tv_sec != was->st_mtim.tv_sec || now.st_mtim.tv_nsec != was->st_mtim.tv_nsec)
        return msigi_err(ctx, MSIG_E_IO,
                         "%s changed while it was being signed; it was not "
                         "replaced",
                         path);
    return 0;
}

int msig_artifact_sign_file(struct msig_ctx *ctx, struct msig_key *key, const char *in_path,
                            const char *out_path, uint32_t flags)
{
    if (!ctx || !key || !in_path)
        return ctx ? msigi_err(ctx, MSIG_E_INVALID, "sign needs a key and an input path")
                   : MSIG_E_INVALID;
    msigi_err_clear(ctx);
    struct msigi_out fo = { .fd = -1 };
    struct stat st;
    char *target = NULL;
    int rc, in_fd = open_input(ctx, in_path, &st);
    if (in_fd < 0)
        return in_fd;
    /* In place by default (also when -o names the input under another name); a symlinked
     * input has its target replaced, not the link. */
    const char *dst = out_path && strcmp(out_path, in_path) != 0 ? out_path : NULL;
    struct stat ost;
    if (dst && strcmp(dst, "-") != 0 && stat(dst, &ost) == 0 && ost.st_dev == st.st_dev &&
        ost.st_ino == st.st_ino)
        dst = NULL;
    target = dst ? msigi_strdup(dst) : realpath(in_path, NULL);
    if (!target) {
        rc = msigi_err(ctx, MSIG_E_IO, "cannot resolve %s: %s", in_path, strerror(errno));
        goto out;
    }
    if (!dst && flock(in_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = msigi_err(ctx, MSIG_E_IO,
                       "%s is being signed or changed by another process "
                       "(locked); nothing was done",
                       in_path);
        goto out;
    }
    const char *inputs[] = { dst ? in_path : NULL, msigi_key_file(key), NULL };
    if (!inputs[0]) {
        inputs[0] = inputs[1];
        inputs[1] = NULL;
    }
    if ((rc = msigi_out_begin(ctx, &fo, target, inputs)) != 0)
        goto out;
    if ((rc = sign_fd(ctx, key, in_fd, fo.fd, in_path, flags)))
        goto out;
    if (!dst && (rc = still_same(ctx, in_fd, target, &st)) != 0)
        goto out;
    /* The input's mode; in place also its owner (as mender-artifact 3.11.1+). */
    rc = msigi_out_commit(&fo, st.st_mode & 07777, dst ? (uid_t)-1 : st.st_uid,
                          dst ? (gid_t)-1 : st.st_gid);
out:
    msigi_out_abort(&fo);
    close(in_fd);
    free(target); /* realpath() result or msigi_strdup: both plain malloc */
    return rc;
}

/* Streams go through an unlinked temporary file: the plan needs to revisit entry offsets,
 * and memory must stay flat whatever the artifact size. */
static int spool(struct msig_ctx *ctx, msig_read_fn *rd, void *user, int fd)
{
    uint8_t *buf = msigi_malloc(COPYBUF);
    int rc = 0;
    if (!buf)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
    for (;;) {
        msig_ssize n = rd(user, buf, COPYBUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = msigi_err(ctx, MSIG_E_IO, "reading the artifact stream: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (msigi_write_all(fd, buf, (size_t)n) != 0) {
            rc = msigi_err(ctx, MSIG_E_IO, "spooling the artifact stream: %s", strerror(errno));
            break;
        }
    }
    msigi_free(buf);
    return rc;
}

static int tmpfile_fd(struct msig_ctx *ctx)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        msigi_err(ctx, MSIG_E_IO, "cannot create a temporary file in %s: %s", dir, strerror(errno));
    return fd;
}

int msig_artifact_sign_stream(struct msig_ctx *ctx, struct msig_key *key, msig_read_fn *rd,
                              void *rd_user, msig_write_fn *wr, void *wr_user, uint32_t flags)
{
    if (!ctx || !key || !rd || !wr)
        return ctx ? msigi_err(ctx, MSIG_E_INVALID, "sign needs a key, a reader and a writer")
                   : MSIG_E_INVALID;
    msigi_err_clear(ctx);
    int rc, in_fd = tmpfile_fd(ctx), out_fd = -1;
    uint8_t *buf = NULL;
    if (in_fd < 0)
        return MSIG_E_IO;
    if ((rc = spool(ctx, rd, rd_user, in_fd)))
        goto out;
    if ((out_fd = tmpfile_fd(ctx)) < 0) {
        rc = MSIG_E_IO;
        goto out;
    }
    if ((rc = sign_fd(ctx, key, in_fd, out_fd, "artifact stream", flags)))
        goto out;
    if (!(buf = msigi_malloc(COPYBUF))) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
        goto out;
    }
    for (off_t off = 0;;) {
        ssize_t n = pread(out_fd, buf, COPYBUF, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = msigi_err(ctx, MSIG_E_IO, "reading the signed artifact: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (wr(wr_user, buf, (size_t)n) != 0) {
            rc = msigi_err(ctx, MSIG_E_IO, "writing the signed artifact: %s", strerror(errno));
            break;
        }
        off += n;
    }
out:
    msigi_free(buf);
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0)
        close(out_fd);
    return rc;
}
