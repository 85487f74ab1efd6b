/* zstream.h -- the compression names and families of artifact entries. The encoders are in
 * zenc.h (compression), the decoders in zdec.h (decompression). */
#ifndef MSIG_ZSTREAM_H
#define MSIG_ZSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

/* Compression families, from the MSIG_COMPRESS_* ids (all zstd levels are one family). */
#define MSIGI_Z_NONE 0
#define MSIGI_Z_GZIP 1
#define MSIGI_Z_XZ 2
#define MSIGI_Z_ZSTD 3

/* Family of an MSIG_COMPRESS_* id, and the entry-name suffix ("", ".gz", ".xz", ".zst"). */
int msigi_z_family(int compression);
const char *msigi_z_suffix(int family);
/* Family from an entry name by suffix only (never by magic bytes): "header.tar.gz" ->
 * MSIGI_Z_GZIP; *base_len gets the length of the name without the suffix. */
int msigi_z_family_from_name(const char *name, size_t *base_len);
/* msig_compression_from_name with the error text set on ctx ("compressor 'x' is not
 * supported: invalid compressor id: x", MSIG_E_INVALID). */
int msigi_z_compression_from_name(struct msig_ctx *ctx, const char *name, int *compression);
/* The mender-artifact id of an MSIG_COMPRESS_* value ("gzip", "zstd_fast", ...), or NULL. */
const char *msigi_z_compression_name(int compression);

#endif
