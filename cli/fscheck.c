/* fscheck.c -- the check mender-artifact makes of a device snapshot before it packs it:
 * blkid names the filesystem, then `fsck.ext4 -a` or `fsck.vfat -a` repairs what a live copy
 * may hold (exit status 0 or 1 is success). Without blkid the check is skipped with a
 * warning, as mender-artifact does. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int fail_fs(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = cli_vfail(EXIT_CREATE, "", fmt, ap);
    va_end(ap);
    return rc;
}

/* name in PATH, else in /usr/sbin or /sbin (blkid and fsck live there). */
static int find_tool(const char *name, char *buf, size_t cap)
{
    const char *path = getenv("PATH");
    char dirs[8192];
    struct stat st;

    snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if ((size_t)snprintf(buf, cap, "%s/%s", *d ? d : ".", name) >= cap)
            continue;
        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* Runs argv[0] (a full path) with standard output into out (at most cap - 1 bytes kept,
 * NUL-terminated) or to /dev/null when out is NULL. Returns the exit status, or -1. */
static int run_tool(char *const argv[], char *out, size_t cap)
{
    posix_spawn_file_actions_t fa;
    int p[2] = { -1, -1 }, st, rc;
    pid_t pid;
    size_t len = 0;

    if (out && pipe2(p, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    if (out)
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    else
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (out)
        close(p[1]);
    if (rc != 0) {
        if (out)
            close(p[0]);
        errno = rc;
        return -1;
    }
    while (out) {
        char tmp[4096];
        ssize_t n = read(p[0], tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t k = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
        memcpy(out + len, tmp, k);
        len += k;
    }
    if (out) {
        out[len] = '\0';
        close(p[0]);
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int fsck(const char *path, const char *fstype)
{
    char tool[4096], name[32], file[4096];

    snprintf(name, sizeof(name), "fsck.%s", fstype);
    if (find_tool(name, tool, sizeof(tool)) != 0)
        return fail_fs("runFsck error: fsck command not found: %s is not installed", name);
    snprintf(file, sizeof(file), "%s", path);
    char *argv[] = { tool, "-a", file, NULL };
    int st = run_tool(argv, NULL, 0);
    if (st == 0 || st == 1)
        return 0;
    if (st == 8)
        return fail_fs("runFsck error: %s -a %s: operational error (exit status 8): "
                       "mender-artifact can only modify ext4 and vfat payloads",
                       name, path);
    if (st < 0)
        return fail_fs("runFsck error: cannot run %s: %s", tool, strerror(errno));
    return fail_fs("runFsck error: fsck error: %s -a %s: exit status %d (errors left "
                   "uncorrected in the snapshot)",
                   name, path, st);
}

int fs_check(const char *path)
{
    char tool[4096], out[1024], file[4096];

    if (find_tool("blkid", tool, sizeof(tool)) != 0) {
        fprintf(stderr, "warning: Skipping running fsck on the Artifact: `blkid` binary not "
                        "found on the system\n");
        return 0;
    }
    snprintf(file, sizeof(file), "%s", path);
    char *argv[] = { tool, "-s", "TYPE", file, NULL };
    int st = run_tool(argv, out, sizeof(out));
    if (st != 0)
        return fail_fs("imgFilesystemType error: blkid command failed: exit status %d (%s "
                       "holds no filesystem blkid knows)",
                       st, path);
    if (strstr(out, "TYPE=\"vfat\""))
        return fsck(path, "vfat");
    if (strstr(out, "TYPE=\"ext"))
        return fsck(path, "ext4");
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
    return fail_fs("createRootfsFromSSH: unsupported filesystem (blkid: %s)", out);
}
