/* zstream.h -- streaming compression and decompression for artifact entries
 * (decoding gzip through ISA-L igzip, xz through liblzma, zstd through libzstd, or none;
 * the encoders are in zenc.h).
 *
 * Decoders pull compressed bytes from a source callback and hand out decompressed bytes.
 * They are strict: a corrupt stream, a bad gzip/xz/zstd integrity check (CRC32 and ISIZE
 * for gzip, the xz check, the zstd checksum when present), a truncated stream, or any bytes
 * after the end of the compressed stream are errors (MSIG_E_FORMAT, with a message that
 * names `what` and the problem). Concatenated gzip members are accepted.
 */
#ifndef MSIG_ZSTREAM_H
#define MSIG_ZSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

#include "zenc.h" /* the encoders */

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

struct msigi_zdec;
/* what: a name for messages, e.g. "data/0000.tar.gz". */
int msigi_zdec_new(struct msig_ctx *ctx, int family, msig_read_fn *src, void *src_user,
                   const char *what, struct msigi_zdec **out);
/* Returns bytes produced (> 0), 0 at the clean end of the stream, or -1 on error with the
 * context error set (MSIG_E_FORMAT for bad data, MSIG_E_IO when the source failed). */
msig_ssize msigi_zdec_read(struct msigi_zdec *d, void *buf, size_t len);
/* The code of the last error (MSIG_E_FORMAT, MSIG_E_IO, MSIG_E_NOMEM), or 0. */
int msigi_zdec_error(const struct msigi_zdec *d);
void msigi_zdec_free(struct msigi_zdec *d);

#endif
