/* fatfs.c -- files in a FAT filesystem through the mtools programs, as mender-artifact 3.9.0
 * edits FAT boot partitions (cli/partition.go: mtype, mcopy, mmd, mdel, mdeltree). */
#include "fatfs.h"
#include "imgerr.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define FATFS_PATH_MAX 1024 /* canonical paths; FAT's own limit is 255 characters a name */
#define FATFS_STDERR_MAX 512
#define FATFS_ENV_FIXED 8

struct fatfs {
    char drive[PATH_MAX + 32]; /* "IMAGE@@OFFSET", mtools' -i argument */
    char **env;                /* the children's environment (fixed mtools settings) */
    char env_fixed[FATFS_ENV_FIXED][40];
    int writable;
    char name[256];
    char err[1024];
};

/* What one child process gave back. */
struct run {
    int in_fd, out_fd;             /* -1: /dev/null, and stdout captured into out */
    char out[FATFS_PATH_MAX + 16]; /* the start of the captured standard output */
    size_t out_len;
    int out_more; /* it was longer than out */
    char errtext[FATFS_STDERR_MAX];
    size_t err_len;
    int status; /* exit status, 128 + signal number when killed */
};

enum { KIND_MISSING, KIND_FILE, KIND_DIR, KIND_EMPTY_DIR };

#define fail(x, ...) IMG_FAIL(x, __VA_ARGS__) /* x: this file's handle */

const char *fatfs_error(const struct fatfs *x)
{
    return x->err;
}

/* ---------------------------------------------------------------- the boot sector */

static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static int pow2(unsigned v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/* The BIOS parameter block of a FAT boot sector (exFAT and NTFS have zeros where FAT has its
 * sector size or reserved sectors). */
static int is_fat(const unsigned char *b, uint64_t *bytes)
{
    unsigned bps = le16(b + 11), reserved = le16(b + 14);
    uint64_t total = le16(b + 19) ? le16(b + 19) : le32(b + 32);
    uint32_t fat_sectors = le16(b + 22) ? le16(b + 22) : le32(b + 36);

    if (b[510] != 0x55 || b[511] != 0xaa || !(b[0] == 0xe9 || (b[0] == 0xeb && b[2] == 0x90)))
        return 0;
    if (!pow2(bps) || bps < 512 || bps > 4096 || !pow2(b[13]) || reserved == 0 || b[16] == 0 ||
        total == 0 || fat_sectors == 0)
        return 0;
    *bytes = total * bps;
    return 1;
}

int fatfs_probe(const char *path, uint64_t offset, uint64_t *bytes, char *err, size_t cap)
{
    unsigned char b[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    n = pread(fd, b, sizeof(b), (off_t)offset);
    if (n < 0)
        snprintf(err, cap, "%s: reading the boot sector at byte %" PRIu64 ": %s", path, offset,
                 strerror(errno));
    close(fd);
    if (n < 0)
        return -1;
    return n == (ssize_t)sizeof(b) && is_fat(b, bytes);
}

/* ---------------------------------------------------------------- opening */

/* mtools' global settings, fixed for the children: environment variables override every
 * configuration file (mtools config.c reads them last), and HOME=/dev/null leaves no
 * ~/.mtoolsrc to read (one with a syntax error stops mtools). */
static const char *const fixed_env[FATFS_ENV_FIXED] = {
    "HOME=/dev/null",
    "MTOOLS_SKIP_CHECK=0",
    "MTOOLS_FAT_COMPATIBILITY=0",
    "MTOOLS_LOWER_CASE=0",
    "MTOOLS_NO_VFAT=0",
    "MTOOLS_NAME_NUMERIC_TAIL=1",
    "MTOOLS_DOTTED_DIR=0",
    "MTOOLS_TWENTY_FOUR_HOUR_CLOCK=1",
};

/* The caller's environment without HOME and MTOOLS*, then fixed_env (copied into x). */
static char **child_env(struct fatfs *x)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ != NULL && environ[n] != NULL)
        n++;
    env = calloc(n + FATFS_ENV_FIXED + 1, sizeof(*env));
    if (env == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "HOME=", 5) != 0 && strncmp(environ[i], "MTOOLS", 6) != 0)
            env[k++] = environ[i];
    for (size_t i = 0; i < FATFS_ENV_FIXED; i++) {
        snprintf(x->env_fixed[i], sizeof(x->env_fixed[i]), "%s", fixed_env[i]);
        env[k++] = x->env_fixed[i];
    }
    return env;
}

