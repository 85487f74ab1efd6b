/* fileio.c -- the one output module (see fileio.h). */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msig/msig.h>

/* Named temporary files that exist right now, for msig_temp_cleanup (signal handlers).
 * Slots are claimed and released with atomics; the handler only reads them. */
#define PENDING_MAX 16
static char pending[PENDING_MAX][PATH_MAX];
static volatile sig_atomic_t pending_used[PENDING_MAX];

static int pending_add(const char *path)
{
    for (int i = 0; i < PENDING_MAX; i++) {
        if (__atomic_exchange_n(&pending_used[i], 1, __ATOMIC_SEQ_CST) == 0) {
            snprintf(pending[i], sizeof(pending[i]), "%s", path);
            __atomic_store_n(&pending_used[i], 2, __ATOMIC_SEQ_CST);
            return i;
        }
    }
    return -1;
}

static void pending_drop(const char *path)
{
    for (int i = 0; i < PENDING_MAX; i++) {
        if (pending_used[i] == 2 && strcmp(pending[i], path) == 0)
            __atomic_store_n(&pending_used[i], 0, __ATOMIC_SEQ_CST);
    }
}

void msig_temp_cleanup(void)
{
    for (int i = 0; i < PENDING_MAX; i++)
        if (pending_used[i] == 2)
            unlink(pending[i]); /* async-signal-safe */
}

int msig_temp_file(struct msig_ctx *ctx, const char *dir, const char *prefix, int *fd, char **path)
{
    if (!ctx || !prefix || !fd || !path || strchr(prefix, '/'))
        return MSIG_E_INVALID;
    *fd = -1;
    *path = NULL;
    if (dir == NULL || *dir == '\0')
        dir = getenv("TMPDIR");
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    size_t n = strlen(dir) + strlen(prefix) + 8;
    char *p = msigi_malloc(n);
    if (!p)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
    snprintf(p, n, "%s/%sXXXXXX", dir, prefix);
    int f = mkostemp(p, O_CLOEXEC);
    if (f < 0) {
        int e = errno;
        msigi_free(p);
        return msigi_err(ctx, MSIG_E_IO, "cannot create a temporary file in %s: %s", dir,
                         strerror(e));
    }
    if (pending_add(p) < 0) {
        unlink(p);
        close(f);
        msigi_free(p);
        return msigi_err(ctx, MSIG_E_FAILED, "too many temporary files at once (%d)", PENDING_MAX);
    }
    *fd = f;
    *path = p;
    return 0;
}

void msig_temp_remove(char *path)
{
    if (!path)
        return;
    unlink(path);
    pending_drop(path);
    msigi_free(path);
}

int msigi_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO; /* no progress: never loop on it */
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

mode_t msigi_umask(void)
{
    mode_t m = 022;
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];

    if (f == NULL)
        return m;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "Umask:", 6) == 0) {
            m = (mode_t)strtoul(line + 6, NULL, 8);
            break;
        }
    fclose(f);
    return m;
}

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* The target must be absent or a regular file, and none of the inputs. */
static int check_target(struct msig_ctx *ctx, const char *path, const char *const *inputs)
{
    struct stat t, s;

    if (stat(path, &t) != 0)
        return errno == ENOENT ? 0
                               : msigi_err(ctx, MSIG_E_IO, "cannot check the output %s: %s", path,
                                           strerror(errno));
    if (!S_ISREG(t.st_mode))
        return msigi_err(ctx, MSIG_E_INVALID,
                         "refusing to replace %s: it is %s, not a regular "
                         "file",
                         path, kind_of(t.st_mode));
    for (int pass = 0; pass < 2; pass++) {
        const char *const *list = pass == 0 ? inputs : msigi_strv_get(&ctx->inputs);
        for (size_t i = 0; list != NULL && list[i] != NULL; i++)
            if (stat(list[i], &s) == 0 && s.st_dev == t.st_dev && s.st_ino == t.st_ino)
                return msigi_err(ctx, MSIG_E_INVALID,
                                 "refusing to write %s: it is the same "
                                 "file as the input %s",
                                 path, list[i]);
    }
    return 0;
}

