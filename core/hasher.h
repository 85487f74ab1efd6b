/* hasher.h -- the hashing stage of the write pipeline: SHA-256 of payload files on a thread
 * of its own, fed with the same buffers the caller then hands to the compressor.
 *
 * The caller takes a buffer (msigi_hasher_buf), fills it, pushes it (msigi_hasher_push) and
 * may keep reading it until it takes the next one; msigi_hasher_end gives the digest of
 * everything pushed since the last end. Buffers come from a ring of MSIGI_HASHER_NBUF, so
 * the hasher runs up to that many buffers behind the caller. Not threaded (threaded = 0),
 * push hashes at once on the caller's thread. */
#ifndef MSIGI_HASHER_H
#define MSIGI_HASHER_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

#define MSIGI_HASHER_NBUF 4

struct msigi_hasher;

/* buf_size: bytes of each buffer. */
int msigi_hasher_new(struct msig_ctx *ctx, int threaded, size_t buf_size,
                     struct msigi_hasher **out);
/* The next buffer to fill (buf_size bytes); waits until the hasher is done with it. The
 * same buffer again while the last one taken was not pushed. */
uint8_t *msigi_hasher_buf(struct msigi_hasher *h);
/* Queues the first len bytes of the buffer msigi_hasher_buf returned last. */
int msigi_hasher_push(struct msigi_hasher *h, size_t len);
/* Waits for every pushed buffer and gives their SHA-256; the next push starts a new digest. */
int msigi_hasher_end(struct msigi_hasher *h, uint8_t md[static 32]);
void msigi_hasher_free(struct msigi_hasher *h);

#endif
