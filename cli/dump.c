/* dump.c -- msig dump FILE: extracts payload files, scripts and meta-data, and prints a
 * `write` command line that recreates the artifact (spec section 14). */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    OPT_FILES = OPT_KEYS_END + 1,
    OPT_SCRIPTS,
    OPT_META,
    OPT_PRINT,
    OPT_PRINT0,
    OPT_NO_PROGRESS,
};

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "files", required_argument, NULL, OPT_FILES },
    { "scripts", required_argument, NULL, OPT_SCRIPTS },
    { "meta-data", required_argument, NULL, OPT_META },
    { "print-cmdline", no_argument, NULL, OPT_PRINT },
    { "print0-cmdline", no_argument, NULL, OPT_PRINT0 },
    { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
    { NULL, 0, NULL, 0 },
};

struct args {
    char **v;
    size_t n, cap;
    int failed;
};

static void arg_add(struct args *a, const char *s)
{
    char *copy;

    if (a->failed)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, cap * sizeof(*v));

        if (v == NULL) {
            a->failed = 1;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    copy = strdup(s);
    if (copy == NULL) {
        a->failed = 1;
        return;
    }
    a->v[a->n++] = copy;
}

struct dump {
    const char *files_dir;
    const char *scripts_dir;
    int fd; /* file being written, or -1 */
    uint32_t mode;
    char tmp[PATH_MAX];
    char final[PATH_MAX];
    struct args created; /* files renamed into place */
};

/* mkdir -p; returns 0 or -1 with a message printed. */
static int make_dirs(const char *dir)
{
    char buf[PATH_MAX];
    size_t i, len = strlen(dir);

    if (len == 0 || len >= sizeof(buf)) {
        fprintf(stderr, "%s: invalid directory name\n", dir);
        return -1;
    }
    memcpy(buf, dir, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "cannot create directory %s: %s\n", buf, strerror(errno));
            return -1;
        }
        buf[i] = dir[i];
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int on_file(void *user, const struct msig_file_event *ev, const void *data, size_t len,
                   int last)
{
    struct dump *d = user;
    const char *dir;

    if (data == NULL && len == 0 && !last) {
        dir = ev->kind == MSIG_FILE_SCRIPT ? d->scripts_dir : d->files_dir;
        if (dir == NULL || (ev->kind == MSIG_FILE_PAYLOAD && ev->payload != 0))
            return 0;
        if (ev->name == NULL || ev->name[0] == '\0' || strchr(ev->name, '/') != NULL ||
            strcmp(ev->name, ".") == 0 || strcmp(ev->name, "..") == 0) {
            fprintf(stderr, "refusing to dump a file named '%s'\n", ev->name ? ev->name : "");
            return MSIG_E_FORMAT;
        }
        if ((size_t)snprintf(d->final, sizeof(d->final), "%s/%s", dir, ev->name) >=
                sizeof(d->final) ||
            (size_t)snprintf(d->tmp, sizeof(d->tmp), "%s/.%s.XXXXXX", dir, ev->name) >=
                sizeof(d->tmp)) {
            fprintf(stderr, "%s/%s: path too long\n", dir, ev->name);
            return MSIG_E_LIMIT;
        }
        d->fd = mkstemp(d->tmp);
        if (d->fd < 0) {
            fprintf(stderr, "cannot create %s: %s\n", d->tmp, strerror(errno));
            return MSIG_E_IO;
        }
        d->mode = ev->mode & 0777;
        return 0;
    }
    if (d->fd < 0)
        return 0;
    if (len > 0 && write_all(d->fd, data, len) != 0) {
        fprintf(stderr, "writing %s: %s\n", d->final, strerror(errno));
        return MSIG_E_IO;
    }
    if (!last)
        return 0;
    if (fchmod(d->fd, d->mode ? d->mode : 0644) != 0 || close(d->fd) != 0) {
        fprintf(stderr, "writing %s: %s\n", d->final, strerror(errno));
        d->fd = -1;
        return MSIG_E_IO;
    }
    d->fd = -1;
    if (rename(d->tmp, d->final) != 0) {
        fprintf(stderr, "cannot rename %s to %s: %s\n", d->tmp, d->final, strerror(errno));
        unlink(d->tmp);
        return MSIG_E_IO;
    }
    d->tmp[0] = '\0';
    arg_add(&d->created, d->final);
    return d->created.failed ? MSIG_E_NOMEM : 0;
}

