/* test_reader.c -- the reader's stages: the name rules (names.c), one pipeline stage
 * (pipe.c: order, end, failure with errno, tags, stopping early), the block-by-block xz
 * decoder (zxz.c) against liblzma's own stream decoder on block-split, unsplit, concatenated,
 * padded, corrupted and cut streams, with 1 and 4 threads, and the walks of rdouter.c,
 * rdheader.c and rddata.c on artifacts assembled here byte by byte: a valid one, and one case
 * per refusal of each state, each with its code and message. Every read runs with 1 and with
 * 3 threads, and both must give the same code, message and file-handler events; the source
 * hands out bytes in small uneven pieces so that entries straddle reads. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <openssl/evp.h>

#include "ctx.h"
#include "manifest.h"
#include "names.h"
#include "pipe.h"
#include "tap.h"
#include "tarhdr.h"
#include "zxz.h"

static struct msig_ctx *ctx;

/* ------------------------------------------------------------------ names */

static void test_names(void)
{
    static const char *const good[] = { "rootfs.ext4", "a", "A-b_c.d,e", "..a", NULL };
    static const char *const bad[] = { "", ".", "..", "a b", "a/b", "x\n", "caf\xc3\xa9", NULL };
    for (const char *const *s = good; *s; s++)
        ok(msigi_name_payload_ok(*s), "/names/payload/accepts '%s'", *s);
    for (const char *const *s = bad; *s; s++)
        ok(!msigi_name_payload_ok(*s), "/names/payload/refuses '%s'", *s);
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    longname[255] = '\0';
    ok(msigi_name_payload_ok(longname), "/names/payload/255 bytes accepted");
    longname[255] = 'a';
    longname[256] = '\0';
    ok(!msigi_name_payload_ok(longname), "/names/payload/256 bytes refused");

    static const char *const scripts_ok[] = { "ArtifactInstall_Enter_01",
                                              "ArtifactReboot_Leave_99",
                                              "ArtifactCommit_Error_00_x",
                                              "ArtifactRollbackReboot_Enter_05_a.b-c",
                                              "ArtifactFailure_Leave_10_",
                                              "01_ArtifactCommit_Enter_01",
                                              NULL };
    for (const char *const *s = scripts_ok; *s; s++)
        is_int(msigi_name_script(*s, NULL, NULL), MSIGI_SCRIPT_OK, "/names/script/accepts %s", *s);
    static const char *const scripts_bad[] = { "a.txt",
                                               "ArtifactInstall_Enter_1",
                                               "ArtifactInstall_Enter_012",
                                               "ArtifactInstall_Start_01",
                                               "ArtifactInstall_Enter_01 x",
                                               "ArtifactInstall-Enter-01",
                                               NULL };
    for (const char *const *s = scripts_bad; *s; s++)
        is_int(msigi_name_script(*s, NULL, NULL), MSIGI_SCRIPT_BAD_NAME,
               "/names/script/refuses the form of '%s'", *s);
    const char *state = NULL;
    size_t len = 0;
    is_int(msigi_name_script("Download_Enter_05_x", &state, &len), MSIGI_SCRIPT_BAD_STATE,
           "/names/script/unknown state");
    ok(state && len == 8 && strncmp(state, "Download", len) == 0,
       "/names/script/unknown state: the state is named");
    /* The state is the whole run of letters before the action, as mender-artifact reads it. */
    is_int(msigi_name_script("xArtifactInstall_Enter_01", &state, &len), MSIGI_SCRIPT_BAD_STATE,
           "/names/script/leftmost: xArtifactInstall is no state");
    ok(len == 16, "/names/script/leftmost: state length %zu", len);
}

/* ------------------------------------------------------------------ pipe */

struct seq {
    int n;       /* results handed out so far */
    int fail_at; /* -1, or the result that fails with EIO */
    int count;   /* results before the end */
    int blocked; /* the consumer stopped early: the worker waited on a full queue */
};

static msig_ssize seq_fill(void *user, uint8_t *buf, size_t cap, uint64_t *tag)
{
    struct seq *s = user;
    int i = s->n++;
    *tag = 1000u + (uint64_t)i;
    if (i == s->fail_at) {
        errno = EIO;
        return -1;
    }
    if (i >= s->count)
        return 0;
    size_t n = (size_t)(i % 7) + 1;
    if (n > cap)
        n = cap;
    memset(buf, 'a' + i % 26, n);
    return (msig_ssize)n;
}

