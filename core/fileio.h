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

/* A scratch file for data that must wait (a write's compressed data): anonymous, in the
 * directory of the output's temporary file, so that copying it into the output can stay in
 * the kernel (copy_file_range) on the same filesystem; where O_TMPFILE is not supported, a
 * named file removed at once. *fd is read-write at offset 0; the caller closes it. */
int msigi_scratch_open(struct msigi_out *o, int *fd);
/* Copies len bytes from offset 0 of in to the current position of out (advanced), with
 * copy_file_range, or read and write where the kernel cannot. MSIG_E_IO naming in_what or
 * out_what; MSIG_E_FORMAT when in is shorter than len. */
int msigi_copy_fd(struct msig_ctx *ctx, int in, int out, uint64_t len, const char *in_what,
                  const char *out_what);

/* write(2) until done: 0, or -1 with errno (EIO when write returns 0). */
int msigi_write_all(int fd, const void *buf, size_t len);
/* The process umask, read without changing it. */
mode_t msigi_umask(void);

#endif
