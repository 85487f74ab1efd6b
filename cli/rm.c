/* rm.c -- msig rm [-r] PATHSPEC: removes a file or directory from an artifact's rootfs, an
 * ext4 image or a disk image (both root filesystems). */
#include "target.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "recursive", no_argument, NULL, 'r' },
    TARGET_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
    fputs("Usage: msig rm [-r] [flags] FILE:/path\n\n"
          "Removes a file, a symbolic link (not its target) or a directory from the root\n"
          "filesystem of FILE (an artifact, an ext4 image or a disk image; see msig cat --help).\n"
          "An edited artifact is rebuilt with its own compression and signed with the key\n"
          "flags given; without one it is written unsigned (with a warning when it was signed).\n\n"
          "  -h, --help          this help\n"
          "  -r, --recursive     remove directories and their contents (default: only files,\n"
          "                      links and empty directories)\n",
          f);
    target_opts_help(f);
    fputs("\nExit status: 0 removed; 1 error (the input is unchanged).\n", f);
}

static int remove_step(void *user, struct target *t, struct extfs *fs[2], size_t n,
                       const char *inner)
{
    const int *recursive = user;

    return target_remove(t, fs, n, inner, *recursive);
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
    struct target_opts o = { .writable = 1 };
    struct keyopts keys = { 0 };
    int opt, status, recursive = 0;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, ":hrk:", long_opts, NULL)) != -1) {
        int k;

        if (opt == 'h') {
            usage(stdout);
            status = 0;
            goto out;
        } else if (opt == 'r') {
            recursive = 1;
        } else if ((k = target_opt(&o, &keys, opt, optarg)) != 1) {
            status = k < 0 ? EXIT_PARAMS : cli_bad_option("rm", argv, optopt, opt, long_opts);
            goto out;
        }
    }
    status = target_opts_done(cli, &o, &keys);
    if (status == 0 && argc - optind != 1)
        status = cli_usage_error("rm: got %d arguments, wants one (FILE:/path)", argc - optind);
    if (status == 0)
        status = target_edit(cli, "rm", argv[optind], &o, remove_step, &recursive);
out:
    keyopts_free(&keys);
    target_opts_free(&o);
    return status;
}