static void test_pipe(void)
{
    struct msigi_pipe *p = NULL;
    struct seq s = { 0, -1, 100, 0 };
    is_int(msigi_pipe_start(ctx, seq_fill, &s, 1, 16, &p), MSIG_E_INVALID,
           "/pipe/start/one slot refused");
    ok(p == NULL, "/pipe/start/refused: no pipe");

    is_int(msigi_pipe_start(ctx, seq_fill, &s, 3, 16, &p), 0, "/pipe/start");
    int order = 1, tags = 1;
    for (int i = 0; i < 100; i++) {
        const uint8_t *d = NULL;
        uint64_t tag = 0;
        msig_ssize n = msigi_pipe_next(p, &d, &tag);
        if (n != (i % 7) + 1 || !d || d[0] != 'a' + i % 26 || d[n - 1] != 'a' + i % 26)
            order = 0;
        if (tag != 1000u + (uint64_t)i)
            tags = 0;
    }
    ok(order, "/pipe/next: every result in order, with its bytes");
    ok(tags, "/pipe/next: every result with its tag");
    const uint8_t *d = NULL;
    is_int(msigi_pipe_next(p, &d, NULL), 0, "/pipe/next: the end");
    is_int(msigi_pipe_next(p, &d, NULL), 0, "/pipe/next: the end again");
    msigi_pipe_free(p);
    is_int(s.n, 101, "/pipe/fill: called once per result, not after the end");

    struct seq f = { 0, 5, 100, 0 };
    is_int(msigi_pipe_start(ctx, seq_fill, &f, 2, 16, &p), 0, "/pipe/fail/start");
    for (int i = 0; i < 5; i++)
        msigi_pipe_next(p, &d, NULL);
    errno = 0;
    is_int(msigi_pipe_next(p, &d, NULL), -1, "/pipe/fail: -1 in its place");
    is_int(errno, EIO, "/pipe/fail: with the fill function's errno");
    errno = 0;
    is_int(msigi_pipe_next(p, &d, NULL), -1, "/pipe/fail: -1 again");
    is_int(errno, EIO, "/pipe/fail: errno again");
    msigi_pipe_free(p);
    is_int(f.n, 6, "/pipe/fail: nothing is filled after the failure");

    /* Stopping early: the worker is waiting for a free slot and must end. */
    struct seq e = { 0, -1, 1000000, 0 };
    is_int(msigi_pipe_start(ctx, seq_fill, &e, 2, 16, &p), 0, "/pipe/stop/start");
    msigi_pipe_next(p, &d, NULL);
    msigi_pipe_free(p);
    ok(e.n < 10, "/pipe/stop: the worker ended early (%d fills, bounded by the slots)", e.n);
    msigi_pipe_free(NULL);
}

/* ------------------------------------------------------------------ zxz */

struct xzres {
    lzma_ret ret; /* LZMA_STREAM_END or the error */
    size_t out_len;
    uint64_t fnv;
    size_t jobs; /* blocks zxz decoded on workers */
};

static void fnv_add(uint64_t *h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *h ^= p[i];
        *h *= 1099511628211ull;
    }
}

/* Decodes in with liblzma's stream decoder (threads < 0) or zxz, in uneven pieces. */
static void xz_decode(const uint8_t *in, size_t len, int threads, struct xzres *res)
{
    static uint8_t out[65536];
    lzma_stream s = LZMA_STREAM_INIT;
    struct msigi_zxz *z = NULL;
    memset(res, 0, sizeof(*res));
    res->fnv = 1469598103934665603ull;
    lzma_ret r = threads < 0 ? lzma_stream_decoder(&s, 256u << 20,
                                                   LZMA_TELL_UNSUPPORTED_CHECK | LZMA_CONCATENATED)
                             : msigi_zxz_new(threads, 256u << 20, &z);
    if (r == LZMA_MEM_ERROR && threads >= 0) { /* an allocation failed on purpose */
        res->ret = r;
        return;
    }
    if (r != LZMA_OK)
        bail("xz decoder setup: %d", (int)r);
    size_t pos = 0, given = 0;
    unsigned k = 0;
    for (;;) {
        if (pos == given && given < len) {
            given += 1 + (k++ * 4099u) % 50000u;
            if (given > len)
                given = len;
        }
        int finish = given == len;
        size_t out_pos = 0;
        if (threads < 0) {
            s.next_in = in + pos;
            s.avail_in = given - pos;
            s.next_out = out;
            s.avail_out = sizeof(out);
            r = lzma_code(&s, finish ? LZMA_FINISH : LZMA_RUN);
            pos = given - s.avail_in;
            out_pos = sizeof(out) - s.avail_out;
        } else {
            r = msigi_zxz_code(z, in, &pos, given, out, &out_pos, sizeof(out), finish);
        }
        fnv_add(&res->fnv, out, out_pos);
        res->out_len += out_pos;
        if (r == LZMA_BUF_ERROR && !finish)
            continue;
        if (r != LZMA_OK) {
            res->ret = r;
            break;
        }
    }
    lzma_end(&s);
    res->jobs = z ? msigi_zxz_jobs(z) : 0;
    msigi_zxz_free(z);
}

