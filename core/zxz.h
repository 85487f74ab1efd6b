/* zxz.h -- xz decoding block by block (private), for zdec.c. The .xz stream format (stream
 * header, blocks, index, footer, padding, concatenated streams) is walked here with liblzma's
 * public block, index and stream-flags functions, in the order and with the results of
 * liblzma's lzma_stream_decoder (LZMA_TELL_UNSUPPORTED_CHECK | LZMA_CONCATENATED). A block
 * whose header records both its sizes (msig writes those with threads > 1, as xz -T does) is
 * decoded on a worker thread while the walk goes on; the others are decoded in place. Output
 * comes in stream order, and a block's output before an error, the error, and the point where
 * the walk fails are the same whether a block was decoded on a worker or in place, so the
 * thread count changes nothing but the speed.
 *
 * Thread rules: one thread calls msigi_zxz_*; the workers only decode whole blocks. */
#ifndef MSIGI_ZXZ_H
#define MSIGI_ZXZ_H

#include <stddef.h>
#include <stdint.h>

#include <lzma.h>

/* Most uncompressed bytes a block may have to be decoded on a worker (its output is held
 * until it is handed on); bigger blocks are decoded in place. */
#define MSIGI_ZXZ_JOB_MAX (64u * 1024u * 1024u)

struct msigi_zxz;

/* threads: workers (<= 1: none, every block in place). LZMA_OK or LZMA_MEM_ERROR. */
lzma_ret msigi_zxz_new(int threads, uint64_t memlimit, struct msigi_zxz **out);
/* As lzma_code: consumes in[*in_pos..in_size), produces into out[*out_pos..out_size).
 * finish: no input will follow the given one. Returns LZMA_OK, LZMA_STREAM_END (after finish,
 * at the clean end), LZMA_BUF_ERROR (no progress twice in a row), or the error of the stream;
 * output produced before an error is in out when the error is returned. */
lzma_ret msigi_zxz_code(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos, size_t in_size,
                        uint8_t *out, size_t *out_pos, size_t out_size, int finish);
/* The memory the last block needed (as lzma_memusage), and the stream's check type. */
uint64_t msigi_zxz_memusage(const struct msigi_zxz *z);
lzma_check msigi_zxz_check(const struct msigi_zxz *z);
/* How many blocks were handed to workers so far (for tests). */
size_t msigi_zxz_jobs(const struct msigi_zxz *z);
void msigi_zxz_free(struct msigi_zxz *z);

#endif
