/* extfs.c -- files inside an ext2/3/4 image through libext2fs: resolve, read, write, mkdir,
 * remove. The steps follow what e2fsprogs' own tools do (debugfs write/mkdir/rm/rmdir), so
 * that e2fsck finds nothing to fix afterwards. */
#include "extfs.h"
#include "imgerr.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#define EXTFS_PATH_MAX 4096 /* bytes of a path inside the image */
#define EXTFS_DEPTH_MAX 256 /* nested directories rm -r descends (a loop ends here) */
#define EXTFS_BUF (64 * 1024)

struct extfs {
    ext2_filsys fs;
    int writable;
    char name[256];
    char err[1024];
};

#define fail(x, ...) IMG_FAIL(x, __VA_ARGS__) /* x: this file's handle */

/* libext2fs' codes, in words a user acts on. */
static const char *why(errcode_t e)
{
    switch (e) {
    case EXT2_ET_BLOCK_ALLOC_FAIL:
    case EXT2_ET_DIR_NO_SPACE_FOR_CSUM:
        return "the filesystem is full (no free blocks)";
    case EXT2_ET_INODE_ALLOC_FAIL:
        return "the filesystem is full (no free inodes)";
    case EXT2_ET_FILE_NOT_FOUND:
        return "no such file or directory";
    case EXT2_ET_NO_DIRECTORY:
        return "not a directory";
    case EXT2_ET_SYMLINK_LOOP:
        return "too many levels of symbolic links";
    case EXT2_ET_FILE_TOO_BIG:
        return "file too large for this filesystem";
    default:
        return error_message(e);
    }
}

/* libext2fs' message table, registered once so that error_message() has the texts. */
static void load_messages(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, initialize_ext2_error_table);
}

int extfs_open(const char *path, uint64_t offset, int writable, const char *name,
               struct extfs **out, char *err, size_t cap)
{
    struct extfs *x = calloc(1, sizeof(*x));
    char opts[64];
    errcode_t e;
    int flags = EXT2_FLAG_64BITS | (writable ? EXT2_FLAG_RW : 0);

    *out = NULL;
    load_messages();
    if (x == NULL) {
        snprintf(err, cap, "%s: out of memory", name);
        return -1;
    }
    snprintf(x->name, sizeof(x->name), "%s", name);
    snprintf(opts, sizeof(opts), "offset=%llu", (unsigned long long)offset);
    e = ext2fs_open2(path, opts, flags, 0, 0, unix_io_manager, &x->fs);
    if (e != 0) {
        int magic =
            e == EXT2_ET_BAD_MAGIC || e == EXT2_ET_SHORT_READ || e == EXT2_ET_UNEXPECTED_BLOCK_SIZE;

        if (magic)
            snprintf(err, cap, "%s: not an ext2/ext3/ext4 filesystem (%s)", name, error_message(e));
        else
            snprintf(err, cap, "%s: cannot open the ext4 filesystem: %s", name, error_message(e));
        free(x);
        return magic ? -2 : -1;
    }
    x->writable = writable;
    if (writable &&
        (ext2fs_has_feature_journal_needs_recovery(x->fs->super) ||
         !(x->fs->super->s_state & EXT2_VALID_FS) || (x->fs->super->s_state & EXT2_ERROR_FS))) {
        snprintf(
            err, cap, "%s: the filesystem is not clean (state 0x%x%s); run e2fsck -f on it first",
            name, x->fs->super->s_state,
            ext2fs_has_feature_journal_needs_recovery(x->fs->super) ? ", journal to recover" : "");
        extfs_discard(x);
        return -1;
    }
    e = ext2fs_read_bitmaps(x->fs);
    if (e != 0) {
        snprintf(err, cap, "%s: cannot read the allocation bitmaps: %s", name, error_message(e));
        extfs_discard(x);
        return -1;
    }
    *out = x;
    return 0;
}

