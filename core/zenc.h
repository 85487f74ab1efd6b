/* zenc.h -- streaming compression of artifact entries: gzip (pgzip.c, libdeflate), xz
 * (liblzma's multi-threaded encoder), zstd (libzstd workers), or none.
 *
 * Encoders push compressed bytes to a sink callback, only from the caller's thread. Their
 * output is reproducible and the same for every thread count and every split of the writes:
 * gzip members with mtime 0, no name, OS byte 255; xz cut into blocks of a fixed size, CRC64
 * check; zstd frames with checksum, compressed in jobs of a fixed size. Memory use is bounded
 * by the thread count and independent of the data size. */
#ifndef MSIGI_ZENC_H
#define MSIGI_ZENC_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

/* xz: preset 6 (8 MiB dictionary) with nice_len 48, blocks of 12 MiB, at most 4 threads
 * (about 110 MiB of encoder memory each). */
#define MSIGI_XZ_PRESET 6
#define MSIGI_XZ_NICE_LEN 48
#define MSIGI_XZ_BLOCK (12u * 1024u * 1024u)
#define MSIGI_XZ_MAX_THREADS 4
/* zstd: jobs of 1 MiB, so memory stays small at every level (zstd_fast, 256 MiB image, 2
 * threads: 2 MiB jobs 26.3 MiB peak and 0.83 s, 1 MiB 19.5 MiB and 0.71 s, output 1.2%
 * larger; 512 KiB 16.2 MiB but 0.9 s). */
#define MSIGI_ZSTD_JOB (1u * 1024u * 1024u)

struct msigi_zenc;
/* compression: an MSIG_COMPRESS_* id (selects family and level). threads: worker threads
 * the encoder may use (1 = one at a time; xz and zstd still run their one worker on a
 * thread of their own, as their block and job layout, and so the bytes, need it).
 * gzip: libdeflate level 2, 512 KiB per member (see pgzip.h).
 * zstd: levels 1/3/7/11 with checksum. */
int msigi_zenc_new(struct msig_ctx *ctx, int compression, int threads, msig_write_fn *sink,
                   void *sink_user, struct msigi_zenc **out);
/* Portable output: kept for callers; every encoder is portable now (the bytes depend only
 * on the library versions, not on the CPU), so the flag changes nothing. */
#define MSIGI_ZENC_F_PORTABLE (1u << 0)
int msigi_zenc_new_flags(struct msig_ctx *ctx, int compression, int threads, uint32_t flags,
                         msig_write_fn *sink, void *sink_user, struct msigi_zenc **out);
int msigi_zenc_write(struct msigi_zenc *e, const void *buf, size_t len);
/* xz: fn gets the input bytes compressed so far, at least every MSIGI_XZ_PROGRESS_MS while
 * the encoder works (its threads buffer whole blocks, so the bytes written run ahead).
 * Returns 1 when the encoder reports this way, 0 when it does not (the other families). */
#define MSIGI_XZ_PROGRESS_MS 250
int msigi_zenc_set_progress(struct msigi_zenc *e, void (*fn)(void *user, uint64_t in), void *user);
/* Flushes the end of the stream to the sink. */
int msigi_zenc_finish(struct msigi_zenc *e);
void msigi_zenc_free(struct msigi_zenc *e);

#endif
