/* test_zstream.c -- streaming codecs: round trips, strictness, reproducibility. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "ctx.h"
#include "tap.h"
#include "pgzip.h"
#include "zdec.h"
#include "zenc.h"
#include "zstream.h"

#define MiB (1024u * 1024u)

static struct msig_ctx *ctx;

/* SHA-256 of the gzip output of test_gzip_portable's input (libdeflate 1.14, Debian 12). */
#define PORTABLE_GZIP_SHA256 "7a82c7b2f0ae1c8d5a27f71bc23a2cd996f5079e17f88827af9db086bbb283b4"

/* ------------------------------------------------------------------ helpers */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            bail("out of memory");
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

struct src {
    const uint8_t *p;
    size_t len, pos;
    size_t step;    /* at most this many bytes per read (0 = any) */
    size_t fail_at; /* fail with EIO once pos reaches this (0 = never) */
};

static msig_ssize src_read(void *user, void *out, size_t len)
{
    struct src *s = user;
    if (s->fail_at && s->pos >= s->fail_at) {
        errno = EIO;
        return -1;
    }
    size_t n = s->len - s->pos;
    if (n > len)
        n = len;
    if (s->step && n > s->step)
        n = s->step;
    if (s->fail_at && s->pos + n > s->fail_at)
        n = s->fail_at - s->pos;
    if (n)
        memcpy(out, s->p + s->pos, n);
    s->pos += n;
    return (msig_ssize)n;
}

struct sink {
    struct buf b;
    size_t fail_after; /* fail once this many bytes were written (0 = never) */
};

static int sink_write(void *user, const void *p, size_t len)
{
    struct sink *s = user;
    if (s->fail_after && s->b.len + len > s->fail_after) {
        errno = ENOSPC;
        return -1;
    }
    buf_add(&s->b, p, len);
    return 0;
}

static void make_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)(x >> 24);
    }
}

static void make_repetitive(uint8_t *p, size_t n)
{
    static const char line[] = "msig streams the same line over and over; ";
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)line[(i + i / 4096) % (sizeof(line) - 1)];
}

/* Compresses data, writing `step` bytes per call (0 = all at once). */
static int compress_flags(int compression, int threads, uint32_t flags, const uint8_t *data,
                          size_t len, size_t step, struct buf *out)
{
    struct msigi_zenc *e = NULL;
    struct sink sk = { { 0 }, 0 };
    int rc = msigi_zenc_new_flags(ctx, compression, threads, flags, sink_write, &sk, &e);
    if (rc != 0)
        goto out;
    for (size_t off = 0; off < len;) {
        size_t n = step && step < len - off ? step : len - off;
        rc = msigi_zenc_write(e, data + off, n);
        if (rc != 0)
            goto out;
        off += n;
    }
    rc = msigi_zenc_finish(e);
out:
    msigi_zenc_free(e);
    *out = sk.b;
    return rc;
}

static int compress(int compression, int threads, const uint8_t *data, size_t len, size_t step,
                    struct buf *out)
{
    return compress_flags(compression, threads, 0, data, len, step, out);
}

/* Decompresses with a source giving src_step bytes per read and reads of rd_len bytes.
 * Returns 0 or the decoder's error code. */
static int decompress(int family, const uint8_t *p, size_t len, size_t src_step, size_t rd_len,
                      const char *what, struct buf *out)
{
    struct src s = { p, len, 0, src_step, 0 };
    struct msigi_zdec *d = NULL;
    uint8_t *rbuf = malloc(rd_len);
    int rc = msigi_zdec_new(ctx, family, src_read, &s, what, &d);
    memset(out, 0, sizeof(*out));
    if (rc != 0 || !rbuf)
        goto out;
    for (;;) {
        msig_ssize n = msigi_zdec_read(d, rbuf, rd_len);
        if (n < 0) {
            rc = msigi_zdec_error(d);
            if (rc == 0)
                rc = MSIG_E_FAILED;
            goto out;
        }
        if (n == 0)
            break;
        buf_add(out, rbuf, (size_t)n);
    }
out:
    free(rbuf);
    msigi_zdec_free(d);
    return rc;
}

static const char *cname(int c)
{
    const char *n = msigi_z_compression_name(c);
    return n ? n : "?";
}

static const int all_compressions[] = {
    MSIG_COMPRESS_NONE,         MSIG_COMPRESS_GZIP,      MSIG_COMPRESS_LZMA,
    MSIG_COMPRESS_ZSTD_FASTEST, MSIG_COMPRESS_ZSTD_FAST, MSIG_COMPRESS_ZSTD_BETTER,
    MSIG_COMPRESS_ZSTD_BEST,
};
#define N_COMPRESSIONS (sizeof(all_compressions) / sizeof(all_compressions[0]))

/* `gzip -n` of "The quick brown fox jumps over the lazy dog.\n" twice (90 bytes). */
static const uint8_t kat_gz[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x0b, 0xc9, 0x48, 0x55,
    0x28, 0x2c, 0xcd, 0x4c, 0xce, 0x56, 0x48, 0x2a, 0xca, 0x2f, 0xcf, 0x53, 0x48, 0xcb,
    0xaf, 0x50, 0xc8, 0x2a, 0xcd, 0x2d, 0x28, 0x56, 0xc8, 0x2f, 0x4b, 0x2d, 0x52, 0x28,
    0x01, 0x4a, 0xe7, 0x24, 0x56, 0x55, 0x2a, 0xa4, 0xe4, 0xa7, 0xeb, 0x71, 0x85, 0x90,
    0xa2, 0x18, 0x00, 0xc7, 0x78, 0x08, 0x34, 0x5a, 0x00, 0x00, 0x00,
};
static const char kat_text[] = "The quick brown fox jumps over the lazy dog.\n"
                               "The quick brown fox jumps over the lazy dog.\n";

/* ------------------------------------------------------------------ cases */

