/* zdec.h -- streaming decompression for artifact entries (private): gzip through ISA-L
 * igzip (members as msig writes them decoded whole by libdeflate), xz through liblzma (block by block, zxz.h), zstd through libzstd, or none. The families (MSIGI_Z_*) are those of zstream.h.
 *
 * Decoders pull compressed bytes from a source callback and hand out decompressed bytes.
 * They are strict: a corrupt stream, a bad gzip/xz/zstd integrity check (CRC32 and ISIZE
 * for gzip, the xz check, the zstd checksum when present), a truncated stream, or any bytes
 * after the end of the compressed stream are errors (MSIG_E_FORMAT, with a message that
 * names `what` and the problem). Concatenated gzip members are accepted.
 *
 * Thread rules: a decoder is used by one thread at a time; its errors go to the context it
 * was made with. */
#ifndef MSIGI_ZDEC_H
#define MSIGI_ZDEC_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

#include "zstream.h"

struct msigi_zdec;
/* what: a name for messages, e.g. "data/0000.tar.gz". One thread. */
int msigi_zdec_new(struct msig_ctx *ctx, int family, msig_read_fn *src, void *src_user,
                   const char *what, struct msigi_zdec **out);
/* The same with up to `threads` threads for xz: blocks whose header records their sizes (as
 * msig writes them with threads > 1) are decoded on worker threads (zxz.h). The bytes
 * produced, and every error and where it comes, are those of threads == 1. Other families
 * ignore threads. */
int msigi_zdec_new_threads(struct msig_ctx *ctx, int family, int threads, msig_read_fn *src,
                           void *src_user, const char *what, struct msigi_zdec **out);
/* Returns bytes produced (> 0), 0 at the clean end of the stream, or -1 on error with the
 * context error set (MSIG_E_FORMAT for bad data, MSIG_E_IO when the source failed). */
msig_ssize msigi_zdec_read(struct msigi_zdec *d, void *buf, size_t len);
/* The code of the last error (MSIG_E_FORMAT, MSIG_E_IO, MSIG_E_NOMEM), or 0. */
int msigi_zdec_error(const struct msigi_zdec *d);
void msigi_zdec_free(struct msigi_zdec *d);

#endif
