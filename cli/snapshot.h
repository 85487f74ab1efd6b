/* snapshot.h -- `write rootfs-image -f ssh://...`: a device's root filesystem over ssh
 * (snapshot.c), and the filesystem check made on it (fscheck.c). */
#ifndef MSIG_CLI_SNAPSHOT_H
#define MSIG_CLI_SNAPSHOT_H

#include <stdio.h>

#include "common.h"

struct snapshot {
    char *path;      /* the image, a temporary file (msig_temp_file) */
    char **provides; /* the device's "rootfs-image.KEY=VALUE" lines */
    size_t nprovides;
};

/* Takes the snapshot of url (ssh://[USER@]HOST[:PORT]) with ssh_args (-S, one argument
 * each) added to the ssh command line; lines the device prints before the image go to echo.
 * Returns 0 or an exit code after printing "SSH error: ..." (or the check's error). */
int snapshot_take(struct cli *cli, const char *url, const struct strlist *ssh_args, FILE *echo,
                  struct snapshot *snap);
/* Removes the temporary image and frees the provides. */
void snapshot_free(struct snapshot *snap);

/* blkid, then fsck -a for ext and vfat (fscheck.c): 0, or an exit code after printing. */
int fs_check(const char *path);
/* Prints the message on standard error; returns EXIT_CREATE. */
int fail_fs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