int extfs_close(struct extfs *x, char *err, size_t cap)
{
    errcode_t e;

    if (x == NULL)
        return 0;
    e = ext2fs_close_free(&x->fs);
    if (e != 0) {
        snprintf(err, cap, "%s: writing the filesystem back: %s", x->name, why(e));
        if (x->fs != NULL)
            ext2fs_free(x->fs);
        free(x);
        return -1;
    }
    free(x);
    return 0;
}

void extfs_discard(struct extfs *x)
{
    if (x == NULL)
        return;
    if (x->fs != NULL) {
        /* Nothing may reach the file: drop the dirty flags before freeing. */
        x->fs->flags &= ~(EXT2_FLAG_DIRTY | EXT2_FLAG_IB_DIRTY | EXT2_FLAG_BB_DIRTY);
        ext2fs_free(x->fs);
    }
    free(x);
}

uint64_t extfs_bytes(const struct extfs *x)
{
    return ext2fs_blocks_count(x->fs->super) * (uint64_t)x->fs->blocksize;
}

const char *extfs_error(const struct extfs *x)
{
    return x->err;
}

/* ---------------------------------------------------------------- paths */

/* Splits path into its parent directory (dir) and its last component (base), with repeated
 * and trailing slashes removed (libext2fs' namei takes "a//b" as an empty name). The root
 * gives base "". */
static int split_path(struct extfs *x, const char *path, char *dir, char *base)
{
    char norm[EXTFS_PATH_MAX];
    size_t len = strlen(path), n = 0, cut;

    if (len == 0 || len >= EXTFS_PATH_MAX)
        return fail(x, "invalid path '%.64s' (%zu bytes; 1 to %d allowed)", path, len,
                    EXTFS_PATH_MAX - 1);
    norm[n++] = '/';
    for (size_t i = 0; i < len; i++)
        if (path[i] != '/' || norm[n - 1] != '/')
            norm[n++] = path[i];
    while (n > 1 && norm[n - 1] == '/')
        n--;
    norm[n] = '\0';
    cut = n;
    while (cut > 0 && norm[cut - 1] != '/')
        cut--;
    if (n - cut > EXT2_NAME_LEN)
        return fail(x, "%s: a name is longer than %d bytes", path, EXT2_NAME_LEN);
    memcpy(base, norm + cut, n - cut + 1);
    if (cut > 1)
        cut--; /* the directory without its trailing '/' */
    memcpy(dir, norm, cut);
    dir[cut] = '\0';
    return 0;
}

/* The inode of directory dir (links followed): its parent must exist and be a directory. */
static int resolve_dir(struct extfs *x, const char *dir, ext2_ino_t *ino)
{
    errcode_t e = ext2fs_namei_follow(x->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, dir, ino);

    if (e == EXT2_ET_FILE_NOT_FOUND)
        return fail(x, "the directory %s does not exist in the image", dir);
    if (e != 0)
        return fail(x, "%s: %s", dir, why(e));
    if (ext2fs_check_directory(x->fs, *ino) != 0)
        return fail(x, "%s is not a directory in the image", dir);
    return 0;
}

/* Looks base up in directory dir_ino: 0 found (*ino), 1 missing, -1 error. follow: a
 * symbolic link is followed (inside the image). */
static int lookup(struct extfs *x, const char *path, ext2_ino_t dir_ino, const char *base,
                  int follow, ext2_ino_t *ino)
{
    errcode_t e;

    if (base[0] == '\0') {
        *ino = dir_ino; /* the root, or "dir/" */
        return 0;
    }
    e = ext2fs_lookup(x->fs, dir_ino, base, (int)strlen(base), NULL, ino);
    if (e == EXT2_ET_FILE_NOT_FOUND)
        return 1;
    if (e != 0)
        return fail(x, "%s: %s", path, why(e));
    if (follow) {
        e = ext2fs_follow_link(x->fs, EXT2_ROOT_INO, dir_ino, *ino, ino);
        if (e == EXT2_ET_FILE_NOT_FOUND)
            return fail(x, "%s is a symbolic link to a file that does not exist in the image",
                        path);
        if (e != 0)
            return fail(x, "%s: %s", path, why(e));
    }
    return 0;
}