static void test_names(void)
{
    size_t base = 99;
    is_int(msigi_z_family(MSIG_COMPRESS_NONE), MSIGI_Z_NONE, "/zstream/family/none");
    is_int(msigi_z_family(MSIG_COMPRESS_GZIP), MSIGI_Z_GZIP, "/zstream/family/gzip");
    is_int(msigi_z_family(MSIG_COMPRESS_LZMA), MSIGI_Z_XZ, "/zstream/family/lzma");
    is_int(msigi_z_family(MSIG_COMPRESS_ZSTD_FASTEST), MSIGI_Z_ZSTD, "/zstream/family/zstd1");
    is_int(msigi_z_family(MSIG_COMPRESS_ZSTD_BEST), MSIGI_Z_ZSTD, "/zstream/family/zstd11");
    is_int(msigi_z_family(42), -1, "/zstream/family/unknown");
    is_str(msigi_z_suffix(MSIGI_Z_NONE), "", "/zstream/suffix/none");
    is_str(msigi_z_suffix(MSIGI_Z_GZIP), ".gz", "/zstream/suffix/gzip");
    is_str(msigi_z_suffix(MSIGI_Z_XZ), ".xz", "/zstream/suffix/xz");
    is_str(msigi_z_suffix(MSIGI_Z_ZSTD), ".zst", "/zstream/suffix/zstd");
    is_int(msigi_z_family_from_name("header.tar.gz", &base), MSIGI_Z_GZIP, "/zstream/from_name/gz");
    is_int((long long)base, 10, "/zstream/from_name/gz/base_len");
    is_int(msigi_z_family_from_name("data/0000.tar.xz", &base), MSIGI_Z_XZ,
           "/zstream/from_name/xz");
    is_int((long long)base, 13, "/zstream/from_name/xz/base_len");
    is_int(msigi_z_family_from_name("data/0000.tar.zst", &base), MSIGI_Z_ZSTD,
           "/zstream/from_name/zst");
    is_int((long long)base, 13, "/zstream/from_name/zst/base_len");
    is_int(msigi_z_family_from_name("header.tar", &base), MSIGI_Z_NONE, "/zstream/from_name/plain");
    is_int((long long)base, 10, "/zstream/from_name/plain/base_len");
    is_int(msigi_z_family_from_name("header.tar.bz2", &base), MSIGI_Z_NONE,
           "/zstream/from_name/unknown_suffix");
    is_int(msigi_z_family_from_name(".gz", &base), MSIGI_Z_NONE,
           "/zstream/from_name/suffix_only_is_no_name");
    is_int(msigi_z_family_from_name("x.gzip", &base), MSIGI_Z_NONE,
           "/zstream/from_name/not_a_suffix");
}

static void test_compression_ids(void)
{
    static const struct {
        const char *name;
        int id;
    } ids[] = {
        { "none", MSIG_COMPRESS_NONE },           { "gzip", MSIG_COMPRESS_GZIP },
        { "lzma", MSIG_COMPRESS_LZMA },           { "zstd_fastest", MSIG_COMPRESS_ZSTD_FASTEST },
        { "zstd_fast", MSIG_COMPRESS_ZSTD_FAST }, { "zstd_better", MSIG_COMPRESS_ZSTD_BETTER },
        { "zstd_best", MSIG_COMPRESS_ZSTD_BEST },
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        int c = -1;
        int rc = msig_compression_from_name(ids[i].name, &c);
        ok(rc == 0 && c == ids[i].id, "/zstream/compression_from_name/%s", ids[i].name);
        is_str(msigi_z_compression_name(ids[i].id), ids[i].name, "/zstream/compression_name/%s",
               ids[i].name);
    }
    int c = 77;
    is_int(msig_compression_from_name("zstd", &c), MSIG_E_INVALID,
           "/zstream/compression_from_name/bad/code");
    is_int(c, 77, "/zstream/compression_from_name/bad/untouched");
    is_int(msig_compression_from_name("GZIP", &c), MSIG_E_INVALID,
           "/zstream/compression_from_name/case_sensitive");
    is_int(msigi_z_compression_from_name(ctx, "zstd", &c), MSIG_E_INVALID,
           "/zstream/compression_from_name/bad/ctx_code");
    is_str(msig_ctx_last_error(ctx),
           "compressor 'zstd' is not supported: invalid compressor id: zstd",
           "/zstream/compression_from_name/bad/message");
}

static void test_roundtrips(void)
{
    static const size_t sizes[] = { 0, 1, 1 * MiB, 10 * MiB };
    uint8_t *data = malloc(10 * MiB);
    if (!data)
        bail("out of memory");
    for (int kind = 0; kind < 2; kind++) {
        const char *kname = kind ? "repetitive" : "random";
        if (kind)
            make_repetitive(data, 10 * MiB);
        else
            make_random(data, 10 * MiB, 1);
        for (size_t ci = 0; ci < N_COMPRESSIONS; ci++) {
            int c = all_compressions[ci];
            for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
                for (int threads = 1; threads <= 2; threads++) {
                    /* xz at preset 6 is slow: its threaded encoder gets the small sizes. */
                    if (c == MSIG_COMPRESS_LZMA && threads == 2 && sizes[si] > MiB)
                        continue;
                    struct buf z = { 0 }, plain = { 0 };
                    int rc = compress(c, threads, data, sizes[si], 0, &z);
                    int drc =
                        rc == 0 ? decompress(msigi_z_family(c), z.p, z.len, 0, 65536, "rt", &plain)
                                : rc;
                    ok(rc == 0 && drc == 0 && plain.len == sizes[si] &&
                           (sizes[si] == 0 || memcmp(plain.p, data, sizes[si]) == 0),
                       "/zstream/%s/roundtrip/%s/%zu/threads%d", cname(c), kname, sizes[si],
                       threads);
                    if (rc != 0 || drc != 0)
                        diag("rc %d drc %d: %s", rc, drc, msig_ctx_last_error(ctx));
                    if (c == MSIG_COMPRESS_GZIP && kind == 1 && sizes[si] == 10 * MiB)
                        ok(z.len < sizes[si] / 20, "/zstream/gzip/compresses/threads%d (%zu)",
                           threads, z.len);
                    buf_free(&z);
                    buf_free(&plain);
                }
            }
        }
    }
    free(data);
}