int fatfs_open(const char *path, uint64_t offset, uint64_t length, int writable, const char *name,
               struct fatfs **fs, char *err, size_t cap)
{
    struct fatfs *x;
    uint64_t bytes = 0;
    int rc = fatfs_probe(path, offset, &bytes, err, cap);

    *fs = NULL;
    if (rc <= 0) {
        if (rc == 0)
            snprintf(err, cap, "%s: not a FAT filesystem", name);
        return rc < 0 ? -1 : -2;
    }
    if (bytes > length) {
        snprintf(err, cap,
                 "%s: the FAT filesystem (%" PRIu64 " bytes) is larger than its partition (%" PRIu64
                 " bytes)",
                 name, bytes, length);
        return -1;
    }
    /* mtools splits -i at "@@" to find the offset. */
    if (strstr(path, "@@") != NULL) {
        snprintf(err, cap, "%s: the path %s contains \"@@\", which mtools reads as an offset", name,
                 path);
        return -1;
    }
    x = calloc(1, sizeof(*x));
    if (x == NULL || (x->env = child_env(x)) == NULL) {
        snprintf(err, cap, "%s: out of memory", name);
        free(x);
        return -1;
    }
    snprintf(x->drive, sizeof(x->drive), "%s@@%" PRIu64, path, offset);
    snprintf(x->name, sizeof(x->name), "%s", name);
    x->writable = writable;
    *fs = x;
    return 0;
}

void fatfs_close(struct fatfs *x)
{
    if (x == NULL)
        return;
    free(x->env);
    free(x);
}

/* ---------------------------------------------------------------- child processes */

/* Reads what fd has into buf (cap bytes, *len so far); beyond cap it is read and dropped.
 * 0 at the end of the stream. */
static ssize_t gather(int fd, char *buf, size_t cap, size_t *len, int *more)
{
    char sink[4096];
    ssize_t n;

    if (*len < cap)
        n = read(fd, buf + *len, cap - *len);
    else
        n = read(fd, sink, sizeof(sink));
    if (n > 0 && *len < cap)
        *len += (size_t)n;
    else if (n > 0 && more != NULL)
        *more = 1;
    return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : n;
}

/* Reads the child's standard error (efd) and, when captured, its standard output (ofd) until
 * both end. */
static void collect(struct run *r, int efd, int ofd)
{
    struct pollfd p[2] = { { .fd = efd, .events = POLLIN }, { .fd = ofd, .events = POLLIN } };

    while (p[0].fd >= 0 || p[1].fd >= 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents != 0 &&
            gather(p[0].fd, r->errtext, sizeof(r->errtext) - 1, &r->err_len, NULL) <= 0)
            p[0].fd = -1;
        if (p[1].revents != 0 &&
            gather(p[1].fd, r->out, sizeof(r->out), &r->out_len, &r->out_more) <= 0)
            p[1].fd = -1;
    }
    r->errtext[r->err_len] = '\0';
}

static int spawn_actions(posix_spawn_file_actions_t *fa, const struct run *r, int efd, int ofd)
{
    int rc = r->in_fd >= 0 ? posix_spawn_file_actions_adddup2(fa, r->in_fd, 0)
                           : posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);

    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(fa, r->out_fd >= 0 ? r->out_fd : ofd, 1);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(fa, efd, 2);
    return rc;
}

/* Starts argv[0] (found in PATH) and waits for it; r->status gets its exit status. -1 (with
 * the message set) only when it could not run at all. */
static int run_child(struct fatfs *x, char *const argv[], struct run *r)
{
    posix_spawn_file_actions_t fa;
    int ep[2] = { -1, -1 }, op[2] = { -1, -1 }, rc, st;
    pid_t pid = -1;

    if (pipe2(ep, O_CLOEXEC) != 0 || (r->out_fd < 0 && pipe2(op, O_CLOEXEC) != 0)) {
        rc = errno;
        goto pipes;
    }
    rc = posix_spawn_file_actions_init(&fa);
    if (rc != 0)
        goto pipes;
    rc = spawn_actions(&fa, r, ep[1], op[1]);
    if (rc == 0)
        rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, x->env);
    posix_spawn_file_actions_destroy(&fa);