static int read_inode(struct extfs *x, const char *path, ext2_ino_t ino,
                      struct ext2_inode_large *inode)
{
    errcode_t e;

    memset(inode, 0, sizeof(*inode));
    e = ext2fs_read_inode_full(x->fs, ino, (struct ext2_inode *)inode, sizeof(*inode));
    return e != 0 ? fail(x, "%s: reading inode %u: %s", path, ino, why(e)) : 0;
}

static int write_inode(struct extfs *x, const char *path, ext2_ino_t ino,
                       struct ext2_inode_large *inode)
{
    errcode_t e = ext2fs_write_inode_full(x->fs, ino, (struct ext2_inode *)inode, sizeof(*inode));

    return e != 0 ? fail(x, "%s: writing inode %u: %s", path, ino, why(e)) : 0;
}

/* The regular file at path, links followed. */
static int resolve_file(struct extfs *x, const char *path, ext2_ino_t *ino,
                        struct ext2_inode_large *inode)
{
    char dir[EXTFS_PATH_MAX], base[EXT2_NAME_LEN + 1];
    ext2_ino_t dir_ino;
    int rc;

    if (split_path(x, path, dir, base) != 0 || resolve_dir(x, dir, &dir_ino) != 0)
        return -1;
    rc = lookup(x, path, dir_ino, base, 1, ino);
    if (rc == 1)
        return fail(x, "the file %s does not exist in the image", path);
    if (rc != 0 || read_inode(x, path, *ino, inode) != 0)
        return -1;
    if (LINUX_S_ISDIR(inode->i_mode))
        return fail(x, "%s is a directory, not a file", path);
    if (!LINUX_S_ISREG(inode->i_mode))
        return fail(x, "%s is not a regular file (mode 0%o)", path, inode->i_mode);
    return 0;
}

int extfs_exists(struct extfs *x, const char *path)
{
    char dir[EXTFS_PATH_MAX], base[EXT2_NAME_LEN + 1];
    ext2_ino_t dir_ino, ino;
    errcode_t e;

    if (split_path(x, path, dir, base) != 0)
        return -1;
    e = ext2fs_namei_follow(x->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, dir, &dir_ino);
    if (e == EXT2_ET_FILE_NOT_FOUND)
        return 0;
    if (e != 0)
        return fail(x, "%s: %s", dir, why(e));
    if (ext2fs_check_directory(x->fs, dir_ino) != 0)
        return 0;
    int rc = lookup(x, path, dir_ino, base, 0, &ino);
    return rc < 0 ? -1 : rc == 0;
}

/* ---------------------------------------------------------------- reading */

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int extfs_read_file(struct extfs *x, const char *path, int out_fd, uint32_t *mode)
{
    struct ext2_inode_large inode;
    ext2_ino_t ino;
    ext2_file_t f = NULL;
    char *buf = NULL;
    unsigned int got;
    errcode_t e;
    int rc = -1;

    if (resolve_file(x, path, &ino, &inode) != 0)
        return -1;
    if (mode != NULL)
        *mode = inode.i_mode & 07777;
    buf = malloc(EXTFS_BUF);
    if (buf == NULL)
        return fail(x, "%s: out of memory", path);
    e = ext2fs_file_open(x->fs, ino, 0, &f);
    if (e != 0) {
        fail(x, "%s: %s", path, why(e));
        goto out;
    }
    for (;;) {
        e = ext2fs_file_read(f, buf, EXTFS_BUF, &got);
        if (e != 0) {
            fail(x, "%s: reading: %s", path, why(e));
            goto out;
        }
        if (got == 0)
            break;
        if (write_all(out_fd, buf, got) != 0) {
            fail(x, "%s: writing the copy: %s", path, strerror(errno));
            goto out;
        }
    }
    rc = 0;
out:
    if (f != NULL)
        ext2fs_file_close(f);
    free(buf);
    return rc;
}

