/* target.c -- the artifact, ext4 image or disk image an image command edits, and putting
 * the edited one in place. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The target being edited, for target_signal_cleanup (one per process). */
static struct target *current;

int target_split(const char *cmd, const char *spec, char *file, size_t cap, const char **path)
{
    const char *colon = strchr(spec, ':');

    if (colon == NULL)
        return cli_usage_error("%s: failed to parse image path \"%s\" (want FILE:/path)", cmd,
                               spec);
    if (colon[1] == '\0')
        return cli_usage_error("%s: please enter a path into the image (%s/path)", cmd, spec);
    if ((size_t)(colon - spec) >= cap)
        return cli_usage_error("%s: file name too long in '%.64s...'", cmd, spec);
    memcpy(file, spec, (size_t)(colon - spec));
    file[colon - spec] = '\0';
    *path = colon + 1;
    return 0;
}

int target_is_spec(const char *spec)
{
    char file[PATH_MAX];
    const char *colon = strchr(spec, ':');
    struct stat st;

    if (colon == NULL || (size_t)(colon - spec) >= sizeof(file))
        return 0;
    memcpy(file, spec, (size_t)(colon - spec));
    file[colon - spec] = '\0';
    return stat(file, &st) == 0 && S_ISREG(st.st_mode);
}

int target_opt(struct target_opts *o, struct keyopts *k, int opt, const char *arg)
{
    int rc;

    if (opt == OPT_T_TMP) {
        o->tmpdir = arg;
        return 1;
    }
    if (opt == OPT_T_COMPRESSION) {
        o->compression = arg;
        return 1;
    }
    rc = keyopts_handle(k, opt, arg);
    return rc;
}

int target_opts_done(struct cli *cli, struct target_opts *o, struct keyopts *k)
{
    int comp;

    if (keyopts_count(k) > 1)
        return keyopts_too_many(k);
    if (o->compression == NULL)
        o->compression = cli->compression;
    if (o->compression != NULL && msig_compression_from_name(o->compression, &comp) != 0)
        return cli_usage_error("compressor '%s' is not supported: invalid compressor id: %s",
                               o->compression, o->compression);
    /* The key is opened before any work, as mender-artifact loads it first: a key that
     * cannot sign fails at once, and the rebuild signs with it (one PIN). */
    return keyopts_open_signing(cli, k, &o->key);
}

void target_opts_free(struct target_opts *o)
{
    msig_key_close(o->key);
    o->key = NULL;
}

void target_opts_help(FILE *f)
{
    fputs("  --compression ID    the compression of the rebuilt artifact (default: the one it\n"
          "                      has): none, gzip, lzma, zstd_fastest, zstd_fast, zstd_better,\n"
          "                      zstd_best\n"
          "  --tmp DIR           where an artifact is taken apart (default: TMPDIR, else /tmp;\n"
          "                      needs the payload's size in free space); images are edited on\n"
          "                      a copy beside them\n\n",
          f);
    keyopts_help(f, 1);
    fputs("  (default: no key; an edited artifact is then written unsigned, with a warning\n"
          "  when it was signed; an image needs no key)\n",
          f);
}

/* ---------------------------------------------------------------- opening */

/* The temporary directory: --tmp, else TMPDIR, else /tmp. */
static const char *tmp_base(const struct target_opts *o)
{
    const char *d = o->tmpdir ? o->tmpdir : getenv("TMPDIR");

    return d != NULL && d[0] != '\0' ? d : "/tmp";
}

/* Checks that the artifact can be edited: one payload, not augmented. */
static int check_artifact(struct target *t)
{
    const struct msig_artifact *art = t->art;
    const char *type;

    if (msig_artifact_augmented(art)) {
        fprintf(stderr, "msig %s: %s: modifying augmented artifacts is not supported\n", t->cmd,
                t->path);
        return EXIT_FAIL;
    }
    if (msig_artifact_payload_count(art) > 1) {
        fprintf(stderr,
                "msig %s: %s: modifying artifacts with more than one payload is not "
                "supported (%zu payloads)\n",
                t->cmd, t->path, msig_artifact_payload_count(art));
        return EXIT_FAIL;
    }
    type = msig_artifact_payload_count(art) ? msig_artifact_payload_type(art, 0) : NULL;
    t->rootfs = type != NULL && strcmp(type, "rootfs-image") == 0;
    if (t->rootfs && msig_artifact_payload_file_count(art, 0) != 1) {
        fprintf(stderr,
                "msig %s: %s: rootfs-image artifacts with %zu files are not supported "
                "(one is needed)\n",
                t->cmd, t->path, msig_artifact_payload_file_count(art, 0));
        return EXIT_FAIL;
    }
    if (t->rootfs) {
        const struct msig_file_info *f = msig_artifact_payload_file(art, 0, 0);

        if ((size_t)snprintf(t->image, sizeof(t->image), "%s/%s", t->files_dir, f->name) >=
            sizeof(t->image)) {
            fprintf(stderr, "msig %s: %s: path too long\n", t->cmd, f->name);
            return EXIT_FAIL;
        }
    }
    return 0;
}

