/* fatfs.h -- files inside a FAT12/16/32 filesystem at a byte offset in an image file, edited
 * as mender-artifact edits them: with the mtools programs (mdir, mtype, mcopy, mmd, mdel, mrd,
 * mdeltree) run as child processes on "-i IMAGE@@OFFSET", without a shell. Paths are made
 * canonical before mtools sees them: repeated slashes and "." go, ".." at the root stays at the
 * root, and the names mtools would take as wildcards (* ? [ ]) are refused. FAT has no owners
 * or permission bits: a file written keeps none, one read out gets 0644.
 *
 * The child processes see the caller's environment without HOME and MTOOLS* (HOME=/dev/null,
 * so no ~/.mtoolsrc is read) and with mtools' global settings fixed (long names on, sanity
 * checks on), so that a user's configuration cannot change what is written. Their standard
 * input is /dev/null unless a file is fed to mcopy.
 *
 * Every function that can fail returns 0 or -1 and leaves the reason, with the image,
 * partition and path, in fatfs_error(). Thread rules: one struct fatfs per thread. Memory:
 * file data goes between the caller's descriptor and the child, never through a buffer. */
#ifndef MSIG_IMAGE_FATFS_H
#define MSIG_IMAGE_FATFS_H

#include <stddef.h>
#include <stdint.h>

struct fatfs;

/* Is there a FAT boot sector offset bytes into path? 1 yes (*bytes: the filesystem's size
 * from it), 0 no, -1 when path cannot be read (err, cap bytes). */
int fatfs_probe(const char *path, uint64_t offset, uint64_t *bytes, char *err, size_t cap);
/* Opens the FAT filesystem offset bytes into path, which must fit in length bytes (its
 * partition). writable: the editing functions are allowed (they write path at once). name is
 * used in messages ("disk.sdimg partition 1"). -2 when there is no FAT filesystem there, -1
 * on any other failure (err, cap bytes). */
int fatfs_open(const char *path, uint64_t offset, uint64_t length, int writable, const char *name,
               struct fatfs **fs, char *err, size_t cap) __attribute__((warn_unused_result));
/* Frees fs (NULL does nothing). */
void fatfs_close(struct fatfs *fs);
const char *fatfs_error(const struct fatfs *fs);

/* Copies the file at path to out_fd (mtype writes to it directly). */
int fatfs_read_file(struct fatfs *fs, const char *path, int out_fd)
    __attribute__((warn_unused_result));
/* Writes in_fd (from its current position to its end) as the file path, replacing one that
 * exists; the parent directory must exist. */
int fatfs_put(struct fatfs *fs, const char *path, int in_fd) __attribute__((warn_unused_result));
/* Creates the directory path and its missing parents; an existing directory is not an error. */
int fatfs_mkdir_p(struct fatfs *fs, const char *path) __attribute__((warn_unused_result));
/* Removes the file or directory path; a directory that is not empty needs recursive. The
 * root cannot be removed. */
int fatfs_remove(struct fatfs *fs, const char *path, int recursive)
    __attribute__((warn_unused_result));

#endif
