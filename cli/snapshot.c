/* snapshot.c -- `write rootfs-image -f ssh://[USER@]HOST[:PORT]`: the device's root
 * filesystem taken live over ssh, as mender-artifact does. The `ssh` client runs the
 * device's `mender-snapshot dump` (or `mender snapshot dump`) behind a token line; what
 * follows the token is the image, stored in a temporary file (msig_temp_file, so a signal
 * removes it too). The image is checked with blkid and `fsck -a` when blkid is installed,
 * and a second session reads the device's `show-provides`, whose rootfs-image.* keys become
 * default provides of the artifact. Errors start with "SSH error:" and exit 2, as in
 * mender-artifact 3.9.0. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TOKEN_SNAPSHOT "Initializing snapshot..."
#define TOKEN_PROVIDES "Initializing show-provides..."
#define LINE_MAX_BYTES (64u * 1024u) /* a longer line is passed on in pieces */
#define PROVIDES_MAX (1024u * 1024u) /* show-provides output kept at most */
#define TOKEN_TIMEOUT_S 120          /* mender-artifact waits 2 minutes */
#define COPY_BUF (1024u * 1024u)

/* The remote commands, word for word as mender-artifact sends them (single-quoted: ssh
 * joins its arguments into one command line for the remote shell). */
static const char script_snapshot[] =
    "'[ $(id -u) -eq 0 ] || sudo_cmd=\"sudo -S\""
    "; if which mender-snapshot 1> /dev/null"
    "; then $sudo_cmd /bin/sh -c \"echo " TOKEN_SNAPSHOT "; mender-snapshot dump\" | cat"
    "; elif which mender 1> /dev/null"
    "; then $sudo_cmd /bin/sh -c \"echo " TOKEN_SNAPSHOT "; mender snapshot dump\" | cat"
    "; else echo \"Mender not found: Please check that Mender is installed\" >&2 &&"
    "exit 1; fi'";
static const char script_provides[] =
    "'[ $(id -u) -eq 0 ] || sudo_cmd=\"sudo -S\""
    "; if which mender-update 1> /dev/null"
    "; then $sudo_cmd /bin/sh -c \"echo " TOKEN_PROVIDES ";mender-update show-provides\""
    "; elif which mender 1> /dev/null"
    "; then $sudo_cmd /bin/sh -c \"echo " TOKEN_PROVIDES ";mender show-provides\""
    "; else echo \"Mender not found: Please check that Mender is installed\" >&2 &&"
    " exit 1; fi'";

struct target {
    char host[512]; /* USER@HOST */
    char port[8];
};

struct session {
    pid_t pid;
    int out;                  /* ssh's standard output */
    char buf[LINE_MAX_BYTES]; /* read ahead */
    size_t len;               /* bytes in buf */
    char what[600];           /* "ssh -p 22 root@host", for messages */
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = cli_vfail(EXIT_CREATE, "SSH error: ", fmt, ap);
    va_end(ap);
    return rc;
}

/* ssh://[USER@]HOST[:PORT]: the port only when the rest splits in exactly two at ':'. */
static int parse_target(const char *url, struct target *t)
{
    const char *rest = url + strlen("ssh://"), *colon = strchr(rest, ':');
    size_t hl = colon ? (size_t)(colon - rest) : strlen(rest);

    snprintf(t->port, sizeof(t->port), "22");
    if (colon && strchr(colon + 1, ':') == NULL) {
        const char *p = colon + 1;
        char *end;
        long v = strtol(p, &end, 10);
        if (*p == '\0' || *end != '\0' || v < 1 || v > 65535)
            return fail("%s: the port '%s' is not a number from 1 to 65535", url, p);
        snprintf(t->port, sizeof(t->port), "%ld", v);
    } else if (colon) {
        hl = strlen(rest);
    }
    if (hl == 0 || rest[0] == '@' || (hl > 0 && rest[hl - 1] == '@'))
        return fail("%s: no host (use ssh://USER@HOST[:PORT])", url);
    if (hl >= sizeof(t->host))
        return fail("%s: the host is longer than %zu bytes", url, sizeof(t->host) - 1);
    memcpy(t->host, rest, hl);
    t->host[hl] = '\0';
    return 0;
}