static int open_artifact(struct cli *cli, struct target *t, const struct target_opts *o)
{
    struct msig_reader *r = NULL;
    int rc;

    if ((size_t)snprintf(t->workdir, sizeof(t->workdir), "%s/msig-%s-XXXXXX", tmp_base(o),
                         t->cmd) >= sizeof(t->workdir) ||
        mkdtemp(t->workdir) == NULL) {
        fprintf(stderr, "msig %s: cannot create a temporary directory in %s: %s\n", t->cmd,
                tmp_base(o), strerror(errno));
        t->workdir[0] = '\0';
        return EXIT_FAIL;
    }
    snprintf(t->files_dir, sizeof(t->files_dir), "%s/files", t->workdir);
    snprintf(t->scripts_dir, sizeof(t->scripts_dir), "%s/scripts", t->workdir);
    if (mkdir(t->files_dir, 0700) != 0 || mkdir(t->scripts_dir, 0700) != 0) {
        fprintf(stderr, "msig %s: cannot create %s: %s\n", t->cmd, t->files_dir, strerror(errno));
        return EXIT_FAIL;
    }
    t->up.files_dir = t->files_dir;
    t->up.scripts_dir = t->scripts_dir;
    rc = msig_reader_new(cli->ctx, &r);
    if (rc == 0) {
        msig_reader_set_file_handler(r, unpack_on_file, &t->up);
        rc = msig_reader_read_path(r, t->path, &t->art);
    }
    msig_reader_free(r);
    if (rc != 0 || t->art == NULL) {
        cli_report(cli, rc ? rc : MSIG_E_FORMAT, t->path);
        return EXIT_FAIL;
    }
    if (msig_artifact_payload_count(t->art) > 0 &&
        msig_artifact_payload_meta_data(t->art, 0) != NULL &&
        recipe_write_meta(t->art, t->workdir) != 0)
        return EXIT_FAIL;
    return check_artifact(t);
}

int target_open(struct cli *cli, const char *cmd, const char *path, const struct target_opts *o,
                struct target *t)
{
    char err[1024];
    struct stat st;
    int disk;

    memset(t, 0, sizeof(*t));
    t->up.fd = -1;
    t->cmd = cmd;
    current = t;
    if (strlen(path) >= sizeof(t->path)) {
        fprintf(stderr, "msig %s: path too long\n", cmd);
        return EXIT_FAIL;
    }
    strcpy(t->path, path);
    if (stat(path, &st) != 0) {
        fprintf(stderr, "msig %s: File [%s] does not exist.\n", cmd, path);
        return EXIT_FAIL;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "msig %s: %s is not a regular file\n", cmd, path);
        return EXIT_FAIL;
    }
    if (msig_artifact_probe_compression(cli->ctx, path, &t->compression) == 0) {
        t->kind = TARGET_ARTIFACT;
        return open_artifact(cli, t, o);
    }
    disk = disk_partitions(path, t->parts, DISK_PARTS_MAX, &t->nparts, err, sizeof(err));
    if (disk < 0) {
        fprintf(stderr, "msig %s: %s\n", cmd, err);
        return EXIT_FAIL;
    }
    /* One partition at offset 0 is a filesystem image, as mender-artifact takes it; so is a
     * table without partitions (the boot sector of a FAT image has an MBR's signature). */
    t->kind = disk == 1 && t->nparts > 0 && !(t->nparts == 1 && t->parts[0].offset == 0)
                  ? TARGET_DISK
                  : TARGET_FS;
    if (o->writable) {
        if (workcopy_make(&t->copy, path, err, sizeof(err)) != 0) {
            fprintf(stderr, "msig %s: %s\n", cmd, err);
            return EXIT_FAIL;
        }
        snprintf(t->image, sizeof(t->image), "%s", t->copy.path);
    } else {
        snprintf(t->image, sizeof(t->image), "%s", path);
    }
    return 0;
}

