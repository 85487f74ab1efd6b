/* disk.c -- partition tables through libfdisk, and the Mender disk layout. */
#include "disk.h"

#include <stdio.h>
#include <string.h>

#include <libfdisk/libfdisk.h>

int disk_partitions(const char *path, struct disk_part *parts, size_t cap, size_t *n, char *err,
                    size_t errcap)
{
    struct fdisk_context *cx = fdisk_new_context();
    struct fdisk_table *tb = NULL;
    unsigned long sector;
    int rc = -1;

    *n = 0;
    if (cx == NULL) {
        snprintf(err, errcap, "%s: out of memory", path);
        return -1;
    }
    if (fdisk_assign_device(cx, path, 1) != 0) {
        snprintf(err, errcap, "%s: cannot read the partition table", path);
        goto out;
    }
    if (!fdisk_has_label(cx)) {
        rc = 0;
        goto out;
    }
    if (fdisk_get_partitions(cx, &tb) != 0) {
        snprintf(err, errcap, "%s: cannot list the partitions (%s table)", path,
                 fdisk_label_get_name(fdisk_get_label(cx, NULL)));
        goto out;
    }
    sector = fdisk_get_sector_size(cx);
    for (size_t i = 0; i < fdisk_table_get_nents(tb); i++) {
        struct fdisk_partition *pa = fdisk_table_get_partition(tb, i);

        if (pa == NULL || !fdisk_partition_is_used(pa) || fdisk_partition_is_container(pa))
            continue;
        if (*n == cap) {
            snprintf(err, errcap, "%s: more than %zu partitions", path, cap);
            goto out;
        }
        parts[*n].number = (unsigned)fdisk_partition_get_partno(pa) + 1;
        parts[*n].offset = (uint64_t)fdisk_partition_get_start(pa) * sector;
        parts[*n].length = (uint64_t)fdisk_partition_get_size(pa) * sector;
        (*n)++;
    }
    rc = 1;
out:
    fdisk_unref_table(tb);
    fdisk_unref_context(cx);
    return rc;
}

/* path without prefix (which ends in '/'), as an absolute path; 0 when path starts with it. */
static int strip(const char *path, const char *prefix, char *inner, size_t cap)
{
    size_t len = strlen(prefix);

    if (strncmp(path, prefix, len) != 0)
        return -1;
    snprintf(inner, cap, "/%s", path + len);
    return 0;
}

int disk_route(const char *path, size_t n, int *role, size_t idx[2], size_t *nidx, char *inner,
               size_t cap, char *err, size_t errcap)
{
    static const char *const boot[] = { "/uboot/", "/boot/efi/", "/boot/grub/" };

    if (n != 4) {
        snprintf(err, errcap,
                 "%zu partitions found, 4 needed (boot, root filesystems A and B, data)", n);
        return -1;
    }
    if (strlen(path) >= cap) {
        snprintf(err, errcap, "path too long (%zu bytes)", strlen(path));
        return -1;
    }
    *nidx = 1;
    if (strip(path, "/data/", inner, cap) == 0 || strcmp(path, "/data") == 0) {
        if (strcmp(path, "/data") == 0)
            snprintf(inner, cap, "/");
        *role = DISK_ROLE_DATA;
        idx[0] = 3;
        return 0;
    }
    for (size_t i = 0; i < sizeof(boot) / sizeof(boot[0]); i++) {
        if (strip(path, boot[i], inner, cap) == 0) {
            *role = DISK_ROLE_BOOT;
            idx[0] = 0;
            return 0;
        }
    }
    snprintf(inner, cap, "%s", path);
    *role = DISK_ROLE_ROOTFS;
    idx[0] = 1;
    idx[1] = 2;
    *nidx = 2;
    return 0;
}
