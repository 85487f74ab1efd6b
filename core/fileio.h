/* fileio.h -- the one output module. Every file msig writes (write, sign; later modify, cp,
 * install, rm) is first written to an anonymous temporary file in the target's directory
 * (O_TMPFILE; where the filesystem cannot, a named ".NAME.msig-XXXXXX" removed on failure
 * and by msig_temp_cleanup from a signal handler), then fsynced and linked into place over
 * the target in one rename, and the directory fsynced. So a failure or a kill never leaves a
 * half-written artifact, nor touches the target. Refused before anything is written: a
 * target that exists and is not a regular file (a device, a FIFO, a directory), and a target
 * that is the same file as an input (the key, a payload, the passphrase file). "-" is
 * standard output, written from a temporary copy when complete. */
#ifndef MSIGI_FILEIO_H
#define MSIGI_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ctx.h"

struct msigi_out {
    struct msig_ctx *ctx;
    int fd;
    const char *path; /* the target, "-" for standard output */
    char *dir;        /* the directory of the temporary file */
    char *tmpname;    /* a named temporary file (fallback), else NULL */
    int to_stdout;
    char what[600]; /* the temporary file, for messages */
};

/* Opens the temporary output for path. inputs: NULL-terminated paths that path must not be
 * (besides those registered on the context with msig_ctx_add_input). */
int msigi_out_begin(struct msig_ctx *ctx, struct msigi_out *o, const char *path,
                    const char *const *inputs);
/* Writes len bytes at the current position; MSIG_E_IO naming the temporary file. */
int msigi_out_write(struct msigi_out *o, const void *buf, size_t len);
/* Finishes: mode and (when uid != -1) owner, fsync, then into place (or to standard output).
 * After it (success or not) the output is closed. */
int msigi_out_commit(struct msigi_out *o, mode_t mode, uid_t uid, gid_t gid);
/* Drops the temporary file; the target is untouched. Safe after commit. */
void msigi_out_abort(struct msigi_out *o);

/* write(2) until done: 0, or -1 with errno (EIO when write returns 0). */
int msigi_write_all(int fd, const void *buf, size_t len);
/* The process umask, read without changing it. */
mode_t msigi_umask(void);

#endif
