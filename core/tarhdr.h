/* tarhdr.h -- 512-byte tar header blocks for the outer artifact tar (private).
 * The outer tar is assembled by hand from these blocks so that an entry whose size is only
 * known after compressing can be patched in place, and so that `sign` can copy every other
 * byte of the input unchanged. The blocks themselves are made by libarchive. */
#ifndef MSIG_TARHDR_H
#define MSIG_TARHDR_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

#define MSIGI_TAR_BLOCK 512
/* Room for a PAX extended header plus the ustar header of one entry. */
#define MSIGI_TAR_HDR_MAX (4 * MSIGI_TAR_BLOCK)

/* Header block(s) of a regular file: ustar, uid/gid 0, empty owner names; a PAX `path`
 * record when the name does not fit ustar. Writes *len bytes (a multiple of 512) to out. */
int msigi_tar_header(struct msig_ctx *ctx, const char *name, uint64_t size, uint32_t mode,
                     int64_t mtime, uint8_t out[static MSIGI_TAR_HDR_MAX], size_t *len);
/* The same as a GNU tar header: one 512-byte block for a short name whatever the size (sizes
 * of 8 GiB and more in base-256, which Go's archive/tar and libarchive read). Used where a
 * header written before the size is known must keep its length. */
int msigi_tar_header_gnu(struct msig_ctx *ctx, const char *name, uint64_t size, uint32_t mode,
                         int64_t mtime, uint8_t out[static MSIGI_TAR_HDR_MAX], size_t *len);
/* Padding after size bytes of entry data: 0..511. */
size_t msigi_tar_pad(uint64_t size);

#endif
