/* target.h -- what the image commands (modify, cp, cat, install, rm) edit: a .mender artifact
 * with a rootfs-image payload, a bare ext4 image, or a disk image with a partition table.
 *
 * An artifact is read and checked, its parts are extracted into a temporary directory (in
 * --tmp DIR, else TMPDIR, else /tmp), the ext4 payload is edited there, and the artifact is
 * rebuilt with `write` (same header, the artifact's own compression unless --compression,
 * signed with the key flags given, else unsigned), written beside the original and renamed
 * over it. An image is edited on a copy beside it that is renamed over it. On any failure the
 * input is untouched and every temporary is removed. */
#ifndef MSIG_CLI_TARGET_H
#define MSIG_CLI_TARGET_H

#include <limits.h>

#include "common.h"
#include "disk.h"
#include "extfs.h"
#include "fatfs.h"
#include "recipe.h"
#include "workcopy.h"

#define TARGET_ARTIFACT 1
#define TARGET_FS 2   /* a bare ext2/3/4 image */
#define TARGET_DISK 3 /* a disk image with a partition table */

/* Changes to the rebuilt artifact's command line (modify's header flags); 0 or an exit code
 * after printing. */
typedef int target_edit_fn(void *user, struct args *cmdline);

struct target_opts {
    int writable;
    const char *tmpdir;      /* --tmp DIR, or NULL */
    const char *compression; /* --compression, or NULL: the artifact's own */
    struct msig_key *key;    /* the signing key (target_opts_done opens it), or NULL */
    target_edit_fn *edit;    /* or NULL */
    void *edit_user;
};

struct target {
    int kind;
    const char *cmd; /* "cp", ... for messages */
    char path[PATH_MAX];
    char image[PATH_MAX]; /* the file the filesystems are in: the input, a copy, the payload */
    struct workcopy copy;
    char workdir[PATH_MAX - 64]; /* artifacts: the extracted parts */
    char files_dir[PATH_MAX], scripts_dir[PATH_MAX];
    struct unpack up;
    struct msig_artifact *art;
    int rootfs;      /* the artifact's payload is a rootfs-image */
    int compression; /* MSIG_COMPRESS_* of the artifact */
    struct disk_part parts[DISK_PARTS_MAX];
    size_t nparts;
    struct fatfs *fat; /* a FAT boot partition target_fs opened (then it opens no extfs) */
};

/* Long option ids of the flags every editing command takes. */
enum { OPT_T_TMP = OPT_KEYS_END + 1, OPT_T_COMPRESSION, OPT_T_END };
#define TARGET_LONGOPTS                            \
    { "tmp", required_argument, NULL, OPT_T_TMP }, \
        { "compression", required_argument, NULL, OPT_T_COMPRESSION }, KEY_LONGOPTS
/* Handles --tmp, --compression and the key flags: 1 taken, 0 not one of them, -1 refused
 * (after printing). */
int target_opt(struct target_opts *o, struct keyopts *k, int opt, const char *arg);
/* After the options: the global --compression as default; at most one signing key, opened
 * now (o->key). 0 or an exit code after printing. */
int target_opts_done(struct cli *cli, struct target_opts *o, struct keyopts *k);
/* Closes the key. */
void target_opts_free(struct target_opts *o);
/* The help lines of those flags. */
void target_opts_help(FILE *f);

/* Splits "FILE:/path" at the first ':'. 0, or an exit code after printing. */
int target_split(const char *cmd, const char *spec, char *file, size_t cap, const char **path);
/* Does spec name an image ("FILE:/path" where FILE exists)? */
int target_is_spec(const char *spec);

/* Opens path for cmd. 0, or an exit code after printing (nothing is left behind). */
int target_open(struct cli *cli, const char *cmd, const char *path, const struct target_opts *o,
                struct target *t);
/* Opens the filesystems path addresses (an artifact or a bare image: one; a disk image: the
 * root filesystems A and B, or the boot or data partition). inner gets the path inside them.
 * A FAT boot partition goes to t->fat, with *n = 0. 0, or an exit code after printing. */
int target_fs(struct target *t, const char *path, int writable, struct extfs *fs[2], size_t *n,
              char *inner, size_t cap);
/* Does the target hold an ext filesystem at all? 0 for a module-image or bootstrap artifact
 * and for a rootfs-image whose payload is no ext2/3/4 filesystem. */
int target_payload_is_fs(struct target *t);
/* Closes what target_fs opened (t->fat too): writes back when ok, else discards. 0 or an
 * exit code. */
int target_fs_close(struct target *t, struct extfs *fs[2], size_t n, int ok);
/* Puts the edited target in place (an artifact is rebuilt). 0, or an exit code after
 * printing; the input is untouched on failure. */
int target_commit(struct cli *cli, struct target *t, const struct target_opts *o);
/* The filesystem operations on what target_fs opened (the extfs ones, or t->fat): each
 * returns 0 or an exit code after printing. */
/* Writes fd (from its start) as inner in each filesystem (FAT keeps no mode or owner). */
int target_put(struct target *t, struct extfs *fs[2], size_t n, const char *inner, int fd,
               const struct extfs_attr *attr);
/* Copies inner (from the first filesystem) to fd; *mode gets its permission bits (FAT: 0644). */
int target_read(struct target *t, struct extfs *fs[2], size_t n, const char *inner, int fd,
                uint32_t *mode);
/* Creates the directory inner and its missing parents in each filesystem. */
int target_mkdir(struct target *t, struct extfs *fs[2], size_t n, const char *inner);
/* Removes inner from each filesystem (a directory that is not empty needs recursive). */
int target_remove(struct target *t, struct extfs *fs[2], size_t n, const char *inner,
                  int recursive);
/* One edit: opens spec ("FILE:/path") writable, runs step on the filesystems the path
 * addresses, closes them and puts the target in place; everything is undone when a step
 * fails. step returns 0 or an exit code after printing. */
typedef int target_step_fn(void *user, struct target *t, struct extfs *fs[2], size_t n,
                           const char *inner);
int target_edit(struct cli *cli, const char *cmd, const char *spec, const struct target_opts *o,
                target_step_fn *step, void *user);
/* Copies in (standard input) to an unnamed temporary file in the temporary directory, so
 * that it can be written more than once; the descriptor, or -1 after printing. */
int target_spool(const char *cmd, const struct target_opts *o, int in);
/* Removes every temporary and frees t. */
void target_close(struct target *t);
/* For the signal handler: removes the work copy of the target being edited. */
void target_signal_cleanup(void);

#endif
