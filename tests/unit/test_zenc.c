/* test_zenc.c -- the write pipeline's stages: the hashing stage (hasher.c) against a one-shot
 * SHA-256, threaded or not, across file boundaries and buffer reuse; and the encoders'
 * promise that the thread count never changes the bytes, for xz (more than one block) and
 * zstd (more than one job), with the block and frame layout that makes it so. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <openssl/evp.h>

#include "ctx.h"
#include "hasher.h"
#include "tap.h"
#include "zenc.h"
#include "zstream.h"

static struct msig_ctx *ctx;

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static int sink_write(void *user, const void *data, size_t len)
{
    struct buf *b = user;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *n = realloc(b->p, cap);
        if (!n)
            return -1;
        b->p = n;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

/* Text with some variety: compresses well, and fast for xz. */
static void make_text(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n;) {
        char line[64];
        int k = snprintf(line, sizeof(line), "line %zu of the test data, seed %u\n", i / 40 % 977,
                         seed);
        for (int j = 0; j < k && i < n; j++)
            p[i++] = (uint8_t)line[j];
    }
}

static int compress(int compression, int threads, const uint8_t *data, size_t len, size_t step,
                    struct buf *out)
{
    struct msigi_zenc *e = NULL;
    int rc = msigi_zenc_new(ctx, compression, threads, sink_write, out, &e);
    for (size_t off = 0; rc == 0 && off < len;) {
        size_t n = step && len - off > step ? step : len - off;
        rc = msigi_zenc_write(e, data + off, n);
        off += n;
    }
    if (rc == 0)
        rc = msigi_zenc_finish(e);
    msigi_zenc_free(e);
    return rc;
}

/* ------------------------------------------------------------------ hasher */

static void test_hasher(int threaded)
{
    size_t bufsz = 4096, lens[] = { 0, 1, 4096, 4095 * 3 + 7, 100000 };
    uint8_t *data = malloc(100000);
    struct msigi_hasher *h = NULL;
    if (!data)
        bail("out of memory");
    make_text(data, 100000, 3);
    ok(msigi_hasher_new(ctx, threaded, bufsz, &h) == 0, "/hasher/%d/new", threaded);
    for (size_t f = 0; h && f < sizeof(lens) / sizeof(lens[0]); f++) {
        int rc = 0, same = 1;
        for (size_t off = 0; rc == 0 && off < lens[f];) {
            uint8_t *b = msigi_hasher_buf(h);
            /* Taking a buffer twice without a push gives the same one. */
            same &= b == msigi_hasher_buf(h);
            size_t n = lens[f] - off < bufsz ? lens[f] - off : bufsz;
            memcpy(b, data + off, n);
            rc = msigi_hasher_push(h, n);
            off += n;
        }
        ok(same, "/hasher/%d/%zu/a buffer taken twice without a push is the same", threaded,
           lens[f]);
        uint8_t got[32], want[32];
        unsigned int wl = 0;
        if (rc == 0)
            rc = msigi_hasher_end(h, got);
        EVP_Digest(data, lens[f], want, &wl, EVP_sha256(), NULL);
        ok(rc == 0, "/hasher/%d/%zu/rc", threaded, lens[f]);
        is_mem(got, 32, want, 32, "/hasher/%d/%zu bytes: the SHA-256 of the bytes pushed", threaded,
               lens[f]);
    }
    /* A push without a buffer is refused. */
    is_int(h ? msigi_hasher_push(h, 1) : 0, MSIG_E_INVALID, "/hasher/%d/push without a buffer",
           threaded);
    msigi_hasher_free(h);
    msigi_hasher_free(NULL);
    free(data);
}

/* ------------------------------------------------------------------ encoders */

/* The number of blocks of an xz stream (liblzma's index). */
static long xz_blocks(const struct buf *b)
{
    lzma_stream_flags f;
    const uint8_t *footer = b->p + b->len - LZMA_STREAM_HEADER_SIZE;
    lzma_index *idx = NULL;
    uint64_t memlimit = UINT64_MAX;
    size_t pos = 0;
    if (b->len < 2 * LZMA_STREAM_HEADER_SIZE || lzma_stream_footer_decode(&f, footer) != LZMA_OK ||
        f.backward_size > b->len - 2 * LZMA_STREAM_HEADER_SIZE)
        return -1;
    const uint8_t *ip = footer - f.backward_size;
    if (lzma_index_buffer_decode(&idx, &memlimit, NULL, ip, &pos, f.backward_size) != LZMA_OK)
        return -1;
    long n = (long)lzma_index_block_count(idx);
    lzma_index_end(idx, NULL);
    return n;
}

static void test_threads_same_bytes(void)
{
    /* xz: two blocks and a bit; zstd: several jobs. */
    size_t len = 2 * MSIGI_XZ_BLOCK + 4321;
    uint8_t *data = malloc(len);
    if (!data)
        bail("out of memory");
    make_text(data, len, 11);
    static const int comps[] = { MSIG_COMPRESS_LZMA, MSIG_COMPRESS_ZSTD_FASTEST,
                                 MSIG_COMPRESS_ZSTD_BEST, MSIG_COMPRESS_GZIP };
    static const int threads[] = { 1, 2, 3 };
    for (size_t c = 0; c < sizeof(comps) / sizeof(comps[0]); c++) {
        const char *name = msigi_z_compression_name(comps[c]);
        struct buf first = { 0 };
        ok(compress(comps[c], 1, data, len, 0, &first) == 0, "/zenc/%s/threads1/encode", name);
        for (size_t t = 1; t < sizeof(threads) / sizeof(threads[0]); t++) {
            struct buf b = { 0 };
            int rc = compress(comps[c], threads[t], data, len, 65537, &b);
            ok(rc == 0, "/zenc/%s/threads%d/encode", name, threads[t]);
            is_mem(b.p, b.len, first.p, first.len, "/zenc/%s/threads%d: the same bytes as 1", name,
                   threads[t]);
            free(b.p);
        }
        if (comps[c] == MSIG_COMPRESS_LZMA)
            is_int(xz_blocks(&first), 3, "/zenc/lzma/blocks of %u MiB: 3 for 2 and a bit",
                   MSIGI_XZ_BLOCK >> 20);
        free(first.p);
    }
    free(data);
}

int main(void)
{
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new failed");
    test_hasher(0);
    test_hasher(1);
    test_threads_same_bytes();
    msig_ctx_free(ctx);
    return done_testing();
}