/* ---------------------------------------------------------------- filesystems */

/* Opens partition i of a disk image; skip_empty: a partition without an ext filesystem gives
 * 1 (mender-artifact leaves such root filesystem partitions out). */
static int open_part(struct target *t, size_t i, int writable, int skip_empty, struct extfs **fs)
{
    const struct disk_part *p = &t->parts[i];
    char name[PATH_MAX + 32], err[1024];
    int rc;

    snprintf(name, sizeof(name), "%s partition %u", t->path, p->number);
    rc = extfs_open(t->image, p->offset, writable, name, fs, err, sizeof(err));
    if (rc == -2 && skip_empty)
        return 1;
    if (rc != 0) {
        fprintf(stderr, "msig %s: %s\n", t->cmd, err);
        return -1;
    }
    if (extfs_bytes(*fs) > p->length) {
        fprintf(stderr,
                "msig %s: %s: the filesystem (%llu bytes) is larger than its partition "
                "(%llu bytes)\n",
                t->cmd, name, (unsigned long long)extfs_bytes(*fs), (unsigned long long)p->length);
        extfs_discard(*fs);
        *fs = NULL;
        return -1;
    }
    return 0;
}

/* The FAT filesystem at offset (length bytes) of t->image into t->fat, where no ext
 * filesystem was found; name for messages. 0, or EXIT_FAIL after printing. */
static int open_fat(struct target *t, uint64_t offset, uint64_t length, int writable,
                    const char *name)
{
    char err[PATH_MAX + 1024];
    int rc = fatfs_open(t->image, offset, length, writable, name, &t->fat, err, sizeof(err));

    if (rc == -2)
        fprintf(stderr, "msig %s: %s: neither an ext2/ext3/ext4 nor a FAT filesystem\n", t->cmd,
                name);
    else if (rc != 0)
        fprintf(stderr, "msig %s: %s\n", t->cmd, err);
    return rc == 0 ? 0 : EXIT_FAIL;
}

/* The boot partition holds ext4 (libext2fs) or, as mender-artifact allows, FAT (edited with
 * mtools into t->fat). 0, or -1 after printing. */
static int open_boot(struct target *t, int writable, struct extfs *fs[2], size_t *n)
{
    const struct disk_part *p = &t->parts[0];
    char name[PATH_MAX + 32];
    int rc = open_part(t, 0, writable, 1, &fs[0]);

    if (rc <= 0) {
        *n = rc == 0;
        return rc;
    }
    snprintf(name, sizeof(name), "%s partition %u", t->path, p->number);
    return open_fat(t, p->offset, p->length, writable, name) == 0 ? 0 : -1;
}

static int disk_fs(struct target *t, const char *path, int writable, struct extfs *fs[2], size_t *n,
                   char *inner, size_t cap)
{
    char err[512];
    size_t idx[2], nidx;
    int role;

    if (disk_route(path, t->nparts, &role, idx, &nidx, inner, cap, err, sizeof(err)) != 0) {
        fprintf(stderr, "msig %s: %s: %s\n", t->cmd, t->path, err);
        return EXIT_FAIL;
    }
    if (role == DISK_ROLE_BOOT)
        return open_boot(t, writable, fs, n) == 0 ? 0 : EXIT_FAIL;
    for (size_t k = 0; k < nidx; k++) {
        int rc = open_part(t, idx[k], writable, role == DISK_ROLE_ROOTFS, &fs[*n]);

        if (rc < 0)
            return EXIT_FAIL;
        if (rc == 0)
            (*n)++;
    }
    if (*n == 0) {
        fprintf(stderr,
                "msig %s: %s: neither root filesystem partition (%u, %u) holds an ext4 "
                "filesystem\n",
                t->cmd, t->path, t->parts[1].number, t->parts[2].number);
        return EXIT_FAIL;
    }
    return 0;
}

