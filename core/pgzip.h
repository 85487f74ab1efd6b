/* pgzip.h -- parallel gzip: the input cut into fixed chunks, each compressed on a worker
 * thread with libdeflate into one gzip member, the members written in order.
 *
 * The output is a multi-member gzip file (RFC 1952 section 2.2): every member has the header
 * 1f 8b 08 00, mtime 0, XFL 0, OS 255, its own CRC32 and ISIZE. Chunking depends only on
 * byte offsets, so the bytes are the same for every thread count and every split of the
 * writes; libdeflate's compressor has no CPU-dependent choices, so they are the same on every
 * machine with the same libdeflate version. Memory: with threads > 1, 2 * threads + 1
 * slots and one buffer per worker, about 512 KiB each; with one thread, two buffers. */
#ifndef MSIGI_PGZIP_H
#define MSIGI_PGZIP_H

#include <stddef.h>

#include <msig/msig.h>

/* Bytes of input per gzip member. */
#define MSIGI_PGZ_CHUNK (512u * 1024u)
/* libdeflate level of the output. */
#define MSIGI_PGZ_LEVEL 2

struct msigi_pgz;

/* threads: workers (1 = compress on the caller's thread). The sink is only called from
 * the caller's thread; a sink failure is MSIG_E_IO with errno's text. */
int msigi_pgz_new(struct msig_ctx *ctx, int level, int threads, msig_write_fn *sink,
                  void *sink_user, struct msigi_pgz **out);
int msigi_pgz_write(struct msigi_pgz *p, const void *buf, size_t len);
/* Compresses the last chunk and waits for every member to be written. */
int msigi_pgz_finish(struct msigi_pgz *p);
void msigi_pgz_free(struct msigi_pgz *p);

#endif
