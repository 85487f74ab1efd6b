/* common.c -- helpers shared by the msig subcommands: messages, string lists, parsing.
 * Key flags are in keyopts.c, the PIN and log callbacks in pin.c. */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_vfail(int code, const char *prefix, const char *fmt, va_list ap)
{
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return code;
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = cli_vfail(EXIT_PARAMS, "msig: ", fmt, ap);
    va_end(ap);
    return rc;
}

const char *cli_message(struct cli *cli, int rc, const char *subject)
{
    static char buf[4096];
    const char *msg = cli->ctx ? msig_ctx_last_error(cli->ctx) : "";

    cli_progress_clear(cli); /* the message goes to standard error, on a line of its own */

    if (msg == NULL || msg[0] == '\0')
        msg = msig_strerror(rc);
    if (msg == NULL || msg[0] == '\0')
        msg = "unknown error";
    if (subject != NULL && subject[0] != '\0' && strstr(msg, subject) == NULL)
        snprintf(buf, sizeof(buf), "%s: %s", subject, msg);
    else
        snprintf(buf, sizeof(buf), "%s", msg);
    return buf;
}

void cli_report(struct cli *cli, int rc, const char *subject)
{
    fprintf(stderr, "%s\n", cli_message(cli, rc, subject));
}

int cli_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Edit distance (insertions, deletions, substitutions) of two short strings. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

    if (la >= 64 || lb >= 64)
        return 64;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            tmp = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = tmp;
        }
    }
    return row[lb];
}

/* The long option nearest to name (without dashes), if it is near enough to be a typo. */
static const char *nearest(const struct option *opts, const char *name)
{
    const char *best = NULL;
    size_t best_d = 4;

    for (; opts != NULL && opts->name != NULL; opts++) {
        size_t d = distance(name, opts->name);
        if (d < best_d && d <= strlen(opts->name) / 3 + 1) {
            best = opts->name;
            best_d = d;
        }
    }
    return best;
}

int cli_bad_option(const char *cmd, char **argv, int optopt_val, int ret, const struct option *opts)
{
    const char *arg = argv[optind - 1];

    if (ret == ':') {
        if (optopt_val > 0 && optopt_val < 256)
            return cli_usage_error("%s: flag -%c needs an argument", cmd, optopt_val);
        return cli_usage_error("%s: flag %s needs an argument", cmd, arg);
    }
    if (optopt_val > 0 && optopt_val < 256)
        return cli_usage_error("%s: flag provided but not defined: -%c", cmd, optopt_val);
    const char *name = arg + strspn(arg, "-");
    char bare[128];
    snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(name, "="), name);
    const char *near = nearest(opts, bare);
    if (near != NULL)
        return cli_usage_error("%s: flag provided but not defined: %s (did you mean --%s?)", cmd,
                               arg, near);
    return cli_usage_error("%s: flag provided but not defined: %s", cmd, arg);
}

int strlist_add(struct strlist *l, const char *s)
{
    if (l->n + 1 >= l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL)
            return MSIG_E_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    l->v[l->n] = NULL;
    return 0;
}

void strlist_free(struct strlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---------------------------------------------------------------- keys */

/* ---------------------------------------------------------------- parsing */

int split_kv(const char *arg, char **key, const char **value)
{
    const char *colon = strchr(arg, ':');

    *key = NULL;
    if (colon == NULL)
        return -1;
    *key = strndup(arg, (size_t)(colon - arg));
    if (*key == NULL)
        return -1;
    *value = colon + 1;
    return 0;
}

int cli_threads_opt(struct cli *cli, const char *cmd, const char *arg)
{
    char *end = NULL;
    long n;

    errno = 0;
    n = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno != 0 || n < 0 || n > MSIG_THREADS_MAX)
        return cli_usage_error("%s: --threads takes a number from 0 to %d, got '%s'", cmd,
                               MSIG_THREADS_MAX, arg);
    if (msig_ctx_set_threads(cli->ctx, (int)n) != 0) {
        cli_report(cli, MSIG_E_INVALID, "--threads");
        return EXIT_PARAMS;
    }
    return 0;
}

int parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mul;
    } units[] = {
        { "", 1 },
        { "B", 1 },
        { "KB", 1000ull },
        { "MB", 1000000ull },
        { "GB", 1000000000ull },
        { "TB", 1000000000000ull },
    };
    char *end = NULL;
    unsigned long long v;
    size_t i;

    if (s == NULL || !isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    while (*end == ' ')
        end++;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].unit) == 0) {
            if (v > UINT64_MAX / units[i].mul)
                return -1;
            *out = (uint64_t)v * units[i].mul;
            return 0;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------- terminal safety */
