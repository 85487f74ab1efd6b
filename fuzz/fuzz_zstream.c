/* fuzz_zstream.c -- the streaming decoders of every family (core/zstream.c) and the
 * entry-name suffix classifier.
 * Input layout: byte 0 selects the mode (bits 0-1: family none/gzip/xz/zstd; bit 2: round
 * trip), byte 1 the source chunk size (0 = whatever is asked, else 1..255 bytes), the rest
 * is the stream. Decode mode feeds the rest to the decoder and reads everything (output is
 * capped, so a small bomb ends the run instead of exhausting memory). Round-trip mode
 * encodes the rest with gzip, zstd or none (xz's encoder needs ~100 MiB per instance, too
 * slow to fuzz) and checks that decoding gives it back. For gzip, both modes also decode in
 * small pieces and in pieces a whole member fits in, which must give the same result. */
#include <errno.h>
#include <string.h>

#include "ctx.h"
#include "fuzz.h"
#include "zdec.h"
#include "zenc.h"

#define OUT_CAP ((uint64_t)64 << 20) /* decoded bytes read per input at most */

struct sink {
    uint8_t *p;
    size_t len, cap;
};

static int sink_write(void *user, const void *buf, size_t len)
{
    struct sink *k = user;
    if (k->len + len > k->cap) {
        size_t cap = k->cap ? k->cap : 4096;
        while (cap < k->len + len)
            cap *= 2;
        uint8_t *np = realloc(k->p, cap);
        if (!np) {
            errno = ENOMEM;
            return -1;
        }
        k->p = np;
        k->cap = cap;
    }
    memcpy(k->p + k->len, buf, len);
    k->len += len;
    return 0;
}

/* Decodes src with family; when want is not NULL the output must equal want[0..want_len). */
static void decode(struct msig_ctx *ctx, int family, struct src *s, const uint8_t *want,
                   size_t want_len)
{
    struct msigi_zdec *d = NULL;
    uint8_t buf[4096];
    uint64_t total = 0;
    size_t chunk = s->step ? s->step * 3 + 1 : sizeof(buf);

    if (chunk > sizeof(buf))
        chunk = sizeof(buf);
    int rc = msigi_zdec_new(ctx, family, src_read, s, "fuzz.tar", &d);
    if (rc != 0) {
        FUZZ_CHECK(rc == MSIG_E_NOMEM);
        return;
    }
    for (;;) {
        msig_ssize n = msigi_zdec_read(d, buf, chunk);
        if (n < 0) {
            FUZZ_CHECK(n == -1);
            int code = msigi_zdec_error(d);
            FUZZ_CHECK(code == MSIG_E_FORMAT || code == MSIG_E_NOMEM || code == MSIG_E_LIMIT);
            FUZZ_CHECK(msig_ctx_last_error(ctx)[0] != '\0');
            FUZZ_CHECK(want == NULL);
            break;
        }
        FUZZ_CHECK((size_t)n <= chunk);
        if (n == 0) {
            FUZZ_CHECK(msigi_zdec_error(d) == 0);
            FUZZ_CHECK(want == NULL || total == want_len);
            /* The end is sticky. */
            FUZZ_CHECK(msigi_zdec_read(d, buf, chunk) == 0);
            break;
        }
        if (want) {
            FUZZ_CHECK(total + (uint64_t)n <= want_len);
            FUZZ_CHECK(memcmp(buf, want + total, (size_t)n) == 0);
        }
        total += (uint64_t)n;
        if (total >= OUT_CAP)
            break;
    }
    msigi_zdec_free(d);
}

#define SAME_CAP ((size_t)8 << 20) /* decoded bytes compared per input at most */

/* gzip read in pieces of 4096 bytes (streaming, ISA-L) and of 512 KiB (a member as msig
 * writes it decoded whole, libdeflate): the same bytes, or the same error and message. */
