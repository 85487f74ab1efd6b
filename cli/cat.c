/* cat.c -- msig cat PATHSPEC: a file inside an artifact's rootfs, an ext4 image or a disk
 * image, to standard output. */
#include "target.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { OPT_TMP = OPT_KEYS_END + 1 };

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "tmp", required_argument, NULL, OPT_TMP },
    { NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
    fputs("Usage: msig cat [--tmp DIR] FILE:/path\n\n"
          "Writes a file of the root filesystem to standard output. FILE is a .mender artifact\n"
          "with a rootfs-image payload, an ext4 image, or a disk image (.sdimg, .uefiimg, any\n"
          "MBR or GPT image: the first root filesystem, /data/... the data partition, /uboot/...\n"
          "and /boot/efi/... the boot partition). Symbolic links are followed inside the image.\n\n"
          "  -h, --help    this help\n"
          "  --tmp DIR     where an artifact's payload is decompressed (default: TMPDIR, else\n"
          "                /tmp); needs the payload's size in free space\n\n"
          "Exit status: 0 written; 1 error.\n",
          f);
}

int cmd_cat(struct cli *cli, int argc, char **argv)
{
    struct target_opts o = { 0 };
    struct target t;
    struct extfs *fs[2];
    char file[PATH_MAX], inner[4096];
    const char *path;
    size_t n = 0;
    uint32_t mode;
    int opt, status;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, ":h", long_opts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        } else if (opt == OPT_TMP) {
            o.tmpdir = optarg;
        } else {
            return cli_bad_option("cat", argv, optopt, opt, long_opts);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("cat: got %d arguments, wants one (FILE:/path)", argc - optind);
    status = target_split("cat", argv[optind], file, sizeof(file), &path);
    if (status != 0)
        return status;
    status = target_open(cli, "cat", file, &o, &t);
    if (status == 0)
        status = target_fs(&t, path, 0, fs, &n, inner, sizeof(inner));
    if (status == 0)
        status = target_read(&t, fs, n, inner, STDOUT_FILENO, &mode);
    target_fs_close(&t, fs, n, 0);
    target_close(&t);
    return status;
}