int extfs_read_small(struct extfs *x, const char *path, char *buf, size_t cap, size_t *len)
{
    struct ext2_inode_large inode;
    ext2_ino_t ino;
    ext2_file_t f = NULL;
    unsigned int got;
    errcode_t e;
    uint64_t size;

    if (resolve_file(x, path, &ino, &inode) != 0)
        return -1;
    size = EXT2_I_SIZE(&inode);
    if (size >= cap)
        return fail(x, "%s: %llu bytes, more than the %zu read here", path,
                    (unsigned long long)size, cap - 1);
    e = ext2fs_file_open(x->fs, ino, 0, &f);
    if (e == 0)
        e = ext2fs_file_read(f, buf, (unsigned int)size, &got);
    if (f != NULL)
        ext2fs_file_close(f);
    if (e != 0)
        return fail(x, "%s: reading: %s", path, why(e));
    buf[got] = '\0';
    *len = got;
    return 0;
}

/* ---------------------------------------------------------------- writing */

/* Links ino as name into dir, growing the directory when its blocks are full. */
static int link_entry(struct extfs *x, const char *path, ext2_ino_t dir, const char *name,
                      ext2_ino_t ino, int type)
{
    errcode_t e = ext2fs_link(x->fs, dir, name, ino, type);

    if (e == EXT2_ET_DIR_NO_SPACE) {
        e = ext2fs_expand_dir(x->fs, dir);
        if (e == 0)
            e = ext2fs_link(x->fs, dir, name, ino, type);
    }
    return e != 0 ? fail(x, "%s: adding the directory entry: %s", path, why(e)) : 0;
}

/* A new, empty regular file name in directory dir. */
static int create_file(struct extfs *x, const char *path, ext2_ino_t dir, const char *name,
                       const struct extfs_attr *attr, ext2_ino_t *ino)
{
    struct ext2_inode_large inode;
    uint32_t mode = attr->mode ? attr->mode & 07777 : 0644;
    uint32_t uid = attr->set_owner ? attr->uid : 0, gid = attr->set_owner ? attr->gid : 0;
    time_t now = time(NULL);
    errcode_t e = ext2fs_new_inode(x->fs, dir, LINUX_S_IFREG | mode, NULL, ino);

    if (e != 0)
        return fail(x, "%s: %s", path, why(e));
    if (link_entry(x, path, dir, name, *ino, EXT2_FT_REG_FILE) != 0)
        return -1;
    ext2fs_inode_alloc_stats2(x->fs, *ino, +1, 0);
    memset(&inode, 0, sizeof(inode));
    inode.i_mode = (uint16_t)(LINUX_S_IFREG | mode);
    inode.i_links_count = 1;
    inode.i_atime = inode.i_ctime = inode.i_mtime = (uint32_t)now;
    inode.i_uid = (uint16_t)uid;
    ext2fs_set_i_uid_high(inode, uid >> 16);
    inode.i_gid = (uint16_t)gid;
    ext2fs_set_i_gid_high(inode, gid >> 16);
    if (ext2fs_has_feature_extents(x->fs->super)) {
        ext2_extent_handle_t h;

        /* An empty extent tree in i_block, as e2fsprogs' create_inode does. */
        e = ext2fs_extent_open2(x->fs, *ino, (struct ext2_inode *)&inode, &h);
        if (e != 0)
            return fail(x, "%s: %s", path, why(e));
        ext2fs_extent_free(h);
    }
    e = ext2fs_write_new_inode(x->fs, *ino, (struct ext2_inode *)&inode);
    return e != 0 ? fail(x, "%s: writing the new inode: %s", path, why(e)) : 0;
}