pipes:
    close(ep[1]);
    if (op[1] >= 0)
        close(op[1]);
    if (rc == 0)
        collect(r, ep[0], op[0]);
    close(ep[0]);
    if (op[0] >= 0)
        close(op[0]);
    if (rc != 0)
        return fail(x, "cannot run %s: %s%s", argv[0], strerror(rc),
                    rc == ENOENT ? " (FAT partitions are edited with mtools: install it)" : "");
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return fail(x, "waiting for %s: %s", argv[0], strerror(errno));
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

/* mtools' message, on one line. */
static const char *said(struct run *r)
{
    while (r->err_len > 0 &&
           (r->errtext[r->err_len - 1] == '\n' || r->errtext[r->err_len - 1] == ' '))
        r->errtext[--r->err_len] = '\0';
    for (size_t i = 0; i < r->err_len; i++)
        if (r->errtext[i] == '\n')
            r->errtext[i] = ';';
    return r->err_len ? r->errtext : "no message";
}

/* Runs "TOOL -i DRIVE [opt] [src] ::path" and fails with what mtools said. */
static int mtool(struct fatfs *x, const char *tool, const char *opt, char *src, const char *path,
                 struct run *r)
{
    char spec[FATFS_PATH_MAX + 4], words[3][16];
    char *argv[8];
    int n = 0;

    /* posix_spawn takes char *const argv[]: the words are copied, not cast. */
    snprintf(spec, sizeof(spec), "::%s", path);
    snprintf(words[0], sizeof(words[0]), "%s", tool);
    argv[n++] = words[0];
    if (opt != NULL) {
        snprintf(words[1], sizeof(words[1]), "%s", opt);
        argv[n++] = words[1];
    }
    argv[n++] = words[2];
    snprintf(words[2], sizeof(words[2]), "-i");
    argv[n++] = x->drive;
    if (src != NULL)
        argv[n++] = src;
    argv[n++] = spec;
    argv[n] = NULL;
    if (run_child(x, argv, r) != 0)
        return -1;
    if (r->status == 0)
        return 0;
    if (strstr(r->errtext, "Disk full") != NULL)
        return fail(x, "%s: the FAT filesystem is full (%s: %s)", path, tool, said(r));
    return fail(x, "%s: %s failed (exit status %d): %s", path, tool, r->status, said(r));
}

/* ---------------------------------------------------------------- paths */