/* An argument vector of copies (argv[n] == NULL), for posix_spawn. */
struct argv {
    char **v;
    size_t n, cap;
};

static int argv_add(struct argv *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, cap * sizeof(*v));
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    if ((a->v[a->n] = strdup(s)) == NULL)
        return -1;
    a->v[++a->n] = NULL;
    return 0;
}

static void argv_free(struct argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* The ssh command line: the user's -S arguments, -p PORT unless one of them sets the port,
 * the host, keep-alives, then the remote command. */
static int build_argv(const struct target *t, const struct strlist *args, const char *script,
                      struct argv *av)
{
    int port_given = 0;

    if (argv_add(av, "ssh") != 0)
        return -1;
    for (size_t i = 0; i < args->n; i++) {
        if (strncmp(args->v[i], "-p", 2) == 0)
            port_given = 1;
        if (argv_add(av, args->v[i]) != 0)
            return -1;
    }
    if (!port_given && (argv_add(av, "-p") != 0 || argv_add(av, t->port) != 0))
        return -1;
    const char *tail[] = {
        t->host, "-o", "ServerAliveInterval=30", "-o", "ServerAliveCountMax=1", "/bin/sh", "-c",
        script,  NULL
    };
    for (size_t i = 0; tail[i]; i++)
        if (argv_add(av, tail[i]) != 0)
            return -1;
    return 0;
}

/* Starts `ssh ...` with standard output on a pipe (input and errors are the user's, for
 * passwords and sudo). */
static int session_start(const struct target *t, const struct strlist *args, const char *script,
                         struct session *s)
{
    struct argv av = { 0 };
    posix_spawn_file_actions_t fa;
    int p[2], rc;

    memset(s, 0, sizeof(*s));
    s->pid = -1;
    s->out = -1;
    snprintf(s->what, sizeof(s->what), "ssh -p %s %s", t->port, t->host);
    if (build_argv(t, args, script, &av) != 0) {
        argv_free(&av);
        return fail("out of memory");
    }
    if (pipe2(p, O_CLOEXEC) != 0) {
        argv_free(&av);
        return fail("cannot make a pipe for ssh: %s", strerror(errno));
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    rc = posix_spawnp(&s->pid, "ssh", &fa, NULL, av.v, environ);
    posix_spawn_file_actions_destroy(&fa);
    argv_free(&av);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        s->pid = -1;
        return fail("cannot run ssh (the OpenSSH client, Debian package openssh-client): %s",
                    strerror(rc));
    }
    s->out = p[0];
    return 0;
}

/* Waits for ssh to end: 0, or the message part after "SSH session closed with error: ". */
static int session_end(struct session *s, char *why, size_t cap)
{
    int st;

    if (s->out >= 0)
        close(s->out);
    s->out = -1;
    if (s->pid < 0)
        return 0;
    while (waitpid(s->pid, &st, 0) < 0) {
        if (errno != EINTR) {
            snprintf(why, cap, "waitpid: %s", strerror(errno));
            s->pid = -1;
            return -1;
        }
    }
    s->pid = -1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFEXITED(st))
        snprintf(why, cap, "exit status %d", WEXITSTATUS(st));
    else
        snprintf(why, cap, "signal: %s", strsignal(WTERMSIG(st)));
    return -1;
}