/* gzip output: accepted by gzip -t, the same for every thread count and write split. */
static void test_gzip_output(void)
{
    size_t len = 3 * MiB + 12345;
    uint8_t *data = malloc(len);
    if (!data)
        bail("out of memory");
    make_random(data, len / 2, 7);
    make_repetitive(data + len / 2, len - len / 2);

    struct buf a = { 0 }, b = { 0 }, t1 = { 0 }, t3 = { 0 }, small = { 0 };
    ok(compress(MSIG_COMPRESS_GZIP, 2, data, len, 0, &a) == 0, "/zstream/gzip/encode/run1");
    ok(compress(MSIG_COMPRESS_GZIP, 2, data, len, 7777, &b) == 0,
       "/zstream/gzip/encode/run2_odd_writes");
    ok(compress(MSIG_COMPRESS_GZIP, 1, data, len, 0, &t1) == 0, "/zstream/gzip/encode/t1");
    ok(compress(MSIG_COMPRESS_GZIP, 3, data, len, 100000, &t3) == 0, "/zstream/gzip/encode/t3");
    is_mem(b.p, b.len, a.p, a.len, "/zstream/gzip/reproducible/two_runs");
    is_mem(t1.p, t1.len, a.p, a.len, "/zstream/gzip/reproducible/threads1_vs_2");
    is_mem(t3.p, t3.len, a.p, a.len, "/zstream/gzip/reproducible/threads3_vs_2");
    ok(a.len >= 18 && a.p[0] == 0x1f && a.p[1] == 0x8b && a.p[2] == 8 && a.p[3] == 0 &&
           a.p[4] == 0 && a.p[5] == 0 && a.p[6] == 0 && a.p[7] == 0 && a.p[9] == 255,
       "/zstream/gzip/header/mtime0_noname_os255");

    char path[] = "/tmp/msig-zstream-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        bail("mkstemp: %s", strerror(errno));
    int wr = write(fd, a.p, a.len) == (ssize_t)a.len;
    close(fd);
    ok(wr, "/zstream/gzip/gzip_t/write_temp");
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "gzip -t < %s", path);
    is_int(system(cmd), 0, "/zstream/gzip/gzip_t/accepts_parallel_output");

    /* The real gzip decoder yields the original bytes. */
    char plainpath[] = "/tmp/msig-zstream-plain-XXXXXX";
    fd = mkstemp(plainpath);
    if (fd < 0)
        bail("mkstemp: %s", strerror(errno));
    wr = write(fd, data, len) == (ssize_t)len;
    close(fd);
    snprintf(cmd, sizeof(cmd), "gzip -dc < %s | cmp -s - %s", path, plainpath);
    ok(wr && system(cmd) == 0, "/zstream/gzip/gzip_dc/same_bytes");

    /* A small payload (one chunk) and an empty one are valid too. */
    ok(compress(MSIG_COMPRESS_GZIP, 2, (const uint8_t *)"", 0, 0, &small) == 0,
       "/zstream/gzip/encode/empty");
    fd = open(path, O_WRONLY | O_TRUNC);
    wr = fd >= 0 && write(fd, small.p, small.len) == (ssize_t)small.len;
    if (fd >= 0)
        close(fd);
    snprintf(cmd, sizeof(cmd), "test \"$(gzip -dc < %s | wc -c)\" = 0", path);
    ok(wr && system(cmd) == 0, "/zstream/gzip/gzip_t/accepts_empty");

    unlink(path);
    unlink(plainpath);
    buf_free(&a);
    buf_free(&b);
    buf_free(&t1);
    buf_free(&t3);
    buf_free(&small);
    free(data);
}

/* The parallel gzip encoder, one chunk per worker: 2 threads and 1 thread give the same bytes, on
 * data that mixes incompressible, repetitive and short-range-matching parts across chunk
 * boundaries, and the result decodes to the input (also with 1-byte reads). */
static void test_gzip_isal_threads(void)
{
    size_t len = 2 * MiB + 777777;
    uint8_t *data = malloc(len);
    if (!data)
        bail("out of memory");
    make_random(data, len, 21);
    make_repetitive(data + MiB / 3, MiB);
    for (size_t i = 2 * MiB; i + 8 < len; i += 8) /* small counters: short matches */
        snprintf((char *)data + i, 9, "%07zx", i / 8 % 4096);
    struct buf t1 = { 0 }, t2 = { 0 }, plain = { 0 };
    int rc1 = compress(MSIG_COMPRESS_GZIP, 1, data, len, 65536, &t1);
    int rc2 = compress(MSIG_COMPRESS_GZIP, 2, data, len, 0, &t2);
    ok(rc1 == 0 && rc2 == 0, "/zstream/gzip/isal/threads/encode");
    is_mem(t2.p, t2.len, t1.p, t1.len, "/zstream/gzip/isal/threads/2_vs_1_identical");
    ok(t1.len < len * 3 / 4, "/zstream/gzip/isal/threads/compresses (%zu of %zu)", t1.len, len);
    int drc = decompress(MSIGI_Z_GZIP, t2.p, t2.len, 0, 65536, "isal", &plain);
    ok(drc == 0 && plain.len == len && memcmp(plain.p, data, len) == 0,
       "/zstream/gzip/isal/threads/roundtrip");
    buf_free(&plain);
    drc = decompress(MSIGI_Z_GZIP, t2.p, t2.len, 1, 1, "isal", &plain);
    ok(drc == 0 && plain.len == len && memcmp(plain.p, data, len) == 0,
       "/zstream/gzip/isal/threads/roundtrip_one_byte_reads");
    buf_free(&plain);
    buf_free(&t1);
    buf_free(&t2);
    free(data);
}

/* Portable gzip (reproducible writes): the same bytes as without the flag (libdeflate has no
 * CPU-dependent output), identical for every thread count, and a fixed digest for a fixed
 * input (with Debian 12's libdeflate 1.14). */
