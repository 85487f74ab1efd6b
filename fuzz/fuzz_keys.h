/* fuzz_keys.h -- public verification keys for the harnesses that reach signature code.
 * These are the public halves of p256 and rsa3072 from the interop corpus
 * (shared/interop/keys), embedded so a libFuzzer run needs no files and signed corpus
 * artifacts reach the "verified" path. Public keys only; nothing secret. */
#ifndef MSIG_FUZZ_KEYS_H
#define MSIG_FUZZ_KEYS_H

#include <msig/msig.h>

static const char fuzz_p256_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAES8wPWFROzExOAO5ua9myxbc6d+EU\n"
    "tZvi/vcpR8rq12hQCohHwMNq/NfTM2URz7hQT/WL9ca47XefiJRNmuJnOQ==\n"
    "-----END PUBLIC KEY-----\n";

static const char fuzz_rsa3072_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAusMfsgPHPwbN0yDzsv0U\n"
    "F43JVKV7m7ETOJp0jFTpn6ePu0kE6vsM7Khhn69ViNAtd6HK02qzOAp3EkToJlKC\n"
    "SkPS54KhNs9arZqgiMjuavabjOROACURjVWygX85F1MmQMh616afyuWtfdPSlG+m\n"
    "hg+tBf0xRf/c153bt8vw08F61JhKuCxXTAFC5zTzpR2tUlSSz4hrkVtAGFmJTNDT\n"
    "E6xfzM8TZ4ZONG2nzGN135lkzsMw1JB2s3yKpI3eY8JDB17xAxZRYWt95KXtkXzS\n"
    "B5lEhxXSO+yBraqs2aSCpyJ8PwtcnCRptxB843PRJ2+UbR0qMkCfxRZ4S5tuHt29\n"
    "0Nbu9DgIKo3BHYeYw8sVjHS7ZkFKLG3JzH/9eaSmO9+MmML37mqKaDTrubyel+x3\n"
    "CIANwsLzkWbS2LZZoq/uDuAJyyPQMW+83WB1LKMLI7CblTeJsX452LYazFtVuxp3\n"
    "CEZJDTpRGIX7Ad7Kr9SyelfxwvY1T+l71uCED91tO9iJAgMBAAE=\n"
    "-----END PUBLIC KEY-----\n";

/* Adds both keys (P-256 first) to a new set. Returns 0 or a negative MSIG_E_* code. */
static inline int fuzz_pubkeys_new(struct msig_ctx *ctx, struct msig_pubkeys **keys)
{
    int rc = msig_pubkeys_new(ctx, keys);
    if (rc != 0)
        return rc;
    rc = msig_pubkeys_add_mem(*keys, fuzz_p256_pem, sizeof(fuzz_p256_pem) - 1, "p256");
    if (rc == 0)
        rc = msig_pubkeys_add_mem(*keys, fuzz_rsa3072_pem, sizeof(fuzz_rsa3072_pem) - 1, "rsa3072");
    if (rc != 0) {
        msig_pubkeys_free(*keys);
        *keys = NULL;
    }
    return rc;
}

#endif
