/* disk.h -- disk images with a partition table (MBR or GPT, read with libfdisk), and the
 * partitions a path inside a Mender disk image (.sdimg, .uefiimg, .biosimg, .gptimg)
 * addresses, as mender-artifact addresses them: four partitions, boot (1), root filesystems
 * A and B (2, 3) and data (4). "/data/..." is in the data partition; "/uboot/...",
 * "/boot/efi/..." and "/boot/grub/..." are in the boot partition; every other path is in
 * both root filesystems (writes go to both, reads come from the first). */
#ifndef MSIG_IMAGE_DISK_H
#define MSIG_IMAGE_DISK_H

#include <stddef.h>
#include <stdint.h>

#define DISK_PARTS_MAX 128

struct disk_part {
    unsigned number;         /* 1-based, as fdisk shows it */
    uint64_t offset, length; /* bytes */
};

/* Lists the partitions of the image at path (extended-partition containers left out).
 * Returns 1 when the file has a partition table, 0 when it has none (a bare filesystem),
 * -1 on error (err, cap bytes). */
int disk_partitions(const char *path, struct disk_part *parts, size_t cap, size_t *n, char *err,
                    size_t errcap);

#define DISK_ROLE_ROOTFS 0
#define DISK_ROLE_BOOT 1
#define DISK_ROLE_DATA 2

/* For path inside a disk image with n partitions: the role it addresses, the indexes into
 * parts of the candidate partitions (idx, *nidx: 2 for the root filesystems, else 1) and the
 * path inside them (inner, cap bytes). -1 (err) when the image does not have the four
 * partitions of the Mender layout. */
int disk_route(const char *path, size_t n, int *role, size_t idx[2], size_t *nidx, char *inner,
               size_t cap, char *err, size_t errcap);

#endif