static void test_gzip_portable(void)
{
    size_t len = MiB + 12345;
    uint8_t *data = malloc(len);
    if (!data)
        bail("out of memory");
    make_random(data, len, 7);
    make_repetitive(data + len / 2, len / 2);
    struct buf t1 = { 0 }, t2 = { 0 }, fast = { 0 }, plain = { 0 };
    int rc1 = compress_flags(MSIG_COMPRESS_GZIP, 1, MSIGI_ZENC_F_PORTABLE, data, len, 4096, &t1);
    int rc2 = compress_flags(MSIG_COMPRESS_GZIP, 2, MSIGI_ZENC_F_PORTABLE, data, len, 0, &t2);
    int rc3 = compress(MSIG_COMPRESS_GZIP, 2, data, len, 0, &fast);
    ok(rc1 == 0 && rc2 == 0 && rc3 == 0, "/zstream/gzip/portable/encode");
    is_mem(t2.p, t2.len, t1.p, t1.len, "/zstream/gzip/portable/2_vs_1_identical");
    is_mem(fast.p, fast.len, t1.p, t1.len, "/zstream/gzip/portable/same as the default output");
    int drc = decompress(MSIGI_Z_GZIP, t1.p, t1.len, 0, 65536, "portable", &plain);
    ok(drc == 0 && plain.len == len && memcmp(plain.p, data, len) == 0,
       "/zstream/gzip/portable/roundtrip");
    uint8_t d[32];
    char hex[65];
    unsigned int dl = 0;
    EVP_Digest(t1.p, t1.len, d, &dl, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    is_str(hex, PORTABLE_GZIP_SHA256, "/zstream/gzip/portable/known digest");
    buf_free(&plain);
    buf_free(&t1);
    buf_free(&t2);
    buf_free(&fast);
    free(data);
}

static void test_gzip_chunk_edges(void)
{
    /* Sizes around the chunk size, written in uneven pieces. */
    static const size_t sizes[] = { MSIGI_PGZ_CHUNK - 1, MSIGI_PGZ_CHUNK, MSIGI_PGZ_CHUNK + 1,
                                    2 * MSIGI_PGZ_CHUNK, 2 * MSIGI_PGZ_CHUNK + 3 };
    uint8_t *data = malloc(2 * MiB);
    if (!data)
        bail("out of memory");
    make_random(data, MiB, 3);
    make_repetitive(data + MiB, MiB);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const uint8_t *p = data + MiB / 2; /* half random, half repetitive */
        struct buf one = { 0 }, split = { 0 }, plain = { 0 };
        int rc1 = compress(MSIG_COMPRESS_GZIP, 2, p, sizes[i], 0, &one);
        int rc2 = compress(MSIG_COMPRESS_GZIP, 4, p, sizes[i], 4099, &split);
        int drc = decompress(MSIGI_Z_GZIP, split.p, split.len, 0, 65536, "edge", &plain);
        ok(rc1 == 0 && rc2 == 0 && drc == 0 && plain.len == sizes[i] &&
               memcmp(plain.p, p, sizes[i]) == 0,
           "/zstream/gzip/chunk_edge/%zu/roundtrip", sizes[i]);
        is_mem(split.p, split.len, one.p, one.len, "/zstream/gzip/chunk_edge/%zu/same_output",
               sizes[i]);
        buf_free(&one);
        buf_free(&split);
        buf_free(&plain);
    }
    free(data);
}

/* Text of random words: compresses, but takes libdeflate a while (unlike zeros or noise). */
static void make_words(uint8_t *p, size_t n, uint64_t seed)
{
    static const char *const words[] = { "mender ",   "artifact ", "rootfs ", "signature ",
                                         "manifest ", "payload ",  "header ", "device " };
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n;) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const char *w = words[(x >> 20) % 8];
        for (size_t k = 0; w[k] && i < n; k++)
            p[i++] = (uint8_t)(w[k] ^ ((x >> 40) % 3 == 0 && k == 0 ? 0x20 : 0));
    }
}

/* Whole chunks of zero bytes reuse the member of the first one; with workers still busy on
 * the text before a run of them, those chunks go out before any worker passes over them.
 * The output must stay that of compressing every chunk (one thread), and decode. */
static void test_gzip_zero_chunks(void)
{
    static const char layout[] = "ttttzzzzzzzzzzzzttzzzzzzzzzzzzzzzzzzzttttttzzzzzt";
    size_t n = strlen(layout), len = n * MSIGI_PGZ_CHUNK + 1000;
    uint8_t *data = calloc(1, len);
    if (!data)
        bail("out of memory");
    for (size_t i = 0; i < n; i++)
        if (layout[i] == 't')
            make_words(data + i * MSIGI_PGZ_CHUNK, MSIGI_PGZ_CHUNK, i + 1);
    struct buf one = { 0 }, plain = { 0 };
    int rc = compress(MSIG_COMPRESS_GZIP, 1, data, len, 0, &one);
    ok(rc == 0, "/zstream/gzip/zero_chunks/1/rc");
    for (int t = 2; t <= 8; t *= 2) {
        for (int round = 0; round < 3; round++) {
            struct buf many = { 0 };
            rc = compress(MSIG_COMPRESS_GZIP, t, data, len, round == 1 ? 65536 : 0, &many);
            if (!is_mem(many.p, many.len, one.p, one.len,
                        "/zstream/gzip/zero_chunks/%d/round%d/same_output", t, round))
                diag("rc %d, %zu bytes against %zu", rc, many.len, one.len);
            buf_free(&many);
        }
    }
    int drc = decompress(MSIGI_Z_GZIP, one.p, one.len, 0, 65536, "zeros", &plain);
    ok(drc == 0 && plain.len == len && memcmp(plain.p, data, len) == 0,
       "/zstream/gzip/zero_chunks/roundtrip");
    buf_free(&one);
    buf_free(&plain);
    free(data);
}

static void test_gzip_kat(void)
{
    struct buf plain = { 0 };
    int rc = decompress(MSIGI_Z_GZIP, kat_gz, sizeof(kat_gz), 0, 4096, "kat.gz", &plain);
    is_int(rc, 0, "/zstream/gzip/kat/rc");
    is_mem(plain.p, plain.len, kat_text, strlen(kat_text), "/zstream/gzip/kat/bytes");
    buf_free(&plain);
    rc = decompress(MSIGI_Z_GZIP, kat_gz, sizeof(kat_gz), 1, 1, "kat.gz", &plain);
    is_int(rc, 0, "/zstream/gzip/kat/one_byte_reads/rc");
    is_mem(plain.p, plain.len, kat_text, strlen(kat_text), "/zstream/gzip/kat/one_byte_reads");
    buf_free(&plain);

    /* Concatenated members: the KAT twice, and a member of ours after it. */
    struct buf cat = { 0 }, ours = { 0 }, want = { 0 };
    ok(compress(MSIG_COMPRESS_GZIP, 1, (const uint8_t *)"tail", 4, 0, &ours) == 0,
       "/zstream/gzip/concat/encode");
    buf_add(&cat, kat_gz, sizeof(kat_gz));
    buf_add(&cat, kat_gz, sizeof(kat_gz));
    buf_add(&cat, ours.p, ours.len);
    buf_add(&want, kat_text, strlen(kat_text));
    buf_add(&want, kat_text, strlen(kat_text));
    buf_add(&want, "tail", 4);
    rc = decompress(MSIGI_Z_GZIP, cat.p, cat.len, 0, 4096, "cat.gz", &plain);
    is_int(rc, 0, "/zstream/gzip/concat/rc");
    is_mem(plain.p, plain.len, want.p, want.len, "/zstream/gzip/concat/bytes");
    buf_free(&plain);
    rc = decompress(MSIGI_Z_GZIP, cat.p, cat.len, 1, 3, "cat.gz", &plain);
    is_mem(plain.p, plain.len, want.p, want.len, "/zstream/gzip/concat/one_byte_source");
    buf_free(&plain);
    buf_free(&cat);
    buf_free(&ours);
    buf_free(&want);
}

