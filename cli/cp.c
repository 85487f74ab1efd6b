/* cp.c -- msig cp SRC DST: a host file (or - for standard input) into an artifact's rootfs,
 * an ext4 image or a disk image, or a file out of one to the host. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct option long_opts[] = {
    { "help", no_argument, NULL, 'h' },
    TARGET_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
    fputs("Usage: msig cp [flags] HOSTFILE|- FILE:/path    (into the image)\n"
          "       msig cp [flags] FILE:/path HOSTFILE      (out of the image)\n\n"
          "Copies a file into or out of the root filesystem of FILE (an artifact, an ext4\n"
          "image or a disk image; see msig cat --help). Into the image: a file that exists\n"
          "keeps its mode, owner and extended attributes; a new one gets the host file's\n"
          "permission bits (0644 from standard input) and owner 0:0; a /path ending in '/'\n"
          "gets HOSTFILE's name. Out of the image: the host file gets the image file's\n"
          "permission bits and is written under a temporary name and renamed.\n\n"
          "  -h, --help          this help\n",
          f);
    target_opts_help(f);
    fputs("\nExit status: 0 copied; 1 error (the input is unchanged).\n", f);
}

struct put {
    int fd;
    struct extfs_attr attr;
};

static int put_step(void *user, struct target *t, struct extfs *fs[2], size_t n, const char *inner)
{
    struct put *p = user;

    return target_put(t, fs, n, inner, p->fd, &p->attr);
}

static int copy_in(struct cli *cli, const struct target_opts *o, const char *src, const char *dst)
{
    struct put p = { .fd = -1, .attr = { .set_mode = 0 } };
    struct stat st;
    char *spec = NULL;
    int status = EXIT_FAIL;

    if (strcmp(src, "-") == 0) {
        p.fd = target_spool("cp", o, STDIN_FILENO);
        if (p.fd < 0)
            return EXIT_FAIL;
        st.st_mode = 0644;
    } else {
        p.fd = open(src, O_RDONLY | O_CLOEXEC);
        if (p.fd < 0 || fstat(p.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            fprintf(stderr, "msig cp: %s: %s\n", src,
                    p.fd < 0 ? strerror(errno) : "not a regular file");
            goto out;
        }
    }
    p.attr.mode = st.st_mode & 0777;
    /* "img:/dir/" names the directory: the file keeps its own name there. */
    if (dst[strlen(dst) - 1] == '/' && strcmp(src, "-") != 0) {
        char *copy = strdup(src);

        if (copy == NULL || asprintf(&spec, "%s%s", dst, basename(copy)) < 0)
            spec = NULL;
        free(copy);
        if (spec == NULL) {
            fprintf(stderr, "msig cp: out of memory\n");
            goto out;
        }
        dst = spec;
    }
    status = target_edit(cli, "cp", dst, o, put_step, &p);
out:
    if (p.fd >= 0)
        close(p.fd);
    free(spec);
    return status;
}

static int copy_out(struct cli *cli, const struct target_opts *o, const char *src, const char *dst)
{
    struct target t;
    struct extfs *fs[2];
    char file[PATH_MAX], inner[4096], tmp[PATH_MAX + 32], target[PATH_MAX];
    const char *path;
    struct stat st;
    size_t n = 0;
    uint32_t mode = 0644;
    int fd = -1, status = target_split("cp", src, file, sizeof(file), &path);

    if (status != 0)
        return status;
    snprintf(target, sizeof(target), "%s", dst);
    if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *copy = strdup(path);

        if (copy == NULL)
            return EXIT_FAIL;
        snprintf(target, sizeof(target), "%s/%s", dst, basename(copy));
        free(copy);
    }
    snprintf(tmp, sizeof(tmp), "%s.msig-XXXXXX", target);
    status = target_open(cli, "cp", file, o, &t);
    if (status == 0)
        status = target_fs(&t, path, 0, fs, &n, inner, sizeof(inner));
    if (status == 0 && (fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        fprintf(stderr, "msig cp: cannot create %s: %s\n", tmp, strerror(errno));
        status = EXIT_FAIL;
    }
    if (fd >= 0) {
        status = target_read(&t, fs, n, inner, fd, &mode);
        if (status == 0 && (fchmod(fd, mode & 07777) != 0 || fsync(fd) != 0)) {
            fprintf(stderr, "msig cp: writing %s: %s\n", tmp, strerror(errno));
            status = EXIT_FAIL;
        }
        if (close(fd) != 0 && status == 0) {
            fprintf(stderr, "msig cp: writing %s: %s\n", tmp, strerror(errno));
            status = EXIT_FAIL;
        }
        if (status == 0 && rename(tmp, target) != 0) {
            fprintf(stderr, "msig cp: cannot rename %s to %s: %s\n", tmp, target, strerror(errno));
            status = EXIT_FAIL;
        }
        if (status != 0)
            unlink(tmp);
    }
    target_fs_close(&t, fs, n, 0);
    target_close(&t);
    return status;
}

int cmd_cp(struct cli *cli, int argc, char **argv)
{
    struct target_opts o = { 0 };
    struct keyopts keys = { 0 };
    int opt, status;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long_only(argc, argv, ":hk:", long_opts, NULL)) != -1) {
        int k;

        if (opt == 'h') {
            usage(stdout);
            status = 0;
            goto out;
        } else if ((k = target_opt(&o, &keys, opt, optarg)) != 1) {
            status = k < 0 ? EXIT_PARAMS : cli_bad_option("cp", argv, optopt, opt, long_opts);
            goto out;
        }
    }
    status = target_opts_done(cli, &o, &keys);
    if (status == 0 && argc - optind != 2)
        status = cli_usage_error("cp: got %d arguments, wants two (SRC DST)", argc - optind);
    if (status != 0)
        goto out;
    if (strcmp(argv[optind], "-") != 0 && target_is_spec(argv[optind])) {
        status = copy_out(cli, &o, argv[optind], argv[optind + 1]);
    } else if (strchr(argv[optind + 1], ':') != NULL) {
        o.writable = 1;
        status = copy_in(cli, &o, argv[optind], argv[optind + 1]);
    } else {
        status = cli_usage_error("cp: no artifact or image given: SRC or DST must be "
                                 "FILE:/path with an existing FILE");
    }
out:
    keyopts_free(&keys);
    target_opts_free(&o);
    return status;
}