/* xz data of len bytes of src: block-split (threaded encoder, sizes in the block headers) or
 * one block without sizes. */
static uint8_t *xz_encode(const uint8_t *src, size_t len, int split, size_t *out_len)
{
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_mt mt = { 0 };
    mt.threads = 2;
    mt.block_size = 65536;
    mt.preset = 1;
    mt.check = LZMA_CHECK_CRC64;
    lzma_ret r =
        split ? lzma_stream_encoder_mt(&s, &mt) : lzma_easy_encoder(&s, 1, LZMA_CHECK_CRC32);
    if (r != LZMA_OK)
        bail("xz encoder setup");
    size_t cap = len + len / 2 + 65536;
    uint8_t *out = malloc(cap);
    s.next_in = src;
    s.avail_in = len;
    s.next_out = out;
    s.avail_out = cap;
    while ((r = lzma_code(&s, LZMA_FINISH)) == LZMA_OK)
        ;
    if (r != LZMA_STREAM_END || !out)
        bail("xz encoding");
    *out_len = cap - s.avail_out;
    lzma_end(&s);
    return out;
}

static int xz_same(const struct xzres *a, const struct xzres *b)
{
    return a->ret == b->ret && a->out_len == b->out_len && a->fnv == b->fnv;
}

/* zxz with 1 and 4 threads against liblzma on in; mismatch counts go up on a difference. */
static void xz_compare(const uint8_t *in, size_t len, const char *name, int *bad, int *errors)
{
    struct xzres ref, one, four;
    xz_decode(in, len, -1, &ref);
    xz_decode(in, len, 1, &one);
    xz_decode(in, len, 4, &four);
    if (ref.ret != LZMA_STREAM_END)
        ++*errors;
    if (!xz_same(&ref, &one) || !xz_same(&ref, &four)) {
        if (++*bad <= 5)
            diag("%s: liblzma %d/%zu, zxz(1) %d/%zu, zxz(4) %d/%zu", name, (int)ref.ret,
                 ref.out_len, (int)one.ret, one.out_len, (int)four.ret, four.out_len);
    }
}

/* Allocation n failing, for n = 1.. until a decode never reaches it (ctx.h's hook), in a
 * decode of the block-split stream in with 4 threads: the walk, the jobs' mapped buffers and
 * their block decoders' dictionaries (the lzma allocator). Each run gives either all of ref's
 * bytes or LZMA_MEM_ERROR; a block whose job could not be made is decoded in place, with the
 * same bytes. ASan builds check that nothing leaks. */
static void test_zxz_allocfail(const uint8_t *in, size_t len, const struct xzres *ref,
                               size_t blocks)
{
    long n, mem_errors = 0, in_place = 0, wrong = 0;
    for (n = 1; n < 5000; n++) {
        struct xzres r;
        msigi_alloc_fail_after(n);
        xz_decode(in, len, 4, &r);
        long left = msigi_alloc_fail_left();
        msigi_alloc_fail_after(0);
        if (left > 0) { /* the n-th allocation never happened: done */
            wrong += !xz_same(&r, ref);
            break;
        }
        if (r.ret == LZMA_MEM_ERROR)
            mem_errors++;
        else if (xz_same(&r, ref) && r.jobs < blocks)
            in_place++;
        else if (++wrong <= 5)
            diag("allocation %ld failing: %d after %zu bytes, %zu jobs", n, (int)r.ret, r.out_len,
                 r.jobs);
    }
    ok(n < 5000 && wrong == 0,
       "/zxz/allocfail: %ld runs, each one allocation failing: all the bytes or an "
       "out-of-memory error (%ld of them; %ld wrong)",
       n, mem_errors, wrong);
    ok((size_t)in_place >= 3 * blocks,
       "/zxz/allocfail: %ld runs where a job could not be made (its input, output or "
       "dictionary) and its block was decoded in place, all the bytes (%zu blocks)",
       in_place, blocks);
}