/* Removes everything this dump created (after a failed read). */
static void undo(struct dump *d)
{
    size_t i;

    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    if (d->tmp[0] != '\0')
        unlink(d->tmp);
    for (i = 0; i < d->created.n; i++)
        unlink(d->created.v[i]);
}

static void dump_free(struct dump *d)
{
    size_t i;

    for (i = 0; i < d->created.n; i++)
        free(d->created.v[i]);
    free(d->created.v);
}

/* ---------------------------------------------------------------- command line */

static void arg_path(struct args *a, const char *dir, const char *name)
{
    char buf[PATH_MAX];

    if (dir == NULL || dir[0] == '\0')
        arg_add(a, name);
    else {
        snprintf(buf, sizeof(buf), "%s/%s", dir, name);
        arg_add(a, buf);
    }
}

static void arg_list(struct args *a, const char *flag, const char *const *list)
{
    size_t i;

    for (i = 0; list != NULL && list[i] != NULL; i++) {
        arg_add(a, flag);
        arg_add(a, list[i]);
    }
}

static void arg_kv(struct args *a, const char *flag, const char *const *kv)
{
    char buf[4096];
    size_t i;

    for (i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2) {
        snprintf(buf, sizeof(buf), "%s:%s", kv[i], kv[i + 1]);
        arg_add(a, flag);
        arg_add(a, buf);
    }
}

/* Builds `write ...` for the artifact. 3.9.0 prints --device-type (newest prints
 * --compatible-types); msig follows 3.9.0 so the line also works with that version. */
static void build_cmdline(struct args *a, const struct msig_artifact *art, const char *files_dir,
                          const char *scripts_dir, const char *meta_dir)
{
    const char *type = msig_artifact_payload_count(art) ? msig_artifact_payload_type(art, 0) : NULL;
    const char *group = msig_artifact_provides_group(art);
    const char *const *scripts = msig_artifact_scripts(art);
    int bootstrap = type == NULL;
    size_t i, nf;

    arg_add(a, "write");
    arg_add(a, bootstrap ? "bootstrap-artifact" : "module-image");
    arg_add(a, "--artifact-name");
    arg_add(a, msig_artifact_name(art) ? msig_artifact_name(art) : "");
    arg_list(a, "--device-type", msig_artifact_devices(art));
    if (group != NULL && group[0] != '\0') {
        arg_add(a, "--provides-group");
        arg_add(a, group);
    }
    arg_list(a, "--artifact-name-depends", msig_artifact_depends_names(art));
    arg_list(a, "--depends-groups", msig_artifact_depends_groups(art));
    /* Only what was dumped: -s, -m and -f name files that exist after this dump. */
    if (!bootstrap && scripts_dir != NULL) {
        for (i = 0; scripts != NULL && scripts[i] != NULL; i++) {
            arg_add(a, "--script");
            arg_path(a, scripts_dir, scripts[i]);
        }
    }
    if (!bootstrap) {
        arg_add(a, "--type");
        arg_add(a, type);
    }
    if (msig_artifact_payload_count(art) == 0)
        return;
    arg_kv(a, "--provides", msig_artifact_payload_provides(art, 0));
    arg_kv(a, "--depends", msig_artifact_payload_depends(art, 0));
    if (!bootstrap) {
        /* The provides and clears are listed in full, so the defaults must stay off. */
        arg_add(a, "--no-default-software-version");
        arg_add(a, "--no-default-clears-provides");
        if (meta_dir != NULL && msig_artifact_payload_meta_data(art, 0) != NULL) {
            arg_add(a, "--meta-data");
            arg_path(a, meta_dir, "0000.meta-data");
        }
        nf = files_dir != NULL ? msig_artifact_payload_file_count(art, 0) : 0;
        for (i = 0; i < nf; i++) {
            const struct msig_file_info *f = msig_artifact_payload_file(art, 0, i);

            if (f == NULL || f->name == NULL)
                continue;
            /* The API gives the augmented section merged (no augment type of its own),
             * so augmented files are recreated as plain payload files. */
            arg_add(a, "--file");
            arg_path(a, files_dir, f->name);
        }
    }
    arg_list(a, "--clears-provides", msig_artifact_payload_clears(art, 0));
}

static void print_shell_word(const char *s)
{
    const char *p;
    int plain = s[0] != '\0';

    for (p = s; *p != '\0' && plain; p++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                   "_./:=@%+,-",
                   *p) == NULL)
            plain = 0;
    if (plain) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (p = s; *p != '\0'; p++) {
        if (*p == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*p);
    }
    putchar('\'');
}