/* Reads of 4096 bytes, then of WHOLE_READ bytes, where a gzip member as msig writes it is
 * decoded whole (libdeflate): the same code and message both ways. */
#define WHOLE_READ (512u * 1024u)
static void expect_fail(int family, const uint8_t *p, size_t len, size_t src_step, const char *what,
                        int want_rc, const char *want_msg, const char *name)
{
    static const size_t rd_lens[] = { 4096, WHOLE_READ };
    for (size_t i = 0; i < 2; i++) {
        struct buf plain = { 0 };
        int rc = decompress(family, p, len, src_step, rd_lens[i], what, &plain);
        is_int(rc, want_rc, "%s/code (reads of %zu)", name, rd_lens[i]);
        like(msig_ctx_last_error(ctx), want_msg, "%s/message (reads of %zu)", name, rd_lens[i]);
        buf_free(&plain);
    }
}

/* Decoding a stream of msig's gzip members with reads of 4096 bytes (ISA-L, streaming) and
 * of WHOLE_READ bytes (whole members, libdeflate) gives the same bytes, or the same error
 * and message; the bytes before an error depend on the size of the reads (the output of the
 * call that meets it is not handed out), so one is the start of the other. */
static int whole_same(const uint8_t *p, size_t len, size_t src_step, size_t fail_at,
                      const char *name, size_t *got)
{
    struct buf a = { 0 }, b = { 0 };
    char ea[MSIGI_ERRMAX], eb[MSIGI_ERRMAX];
    struct src sa = { p, len, 0, src_step, fail_at }, sb = sa;
    int rc[2];
    struct buf *out[2] = { &a, &b };
    struct src *srcs[2] = { &sa, &sb };
    char *err[2] = { ea, eb };
    for (int i = 0; i < 2; i++) {
        size_t rd_len = i ? WHOLE_READ : 4096;
        uint8_t *rbuf = malloc(rd_len);
        struct msigi_zdec *d = NULL;
        rc[i] = msigi_zdec_new(ctx, MSIGI_Z_GZIP, src_read, srcs[i], "w.tar.gz", &d);
        msig_ssize n = 0;
        while (rc[i] == 0 && rbuf && (n = msigi_zdec_read(d, rbuf, rd_len)) > 0)
            buf_add(out[i], rbuf, (size_t)n);
        if (rc[i] == 0 && n < 0)
            rc[i] = msigi_zdec_error(d);
        snprintf(err[i], MSIGI_ERRMAX, "%s", rc[i] ? msig_ctx_last_error(ctx) : "");
        msigi_zdec_free(d);
        free(rbuf);
    }
    size_t common = a.len < b.len ? a.len : b.len;
    if (!ok(rc[0] == rc[1] && strcmp(ea, eb) == 0 && (rc[0] != 0 || a.len == b.len) &&
                (common == 0 || memcmp(a.p, b.p, common) == 0),
            "%s: whole members and streaming agree (%d, %zu bytes, '%s')", name, rc[0], a.len, ea))
        diag("streaming %d '%s' %zu bytes; whole %d '%s' %zu bytes", rc[0], ea, a.len, rc[1], eb,
             b.len);
    *got = a.len;
    buf_free(&a);
    buf_free(&b);
    return rc[0];
}

static void test_gzip_whole_members(void)
{
    size_t len = 7 * MSIGI_PGZ_CHUNK + 1234;
    uint8_t *data = malloc(len);
    if (!data)
        bail("out of memory");
    make_words(data, len, 11);
    struct buf z = { 0 }, plain = { 0 };
    if (compress(MSIG_COMPRESS_GZIP, 2, data, len, 0, &z) != 0)
        bail("compress: %s", msig_ctx_last_error(ctx));
    size_t got = 0;
    whole_same(z.p, z.len, 0, 0, "/zstream/gzip/whole/valid", &got);
    ok(got == len, "/zstream/gzip/whole/valid: all %zu bytes", got);
    int rc = decompress(MSIGI_Z_GZIP, z.p, z.len, 0, WHOLE_READ, "w.tar.gz", &plain);
    ok(rc == 0 && plain.len == len && memcmp(plain.p, data, len) == 0,
       "/zstream/gzip/whole/valid: the input again");
    buf_free(&plain);
    whole_same(z.p, z.len, 1000, 0, "/zstream/gzip/whole/valid, 1000-byte source reads", &got);
    /* A byte flipped in the fourth member, and read errors before, inside and after it. */
    size_t at = z.len * 4 / 7;
    uint8_t *bad = malloc(z.len);
    memcpy(bad, z.p, z.len);
    bad[at] ^= 0x20;
    whole_same(bad, z.len, 0, 0, "/zstream/gzip/whole/flipped", &got);
    ok(got >= 3 * MSIGI_PGZ_CHUNK && got < len,
       "/zstream/gzip/whole/flipped: the members before it handed out (%zu bytes)", got);
    whole_same(bad, z.len, 0, at + 300000, "/zstream/gzip/whole/flipped, read error after", &got);
    for (size_t i = 1; i < 8; i++) {
        char name[96];
        size_t fail = i == 1 ? 100 : z.len * (i - 1) / 6 - 7;
        snprintf(name, sizeof(name), "/zstream/gzip/whole/read_error_at_%zu", fail);
        is_int(whole_same(z.p, z.len, 0, fail, name, &got), MSIG_E_IO, "%s: MSIG_E_IO", name);
    }
    /* Cut inside a member, and after the end of one. */
    whole_same(z.p, at, 0, 0, "/zstream/gzip/whole/cut", &got);
    /* One member of 3 MiB (as other tools write gzip) before msig's: streaming decodes it. */
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    size_t cap = libdeflate_gzip_compress_bound(c, 3u << 20);
    struct buf big = { 0 };
    uint8_t *tmp = malloc(cap);
    size_t blen = libdeflate_gzip_compress(c, data, 3u << 20, tmp, cap);
    buf_add(&big, tmp, blen);
    buf_add(&big, z.p, z.len);
    whole_same(big.p, big.len, 0, 0, "/zstream/gzip/whole/large_member_first", &got);
    ok(got == (3u << 20) + len, "/zstream/gzip/whole/large_member_first: all %zu bytes", got);
    libdeflate_free_compressor(c);
    free(tmp);
    buf_free(&big);
    free(bad);
    buf_free(&z);
    free(data);
}