static void test_zxz(void)
{
    size_t n = 1100000;
    uint8_t *src = malloc(n);
    for (size_t i = 0; i < n; i++) /* half random-looking, half repetitive */
        src[i] = i % 200000 < 100000 ? (uint8_t)((i * 2654435761u) >> 11) : (uint8_t)(i % 61);
    size_t ls = 0, lo = 0;
    uint8_t *split = xz_encode(src, n, 1, &ls);
    uint8_t *one = xz_encode(src, n / 3, 0, &lo);
    /* split stream, four zero bytes of padding, then the unsplit stream */
    size_t lc = ls + 4 + lo;
    uint8_t *cat = calloc(1, lc);
    memcpy(cat, split, ls);
    memcpy(cat + ls + 4, one, lo);
    struct xzres ref, z4;
    xz_decode(cat, lc, -1, &ref);
    xz_decode(cat, lc, 4, &z4);
    is_int(ref.ret, LZMA_STREAM_END, "/zxz/valid: liblzma reads the concatenation");
    ok(xz_same(&ref, &z4), "/zxz/valid: zxz with 4 threads gives the same %zu bytes", z4.out_len);
    is_int((long long)z4.out_len, (long long)(n + n / 3), "/zxz/valid: all of it");
    ok(z4.jobs == (n + 65535) / 65536,
       "/zxz/valid: each block of the split stream on a worker "
       "(%zu)",
       z4.jobs);
    struct xzres z1;
    xz_decode(cat, lc, 1, &z1);
    ok(xz_same(&ref, &z1) && z1.jobs == 0, "/zxz/valid: with 1 thread, all in place");
    struct xzres sref;
    xz_decode(split, ls, -1, &sref);
    test_zxz_allocfail(split, ls, &sref, (n + 65535) / 65536);

    int bad = 0, errors = 0, cases = 0;
    uint8_t *m = malloc(lc + 8);
    for (size_t k = 0; k < 160; k++) { /* one byte flipped */
        size_t at = (k * 7919u * 13u + k) % lc;
        memcpy(m, cat, lc);
        m[at] ^= (uint8_t)(1u << (k % 8));
        char name[64];
        snprintf(name, sizeof(name), "flip at %zu", at);
        xz_compare(m, lc, name, &bad, &errors);
        cases++;
    }
    for (size_t k = 1; k < 60; k++) { /* cut short */
        char name[64];
        snprintf(name, sizeof(name), "cut at %zu", lc * k / 60);
        xz_compare(cat, lc * k / 60, name, &bad, &errors);
        cases++;
    }
    static const size_t pads[] = { 1, 2, 3, 5, 8 }; /* padding of each length at the end */
    for (size_t k = 0; k < sizeof(pads) / sizeof(pads[0]); k++) {
        memcpy(m, split, ls);
        memset(m + ls, 0, pads[k]);
        xz_compare(m, ls + pads[k], "padding", &bad, &errors);
        cases++;
    }
    memcpy(m, split, ls);
    memcpy(m + ls, "junk", 4);
    xz_compare(m, ls + 4, "trailing junk", &bad, &errors);
    cases++;
    is_int(bad, 0,
           "/zxz/hostile: %d corrupt, cut and padded streams (%d refused) as liblzma reads "
           "them, with 1 and 4 threads",
           cases, errors);
    ok(errors > cases / 2, "/zxz/hostile: most of them are refused (%d)", errors);
    free(m);
    free(cat);
    free(one);
    free(split);
    free(src);
}

/* ------------------------------------------------------------------ artifacts in memory */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 1024;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            bail("out of memory");
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void tar_add(struct buf *b, const char *name, const void *data, size_t n)
{
    uint8_t hdr[MSIGI_TAR_HDR_MAX];
    size_t hl = 0;
    static const uint8_t zero[512];
    if (msigi_tar_header(ctx, name, n, 0644, 0, hdr, &hl) != 0)
        bail("tar header for %s: %s", name, msig_ctx_last_error(ctx));
    put(b, hdr, hl);
    put(b, data, n);
    put(b, zero, msigi_tar_pad(n));
}

static void tar_add_str(struct buf *b, const char *name, const char *s)
{
    tar_add(b, name, s, strlen(s));
}

static void tar_end(struct buf *b)
{
    static const uint8_t zero[1024];
    put(b, zero, sizeof(zero));
}

static void sha_hex(const void *d, size_t n, char out[65])
{
    uint8_t md[32];
    unsigned int ml = 0;
    EVP_Digest(d, n, md, &ml, EVP_sha256(), NULL);
    msigi_hex(md, 32, out);
}

#define VERSION "{\"format\":\"mender\",\"version\":3}"
#define HEADER_INFO                                                                         \
    "{\"payloads\":[{\"type\":\"rootfs-image\"}],\"artifact_provides\":{\"artifact_name\":" \
    "\"rel-1\"},\"artifact_depends\":{\"device_type\":[\"dev\"]}}"
#define TYPE_INFO "{\"type\":\"rootfs-image\"}"

/* A header tar entry: name and content; a NULL name ends the list. */
struct ent {
    const char *name;
    const char *data;
};

static const struct ent GOOD_HEADER[] = { { "header-info", HEADER_INFO },
                                          { "scripts/ArtifactInstall_Enter_01", "#!/bin/sh\n" },
                                          { "headers/0000/type-info", TYPE_INFO },
                                          { "headers/0000/meta-data", "" },
                                          { NULL, NULL } };

