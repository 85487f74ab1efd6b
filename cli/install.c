/* install.c -- msig install -m MODE HOSTFILE PATHSPEC, or install -d PATHSPEC: a host file
 * with the given permission bits, or a directory, into an artifact's rootfs, an ext4 image or
 * a disk image (both root filesystems). */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "mode", required_argument, NULL, 'm' },
    { "directory", no_argument, NULL, 'd' },
    TARGET_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
    fputs("Usage: msig install -m MODE [flags] HOSTFILE FILE:/path\n"
          "       msig install -d [flags] FILE:/directory\n\n"
          "Installs a host file with the permission bits MODE, or creates a directory (and its\n"
          "missing parents, mode 0755, owner 0:0), in the root filesystem of FILE (an artifact,\n"
          "an ext4 image or a disk image; see msig cat --help). A file that exists keeps its\n"
          "owner and extended attributes and gets MODE; a new one is owned by 0:0.\n\n"
          "  -h, --help          this help\n"
          "  -m, --mode MODE     the permission bits, read as mender-artifact reads them: 0755\n"
          "                      and 0o755 are octal, 0x1ed hexadecimal, 755 decimal (= 01363);\n"
          "                      required for a file (default: 0, refused)\n"
          "  -d, --directory     create the directory FILE:/directory instead (default: off)\n",
          f);
    target_opts_help(f);
    fputs("\nExit status: 0 installed; 1 error (the input is unchanged).\n", f);
}

/* MODE as Go's strconv.ParseInt(s, 0, 64), which mender-artifact's -m uses. */
static int parse_mode(const char *s, uint32_t *mode)
{
    char *end;
    long v;
    int base = 10;

    if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
        s += 2;
        base = 8;
    } else if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        base = 16;
    } else if (s[0] == '0' && s[1] != '\0') {
        base = 8;
    }
    errno = 0;
    v = strtol(s, &end, base);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        return -1;
    *mode = (uint32_t)v & 0777;
    return v == 0 && *s != '0' ? -1 : 0;
}

struct inst {
    int fd;
    struct extfs_attr attr;
};

static int file_step(void *user, struct target *t, struct extfs *fs[2], size_t n, const char *inner)
{
    struct inst *p = user;

    return target_put(t, fs, n, inner, p->fd, &p->attr);
}

static int dir_step(void *user, struct target *t, struct extfs *fs[2], size_t n, const char *inner)
{
    (void)user;
    return target_mkdir(t, fs, n, inner);
}

int cmd_install(struct cli *cli, int argc, char **argv)
{
    struct target_opts o = { .writable = 1 };
    struct keyopts keys = { 0 };
    struct inst p = { .fd = -1, .attr = { .set_mode = 1 } };
    const char *mode = NULL;
    struct stat st;
    int opt, status, dir = 0;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, ":hm:dk:", long_opts, NULL)) != -1) {
        int k;

        if (opt == 'h') {
            usage(stdout);
            status = 0;
            goto out;
        } else if (opt == 'm') {
            mode = optarg;
        } else if (opt == 'd') {
            dir = 1;
        } else if ((k = target_opt(&o, &keys, opt, optarg)) != 1) {
            status = k < 0 ? EXIT_PARAMS : cli_bad_option("install", argv, optopt, opt, long_opts);
            goto out;
        }
    }
    status = target_opts_done(cli, &o, &keys);
    if (status != 0)
        goto out;
    if (argc - optind != (dir ? 1 : 2)) {
        status = cli_usage_error("install: wrong number of arguments, got %d (want %s)",
                                 argc - optind, dir ? "FILE:/directory" : "HOSTFILE FILE:/path");
        goto out;
    }
    if (mode != NULL && parse_mode(mode, &p.attr.mode) != 0) {
        status = cli_usage_error("install: invalid -m value \"%s\" (a number such as 0755)", mode);
        goto out;
    }
    if (dir) {
        status = target_edit(cli, "install", argv[optind], &o, dir_step, NULL);
        goto out;
    }
    if (mode == NULL || p.attr.mode == 0) {
        status = cli_usage_error("install: file permissions need to be set with -m MODE; "
                                 "to copy a file as it is, use msig cp");
        goto out;
    }
    p.fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
    if (p.fd < 0 || fstat(p.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "msig install: %s: %s\n", argv[optind],
                p.fd < 0 ? strerror(errno) : "not a regular file");
        status = EXIT_FAIL;
        goto out;
    }
    status = target_edit(cli, "install", argv[optind + 1], &o, file_step, &p);
out:
    if (p.fd >= 0)
        close(p.fd);
    keyopts_free(&keys);
    target_opts_free(&o);
    return status;
}