/* Replaces the data of file ino with in_fd's bytes. */
static int fill_file(struct extfs *x, const char *path, ext2_ino_t ino, int in_fd)
{
    ext2_file_t f = NULL;
    char *buf = malloc(EXTFS_BUF);
    unsigned int put;
    errcode_t e;
    int rc = -1;

    if (buf == NULL)
        return fail(x, "%s: out of memory", path);
    e = ext2fs_file_open(x->fs, ino, EXT2_FILE_WRITE, &f);
    if (e == 0)
        e = ext2fs_file_set_size2(f, 0);
    if (e != 0) {
        fail(x, "%s: %s", path, why(e));
        goto out;
    }
    for (;;) {
        ssize_t n = read(in_fd, buf, EXTFS_BUF);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fail(x, "%s: reading the input: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n; off += put) {
            e = ext2fs_file_write(f, buf + off, (unsigned int)(n - off), &put);
            if (e != 0) {
                fail(x, "%s: writing: %s", path, why(e));
                goto out;
            }
        }
    }
    e = ext2fs_file_close(f);
    f = NULL;
    if (e != 0) {
        fail(x, "%s: writing: %s", path, why(e));
        goto out;
    }
    rc = 0;
out:
    if (f != NULL)
        ext2fs_file_close(f);
    free(buf);
    return rc;
}

/* Sets mode, owner and times on file ino after its data changed. */
static int stamp_file(struct extfs *x, const char *path, ext2_ino_t ino,
                      const struct extfs_attr *attr)
{
    struct ext2_inode_large inode;
    uint32_t now = (uint32_t)time(NULL);

    if (read_inode(x, path, ino, &inode) != 0)
        return -1;
    if (attr->set_mode)
        inode.i_mode = (uint16_t)((inode.i_mode & LINUX_S_IFMT) | (attr->mode & 07777));
    if (attr->set_owner) {
        inode.i_uid = (uint16_t)attr->uid;
        ext2fs_set_i_uid_high(inode, attr->uid >> 16);
        inode.i_gid = (uint16_t)attr->gid;
        ext2fs_set_i_gid_high(inode, attr->gid >> 16);
    }
    inode.i_mtime = inode.i_ctime = now;
    return write_inode(x, path, ino, &inode);
}

int extfs_put(struct extfs *x, const char *path, int in_fd, const struct extfs_attr *attr)
{
    char dir[EXTFS_PATH_MAX], base[EXT2_NAME_LEN + 1];
    struct ext2_inode_large inode;
    ext2_ino_t dir_ino, ino;
    int rc;

    if (!x->writable)
        return fail(x, "opened read-only");
    if (split_path(x, path, dir, base) != 0 || resolve_dir(x, dir, &dir_ino) != 0)
        return -1;
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return fail(x, "%s: a file name is needed after the last '/'", path);
    rc = lookup(x, path, dir_ino, base, 1, &ino);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (create_file(x, path, dir_ino, base, attr, &ino) != 0)
            return -1;
    } else {
        if (read_inode(x, path, ino, &inode) != 0)
            return -1;
        if (LINUX_S_ISDIR(inode.i_mode))
            return fail(x, "%s is a directory, not a file", path);
        if (!LINUX_S_ISREG(inode.i_mode))
            return fail(x, "%s is not a regular file (mode 0%o)", path, inode.i_mode);
    }
    if (fill_file(x, path, ino, in_fd) != 0)
        return -1;
    return stamp_file(x, path, ino, attr);
}

