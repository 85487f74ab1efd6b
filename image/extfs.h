/* extfs.h -- files inside an ext2/3/4 filesystem image, through libext2fs (no child
 * processes). Paths are resolved inside the filesystem only: symbolic links are followed
 * inside it (an absolute target starts at the filesystem's root), and `..` at the root stays
 * at the root. Every function that can fail returns 0 or -1 and leaves the reason, with the
 * path and the values involved, in extfs_error().
 *
 * Thread rules: one struct extfs is used by one thread at a time.
 * Memory: libext2fs keeps the allocation bitmaps (one bit per block and inode) and a small
 * block cache; file data is copied through a fixed buffer, so memory does not grow with
 * the size of the files. */
#ifndef MSIG_IMAGE_EXTFS_H
#define MSIG_IMAGE_EXTFS_H

#include <stdint.h>
#include <sys/types.h>

struct extfs;

/* What extfs_put gives a file: a new file gets mode (0: 0644) and, with set_owner, uid/gid
 * (else 0:0); a file that exists keeps its own unless set_mode/set_owner. */
struct extfs_attr {
    int set_mode;
    uint32_t mode; /* 07777 bits */
    int set_owner;
    uint32_t uid, gid;
};

/* Opens the filesystem that starts offset bytes into the file path (0 for a bare image).
 * writable: changes are allowed; they reach the file at extfs_close. A filesystem that is not
 * clean (needs e2fsck, or has a journal to recover) is refused for writing. name is used in
 * messages ("rootfs.ext4", "disk.sdimg partition 2"). err (cap bytes) gets the reason when
 * opening fails. Returns -2 when there is no ext2/3/4 filesystem at all. */
int extfs_open(const char *path, uint64_t offset, int writable, const char *name, struct extfs **fs,
               char *err, size_t cap);
/* Writes every change back (when writable) and frees fs. -1 when the write-back failed
 * (the reason in err). fs NULL does nothing. */
int extfs_close(struct extfs *fs, char *err, size_t cap);
/* Frees fs without writing anything back (after a failure). */
void extfs_discard(struct extfs *fs);
const char *extfs_error(const struct extfs *fs);
/* The filesystem's size in bytes (blocks times block size). */
uint64_t extfs_bytes(const struct extfs *fs);

/* Copies the regular file at path (links followed) to out_fd; *mode gets its permission
 * bits when mode is not NULL. */
int extfs_read_file(struct extfs *fs, const char *path, int out_fd, uint32_t *mode);
/* Reads at most cap-1 bytes of the regular file at path into buf (NUL-terminated), for small
 * configuration files; -1 when it is larger. */
int extfs_read_small(struct extfs *fs, const char *path, char *buf, size_t cap, size_t *len);
/* Does path exist (links followed)? 1 yes, 0 no, -1 on error (a parent that is not a
 * directory, a link loop). */
int extfs_exists(struct extfs *fs, const char *path);
/* Writes in_fd (read to its end) as the regular file path: an existing file keeps its inode
 * (owner, extended attributes, links) and gets the new data; a new one is created in its
 * parent directory, which must exist. A final symbolic link is followed. */
int extfs_put(struct extfs *fs, const char *path, int in_fd, const struct extfs_attr *attr);
/* Creates the directory path and any missing parents (mode 0755, owner 0:0); an existing
 * directory is not an error. */
int extfs_mkdir_p(struct extfs *fs, const char *path);
/* Removes path (a final symbolic link itself, not its target). A directory needs recursive,
 * unless it is empty. The root cannot be removed. */
int extfs_remove(struct extfs *fs, const char *path, int recursive);

#endif
