/* recipe.h -- taking an artifact apart and the `write` command line that puts it back
 * together: `dump` prints that line (--print-cmdline), and the editing commands (modify, cp,
 * install, rm) change it and run it. One home for the rule of what rebuilds an artifact. */
#ifndef MSIG_CLI_RECIPE_H
#define MSIG_CLI_RECIPE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

/* A growable list of owned strings (a command line). failed: an allocation failed; every
 * later add does nothing, so callers check once at the end. */
struct args {
    char **v;
    size_t n, cap;
    int failed;
};
void args_add(struct args *a, const char *s);
void args_free(struct args *a);
/* The value after the first flag, or NULL. */
const char *args_value(const struct args *a, const char *flag);
/* Removes every "flag VALUE" pair (flag_only: every lone flag). */
void args_drop(struct args *a, const char *flag);
void args_drop_flag(struct args *a, const char *flag);
/* Removes "flag VALUE" pairs whose value is value (or, with prefix 1, starts with it). */
void args_drop_value(struct args *a, const char *flag, const char *value, int prefix);

/* The payload files and scripts of an artifact, written while it is read and checked (the
 * reader's file handler). Each file goes to a temporary name in its directory and is renamed
 * when complete; runs of zero bytes become holes (a rootfs image needs only the disk space
 * of its data). NULL directories are not extracted; only payload 0 is. */
struct unpack {
    const char *files_dir;
    const char *scripts_dir;
    int fd; /* file being written, or -1 */
    uint32_t mode;
    uint64_t size; /* bytes of the file being written */
    char tmp[PATH_MAX];
    char final[PATH_MAX];
    struct args created; /* files renamed into place */
};
/* mkdir -p; 0 or -1 with a message printed. */
int unpack_make_dirs(const char *dir);
/* The msig_file_fn; user is the struct unpack (fd -1 and the directories set). */
int unpack_on_file(void *user, const struct msig_file_event *ev, const void *data, size_t len,
                   int last);
/* Removes everything it created (after a failure, or when the copies are no longer needed). */
void unpack_undo(struct unpack *d);
void unpack_free(struct unpack *d);
/* Writes the meta-data of payload 0 to DIR/0000.meta-data (nothing when it has none). */
int recipe_write_meta(const struct msig_artifact *art, const char *dir);

/* The `write ...` command line (without the program name) that rebuilds art from the files
 * dumped to files_dir, scripts_dir and meta_dir (NULL: not dumped, left out). */
void recipe_cmdline(struct args *a, const struct msig_artifact *art, const char *files_dir,
                    const char *scripts_dir, const char *meta_dir);

#endif
