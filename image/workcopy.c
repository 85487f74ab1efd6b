/* workcopy.c -- the temporary copy an image is edited on. */
#include "workcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies the data extents of in to out; holes stay holes. */
static int copy_extents(int in, int out, off_t size)
{
    off_t pos = 0;

    if (ioctl(out, FICLONE, in) == 0)
        return 0;
    while (pos < size) {
        off_t data = lseek(in, pos, SEEK_DATA), hole;

        if (data < 0)
            return errno == ENXIO ? 0 : -1; /* ENXIO: only a hole is left */
        hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0)
            return -1;
        for (off_t off = data; off < hole;) {
            loff_t src = off, dst = off;
            ssize_t n = copy_file_range(in, &src, out, &dst, (size_t)(hole - off), 0);

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return n == 0 ? (errno = EIO, -1) : -1;
            off += n;
        }
        pos = hole;
    }
    return 0;
}

int workcopy_make(struct workcopy *w, const char *target, char *err, size_t cap)
{
    char dir[PATH_MAX], base[PATH_MAX];
    struct stat st;
    int in = -1, out = -1, rc = -1;

    w->path[0] = '\0';
    in = open(target, O_RDONLY | O_CLOEXEC);
    if (in < 0 || fstat(in, &st) != 0) {
        snprintf(err, cap, "%s: cannot open: %s", target, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, cap, "%s: not a regular file: msig edits image files, not devices", target);
        goto out;
    }
    snprintf(dir, sizeof(dir), "%s", target);
    snprintf(base, sizeof(base), "%s", target);
    if ((size_t)snprintf(w->path, sizeof(w->path), "%s/.%s.msig-XXXXXX", dirname(dir),
                         basename(base)) >= sizeof(w->path)) {
        snprintf(err, cap, "%s: path too long", target);
        w->path[0] = '\0';
        goto out;
    }
    out = mkostemp(w->path, O_CLOEXEC);
    if (out < 0) {
        snprintf(err, cap, "%s: cannot create the work copy %s: %s", target, w->path,
                 strerror(errno));
        w->path[0] = '\0';
        goto out;
    }
    if (ftruncate(out, st.st_size) != 0 || copy_extents(in, out, st.st_size) != 0) {
        snprintf(err, cap, "%s: copying to %s: %s", target, w->path, strerror(errno));
        goto out;
    }
    /* The owner may be refused to a non-root user: then the copy stays the user's. */
    if (fchown(out, st.st_uid, st.st_gid) != 0 && errno != EPERM)
        goto io;
    if (fchmod(out, st.st_mode & 07777) != 0)
        goto io;
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    rc = 0;
    goto out;
io:
    snprintf(err, cap, "%s: setting the mode of %s: %s", target, w->path, strerror(errno));
out:
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) {
        snprintf(err, cap, "%s: writing %s: %s", target, w->path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        workcopy_drop(w);
    return rc;
}

int workcopy_commit(struct workcopy *w, const char *target, char *err, size_t cap)
{
    char dir[PATH_MAX];
    struct stat st;
    int fd = open(w->path, O_RDONLY | O_CLOEXEC), dfd;

    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, cap, "%s: flushing %s: %s", target, w->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (stat(target, &st) != 0 || st.st_dev != w->dev || st.st_ino != w->ino) {
        snprintf(err, cap, "%s: was replaced while msig edited it; not overwritten", target);
        return -1;
    }
    if (rename(w->path, target) != 0) {
        snprintf(err, cap, "%s: cannot rename %s into place: %s", target, w->path, strerror(errno));
        return -1;
    }
    w->path[0] = '\0';
    snprintf(dir, sizeof(dir), "%s", target);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

void workcopy_drop(struct workcopy *w)
{
    if (w->path[0] != '\0')
        unlink(w->path);
    w->path[0] = '\0';
}

void workcopy_drop_signal(const struct workcopy *w)
{
    if (w->path[0] != '\0')
        unlink(w->path);
}