static void test_gzip_errors(void)
{
    uint8_t bad[sizeof(kat_gz)];
    char name[128];
    /* Flipped CRC byte in the trailer: stored 0x340878c6, computed 0x340878c7; the trailer
     * in one piece, byte by byte, and 3 bytes at a time. */
    static const size_t steps[] = { 0, 1, 3 };
    for (size_t si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
        size_t step = steps[si];
        memcpy(bad, kat_gz, sizeof(bad));
        bad[sizeof(bad) - 8] ^= 1;
        snprintf(name, sizeof(name), "/zstream/gzip/crc_flip/step%zu", step);
        expect_fail(MSIGI_Z_GZIP, bad, sizeof(bad), step, "data/0000.tar.gz", MSIG_E_FORMAT,
                    "data/0000.tar.gz: gzip CRC32 mismatch (stored 0x340878c6, computed "
                    "0x340878c7)",
                    name);
    }
    /* Flipped ISIZE. */
    memcpy(bad, kat_gz, sizeof(bad));
    bad[sizeof(bad) - 4] ^= 2;
    expect_fail(MSIGI_Z_GZIP, bad, sizeof(bad), 0, "h.tar.gz", MSIG_E_FORMAT,
                "h.tar.gz: gzip ISIZE mismatch (stored 88, decompressed 90", "/zstream/gzip/isize");
    expect_fail(MSIGI_Z_GZIP, bad, sizeof(bad), 1, "h.tar.gz", MSIG_E_FORMAT,
                "h.tar.gz: gzip ISIZE mismatch (stored 88, decompressed 90",
                "/zstream/gzip/isize/step1");

    /* Optional header fields: a file name is skipped; a wrong header CRC16 is refused. */
    struct buf h = { 0 }, plain = { 0 };
    uint8_t hdr[10];
    memcpy(hdr, kat_gz, 10);
    hdr[3] = 0x08; /* FNAME */
    buf_add(&h, hdr, 10);
    buf_add(&h, "fox.txt", 8);
    buf_add(&h, kat_gz + 10, sizeof(kat_gz) - 10);
    for (size_t step = 0; step <= 1; step++) {
        int rc = decompress(MSIGI_Z_GZIP, h.p, h.len, step, 4096, "n.gz", &plain);
        if (!ok(rc == 0 && plain.len == strlen(kat_text) &&
                    memcmp(plain.p, kat_text, plain.len) == 0,
                "/zstream/gzip/header_fname/step%zu", step))
            diag("rc %d, %zu bytes, error: %s", rc, plain.len, msig_ctx_last_error(ctx));
        buf_free(&plain);
    }
    /* Every optional field, with a right CRC16, fed whole and one byte at a time (ISA-L keeps
     * the flag byte of a header that arrives in pieces only in the caller's header). */
    h.len = 0;
    hdr[3] = 0x1e; /* FEXTRA, FNAME, FCOMMENT, FHCRC */
    buf_add(&h, hdr, 10);
    buf_add(&h, "\x06\0MS\x02\0xy", 8);
    buf_add(&h, "fox.txt", 8);
    buf_add(&h, "a comment", 10);
    uint32_t hcrc = crc32_gzip_refl(0, h.p, h.len);
    uint8_t hcrc16[2] = { (uint8_t)hcrc, (uint8_t)(hcrc >> 8) };
    buf_add(&h, hcrc16, 2);
    size_t hdr_len = h.len;
    buf_add(&h, kat_gz + 10, sizeof(kat_gz) - 10);
    for (size_t step = 0; step <= 1; step++) {
        int rc = decompress(MSIGI_Z_GZIP, h.p, h.len, step, 4096, "all.gz", &plain);
        if (!ok(rc == 0 && plain.len == strlen(kat_text) &&
                    memcmp(plain.p, kat_text, plain.len) == 0,
                "/zstream/gzip/header_all/step%zu", step))
            diag("rc %d, %zu bytes, error: %s", rc, plain.len, msig_ctx_last_error(ctx));
        buf_free(&plain);
    }
    /* Cut inside the optional fields. */
    expect_fail(MSIGI_Z_GZIP, h.p, hdr_len - 5, 1, "cut.gz", MSIG_E_FORMAT,
                "unexpected end of gzip stream in cut.gz (in the header of member 1)",
                "/zstream/gzip/header_cut");
    h.len = 0;
    hdr[3] = 0x02; /* FHCRC, with a CRC16 that is not the header's */
    buf_add(&h, hdr, 10);
    buf_add(&h, "\x12\x34", 2);
    buf_add(&h, kat_gz + 10, sizeof(kat_gz) - 10);
    expect_fail(MSIGI_Z_GZIP, h.p, h.len, 0, "hc.gz", MSIG_E_FORMAT,
                "hc.gz: corrupt gzip data: header CRC16 mismatch", "/zstream/gzip/header_crc16");
    /* A method other than deflate (8). */
    h.len = 0;
    hdr[2] = 7;
    hdr[3] = 0;
    buf_add(&h, hdr, 10);
    buf_add(&h, kat_gz + 10, sizeof(kat_gz) - 10);
    expect_fail(MSIGI_Z_GZIP, h.p, h.len, 1, "m.gz", MSIG_E_FORMAT,
                "m.gz: corrupt gzip data: unknown compression method",
                "/zstream/gzip/header_method");
    buf_free(&h);
    /* Not gzip at all. */
    expect_fail(MSIGI_Z_GZIP, (const uint8_t *)"plain text, not gzip", 20, 0, "x.gz", MSIG_E_FORMAT,
                "x.gz: not gzip data", "/zstream/gzip/not_gzip");
    /* Trailing garbage after the last member. */
    struct buf t = { 0 };
    buf_add(&t, kat_gz, sizeof(kat_gz));
    buf_add(&t, "garbage", 7);
    expect_fail(MSIGI_Z_GZIP, t.p, t.len, 0, "g.gz", MSIG_E_FORMAT,
                "g.gz: trailing data after the end of the gzip stream",
                "/zstream/gzip/trailing_garbage");
    t.len = sizeof(kat_gz);
    buf_add(&t, "\0", 1);
    expect_fail(MSIGI_Z_GZIP, t.p, t.len, 1, "g.gz", MSIG_E_FORMAT,
                "g.gz: trailing data after the end of the gzip stream",
                "/zstream/gzip/trailing_zero_byte");
    t.len = sizeof(kat_gz);
    buf_add(&t, "\x1f\x8b\x08", 3);
    expect_fail(MSIGI_Z_GZIP, t.p, t.len, 0, "g.gz", MSIG_E_FORMAT,
                "unexpected end of gzip stream in g.gz", "/zstream/gzip/trailing_partial_member");
    t.len = sizeof(kat_gz);
    buf_add(&t, "\x1fX", 2);
    expect_fail(MSIGI_Z_GZIP, t.p, t.len, 0, "g.gz", MSIG_E_FORMAT,
                "g.gz: trailing data after the end of the gzip stream",
                "/zstream/gzip/trailing_bad_magic");
    buf_free(&t);
    /* Corrupted deflate data. */
    memcpy(bad, kat_gz, sizeof(bad));
    bad[20] ^= 0x55;
    expect_fail(MSIGI_Z_GZIP, bad, sizeof(bad), 0, "c.gz", MSIG_E_FORMAT,
                "c.gz: ", "/zstream/gzip/corrupt");
    /* Empty input. */
    expect_fail(MSIGI_Z_GZIP, kat_gz, 0, 0, "e.gz", MSIG_E_FORMAT,
                "unexpected end of gzip stream in e.gz", "/zstream/gzip/empty_input");
}