/* path made canonical into out: "/a/b", "/" for the root; ".." at the root stays there. */
static int canon(struct fatfs *x, const char *path, char out[static FATFS_PATH_MAX])
{
    size_t n = 0;

    if (strpbrk(path, "*?[]") != NULL)
        return fail(x, "%s: mtools reads * ? [ ] as wildcards: such names are not edited", path);
    for (const char *p = path; *p != '\0';) {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--;
        } else if (len > 0 && !(len == 1 && p[0] == '.')) {
            if (n + 1 + len >= FATFS_PATH_MAX)
                return fail(x, "%.64s...: path too long (%d bytes allowed)", path,
                            FATFS_PATH_MAX - 1);
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p += len + (p[len] == '/');
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    return 0;
}

/* The parent directory of the canonical path (not the root) into dir. */
static void parent_of(const char *path, char dir[static FATFS_PATH_MAX])
{
    size_t cut = (size_t)(strrchr(path, '/') - path);

    memcpy(dir, path, cut ? cut : 1);
    dir[cut ? cut : 1] = '\0';
}

/* What the canonical path is: KIND_*, or -1. "mdir -b" prints a file's own path, and a
 * directory's entries (each below it), or nothing for an empty one. */
static int kind(struct fatfs *x, const char *path)
{
    struct run r = { .in_fd = -1, .out_fd = -1 };
    size_t len = strlen(path);

    if (strcmp(path, "/") == 0)
        return KIND_DIR;
    if (mtool(x, "mdir", "-ab", NULL, path, &r) != 0)
        return r.status != 0 && strstr(r.errtext, "not found") != NULL ? KIND_MISSING : -1;
    if (!r.out_more && r.out_len == len + 3 && memcmp(r.out, "::", 2) == 0 &&
        memcmp(r.out + 2, path, len) == 0 && r.out[len + 2] == '\n')
        return KIND_FILE;
    return r.out_len == 0 ? KIND_EMPTY_DIR : KIND_DIR;
}

/* The directory that will hold path must exist. */
static int parent_is_dir(struct fatfs *x, const char *path)
{
    char dir[FATFS_PATH_MAX];
    int k;

    parent_of(path, dir);
    k = kind(x, dir);
    if (k == KIND_MISSING)
        return fail(x, "the directory %s does not exist in the image", dir);
    if (k == KIND_FILE)
        return fail(x, "%s is not a directory in the image", dir);
    return k < 0 ? -1 : 0;
}

static int writable(struct fatfs *x)
{
    return x->writable ? 0 : fail(x, "opened read-only");
}

/* ---------------------------------------------------------------- files */

int fatfs_read_file(struct fatfs *x, const char *path, int out_fd)
{
    struct run r = { .in_fd = -1, .out_fd = out_fd };
    char p[FATFS_PATH_MAX];
    int k;

    if (canon(x, path, p) != 0 || (k = kind(x, p)) < 0)
        return -1;
    if (k == KIND_MISSING)
        return fail(x, "the file %s does not exist in the image", p);
    if (k != KIND_FILE)
        return fail(x, "%s is a directory, not a file", p);
    return mtool(x, "mtype", NULL, NULL, p, &r);
}

int fatfs_put(struct fatfs *x, const char *path, int in_fd)
{
    struct run r = { .in_fd = in_fd, .out_fd = -1 };
    char p[FATFS_PATH_MAX], stdin_name[] = "-";
    int k;

    if (writable(x) != 0 || canon(x, path, p) != 0)
        return -1;
    if (strcmp(p, "/") == 0)
        return fail(x, "%s: a file name is needed after the last '/'", path);
    if (parent_is_dir(x, p) != 0 || (k = kind(x, p)) < 0)
        return -1;
    if (k == KIND_DIR || k == KIND_EMPTY_DIR)
        return fail(x, "%s is a directory, not a file", p);
    /* -o: an existing file is overwritten, never asked about; "-": the file on stdin. */
    return mtool(x, "mcopy", "-o", stdin_name, p, &r);
}

int fatfs_mkdir_p(struct fatfs *x, const char *path)
{
    char p[FATFS_PATH_MAX], prefix[FATFS_PATH_MAX];
    int missing = 0;

    if (writable(x) != 0 || canon(x, path, p) != 0)
        return -1;
    for (size_t i = 1; p[i - 1] != '\0'; i++) {
        struct run r = { .in_fd = -1, .out_fd = -1 };
        int k = KIND_MISSING;

        if (p[i] != '/' && p[i] != '\0')
            continue;
        memcpy(prefix, p, i);
        prefix[i] = '\0';
        if (!missing && (k = kind(x, prefix)) < 0)
            return -1;
        if (k == KIND_FILE)
            return fail(x, "%s exists in the image and is not a directory", prefix);
        if (k == KIND_MISSING && mtool(x, "mmd", NULL, NULL, prefix, &r) != 0)
            return -1;
        missing |= k == KIND_MISSING;
    }
    return 0;
}

int fatfs_remove(struct fatfs *x, const char *path, int recursive)
{
    struct run r = { .in_fd = -1, .out_fd = -1 };
    char p[FATFS_PATH_MAX];
    int k;

    if (writable(x) != 0 || canon(x, path, p) != 0)
        return -1;
    if (strcmp(p, "/") == 0)
        return fail(x, "%s: the root directory cannot be removed", path);
    k = kind(x, p);
    if (k < 0)
        return -1;
    if (k == KIND_MISSING)
        return fail(x, "the file %s does not exist in the image", p);
    if (k == KIND_FILE)
        return mtool(x, "mdel", NULL, NULL, p, &r);
    if (k == KIND_DIR && !recursive)
        return fail(x, "%s is a directory that is not empty (use -r)", p);
    return mtool(x, k == KIND_DIR ? "mdeltree" : "mrd", NULL, NULL, p, &r);
}