int extfs_mkdir_p(struct extfs *x, const char *path)
{
    char buf[EXTFS_PATH_MAX];
    ext2_ino_t parent = EXT2_ROOT_INO, ino;
    size_t len = strlen(path), i = 0;

    if (!x->writable)
        return fail(x, "opened read-only");
    if (len == 0 || len >= sizeof(buf))
        return fail(x, "invalid directory path (%zu bytes)", len);
    memcpy(buf, path, len + 1);
    while (i < len) {
        size_t start;
        errcode_t e;

        while (buf[i] == '/')
            i++;
        start = i;
        while (i < len && buf[i] != '/')
            i++;
        if (i == start)
            break;
        buf[i] = '\0';
        if (i - start > EXT2_NAME_LEN)
            return fail(x, "%s: a name is longer than %d bytes", path, EXT2_NAME_LEN);
        e = ext2fs_namei_follow(x->fs, EXT2_ROOT_INO, parent, buf + start, &ino);
        if (e == EXT2_ET_FILE_NOT_FOUND) {
            if (strcmp(buf + start, "..") == 0 || strcmp(buf + start, ".") == 0)
                return fail(x, "%s: invalid path", path);
            e = ext2fs_mkdir(x->fs, parent, 0, buf + start);
            if (e == EXT2_ET_DIR_NO_SPACE) {
                e = ext2fs_expand_dir(x->fs, parent);
                if (e == 0)
                    e = ext2fs_mkdir(x->fs, parent, 0, buf + start);
            }
            if (e == 0)
                e = ext2fs_lookup(x->fs, parent, buf + start, (int)strlen(buf + start), NULL, &ino);
        }
        if (e != 0)
            return fail(x, "%s: creating %s: %s", path, buf, why(e));
        if (ext2fs_check_directory(x->fs, ino) != 0)
            return fail(x, "%s exists in the image and is not a directory", buf);
        parent = ino;
        if (i < len)
            buf[i] = '/';
    }
    return 0;
}

/* ---------------------------------------------------------------- removing */

/* Drops one link of ino; at the last one frees its blocks, its extended-attribute block and
 * the inode (debugfs kill_file_by_inode plus the EA block). */
static int release_inode(struct extfs *x, const char *path, ext2_ino_t ino, int is_dir)
{
    struct ext2_inode_large inode;
    blk64_t ea;
    errcode_t e;

    if (read_inode(x, path, ino, &inode) != 0)
        return -1;
    if (!is_dir && inode.i_links_count > 1) {
        inode.i_links_count--;
        return write_inode(x, path, ino, &inode);
    }
    inode.i_links_count = 0;
    inode.i_dtime = (uint32_t)time(NULL);
    if (ext2fs_inode_has_valid_blocks2(x->fs, (struct ext2_inode *)&inode)) {
        e = ext2fs_punch(x->fs, ino, (struct ext2_inode *)&inode, NULL, 0, ~0ULL);
        if (e != 0)
            return fail(x, "%s: freeing its blocks: %s", path, why(e));
    }
    ea = ext2fs_file_acl_block(x->fs, (struct ext2_inode *)&inode);
    if (ea != 0) {
        __u32 count = 0;

        e = ext2fs_adjust_ea_refcount3(x->fs, ea, NULL, -1, &count, ino);
        if (e != 0)
            return fail(x, "%s: its extended attribute block %llu: %s", path,
                        (unsigned long long)ea, why(e));
        if (count == 0)
            ext2fs_block_alloc_stats2(x->fs, ea, -1);
        ext2fs_file_acl_block_set(x->fs, (struct ext2_inode *)&inode, 0);
    }
    if (write_inode(x, path, ino, &inode) != 0)
        return -1;
    ext2fs_inode_alloc_stats2(x->fs, ino, -1, is_dir);
    return 0;
}

struct names {
    char **v;
    size_t n, cap;
    int failed;
};

static int collect_name(struct ext2_dir_entry *d, int offset, int blocksize, char *buf, void *priv)
{
    struct names *l = priv;
    int len = ext2fs_dirent_name_len(d);

    (void)offset;
    (void)blocksize;
    (void)buf;
    if ((len == 1 && d->name[0] == '.') || (len == 2 && d->name[0] == '.' && d->name[1] == '.'))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL) {
            l->failed = 1;
            return DIRENT_ABORT;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strndup(d->name, (size_t)len);
    if (l->v[l->n] == NULL) {
        l->failed = 1;
        return DIRENT_ABORT;
    }
    l->n++;
    return 0;
}