/* An anonymous file in dir, else a named one (registered for msig_temp_cleanup). */
static int open_temp(struct msigi_out *o, const char *base)
{
    size_t n = strlen(o->dir) + strlen(base) + 24;

    o->fd = open(o->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (o->fd >= 0) {
        snprintf(o->what, sizeof(o->what), "the temporary file for %s (in %s)",
                 o->to_stdout ? "standard output" : o->path, o->dir);
        return 0;
    }
    if ((o->tmpname = msigi_malloc(n)) == NULL)
        return msigi_err(o->ctx, MSIG_E_NOMEM, "out of memory");
    snprintf(o->tmpname, n, "%s/.%s.msig-XXXXXX", o->dir, base);
    o->fd = mkostemp(o->tmpname, O_CLOEXEC);
    if (o->fd < 0) {
        int e = errno;
        msigi_free(o->tmpname);
        o->tmpname = NULL;
        return msigi_err(o->ctx, MSIG_E_IO, "cannot create a temporary file in %s: %s", o->dir,
                         strerror(e));
    }
    pending_add(o->tmpname);
    if (o->to_stdout) { /* nothing to link: it may go at once */
        unlink(o->tmpname);
        pending_drop(o->tmpname);
        msigi_free(o->tmpname);
        o->tmpname = NULL;
    }
    snprintf(o->what, sizeof(o->what), "the temporary file for %s (in %s)",
             o->to_stdout ? "standard output" : o->path, o->dir);
    return 0;
}

int msigi_out_begin(struct msig_ctx *ctx, struct msigi_out *o, const char *path,
                    const char *const *inputs)
{
    const char *slash, *base;
    int rc;

    memset(o, 0, sizeof(*o));
    o->ctx = ctx;
    o->fd = -1;
    o->path = path;
    o->to_stdout = strcmp(path, "-") == 0;
    if (o->to_stdout) {
        const char *t = getenv("TMPDIR");
        o->dir = msigi_strdup(t != NULL && *t ? t : "/tmp");
        base = "stdout";
    } else {
        if ((rc = check_target(ctx, path, inputs)) != 0)
            return rc;
        slash = strrchr(path, '/');
        base = slash ? slash + 1 : path;
        if (*base == '\0')
            return msigi_err(ctx, MSIG_E_INVALID, "output path %s names a directory", path);
        o->dir = slash == path ? msigi_strdup("/")
                 : slash       ? msigi_strndup(path, (size_t)(slash - path))
                               : msigi_strdup(".");
    }
    if (o->dir == NULL)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory");
    return open_temp(o, base);
}

int msigi_scratch_open(struct msigi_out *o, int *fd)
{
    size_t n = strlen(o->dir) + 32;
    char *name;

    *fd = open(o->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (*fd >= 0)
        return 0;
    if ((name = msigi_malloc(n)) == NULL)
        return msigi_err(o->ctx, MSIG_E_NOMEM, "out of memory");
    snprintf(name, n, "%s/.msig-scratch-XXXXXX", o->dir);
    *fd = mkostemp(name, O_CLOEXEC);
    if (*fd < 0) {
        int e = errno;
        msigi_free(name);
        return msigi_err(o->ctx, MSIG_E_IO, "cannot create a scratch file in %s: %s", o->dir,
                         strerror(e));
    }
    unlink(name); /* open, it lives on until closed */
    msigi_free(name);
    return 0;
}

/* The read-and-write path of msigi_copy_fd, from offset off of in. */
static int copy_rw(struct msig_ctx *ctx, int in, int out, uint64_t off, uint64_t len,
                   const char *in_what, const char *out_what)
{
    uint8_t buf[65536];

    while (len > 0) {
        size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        ssize_t n = pread(in, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return msigi_err(ctx, MSIG_E_IO, "cannot read %s: %s", in_what, strerror(errno));
        if (n == 0)
            return msigi_err(ctx, MSIG_E_FORMAT, "%s ended %llu bytes early", in_what,
                             (unsigned long long)len);
        if (msigi_write_all(out, buf, (size_t)n) != 0)
            return msigi_err(ctx, MSIG_E_IO, "cannot write %s: %s", out_what, strerror(errno));
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

int msigi_copy_fd(struct msig_ctx *ctx, int in, int out, uint64_t len, const char *in_what,
                  const char *out_what)
{
    loff_t off = 0;

    while (len > 0) {
        size_t want = len < ((size_t)1 << 30) ? (size_t)len : ((size_t)1 << 30);
        ssize_t n = copy_file_range(in, &off, out, NULL, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
                      errno == EBADF || errno == EPERM))
            return copy_rw(ctx, in, out, (uint64_t)off, len, in_what, out_what);
        if (n < 0)
            return msigi_err(ctx, MSIG_E_IO, "cannot copy %s into %s: %s", in_what, out_what,
                             strerror(errno));
        if (n == 0)
            return msigi_err(ctx, MSIG_E_FORMAT, "%s ended %llu bytes early", in_what,
                             (unsigned long long)len);
        len -= (uint64_t)n;
    }
    return 0;
}

int msigi_out_write(struct msigi_out *o, const void *buf, size_t len)
{
    if (msigi_write_all(o->fd, buf, len) != 0)
        return msigi_err(o->ctx, MSIG_E_IO, "cannot write %s: %s", o->what, strerror(errno));
    return 0;
}

static int to_stdout(struct msigi_out *o)
{
    uint8_t buf[65536];

    if (lseek(o->fd, 0, SEEK_SET) != 0)
        return msigi_err(o->ctx, MSIG_E_IO, "cannot rewind %s: %s", o->what, strerror(errno));
    for (;;) {
        ssize_t n = read(o->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return msigi_err(o->ctx, MSIG_E_IO, "cannot read %s: %s", o->what, strerror(errno));
        if (n == 0)
            return 0;
        if (msigi_write_all(STDOUT_FILENO, buf, (size_t)n) != 0)
            return msigi_err(o->ctx, MSIG_E_IO, "cannot write to standard output: %s",
                             strerror(errno));
    }
}

/* The anonymous file gets a name beside the target for the rename. */
static int link_anonymous(struct msigi_out *o)
{
    char proc[64];
    size_t n = strlen(o->dir) + 32;

    if ((o->tmpname = msigi_malloc(n)) == NULL)
        return msigi_err(o->ctx, MSIG_E_NOMEM, "out of memory");
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
    for (int tries = 0; tries < 16; tries++) {
        snprintf(o->tmpname, n, "%s/.msig-%08x", o->dir, (unsigned)random() ^ (unsigned)getpid());
        if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmpname, AT_SYMLINK_FOLLOW) == 0) {
            pending_add(o->tmpname);
            return 0;
        }
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    msigi_free(o->tmpname);
    o->tmpname = NULL;
    return msigi_err(o->ctx, MSIG_E_IO, "cannot link %s into %s: %s", o->what, o->dir, strerror(e));
}

static int sync_dir(struct msigi_out *o)
{
    int d = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (d < 0)
        return 0; /* the rename is done; a directory we cannot open is not an error */
    if (fsync(d) != 0 && errno != EINVAL) {
        int e = errno;
        close(d);
        return msigi_err(o->ctx, MSIG_E_IO, "cannot sync the directory %s: %s", o->dir,
                         strerror(e));
    }
    close(d);
    return 0;
}

int msigi_out_commit(struct msigi_out *o, mode_t mode, uid_t uid, gid_t gid)
{
    int rc = 0;

    if (o->to_stdout) {
        rc = to_stdout(o);
        msigi_out_abort(o);
        return rc;
    }
    if (fchmod(o->fd, mode) != 0 ||
        (uid != (uid_t)-1 && fchown(o->fd, uid, gid) != 0 && errno != EPERM) || fsync(o->fd) != 0)
        rc = msigi_err(o->ctx, MSIG_E_IO, "cannot finish %s: %s", o->what, strerror(errno));
    if (rc == 0 && o->tmpname == NULL)
        rc = link_anonymous(o);
    if (rc == 0 && rename(o->tmpname, o->path) != 0)
        rc = msigi_err(o->ctx, MSIG_E_IO, "cannot move the new %s into place: %s", o->path,
                       strerror(errno));
    if (rc == 0) {
        pending_drop(o->tmpname);
        msigi_free(o->tmpname);
        o->tmpname = NULL; /* renamed: nothing to remove */
        rc = sync_dir(o);
    }
    msigi_out_abort(o);
    return rc;
}

void msigi_out_abort(struct msigi_out *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (o->tmpname != NULL) {
        unlink(o->tmpname);
        pending_drop(o->tmpname);
        msigi_free(o->tmpname);
        o->tmpname = NULL;
    }
    msigi_free(o->dir);
    o->dir = NULL;
}
