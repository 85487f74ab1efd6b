/* zstream.h -- streaming compression for artifact entries (gzip through ISA-L igzip, or
 * zlib for portable output; xz through liblzma; zstd through libzstd; or none), and the
 * compression names and families. Decompression is in zdec.h.
 *
 * Encoders push compressed bytes to a sink callback. Their output is reproducible: gzip
 * header with mtime 0, no name, OS byte 255; xz with CRC64 check; zstd with checksum.
 * Memory use is bounded and independent of the data size. */
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

struct msigi_zenc;
/* compression: an MSIG_COMPRESS_* id (selects family and level). threads: worker threads
 * the encoder may use (1 = none); output is the same format whatever the count.
 * gzip: ISA-L igzip level 3 (zlib level 6 with MSIGI_ZENC_F_PORTABLE), cut into 256 KiB
 * chunks compressed in parallel into one member; the
 * bytes are identical for every thread count and every split of the writes.
 * xz: preset 6, CRC64; threads > 1 use liblzma's threaded encoder (24 MiB blocks), whose
 * output differs from threads == 1 but not between thread counts > 1.
 * zstd: levels 1/3/7/11 with checksum; threads > 1 use libzstd workers (threads - 1).
 * The sink is only called from the caller's thread. */
int msigi_zenc_new(struct msig_ctx *ctx, int compression, int threads, msig_write_fn *sink,
                   void *sink_user, struct msigi_zenc **out);
/* Portable output: gzip through zlib (level 6) instead of ISA-L, whose output may depend on
 * the CPU's instruction set. Reproducible writes (SOURCE_DATE_EPOCH) use it, so that the
 * same inputs give the same bytes on every machine with the same zlib. */
#define MSIGI_ZENC_F_PORTABLE (1u << 0)
int msigi_zenc_new_flags(struct msig_ctx *ctx, int compression, int threads, uint32_t flags,
                         msig_write_fn *sink, void *sink_user, struct msigi_zenc **out);
int msigi_zenc_write(struct msigi_zenc *e, const void *buf, size_t len);
/* Flushes the end of the stream to the sink. */
int msigi_zenc_finish(struct msigi_zenc *e);
void msigi_zenc_free(struct msigi_zenc *e);

#endif