/* What an artifact is made of; NULL or 0 fields take the good defaults. */
struct spec {
    const struct ent *header;   /* header.tar entries */
    const struct ent *data;     /* data/0000.tar entries (default: rootfs.img = payload) */
    const char *outer_order;    /* e.g. "vmhd": version, manifest, header.tar, data */
    const char *bad_header_sum; /* listed instead of the header's real checksum */
    const char *manifest_extra; /* lines appended to the manifest */
};

static uint8_t payload[300000];

static void build(const struct spec *sp, struct buf *out)
{
    struct buf hdr = { 0 }, data = { 0 }, man = { 0 };
    for (const struct ent *e = sp->header ? sp->header : GOOD_HEADER; e->name; e++)
        tar_add_str(&hdr, e->name, e->data);
    tar_end(&hdr);
    if (sp->data) {
        for (const struct ent *e = sp->data; e->name; e++)
            tar_add_str(&data, e->name, e->data);
    } else {
        tar_add(&data, "rootfs.img", payload, sizeof(payload));
    }
    tar_end(&data);
    char sum[65], line[400];
    sha_hex(payload, sizeof(payload), sum);
    snprintf(line, sizeof(line), "%s  data/0000/rootfs.img\n", sum);
    put(&man, line, strlen(line));
    sha_hex(hdr.p, hdr.len, sum);
    snprintf(line, sizeof(line), "%s  header.tar\n", sp->bad_header_sum ? sp->bad_header_sum : sum);
    put(&man, line, strlen(line));
    sha_hex(VERSION, strlen(VERSION), sum);
    snprintf(line, sizeof(line), "%s  version\n", sum);
    put(&man, line, strlen(line));
    if (sp->manifest_extra)
        put(&man, sp->manifest_extra, strlen(sp->manifest_extra));
    for (const char *o = sp->outer_order ? sp->outer_order : "vmhd"; *o; o++) {
        if (*o == 'v')
            tar_add_str(out, "version", VERSION);
        else if (*o == 'm')
            tar_add(out, "manifest", man.p, man.len);
        else if (*o == 'h')
            tar_add(out, "header.tar", hdr.p, hdr.len);
        else if (*o == 'd')
            tar_add(out, "data/0000.tar", data.p, data.len);
    }
    tar_end(out);
    free(hdr.p);
    free(data.p);
    free(man.p);
}

/* ------------------------------------------------------------------ reading */

struct src {
    const uint8_t *p;
    size_t len, pos;
    size_t fail_at; /* (size_t)-1, or the offset at which reading fails with EIO */
    unsigned k;
};

static msig_ssize src_read(void *user, void *buf, size_t len)
{
    struct src *s = user;
    if (s->pos >= s->fail_at) {
        errno = EIO;
        return -1;
    }
    size_t n = 1 + (s->k++ * 7919u) % 70000u; /* uneven pieces */
    if (n > len)
        n = len;
    if (n > s->len - s->pos)
        n = s->len - s->pos;
    if (s->fail_at != (size_t)-1 && n > s->fail_at - s->pos)
        n = s->fail_at - s->pos;
    memcpy(buf, s->p + s->pos, n);
    s->pos += n;
    return (msig_ssize)n;
}

struct result {
    int rc;
    char msg[MSIGI_ERRMAX];
    char events[4096];
    uint64_t bytes;
    int wrong_thread;
    int abort_at_data; /* the handler fails on the first data chunk */
};

struct hctx {
    struct result *res;
    pthread_t caller;
};

static int on_file(void *user, const struct msig_file_event *ev, const void *data, size_t len,
                   int last)
{
    struct hctx *h = user;
    struct result *r = h->res;
    size_t l = strlen(r->events);
    if (!pthread_equal(pthread_self(), h->caller))
        r->wrong_thread = 1;
    if (!data && !last) {
        snprintf(r->events + l, sizeof(r->events) - l, "begin:%u:%s:%llu ", ev->kind, ev->name,
                 (unsigned long long)ev->size);
        r->bytes = 0;
    } else if (last)
        snprintf(r->events + l, sizeof(r->events) - l, "end:%s:%llu ", ev->name,
                 (unsigned long long)r->bytes);
    if (data && r->abort_at_data)
        return MSIG_E_FAILED;
    if (data && ev->kind == MSIG_FILE_PAYLOAD && r->bytes + len <= sizeof(payload) &&
        memcmp(data, payload + r->bytes, len) != 0)
        snprintf(r->events + l, sizeof(r->events) - l, "WRONG-BYTES ");
    if (data)
        r->bytes += len;
    return 0;
}