/* The filesystem that fills t->image (a bare image, a rootfs-image payload): ext4, or FAT
 * (mtools, into t->fat; mender-artifact reads both kinds of payload). */
static int whole_fs(struct target *t, int writable, struct extfs *fs[2], size_t *n)
{
    char err[PATH_MAX + 1024];
    struct stat st;
    int rc = extfs_open(t->image, 0, writable, t->path, &fs[0], err, sizeof(err));

    if (rc == 0) {
        *n = 1;
        return 0;
    }
    if (rc == -2 && stat(t->image, &st) == 0)
        return open_fat(t, 0, (uint64_t)st.st_size, writable, t->path);
    fprintf(stderr, "msig %s: %s\n", t->cmd, err);
    return EXIT_FAIL;
}

int target_fs(struct target *t, const char *path, int writable, struct extfs *fs[2], size_t *n,
              char *inner, size_t cap)
{
    *n = 0;
    fs[0] = fs[1] = NULL;
    if (path[0] != '/') {
        fprintf(stderr, "msig %s: '%s': the path inside the image must start with '/'\n", t->cmd,
                path);
        return EXIT_PARAMS;
    }
    if (t->kind == TARGET_DISK)
        return disk_fs(t, path, writable, fs, n, inner, cap);
    if (t->kind == TARGET_ARTIFACT && !t->rootfs) {
        const char *type =
            msig_artifact_payload_count(t->art) ? msig_artifact_payload_type(t->art, 0) : NULL;

        fprintf(stderr,
                "msig %s: %s: the payload is %s%s%s, not a rootfs-image: only a "
                "rootfs-image holds a filesystem\n",
                t->cmd, t->path, type ? "of type '" : "empty (bootstrap artifact)",
                type ? type : "", type ? "'" : "");
        return EXIT_FAIL;
    }
    if (t->kind == TARGET_ARTIFACT &&
        (strncmp(path, "/data", 5) == 0 || strncmp(path, "/uboot", 6) == 0 ||
         strncmp(path, "/boot/efi", 9) == 0 || strncmp(path, "/boot/grub", 10) == 0)) {
        fprintf(stderr,
                "msig %s: %s: a Mender artifact does not contain a %s partition, only "
                "a rootfs\n",
                t->cmd, path, strncmp(path, "/data", 5) == 0 ? "data" : "boot");
        return EXIT_FAIL;
    }
    if (strlen(path) >= cap) {
        fprintf(stderr, "msig %s: path too long\n", t->cmd);
        return EXIT_FAIL;
    }
    strcpy(inner, path);
    return whole_fs(t, writable, fs, n);
}

int target_payload_is_fs(struct target *t)
{
    struct extfs *fs = NULL;
    char err[1024];
    int rc;

    if (t->kind == TARGET_ARTIFACT && !t->rootfs)
        return 0;
    if (t->kind != TARGET_ARTIFACT)
        return 1;
    rc = extfs_open(t->image, 0, 0, t->path, &fs, err, sizeof(err));
    extfs_discard(fs);
    return rc != -2;
}

int target_fs_close(struct target *t, struct extfs *fs[2], size_t n, int ok)
{
    char err[1024];
    int status = 0;

    /* mtools has written the work copy already: a failed edit is undone by dropping it. */
    fatfs_close(t->fat);
    t->fat = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!ok || status != 0) {
            extfs_discard(fs[i]);
        } else if (extfs_close(fs[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "msig %s: %s\n", t->cmd, err);
            status = EXIT_FAIL;
        }
        fs[i] = NULL;
    }
    return status;
}

/* ---------------------------------------------------------------- putting it in place */

/* The mender-artifact id of an MSIG_COMPRESS_* value. */
static const char *compression_name(int compression)
{
    static const char *const names[] = { "none",      "gzip",        "lzma",     "zstd_fastest",
                                         "zstd_fast", "zstd_better", "zstd_best" };

    return compression >= 0 && compression < (int)(sizeof(names) / sizeof(names[0]))
               ? names[compression]
               : "gzip";
}

/* The rebuild of a rootfs-image as `write rootfs-image`, so that the writer computes the new
 * rootfs-image.checksum (or the legacy rootfs_image_checksum) of the edited payload. */