static void gzip_same(struct msig_ctx *ctx, const uint8_t *p, size_t len, size_t step)
{
    static const size_t rd[2] = { 4096, 512 * 1024 };
    struct sink out[2] = { { NULL, 0, 0 }, { NULL, 0, 0 } };
    int code[2];
    static char msg[2][MSIGI_ERRMAX];
    uint8_t *buf = malloc(rd[1]);
    FUZZ_CHECK(buf != NULL);
    for (int i = 0; i < 2; i++) {
        struct src s = { p, len, 0, step };
        struct msigi_zdec *d = NULL;
        code[i] = msigi_zdec_new(ctx, MSIGI_Z_GZIP, src_read, &s, "fuzz.tar", &d);
        while (code[i] == 0 && out[i].len < SAME_CAP) {
            msig_ssize n = msigi_zdec_read(d, buf, rd[i]);
            if (n < 0)
                code[i] = msigi_zdec_error(d);
            if (n <= 0)
                break;
            FUZZ_CHECK(sink_write(&out[i], buf, (size_t)n) == 0);
        }
        snprintf(msg[i], sizeof(msg[i]), "%s", code[i] ? msig_ctx_last_error(ctx) : "");
        msigi_zdec_free(d);
    }
    size_t common = out[0].len < out[1].len ? out[0].len : out[1].len;
    FUZZ_CHECK(common == 0 || memcmp(out[0].p, out[1].p, common) == 0);
    /* The bytes before an error depend on the size of the reads (the output of the call
     * that meets the error is not handed out): one is the start of the other. */
    if (out[0].len < SAME_CAP && out[1].len < SAME_CAP) {
        FUZZ_CHECK(code[0] == code[1]);
        FUZZ_CHECK(strcmp(msg[0], msg[1]) == 0);
        FUZZ_CHECK(code[0] != 0 || out[0].len == out[1].len);
    }
    free(out[0].p);
    free(out[1].p);
    free(buf);
}

static void round_trip(struct msig_ctx *ctx, int family, const uint8_t *data, size_t size,
                       size_t step)
{
    static const int compression[] = { MSIG_COMPRESS_NONE, MSIG_COMPRESS_GZIP, -1,
                                       MSIG_COMPRESS_ZSTD_FASTEST };
    struct msigi_zenc *e = NULL;
    struct sink k = { NULL, 0, 0 };

    if (compression[family] < 0)
        return;
    FUZZ_CHECK(msigi_zenc_new(ctx, compression[family], 1, sink_write, &k, &e) == 0);
    /* Written in two parts so the encoder sees more than one call. */
    size_t half = size / 2;
    FUZZ_CHECK(msigi_zenc_write(e, data, half) == 0);
    FUZZ_CHECK(msigi_zenc_write(e, data + half, size - half) == 0);
    FUZZ_CHECK(msigi_zenc_finish(e) == 0);
    msigi_zenc_free(e);
    struct src s = { k.p, k.len, 0, step };
    decode(ctx, family, &s, data, size);
    if (family == MSIGI_Z_GZIP)
        gzip_same(ctx, k.p, k.len, step);
    free(k.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct msig_ctx *ctx = NULL;
    char *name = NULL;

    if (size < 2)
        return 0;
    if (msig_ctx_new(&ctx) != 0)
        return 0;
    int family = data[0] & 3;
    int trip = (data[0] >> 2) & 1;
    size_t step = data[1];
    const uint8_t *rest = data + 2;
    size_t rest_len = size - 2;

    if (trip) {
        round_trip(ctx, family, rest, rest_len, step);
    } else {
        struct src s = { rest, rest_len, 0, step };
        decode(ctx, family, &s, NULL, 0);
        if (family == MSIGI_Z_GZIP)
            gzip_same(ctx, rest, rest_len, step);
    }

    /* The rest as an entry name: the family comes from the suffix alone. */
    name = malloc(rest_len + 1);
    FUZZ_CHECK(name != NULL);
    memcpy(name, rest, rest_len);
    name[rest_len] = '\0';
    size_t base = (size_t)-1;
    int f = msigi_z_family_from_name(name, &base);
    FUZZ_CHECK(f >= MSIGI_Z_NONE && f <= MSIGI_Z_ZSTD);
    FUZZ_CHECK(base <= strlen(name));
    FUZZ_CHECK(strcmp(name + base, msigi_z_suffix(f)) == 0);
    free(name);
    msig_ctx_free(ctx);
    return 0;
}