static void on_progress(void *user, uint64_t done, uint64_t total)
{
    struct hctx *h = user;
    (void)done;
    (void)total;
    if (!pthread_equal(pthread_self(), h->caller))
        h->res->wrong_thread = 1;
}

static void read_with(const struct buf *b, int threads, size_t fail_at, int abort_at_data,
                      struct result *res)
{
    struct msig_reader *r = NULL;
    struct msig_artifact *art = NULL;
    memset(res, 0, sizeof(*res));
    res->abort_at_data = abort_at_data;
    struct hctx h = { res, pthread_self() };
    struct src s = { b->p, b->len, 0, fail_at, 0 };
    if (msig_ctx_set_threads(ctx, threads) != 0 || msig_reader_new(ctx, &r) != 0)
        bail("reader setup");
    msig_reader_set_file_handler(r, on_file, &h);
    msig_ctx_set_progress(ctx, on_progress, &h);
    res->rc = msig_reader_read_cb(r, src_read, &s, "t.mender", &art);
    snprintf(res->msg, sizeof(res->msg), "%s", msig_ctx_last_error(ctx));
    msig_ctx_set_progress(ctx, NULL, NULL);
    msig_artifact_free(art);
    msig_reader_free(r);
}

/* Reads b with 1 and 3 threads; both must agree. Returns the 1-thread result. */
static void read_both(const struct buf *b, size_t fail_at, int abort_at_data, const char *name,
                      struct result *one)
{
    struct result three;
    read_with(b, 1, fail_at, abort_at_data, one);
    read_with(b, 3, fail_at, abort_at_data, &three);
    int same = one->rc == three.rc && strcmp(one->msg, three.msg) == 0 &&
               strcmp(one->events, three.events) == 0;
    ok(same, "%s: 1 and 3 threads give the same result", name);
    if (!same)
        diag("1: %d %s [%s]\n# 3: %d %s [%s]", one->rc, one->msg, one->events, three.rc, three.msg,
             three.events);
    ok(!one->wrong_thread && !three.wrong_thread, "%s: callbacks on the calling thread", name);
}

static void refused(const struct spec *sp, int code, const char *want, const char *name)
{
    struct buf b = { 0 };
    struct result res;
    build(sp, &b);
    read_both(&b, (size_t)-1, 0, name, &res);
    is_int(res.rc, code, "%s: refused with %d", name, code);
    like(res.msg, want, "%s: message", name);
    free(b.p);
}

static void test_valid(void)
{
    struct buf b = { 0 };
    struct spec sp = { 0 };
    struct result res;
    build(&sp, &b);
    read_both(&b, (size_t)-1, 0, "/rd/valid", &res);
    is_int(res.rc, 0, "/rd/valid: accepted");
    is_str(res.events,
           "begin:2:ArtifactInstall_Enter_01:10 end:ArtifactInstall_Enter_01:10 "
           "begin:1:rootfs.img:300000 end:rootfs.img:300000 ",
           "/rd/valid: the script, then the payload, with all their bytes");

    read_both(&b, (size_t)-1, 1, "/rd/handler-abort", &res);
    is_int(res.rc, MSIG_E_FAILED, "/rd/handler-abort: the handler's code");
    like(res.msg, "the file handler failed on script ArtifactInstall_Enter_01",
         "/rd/handler-abort: message");

    /* Cut short and failing sources, at places in every entry. */
    for (size_t k = 1; k < 12; k++) {
        size_t at = b.len * k / 12;
        char name[64];
        struct buf cut = { b.p, at, at };
        snprintf(name, sizeof(name), "/rd/cut/%zu", at);
        read_both(&cut, (size_t)-1, 0, name, &res);
        ok(res.rc == MSIG_E_FORMAT, "%s: refused as malformed (%s)", name, res.msg);
        snprintf(name, sizeof(name), "/rd/read-error/%zu", at);
        read_both(&b, at, 0, name, &res);
        is_int(res.rc, MSIG_E_IO, "%s: MSIG_E_IO", name);
        like(res.msg, "Input/output error", "%s: says why", name);
    }
    /* A broken inner tar header, and a read error after the first decoder read: the header's
     * error comes first, also when the decode stage has run into the read error ahead (a
     * regression here shows as a difference between 1 and 3 threads, when the worker is
     * ahead in time). */
    size_t at = 0;
    for (size_t off = 0; off + 512 <= b.len; off += 512)
        if (memcmp(b.p + off, "rootfs.img\0", 11) == 0)
            at = off;
    ok(at > 0, "/rd/run-ahead: the payload's tar header at %zu", at);
    struct buf bad = { malloc(b.len), b.len, b.len };
    memcpy(bad.p, b.p, b.len);
    bad.p[at + 148] ^= 0x01; /* its checksum */
    read_both(&bad, at + 280000, 0, "/rd/run-ahead", &res);
    is_int(res.rc, MSIG_E_FORMAT, "/rd/run-ahead: the tar error, not the read error");
    like(res.msg, "checksum", "/rd/run-ahead: message");
    free(bad.p);
    /* A flipped payload byte: the payload checksum. */
    b.p[b.len / 2] ^= 0x5a;
    read_both(&b, (size_t)-1, 0, "/rd/data/flipped", &res);
    is_int(res.rc, MSIG_E_CHECKSUM, "/rd/data/flipped: MSIG_E_CHECKSUM");
    like(res.msg, "Payload: can not install Payload: rootfs.img: invalid checksum",
         "/rd/data/flipped: message");
    free(b.p);
}