static int as_rootfs(struct target *t, struct args *a)
{
    int checksum = 0, legacy = 0;

    for (size_t i = 0; i + 1 < a->n; i++) {
        if (strcmp(a->v[i], "--provides") != 0)
            continue;
        checksum |= strncmp(a->v[i + 1], "rootfs-image.checksum:", 22) == 0;
        legacy |= strncmp(a->v[i + 1], "rootfs_image_checksum:", 22) == 0;
    }
    if (args_value(a, "--meta-data") != NULL) {
        fprintf(stderr, "msig %s: %s: a rootfs-image payload with meta-data cannot be rebuilt\n",
                t->cmd, t->path);
        return EXIT_FAIL;
    }
    args_drop_value(a, "--provides", "rootfs-image.checksum:", 1);
    args_drop_value(a, "--provides", "rootfs_image_checksum:", 1);
    args_drop(a, "--type");
    free(a->v[1]);
    a->v[1] = strdup("rootfs-image");
    if (a->v[1] == NULL)
        a->failed = 1;
    if (legacy)
        args_add(a, "--legacy-rootfs-image-checksum");
    else if (!checksum)
        args_add(a, "--no-checksum-provide");
    return 0;
}

static int rebuild(struct cli *cli, struct target *t, const struct target_opts *o)
{
    struct args a = { 0 };
    const char *meta =
        msig_artifact_payload_count(t->art) && msig_artifact_payload_meta_data(t->art, 0) != NULL
            ? t->workdir
            : NULL;
    int status;

    recipe_cmdline(&a, t->art, t->files_dir, t->scripts_dir, meta);
    status = t->rootfs ? as_rootfs(t, &a) : 0;
    if (status == 0 && o->edit != NULL)
        status = o->edit(o->edit_user, &a);
    if (status != 0)
        goto out;
    if (msig_artifact_format_version(t->art) == 2) {
        args_add(&a, "--version");
        args_add(&a, "2");
    }
    args_add(&a, "--compression");
    args_add(&a, o->compression ? o->compression : compression_name(t->compression));
    args_add(&a, "--output-path");
    args_add(&a, t->path);
    args_add(&a, "--no-progress");
    if (a.failed) {
        fprintf(stderr, "msig %s: out of memory\n", t->cmd);
        status = EXIT_FAIL;
        goto out;
    }
    if (o->key == NULL && msig_artifact_signature(t->art) != MSIG_SIGNATURE_NONE)
        fprintf(stderr,
                "warning: %s was signed; the edited artifact is not (give -k KEY to "
                "sign it)\n",
                t->path);
    cli->rebuild_key = o->key; /* borrowed by write */
    status = cmd_write(cli, (int)a.n, a.v);
    cli->rebuild_key = NULL;
out:
    args_free(&a);
    return status;
}

int target_commit(struct cli *cli, struct target *t, const struct target_opts *o)
{
    char err[1024];

    if (t->kind == TARGET_ARTIFACT)
        return rebuild(cli, t, o);
    if (workcopy_commit(&t->copy, t->path, err, sizeof(err)) != 0) {
        fprintf(stderr, "msig %s: %s\n", t->cmd, err);
        return EXIT_FAIL;
    }
    return 0;
}

void target_close(struct target *t)
{
    char meta[PATH_MAX + 32];

    fatfs_close(t->fat);
    t->fat = NULL;
    workcopy_drop(&t->copy);
    unpack_undo(&t->up);
    unpack_free(&t->up);
    if (t->workdir[0] != '\0') {
        snprintf(meta, sizeof(meta), "%s/0000.meta-data", t->workdir);
        unlink(meta);
        rmdir(t->files_dir);
        rmdir(t->scripts_dir);
        rmdir(t->workdir);
    }
    msig_artifact_free(t->art);
    t->art = NULL;
    current = NULL;
}

void target_signal_cleanup(void)
{
    struct target *t = current;

    if (t == NULL)
        return;
    workcopy_drop_signal(&t->copy);
    if (t->up.tmp[0] != '\0')
        unlink(t->up.tmp);
    for (size_t i = 0; i < t->up.created.n; i++)
        unlink(t->up.created.v[i]);
    if (t->workdir[0] != '\0') {
        rmdir(t->files_dir);
        rmdir(t->scripts_dir);
        rmdir(t->workdir);
    }
}

/* ---------------------------------------------------------------- one-step edits */