/* Stops ssh after a failure on our side. */
static void session_kill(struct session *s)
{
    char why[128];

    if (s->pid > 0)
        kill(s->pid, SIGTERM);
    (void)session_end(s, why, sizeof(why));
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads more of ssh's output into s->buf, waiting until deadline: > 0 bytes, 0 at end,
 * -1 with errno (ETIMEDOUT at the deadline). */
static ssize_t session_fill(struct session *s, double deadline)
{
    for (;;) {
        double left = deadline - now();
        struct pollfd pfd = { .fd = s->out, .events = POLLIN };
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int r = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            continue;
        ssize_t n = read(s->out, s->buf + s->len, sizeof(s->buf) - s->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0)
            s->len += (size_t)n;
        return n;
    }
}

/* Drops the first n bytes of s->buf. */
static void consume(struct session *s, size_t n)
{
    memmove(s->buf, s->buf + n, s->len - n);
    s->len -= n;
}

static int token_timeout(void)
{
    const char *e = getenv("MSIG_SNAPSHOT_TIMEOUT");
    int v = e && *e ? atoi(e) : 0;

    return v > 0 ? v : TOKEN_TIMEOUT_S;
}

/* Passes on ssh's output line by line until the line with the token (what the device
 * prints before it, as a login banner). What follows the token line stays in s->buf. */
static int wait_token(struct session *s, const char *token, FILE *echo)
{
    double deadline = now() + token_timeout();

    for (;;) {
        char *nl = memchr(s->buf, '\n', s->len);
        if (nl != NULL) {
            size_t n = (size_t)(nl - s->buf) + 1;
            *nl = '\0';
            int found = strstr(s->buf, token) != NULL;
            *nl = '\n';
            if (!found)
                fwrite(s->buf, 1, n, echo);
            consume(s, n);
            if (found)
                return 0;
            continue;
        }
        if (s->len == sizeof(s->buf)) { /* no line end in sight: pass it on */
            fwrite(s->buf, 1, s->len, echo);
            s->len = 0;
        }
        ssize_t got = session_fill(s, deadline);
        if (got > 0)
            continue;
        int e = errno;
        fflush(echo);
        if (got < 0 && e == ETIMEDOUT)
            return fail("Error waiting for ssh session to be established.: Input deadline "
                        "exceeded (%s printed no '%s' in %d s)",
                        s->what, token, token_timeout());
        if (got < 0)
            return fail("Error waiting for ssh session to be established.: %s (%s)", strerror(e),
                        s->what);
        char why[128] = "";
        (void)session_end(s, why, sizeof(why));
        return fail("Error waiting for ssh session to be established.: EOF (%s ended%s%s "
                    "before printing '%s')",
                    s->what, why[0] ? " with " : "", why, token);
    }
}

/* Copies the rest of ssh's output (the image) to fd. */
static int receive(struct cli *cli, struct session *s, int fd, const char *path, uint64_t *total)
{
    char *buf = malloc(COPY_BUF);
    ssize_t n;
    int rc = 0;

    if (!buf)
        return fail("out of memory");
    *total = 0;
    if (s->len > 0) {
        memcpy(buf, s->buf, s->len);
        n = (ssize_t)s->len;
        s->len = 0;
    } else {
        n = 0;
    }
    for (;;) {
        if (n > 0 && cli_write_all(fd, buf, (size_t)n) != 0) {
            rc = fail("Error storing snapshot locally: cannot write %s: %s", path, strerror(errno));
            break;
        }
        *total += (uint64_t)(n > 0 ? n : 0);
        cli_progress_report(cli, *total, 0);
        n = read(s->out, buf, COPY_BUF);
        if (n < 0 && errno == EINTR) {
            n = 0;
            continue;
        }
        if (n < 0) {
            rc = fail("Error receiving snapshot from device: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
    }
    free(buf);
    cli_progress_clear(cli);
    return rc;
}

/* Runs the first session: the image into a temporary file. */
static int take_image(struct cli *cli, const struct target *t, const struct strlist *args,
                      FILE *echo, struct snapshot *snap)
{
    struct session s;
    char why[128] = "";
    uint64_t total = 0;
    int fd = -1, rc;

    if (msig_temp_file(cli->ctx, NULL, "rootfs.tmp", &fd, &snap->path) != 0) {
        cli_progress_clear(cli);
        return fail("%s", msig_ctx_last_error(cli->ctx));
    }
    if ((rc = session_start(t, args, script_snapshot, &s)) != 0)
        goto out;
    if ((rc = wait_token(&s, TOKEN_SNAPSHOT, echo)) != 0)
        goto out;
    cli_progress_restart(cli);
    if ((rc = receive(cli, &s, fd, snap->path, &total)) != 0) {
        session_kill(&s);
        goto out;
    }
    if (session_end(&s, why, sizeof(why)) != 0) {
        rc = fail("SSH session closed with error: %s (%s, after %llu bytes)", why, s.what,
                  (unsigned long long)total);
        goto out;
    }
    if (total == 0)
        rc = fail("the snapshot from %s is empty (did 'mender-snapshot dump' fail on the "
                  "device?)",
                  t->host);
    else if (fsync(fd) != 0)
        rc =
            fail("Error storing snapshot locally: cannot sync %s: %s", snap->path, strerror(errno));
out:
    if (s.pid > 0)
        session_kill(&s);
    close(fd);
    return rc;
}

/* Keeps the "rootfs-image.KEY=VALUE" lines of show-provides, as "KEY=VALUE" strings. */
static int keep_provide(struct snapshot *snap, const char *line)
{
    const char *eq = strchr(line, '=');
    char *copy;

    if (strncmp(line, "rootfs-image.", 13) != 0 || eq == NULL)
        return 0;
    if ((copy = strdup(line)) == NULL)
        return -1;
    char **v = realloc(snap->provides, (snap->nprovides + 1) * sizeof(*v));
    if (!v) {
        free(copy);
        return -1;
    }
    snap->provides = v;
    snap->provides[snap->nprovides++] = copy;
    return 0;
}

/* Reads show-provides line by line (at most PROVIDES_MAX bytes in all). */
static int read_provides(struct session *s, struct snapshot *snap)
{
    double deadline = now() + token_timeout();
    size_t seen = 0;

    for (;;) {
        char *nl = memchr(s->buf, '\n', s->len);
        if (nl != NULL) {
            *nl = '\0';
            if (nl > s->buf && nl[-1] == '\r')
                nl[-1] = '\0';
            if (keep_provide(snap, s->buf) != 0)
                return fail("out of memory");
            consume(s, (size_t)(nl - s->buf) + 1);
            continue;
        }
        if (s->len == sizeof(s->buf) || seen > PROVIDES_MAX)
            return fail("show-provides from %s: a line longer than %u bytes or more than %u "
                        "bytes in all",
                        s->what, LINE_MAX_BYTES, PROVIDES_MAX);
        ssize_t got = session_fill(s, deadline);
        if (got == 0) {
            s->buf[s->len] = '\0';
            return s->len && keep_provide(snap, s->buf) != 0 ? fail("out of memory") : 0;
        }
        if (got < 0)
            return fail("show-provides from %s: %s", s->what,
                        errno == ETIMEDOUT ? "no end in time" : strerror(errno));
        seen += (size_t)got;
    }
}

static int take_provides(const struct target *t, const struct strlist *args, FILE *echo,
                         struct snapshot *snap)
{
    struct session s;
    char why[128] = "";
    int rc;

    if ((rc = session_start(t, args, script_provides, &s)) != 0)
        return rc;
    if ((rc = wait_token(&s, TOKEN_PROVIDES, echo)) != 0 || (rc = read_provides(&s, snap)) != 0) {
        session_kill(&s);
        return rc;
    }
    if (session_end(&s, why, sizeof(why)) != 0)
        return fail("SSH session closed with error: %s (%s, show-provides)", why, s.what);
    return 0;
}

int snapshot_take(struct cli *cli, const char *url, const struct strlist *ssh_args, FILE *echo,
                  struct snapshot *snap)
{
    struct target t;
    int rc;

    memset(snap, 0, sizeof(*snap));
    if ((rc = parse_target(url, &t)) != 0)
        return rc;
    if ((rc = take_image(cli, &t, ssh_args, echo, snap)) != 0)
        return rc;
    if ((rc = fs_check(snap->path)) != 0)
        return rc;
    return take_provides(&t, ssh_args, echo, snap);
}

void snapshot_free(struct snapshot *snap)
{
    for (size_t i = 0; i < snap->nprovides; i++)
        free(snap->provides[i]);
    free(snap->provides);
    snap->provides = NULL;
    snap->nprovides = 0;
    msig_temp_remove(snap->path);
    snap->path = NULL;
}
