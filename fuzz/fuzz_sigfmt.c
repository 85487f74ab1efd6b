/* fuzz_sigfmt.c -- signature encodings (core/sigfmt.c) and manifest.sig verification
 * (msigi_verify_manifest in core/sign.c).
 * The input is used as: DER ECDSA-Sig-Value (strict: an accepted DER must be exactly the
 * re-encoding of its r||s); 64 bytes r||s (raw -> DER -> raw is the identity); base64 text
 * (Go StdEncoding rules; an accepted text decodes to bytes that re-encode and decode to
 * the same bytes); bytes to encode (decode(encode(x)) == x); a raw signature and the text
 * of manifest.sig, verified with a P-256 and an RSA-3072 public key. */
#include <string.h>

#include "ctx.h"
#include "fuzz.h"
#include "fuzz_keys.h"
#include "sigfmt.h"
#include "signer.h"

static const uint8_t msg[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "  version\n";

static void der_side(const uint8_t *data, size_t size)
{
    uint8_t raw[MSIGI_P256_RAW_LEN], raw2[MSIGI_P256_RAW_LEN];
    uint8_t *der = NULL;
    size_t der_len = 0;

    if (msigi_sigfmt_der_to_raw(data, size, raw) != 0)
        return;
    FUZZ_CHECK(msigi_sigfmt_raw_to_der(raw, &der, &der_len) == 0);
    FUZZ_CHECK(der_len == size && memcmp(der, data, size) == 0);
    FUZZ_CHECK(msigi_sigfmt_der_to_raw(der, der_len, raw2) == 0);
    FUZZ_CHECK(memcmp(raw, raw2, sizeof(raw)) == 0);
    msigi_free(der);
}

static void raw_side(const uint8_t *data, size_t size)
{
    uint8_t raw[MSIGI_P256_RAW_LEN], back[MSIGI_P256_RAW_LEN];
    uint8_t *der = NULL;
    size_t der_len = 0;

    if (size < MSIGI_P256_RAW_LEN)
        return;
    memcpy(raw, data, sizeof(raw));
    FUZZ_CHECK(msigi_sigfmt_raw_to_der(raw, &der, &der_len) == 0);
    FUZZ_CHECK(der_len > 0 && der_len <= 72);
    FUZZ_CHECK(msigi_sigfmt_der_to_raw(der, der_len, back) == 0);
    FUZZ_CHECK(memcmp(raw, back, sizeof(raw)) == 0);
    msigi_free(der);
}

static void b64_side(const uint8_t *data, size_t size)
{
    uint8_t *bin = NULL, *bin2 = NULL;
    char *text = NULL;
    size_t bin_len = 0, bin2_len = 0, text_len = 0, bad = 0;

    int rc = msigi_sigfmt_b64_decode(data, size, &bin, &bin_len, &bad);
    if (rc == MSIG_E_FORMAT)
        FUZZ_CHECK(bin == NULL && bad <= size);
    if (rc == 0) {
        FUZZ_CHECK(bin != NULL && bin_len <= size / 4 * 3);
        FUZZ_CHECK(msigi_sigfmt_b64_encode(bin, bin_len, &text, &text_len) == 0);
        FUZZ_CHECK(text_len == (bin_len + 2) / 3 * 4 && strlen(text) == text_len);
        FUZZ_CHECK(
            msigi_sigfmt_b64_decode((const uint8_t *)text, text_len, &bin2, &bin2_len, &bad) == 0);
        FUZZ_CHECK(bin2_len == bin_len && memcmp(bin, bin2, bin_len) == 0);
    }
    msigi_free(bin);
    msigi_free(bin2);
    msigi_free(text);
    bin = bin2 = NULL;
    text = NULL;

    /* Any bytes survive encode then decode (below the 1 MiB text limit). */
    if (size > ((size_t)1 << 20) / 4 * 3 - 3)
        return;
    FUZZ_CHECK(msigi_sigfmt_b64_encode(data, size, &text, &text_len) == 0);
    FUZZ_CHECK(msigi_sigfmt_b64_decode((const uint8_t *)text, text_len, &bin, &bin_len, &bad) == 0);
    FUZZ_CHECK(bin_len == size && (size == 0 || memcmp(bin, data, size) == 0));
    msigi_free(bin);
    msigi_free(text);
}

static void verify_side(struct msig_ctx *ctx, const uint8_t *data, size_t size)
{
    struct msig_pubkeys *keys = NULL;
    char why[256];

    FUZZ_CHECK(fuzz_pubkeys_new(ctx, &keys) == 0);
    for (size_t i = 0; i < keys->count; i++) {
        why[0] = '\0';
        int rc = msigi_sigfmt_verify(keys->keys[i].pkey, msg, sizeof(msg) - 1, data, size, why,
                                     sizeof(why));
        /* Forging a signature over msg is not something a fuzzer does. */
        FUZZ_CHECK(rc == MSIG_E_SIGNATURE || rc == MSIG_E_NOMEM);
        FUZZ_CHECK(rc != MSIG_E_SIGNATURE || why[0] != '\0');
        FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
    }
    int which = 7;
    int rc = msigi_verify_manifest(ctx, keys, msg, sizeof(msg) - 1, data, size, &which);
    FUZZ_CHECK(rc == MSIG_E_SIGNATURE || rc == MSIG_E_NOMEM || rc == MSIG_E_LIMIT);
    FUZZ_CHECK(which == -1);
    FUZZ_CHECK(msig_ctx_last_error(ctx)[0] != '\0');
    msig_pubkeys_free(keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct msig_ctx *ctx = NULL;

    der_side(data, size);
    raw_side(data, size);
    b64_side(data, size);
    if (msig_ctx_new(&ctx) != 0)
        return 0;
    verify_side(ctx, data, size);
    msig_ctx_free(ctx);
    return 0;
}