/* Rewinds fd for the next filesystem. */
static int rewind_input(struct target *t, int fd)
{
    if (lseek(fd, 0, SEEK_SET) == 0)
        return 0;
    fprintf(stderr, "msig %s: rewinding the input: %s\n", t->cmd, strerror(errno));
    return EXIT_FAIL;
}

int target_put(struct target *t, struct extfs *fs[2], size_t n, const char *inner, int fd,
               const struct extfs_attr *attr)
{
    if (t->fat != NULL) {
        if (rewind_input(t, fd) != 0)
            return EXIT_FAIL;
        if (fatfs_put(t->fat, inner, fd) != 0) {
            fprintf(stderr, "msig %s: %s\n", t->cmd, fatfs_error(t->fat));
            return EXIT_FAIL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (rewind_input(t, fd) != 0)
            return EXIT_FAIL;
        if (extfs_put(fs[i], inner, fd, attr) != 0) {
            fprintf(stderr, "msig %s: %s\n", t->cmd, extfs_error(fs[i]));
            return EXIT_FAIL;
        }
    }
    return 0;
}

int target_read(struct target *t, struct extfs *fs[2], size_t n, const char *inner, int fd,
                uint32_t *mode)
{
    int rc;

    if (t->fat != NULL) {
        *mode = 0644; /* FAT has no permission bits */
        rc = fatfs_read_file(t->fat, inner, fd);
    } else {
        rc = n > 0 ? extfs_read_file(fs[0], inner, fd, mode) : -1;
    }
    if (rc != 0)
        fprintf(stderr, "msig %s: %s\n", t->cmd,
                t->fat != NULL ? fatfs_error(t->fat)
                : n > 0        ? extfs_error(fs[0])
                               : "no filesystem");
    return rc != 0 ? EXIT_FAIL : 0;
}

int target_mkdir(struct target *t, struct extfs *fs[2], size_t n, const char *inner)
{
    if (t->fat != NULL && fatfs_mkdir_p(t->fat, inner) != 0) {
        fprintf(stderr, "msig %s: %s\n", t->cmd, fatfs_error(t->fat));
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        if (extfs_mkdir_p(fs[i], inner) != 0) {
            fprintf(stderr, "msig %s: %s\n", t->cmd, extfs_error(fs[i]));
            return EXIT_FAIL;
        }
    }
    return 0;
}

int target_remove(struct target *t, struct extfs *fs[2], size_t n, const char *inner, int recursive)
{
    if (t->fat != NULL && fatfs_remove(t->fat, inner, recursive) != 0) {
        fprintf(stderr, "msig %s: %s\n", t->cmd, fatfs_error(t->fat));
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        if (extfs_remove(fs[i], inner, recursive) != 0) {
            fprintf(stderr, "msig %s: %s\n", t->cmd, extfs_error(fs[i]));
            return EXIT_FAIL;
        }
    }
    return 0;
}

int target_edit(struct cli *cli, const char *cmd, const char *spec, const struct target_opts *o,
                target_step_fn *step, void *user)
{
    struct target t;
    struct extfs *fs[2];
    char file[PATH_MAX], inner[4096];
    const char *path;
    size_t n = 0;
    int status = target_split(cmd, spec, file, sizeof(file), &path);

    if (status != 0)
        return status;
    status = target_open(cli, cmd, file, o, &t);
    if (status == 0)
        status = target_fs(&t, path, 1, fs, &n, inner, sizeof(inner));
    if (status == 0)
        status = step(user, &t, fs, n, inner);
    if (target_fs_close(&t, fs, n, status == 0) != 0)
        status = EXIT_FAIL;
    if (status == 0)
        status = target_commit(cli, &t, o);
    target_close(&t);
    return status;
}

int target_spool(const char *cmd, const struct target_opts *o, int in)
{
    char buf[64 * 1024];
    int fd = open(tmp_base(o), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd < 0) {
        fprintf(stderr, "msig %s: cannot create a temporary file in %s: %s\n", cmd, tmp_base(o),
                strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t r = read(in, buf, sizeof(buf));

        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return fd;
        if (r < 0 || write(fd, buf, (size_t)r) != r) {
            fprintf(stderr, "msig %s: copying standard input to %s: %s\n", cmd, tmp_base(o),
                    strerror(errno ? errno : EIO));
            close(fd);
            return -1;
        }
    }
}