static void names_free(struct names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int remove_entry(struct extfs *x, const char *path, ext2_ino_t dir, const char *name,
                        int recursive, int depth);

/* Removes everything inside directory ino. */
static int empty_dir(struct extfs *x, const char *path, ext2_ino_t ino, int depth)
{
    struct names l = { 0 };
    errcode_t e;
    int rc = 0;

    if (depth >= EXTFS_DEPTH_MAX)
        return fail(x, "%s: more than %d nested directories", path, EXTFS_DEPTH_MAX);
    e = ext2fs_dir_iterate(x->fs, ino, 0, NULL, collect_name, &l);
    if (e != 0 || l.failed) {
        names_free(&l);
        return fail(x, "%s: listing: %s", path, l.failed ? "out of memory" : why(e));
    }
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        char sub[EXTFS_PATH_MAX];

        if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, l.v[i]) >= sizeof(sub))
            rc = fail(x, "%s/%s: path too long", path, l.v[i]);
        else
            rc = remove_entry(x, sub, ino, l.v[i], 1, depth + 1);
    }
    names_free(&l);
    return rc;
}

static int dir_is_empty(struct extfs *x, const char *path, ext2_ino_t ino)
{
    struct names l = { 0 };
    errcode_t e = ext2fs_dir_iterate(x->fs, ino, 0, NULL, collect_name, &l);
    int empty = l.n == 0;

    names_free(&l);
    if (e != 0 || l.failed)
        return fail(x, "%s: listing: %s", path, l.failed ? "out of memory" : why(e));
    return empty;
}

/* Removes the entry name (inode looked up, not followed) of directory dir. */
static int remove_entry(struct extfs *x, const char *path, ext2_ino_t dir, const char *name,
                        int recursive, int depth)
{
    struct ext2_inode_large inode;
    ext2_ino_t ino;
    errcode_t e;
    int is_dir, rc = lookup(x, path, dir, name, 0, &ino);

    if (rc == 1)
        return fail(x, "the file %s does not exist in the image", path);
    if (rc != 0 || read_inode(x, path, ino, &inode) != 0)
        return -1;
    is_dir = LINUX_S_ISDIR(inode.i_mode);
    if (is_dir) {
        int empty = dir_is_empty(x, path, ino);

        if (empty < 0)
            return -1;
        if (!empty && !recursive)
            return fail(x, "%s is a directory that is not empty (use -r)", path);
        if (!empty && empty_dir(x, path, ino, depth) != 0)
            return -1;
    }
    e = ext2fs_unlink(x->fs, dir, name, ino, 0);
    if (e != 0)
        return fail(x, "%s: removing the directory entry: %s", path, why(e));
    if (release_inode(x, path, ino, is_dir) != 0)
        return -1;
    if (is_dir) {
        /* The removed directory's ".." was a link to dir. */
        if (read_inode(x, path, dir, &inode) != 0)
            return -1;
        if (inode.i_links_count > 1)
            inode.i_links_count--;
        return write_inode(x, path, dir, &inode);
    }
    return 0;
}

int extfs_remove(struct extfs *x, const char *path, int recursive)
{
    char dir[EXTFS_PATH_MAX], base[EXT2_NAME_LEN + 1];
    ext2_ino_t dir_ino;

    if (!x->writable)
        return fail(x, "opened read-only");
    if (split_path(x, path, dir, base) != 0)
        return -1;
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return fail(x, "%s: refusing to remove the root or a '.' or '..' entry", path);
    if (resolve_dir(x, dir, &dir_ino) != 0)
        return -1;
    return remove_entry(x, path, dir_ino, base, recursive, 0);
}