static int write_meta(const struct msig_artifact *art, const char *dir)
{
    const char *meta =
        msig_artifact_payload_count(art) ? msig_artifact_payload_meta_data(art, 0) : NULL;
    char path[PATH_MAX];
    FILE *f;

    if (meta == NULL)
        return 0;
    snprintf(path, sizeof(path), "%s/0000.meta-data", dir);
    f = fopen(path, "w");
    if (f == NULL || fprintf(f, "%s\n", meta) < 0 || fclose(f) != 0) {
        fprintf(stderr, "writing %s: %s\n", path, strerror(errno));
        if (f != NULL)
            unlink(path);
        return -1;
    }
    return 0;
}

int cmd_dump(struct cli *cli, int argc, char **argv)
{
    struct dump d;
    struct args a = { 0 };
    struct msig_reader *r = NULL;
    struct msig_artifact *art = NULL;
    const char *meta_dir = NULL, *path;
    int opt, rc, print = 0, print0 = 0, status = EXIT_PARAMS;
    size_t i;

    memset(&d, 0, sizeof(d));
    d.fd = -1;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(
                "Usage: msig dump FILE [--files DIR] [--scripts DIR] [--meta-data DIR]\n"
                "                 [--print-cmdline | --print0-cmdline]\n\n"
                "Extracts the parts of an artifact.\n\n"
                "  -h, --help                     this help\n"
                "  --files DIR                    the payload files (default: not extracted)\n"
                "  --scripts DIR                  the state scripts (default: not extracted)\n"
                "  --meta-data DIR                the meta-data, one file per payload\n"
                "  --print-cmdline                print the msig write command that rebuilds the\n"
                "                                 artifact from what was dumped\n"
                "  --print0-cmdline               the same, NUL-separated\n"
                "  --no-progress                  accepted (dump shows no progress)\n\n"
                "Exit status: 0 dumped; 1 error.\n",
                stdout);
            status = 0;
            goto out;
        case OPT_FILES:
            d.files_dir = optarg;
            break;
        case OPT_SCRIPTS:
            d.scripts_dir = optarg;
            break;
        case OPT_META:
            meta_dir = optarg;
            break;
        case OPT_PRINT:
            print = 1;
            break;
        case OPT_PRINT0:
            print0 = 1;
            break;
        case OPT_NO_PROGRESS:
            break;
        default:
            status = cli_bad_option("dump", argv, optopt, opt, long_opts);
            goto out;
        }
    }
    if (optind >= argc) {
        status = cli_usage_error("dump: nothing specified; give the artifact file to dump");
        goto out;
    }
    if (argc - optind > 1) {
        status = cli_usage_error("dump: only one artifact file can be dumped, got '%s' too",
                                 argv[optind + 1]);
        goto out;
    }
    if (print && print0) {
        status = cli_usage_error("dump: --print-cmdline and --print0-cmdline are exclusive");
        goto out;
    }
    path = argv[optind];
    status = EXIT_FAIL;
    if ((d.files_dir && make_dirs(d.files_dir) != 0) ||
        (d.scripts_dir && make_dirs(d.scripts_dir) != 0) || (meta_dir && make_dirs(meta_dir) != 0))
        goto out;

    rc = msig_reader_new(cli->ctx, &r);
    if (rc != 0) {
        cli_report(cli, rc, NULL);
        goto out;
    }
    msig_reader_set_file_handler(r, on_file, &d);
    rc = msig_reader_read_path(r, path, &art);
    if (rc != 0 || art == NULL) {
        undo(&d);
        if (rc != 0)
            cli_report(cli, rc, path);
        else
            fprintf(stderr, "%s: no artifact was read\n", path);
        goto out;
    }
    if (meta_dir != NULL && write_meta(art, meta_dir) != 0) {
        undo(&d);
        goto out;
    }
    if (print || print0) {
        build_cmdline(&a, art, d.files_dir, d.scripts_dir, meta_dir);
        if (a.failed) {
            fprintf(stderr, "msig: out of memory\n");
            goto out;
        }
        for (i = 0; i < a.n; i++) {
            if (print0) {
                fputs(a.v[i], stdout);
                putchar('\0');
            } else {
                if (i > 0)
                    putchar(' ');
                print_shell_word(a.v[i]);
            }
        }
        if (print)
            putchar('\n');
    }
    status = 0;
out:
    for (i = 0; i < a.n; i++)
        free(a.v[i]);
    free(a.v);
    msig_artifact_free(art);
    msig_reader_free(r);
    dump_free(&d);
    return status;
}
