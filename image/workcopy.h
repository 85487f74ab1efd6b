/* workcopy.h -- a bare or disk image is edited on a temporary copy beside it, which replaces
 * the image (rename) only when every change succeeded; on failure the copy is removed and
 * the image was never written. The copy keeps the image's holes (SEEK_DATA/SEEK_HOLE;
 * a reflink where the filesystem has them), its mode and its owner. */
#ifndef MSIG_IMAGE_WORKCOPY_H
#define MSIG_IMAGE_WORKCOPY_H

#include <limits.h>
#include <sys/types.h>

struct workcopy {
    char path[PATH_MAX]; /* the temporary copy, "" when there is none */
    dev_t dev;           /* the image, to see that it was not replaced meanwhile */
    ino_t ino;
};

/* Makes the copy of target. 0, or -1 with the reason in err (cap bytes) and nothing left. */
int workcopy_make(struct workcopy *w, const char *target, char *err, size_t cap);
/* Puts the copy in place of target (fsync of the file and the directory). */
int workcopy_commit(struct workcopy *w, const char *target, char *err, size_t cap);
/* Removes the copy (when there is one). */
void workcopy_drop(struct workcopy *w);
/* Removes the copy from a signal handler (async-signal-safe). */
void workcopy_drop_signal(const struct workcopy *w);

#endif