/* Corruption, truncation and trailing garbage for every compressed family. */
static void test_strictness(void)
{
    size_t len = 300 * 1024;
    uint8_t *data = malloc(len);
    if (!data)
        bail("out of memory");
    make_random(data, len / 3, 11);
    make_repetitive(data + len / 3, len - len / 3);
    static const int cs[] = { MSIG_COMPRESS_GZIP, MSIG_COMPRESS_LZMA, MSIG_COMPRESS_ZSTD_FAST };
    static const char *const fam[] = { "gzip", "xz", "zstd" };
    for (size_t i = 0; i < 3; i++) {
        struct buf z = { 0 }, t = { 0 };
        int family = msigi_z_family(cs[i]);
        char name[128], msg[128];
        if (compress(cs[i], 2, data, len, 0, &z) != 0)
            bail("compress %s: %s", fam[i], msig_ctx_last_error(ctx));
        /* Truncated at several points. */
        static const size_t cuts[] = { 1, 5, 100, 2, 0 };
        for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
            size_t cut = k == 2 ? z.len / 2 : k == 3 ? z.len - 1 : k == 4 ? z.len - 4 : cuts[k];
            snprintf(name, sizeof(name), "/zstream/%s/truncated/%zu_of_%zu", fam[i], cut, z.len);
            snprintf(msg, sizeof(msg), "unexpected end of %s stream in d.tar", fam[i]);
            expect_fail(family, z.p, cut, 0, "d.tar", MSIG_E_FORMAT, msg, name);
        }
        snprintf(name, sizeof(name), "/zstream/%s/empty_input", fam[i]);
        snprintf(msg, sizeof(msg), "unexpected end of %s stream in d.tar", fam[i]);
        expect_fail(family, z.p, 0, 0, "d.tar", MSIG_E_FORMAT, msg, name);

        /* Trailing garbage, in one piece and byte by byte. */
        buf_add(&t, z.p, z.len);
        buf_add(&t, "garbage!", 8);
        for (size_t step = 0; step <= 1; step++) {
            snprintf(name, sizeof(name), "/zstream/%s/trailing_garbage/step%zu", fam[i], step);
            /* xz reads concatenated streams: garbage after one is a broken next stream. */
            snprintf(msg, sizeof(msg),
                     i == 1 ? "xz stream in d.tar"
                            : "d.tar: trailing data after the end of the %s "
                              "stream",
                     fam[i]);
            expect_fail(family, t.p, t.len, step, "d.tar", MSIG_E_FORMAT, msg, name);
        }
        /* xz stream padding (zeros in multiples of 4) and a second stream are valid xz. */
        t.len = z.len;
        buf_add(&t, "\0\0\0\0", 4);
        snprintf(name, sizeof(name), "/zstream/%s/trailing_zeros", fam[i]);
        if (i == 1) {
            struct buf plain = { 0 };
            is_int(decompress(family, t.p, t.len, 0, 4096, "d.tar", &plain), 0, "%s/padding", name);
            is_mem(plain.p, plain.len, data, len, "%s/padding/bytes", name);
            buf_free(&plain);
            buf_add(&t, z.p, z.len);
            is_int(decompress(family, t.p, t.len, 3, 4096, "d.tar", &plain), 0, "%s/two_streams",
                   name);
            is_int((long long)plain.len, (long long)(2 * len), "%s/two_streams/bytes", name);
            buf_free(&plain);
        } else {
            expect_fail(family, t.p, t.len, 0, "d.tar", MSIG_E_FORMAT, "d.tar", name);
        }

        /* Corrupted bytes in the middle: caught by the format or the integrity check. */
        for (size_t pos = z.len / 4; pos < z.len; pos += z.len / 4) {
            memcpy(t.p, z.p, z.len);
            t.len = z.len;
            t.p[pos] ^= 0x20;
            snprintf(name, sizeof(name), "/zstream/%s/corrupt_at_%zu", fam[i], pos);
            expect_fail(family, t.p, t.len, 0, "d.tar", MSIG_E_FORMAT, "d.tar", name);
        }
        /* The checksum at the very end. */
        memcpy(t.p, z.p, z.len);
        t.len = z.len;
        t.p[z.len - (i == 1 ? 13 : 1)] ^= 0x01; /* xz: inside the index/footer region */
        snprintf(name, sizeof(name), "/zstream/%s/corrupt_near_end", fam[i]);
        expect_fail(family, t.p, t.len, 0, "d.tar", MSIG_E_FORMAT, "d.tar", name);

        /* Tiny reads: the source gives one byte at a time, the caller reads one byte. */
        struct buf plain = { 0 };
        size_t small = 20000;
        struct buf zs = { 0 };
        int rc = compress(cs[i], 1, data + len / 3, small, 1, &zs);
        int drc = rc == 0 ? decompress(family, zs.p, zs.len, 1, 1, "tiny", &plain) : rc;
        ok(rc == 0 && drc == 0 && plain.len == small && memcmp(plain.p, data + len / 3, small) == 0,
           "/zstream/%s/tiny_reads", fam[i]);
        buf_free(&plain);
        buf_free(&zs);
        buf_free(&z);
        buf_free(&t);
    }
    /* Wrong family: gzip bytes into the xz and zstd decoders. */
    expect_fail(MSIGI_Z_XZ, kat_gz, sizeof(kat_gz), 0, "w.xz", MSIG_E_FORMAT, "w.xz: not xz data",
                "/zstream/xz/not_xz");
    expect_fail(MSIGI_Z_ZSTD, kat_gz, sizeof(kat_gz), 0, "w.zst", MSIG_E_FORMAT,
                "w.zst: not zstd data", "/zstream/zstd/not_zstd");
    free(data);
}

