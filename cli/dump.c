/* dump.c -- msig dump FILE: extracts payload files, scripts and meta-data, and prints a
 * `write` command line that recreates the artifact (spec section 14). */
#include "common.h"
#include "recipe.h"

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

int cmd_dump(struct cli *cli, int argc, char **argv)
{
    struct unpack d;
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
    if ((d.files_dir && unpack_make_dirs(d.files_dir) != 0) ||
        (d.scripts_dir && unpack_make_dirs(d.scripts_dir) != 0) ||
        (meta_dir && unpack_make_dirs(meta_dir) != 0))
        goto out;

    rc = msig_reader_new(cli->ctx, &r);
    if (rc != 0) {
        cli_report(cli, rc, NULL);
        goto out;
    }
    msig_reader_set_file_handler(r, unpack_on_file, &d);
    rc = msig_reader_read_path(r, path, &art);
    if (rc != 0 || art == NULL) {
        unpack_undo(&d);
        if (rc != 0)
            cli_report(cli, rc, path);
        else
            fprintf(stderr, "%s: no artifact was read\n", path);
        goto out;
    }
    if (meta_dir != NULL && recipe_write_meta(art, meta_dir) != 0) {
        unpack_undo(&d);
        goto out;
    }
    if (print || print0) {
        recipe_cmdline(&a, art, d.files_dir, d.scripts_dir, meta_dir);
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
    args_free(&a);
    msig_artifact_free(art);
    msig_reader_free(r);
    unpack_free(&d);
    return status;
}
