/* reader.c -- the public reading API: reads and checks a Mender Artifact (format 3, and 2) in
 * one streaming pass. The work is done by the reader's stage modules (rd.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rd.h"

int msig_reader_new(struct msig_ctx *ctx, struct msig_reader **r)
{
    if (!ctx || !r)
        return MSIG_E_INVALID;
    *r = msigi_calloc(1, sizeof(**r));
    if (!*r)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
    (*r)->ctx = ctx;
    return 0;
}

void msig_reader_free(struct msig_reader *r)
{
    msigi_free(r);
}

void msig_reader_set_pubkeys(struct msig_reader *r, const struct msig_pubkeys *keys)
{
    if (r)
        r->keys = keys;
}

void msig_reader_set_flags(struct msig_reader *r, uint32_t flags)
{
    if (r)
        r->flags = flags;
}

void msig_reader_set_file_handler(struct msig_reader *r, msig_file_fn *fn, void *user)
{
    if (r) {
        r->file_fn = fn;
        r->file_user = user;
    }
}

static msig_ssize fd_read(void *user, void *buf, size_t len)
{
    return (msig_ssize)read(*(int *)user, buf, len);
}

int msig_reader_read_cb(struct msig_reader *r, msig_read_fn *fn, void *user, const char *name,
                        struct msig_artifact **art)
{
    if (art)
        *art = NULL;
    if (!r || !fn)
        return MSIG_E_INVALID;
    return msigi_rd_stream(r, fn, user, name, 0, 0, art);
}

int msig_reader_read_fd(struct msig_reader *r, int fd, const char *name, struct msig_artifact **art)
{
    if (art)
        *art = NULL;
    if (!r || fd < 0)
        return MSIG_E_INVALID;
    struct stat st;
    uint64_t total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    /* A regular file can be read ahead by the I/O stage: it never blocks for long. */
    return msigi_rd_stream(r, fd_read, &fd, name, total, fstat(fd, &st) == 0 && S_ISREG(st.st_mode),
                           art);
}

int msig_reader_read_path(struct msig_reader *r, const char *path, struct msig_artifact **art)
{
    if (art)
        *art = NULL;
    if (!r || !path)
        return MSIG_E_INVALID;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return msigi_err(r->ctx, MSIG_E_IO, "Can not open artifact: open %s: %s", path,
                         strerror(errno));
    int rc = msig_reader_read_fd(r, fd, path, art);
    close(fd);
    return rc;
}

int msig_artifact_verify_fd(struct msig_ctx *ctx, int fd, const char *name,
                            const struct msig_pubkeys *keys, struct msig_artifact **art)
{
    struct msig_reader *r = NULL;
    struct msig_artifact *a = NULL;
    if (art)
        *art = NULL;
    int rc = msig_reader_new(ctx, &r);
    if (rc)
        return rc;
    msig_reader_set_pubkeys(r, keys);
    rc = msig_reader_read_fd(r, fd, name, &a);
    rc = msig_artifact_verdict(ctx, rc, a, keys && msig_pubkeys_count(keys) > 0);
    msig_reader_free(r);
    if (art)
        *art = a;
    else
        msig_artifact_free(a);
    return rc;
}