static void test_outer(void)
{
    struct spec sp = { 0 };
    sp.outer_order = "mvhd";
    refused(&sp, MSIG_E_FORMAT, "the first entry must be 'version', not 'manifest'",
            "/rd/outer/version-first");
    sp.outer_order = "vhmd";
    refused(&sp, MSIG_E_FORMAT,
            "invalid structure: entry 'header.tar' where 'manifest' was expected",
            "/rd/outer/manifest-second");
    sp.outer_order = "vmdh";
    refused(&sp, MSIG_E_FORMAT,
            "entry 'data/0000.tar' where manifest.sig, manifest-augment or header.tar was "
            "expected",
            "/rd/outer/data-before-header");
    sp.outer_order = "vmhdd";
    refused(&sp, MSIG_E_FORMAT, "data entry 'data/0000.tar' is stored twice",
            "/rd/outer/data-twice");
    sp.outer_order = "vmh";
    refused(&sp, MSIG_E_FORMAT, "payload 0000 declared in header-info has no data/0000.tar entry",
            "/rd/outer/no-data");
    sp.outer_order = "vm";
    refused(&sp, MSIG_E_FORMAT, "the artifact ends early (entries: [version manifest])",
            "/rd/outer/no-header");
    sp.outer_order = NULL;
    sp.manifest_extra = "0000000000000000000000000000000000000000000000000000000000000000"
                        "  data/0000/other.img\n";
    refused(&sp, MSIG_E_FORMAT,
            "files listed in the manifest but not in the artifact: "
            "data/0000/other.img",
            "/rd/outer/manifest-unused");
}