static void test_zstd_checksum(void)
{
    /* A frame whose content checksum (last 4 bytes) is wrong. */
    struct buf z = { 0 };
    uint8_t data[5000];
    make_repetitive(data, sizeof(data));
    if (compress(MSIG_COMPRESS_ZSTD_FAST, 1, data, sizeof(data), 0, &z) != 0)
        bail("zstd compress: %s", msig_ctx_last_error(ctx));
    z.p[z.len - 1] ^= 0x80;
    expect_fail(MSIGI_Z_ZSTD, z.p, z.len, 0, "c.zst", MSIG_E_FORMAT,
                "c.zst: zstd frame checksum mismatch", "/zstream/zstd/checksum_mismatch");
    buf_free(&z);
}

static void test_io_errors(void)
{
    uint8_t data[200000];
    make_random(data, sizeof(data) / 2, 5);
    make_repetitive(data + sizeof(data) / 2, sizeof(data) / 2);
    for (size_t ci = 0; ci < 4; ci++) {
        int c = all_compressions[ci == 3 ? 4 : ci];
        struct buf z = { 0 }, plain = { 0 };
        if (compress(c, 1, data, sizeof(data), 0, &z) != 0)
            bail("compress: %s", msig_ctx_last_error(ctx));
        struct src s = { z.p, z.len, 0, 0, z.len / 2 };
        struct msigi_zdec *d = NULL;
        uint8_t rbuf[4096];
        msig_ssize n = 0;
        ok(msigi_zdec_new(ctx, msigi_z_family(c), src_read, &s, "io.tar", &d) == 0,
           "/zstream/%s/source_error/new", cname(c));
        while (d && (n = msigi_zdec_read(d, rbuf, sizeof(rbuf))) > 0)
            ;
        is_int(n, -1, "/zstream/%s/source_error/read_fails", cname(c));
        is_int(msigi_zdec_error(d), MSIG_E_IO, "/zstream/%s/source_error/code", cname(c));
        like(msig_ctx_last_error(ctx), strerror(EIO), "/zstream/%s/source_error/message", cname(c));
        is_int(msigi_zdec_read(d, rbuf, sizeof(rbuf)), -1, "/zstream/%s/source_error/sticky",
               cname(c));
        msigi_zdec_free(d);

        /* Sink failure while compressing. */
        struct msigi_zenc *e = NULL;
        struct sink sk = { { 0 }, 100 };
        int rc = msigi_zenc_new(ctx, c, 2, sink_write, &sk, &e);
        for (int k = 0; rc == 0 && k < 40; k++)
            rc = msigi_zenc_write(e, data, sizeof(data));
        if (rc == 0)
            rc = msigi_zenc_finish(e);
        is_int(rc, MSIG_E_IO, "/zstream/%s/sink_error/code", cname(c));
        like(msig_ctx_last_error(ctx), strerror(ENOSPC), "/zstream/%s/sink_error/message",
             cname(c));
        is_int(msigi_zenc_write(e, data, 1), MSIG_E_IO, "/zstream/%s/sink_error/sticky", cname(c));
        msigi_zenc_free(e);
        buf_free(&sk.b);
        buf_free(&z);
        buf_free(&plain);
    }
}

static void test_alloc_failures(void)
{
    /* Every early allocation failure is reported as MSIG_E_NOMEM, without leaks or crashes. */
    for (size_t ci = 0; ci < N_COMPRESSIONS; ci++) {
        int c = all_compressions[ci];
        int saw_nomem = 0, bad = 0;
        for (long n = 1; n <= 40; n++) {
            struct msigi_zenc *e = NULL;
            struct sink sk = { { 0 }, 0 };
            msigi_alloc_fail_after(n);
            int rc = msigi_zenc_new(ctx, c, 3, sink_write, &sk, &e);
            msigi_alloc_fail_after(0);
            if (rc == MSIG_E_NOMEM && !e)
                saw_nomem = 1;
            else if (rc != 0 || !e)
                bad = 1;
            msigi_zenc_free(e);
            struct src s = { kat_gz, sizeof(kat_gz), 0, 0, 0 };
            struct msigi_zdec *d = NULL;
            msigi_alloc_fail_after(n);
            rc = msigi_zdec_new(ctx, msigi_z_family(c), src_read, &s, "a", &d);
            msigi_alloc_fail_after(0);
            if (!((rc == MSIG_E_NOMEM && !d) || (rc == 0 && d)))
                bad = 1;
            msigi_zdec_free(d);
        }
        ok(saw_nomem && !bad, "/zstream/%s/alloc_failure", cname(c));
    }
}

static void test_misuse(void)
{
    struct msigi_zenc *e = NULL;
    struct sink sk = { { 0 }, 0 };
    is_int(msigi_zenc_new(ctx, 99, 1, sink_write, &sk, &e), MSIG_E_INVALID,
           "/zstream/enc/unknown_compression");
    ok(msigi_zenc_new(ctx, MSIG_COMPRESS_GZIP, 1, sink_write, &sk, &e) == 0, "/zstream/enc/new");
    ok(msigi_zenc_finish(e) == 0, "/zstream/enc/finish");
    is_int(msigi_zenc_write(e, "x", 1), MSIG_E_INVALID, "/zstream/enc/write_after_finish");
    is_int(msigi_zenc_finish(e), MSIG_E_INVALID, "/zstream/enc/finish_twice");
    msigi_zenc_free(e);
    buf_free(&sk.b);
    struct msigi_zdec *d = NULL;
    struct src s = { kat_gz, 0, 0, 0, 0 };
    is_int(msigi_zdec_new(ctx, 7, src_read, &s, "x", &d), MSIG_E_INVALID,
           "/zstream/dec/unknown_family");
    ok(d == NULL, "/zstream/dec/unknown_family/no_object");
    msigi_zenc_free(NULL);
    msigi_zdec_free(NULL);
    ok(1, "/zstream/free_null");
}

int main(void)
{
    if (msig_ctx_new(&ctx) != 0)
        bail("msig_ctx_new failed");
    test_names();
    test_compression_ids();
    test_gzip_kat();
    test_gzip_errors();
    test_zstd_checksum();
    test_strictness();
    test_io_errors();
    test_alloc_failures();
    test_misuse();
    test_gzip_isal_threads();
    test_gzip_chunk_edges();
    test_gzip_zero_chunks();
    test_gzip_whole_members();
    test_gzip_portable();
    test_gzip_output();
    test_roundtrips();
    msig_ctx_free(ctx);
    return done_testing();
}