static void test_header(void)
{
    struct spec sp = { 0 };
    static const struct ent not_first[] = { { "headers/0000/type-info", TYPE_INFO },
                                            { "header-info", HEADER_INFO },
                                            { NULL, NULL } };
    sp.header = not_first;
    refused(&sp, MSIG_E_FORMAT,
            "header.tar: the first entry must be header-info, not "
            "'headers/0000/type-info'",
            "/rd/header/info-first");
    static const struct ent late_script[] = { { "header-info", HEADER_INFO },
                                              { "headers/0000/type-info", TYPE_INFO },
                                              { "scripts/ArtifactInstall_Enter_01", "x" },
                                              { NULL, NULL } };
    sp.header = late_script;
    refused(&sp, MSIG_E_FORMAT,
            "header.tar/scripts/ArtifactInstall_Enter_01: scripts must follow header-info "
            "directly",
            "/rd/header/script-late");
    static const struct ent bad_script[] = { { "header-info", HEADER_INFO },
                                             { "scripts/a.txt", "x" },
                                             { "headers/0000/type-info", TYPE_INFO },
                                             { NULL, NULL } };
    sp.header = bad_script;
    refused(&sp, MSIG_E_FORMAT, "header.tar: invalid script name \"a.txt\"",
            "/rd/header/script-name");
    static const struct ent twice_script[] = { { "header-info", HEADER_INFO },
                                               { "scripts/ArtifactCommit_Leave_02", "x" },
                                               { "scripts/ArtifactCommit_Leave_02", "x" },
                                               { "headers/0000/type-info", TYPE_INFO },
                                               { NULL, NULL } };
    sp.header = twice_script;
    refused(&sp, MSIG_E_FORMAT, "header.tar: script ArtifactCommit_Leave_02 is stored twice",
            "/rd/header/script-twice");
    static const struct ent no_type[] = { { "header-info", HEADER_INFO },
                                          { "headers/0000/meta-data", "" },
                                          { NULL, NULL } };
    sp.header = no_type;
    refused(&sp, MSIG_E_FORMAT, "header.tar has no headers/0000/type-info",
            "/rd/header/no-type-info");
    static const struct ent twice_type[] = { { "header-info", HEADER_INFO },
                                             { "headers/0000/type-info", TYPE_INFO },
                                             { "headers/0000/type-info", TYPE_INFO },
                                             { NULL, NULL } };
    sp.header = twice_type;
    refused(&sp, MSIG_E_FORMAT, "header.tar: 'headers/0000/type-info' is stored twice",
            "/rd/header/type-info-twice");
    static const struct ent unknown[] = { { "header-info", HEADER_INFO },
                                          { "headers/0000/type-info", TYPE_INFO },
                                          { "headers/0000/other", "{}" },
                                          { NULL, NULL } };
    sp.header = unknown;
    refused(&sp, MSIG_E_FORMAT,
            "header.tar: unsupported file 'headers/0000/other' for a rootfs-image payload",
            "/rd/header/unsupported");
    static const struct ent index[] = { { "header-info", HEADER_INFO },
                                        { "headers/0001/type-info", TYPE_INFO },
                                        { NULL, NULL } };
    sp.header = index;
    refused(&sp, MSIG_E_FORMAT,
            "'headers/0001/type-info' belongs to payload 0001, but header-info declares 1 "
            "payload(s)",
            "/rd/header/index");
    static const struct ent odd[] = { { "header-info", HEADER_INFO },
                                      { "other", "x" },
                                      { NULL, NULL } };
    sp.header = odd;
    refused(&sp, MSIG_E_FORMAT, "header.tar: unsupported file 'other' (want headers/NNNN/<file>)",
            "/rd/header/not-headers");
    static const struct ent wrong_type[] = { { "header-info", HEADER_INFO },
                                             { "headers/0000/type-info", "{\"type\":\"other\"}" },
                                             { NULL, NULL } };
    sp.header = wrong_type;
    refused(&sp, MSIG_E_FORMAT,
            "type \"other\" does not match the type \"rootfs-image\" in header-info",
            "/rd/header/type-mismatch");
    static const struct ent deep[] = {
        { "header-info", HEADER_INFO },
        { "headers/0000/type-info", TYPE_INFO },
        { "headers/0000/meta-data",
          "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]"
          "]]]]]]]]]]]]]]]]]]]]]]]]]}" },
        { NULL, NULL }
    };
    sp.header = deep;
    refused(&sp, MSIG_E_LIMIT, "is nested deeper than 32 levels", "/rd/header/json-depth");
    static const struct ent bad_json[] = { { "header-info", "{\"payloads\":" }, { NULL, NULL } };
    sp.header = bad_json;
    refused(&sp, MSIG_E_FORMAT, "header.tar/header-info is not valid JSON", "/rd/header/bad-json");
    static const struct ent control[] = {
        { "header-info", "{\"payloads\":[{\"type\":\"rootfs-image\"}],\"artifact_provides\":"
                         "{\"artifact_name\":\"rel\\u0007\"},\"artifact_depends\":"
                         "{\"device_type\":[\"dev\"]}}" },
        { NULL, NULL }
    };
    sp.header = control;
    refused(&sp, MSIG_E_FORMAT, "artifact_name contains a control character (U+0007 at byte 3)",
            "/rd/header/control-character");
    sp.header = NULL;
    sp.bad_header_sum = "0000000000000000000000000000000000000000000000000000000000000000";
    refused(&sp, MSIG_E_CHECKSUM, "header.tar: invalid checksum; expected: [0000",
            "/rd/header/checksum");
}

static void test_data(void)
{
    struct spec sp = { 0 };
    static const struct ent unlisted[] = { { "other.img", "x" }, { NULL, NULL } };
    sp.data = unlisted;
    refused(&sp, MSIG_E_FORMAT, "payload file 'other.img' is not listed in the manifest",
            "/rd/data/unlisted");
    static const struct ent badname[] = { { "a b", "x" }, { NULL, NULL } };
    sp.data = badname;
    refused(&sp, MSIG_E_FORMAT, "payload file name 'a b' is not allowed", "/rd/data/name");
    static const struct ent wrong[] = { { "rootfs.img", "not the payload" }, { NULL, NULL } };
    sp.data = wrong;
    refused(&sp, MSIG_E_CHECKSUM, "rootfs.img: invalid checksum", "/rd/data/checksum");
    static const struct ent none[] = { { NULL, NULL } };
    sp.data = none;
    refused(&sp, MSIG_E_FORMAT,
            "files listed in the manifest but not in the artifact: "
            "data/0000/rootfs.img",
            "/rd/data/empty");
}

int main(void)
{
    if (msig_ctx_new(&ctx) != 0)
        bail("no context");
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 2654435761u >> 13);
    test_names();
    test_pipe();
    test_zxz();
    test_valid();
    test_outer();
    test_header();
    test_data();
    msig_ctx_free(ctx);
    return done_testing();
}
