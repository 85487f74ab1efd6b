/* sigfmt.h -- signature encodings (private): ECDSA DER <-> r||s, the base64 layer of
 * manifest.sig, one-key verification, and the verification key set (struct msig_pubkeys). */
#ifndef MSIG_SIGFMT_H
#define MSIG_SIGFMT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <msig/msig.h>

#define MSIGI_P256_RAW_LEN 64 /* r||s, 32 bytes each */
#define MSIGI_PUBKEYS_MAX 64  /* keys in one struct msig_pubkeys */

struct msigi_pubkey {
    EVP_PKEY *pkey;
    char *label; /* file basename or caller label, for messages */
};

struct msig_pubkeys {
    struct msig_ctx *ctx;
    struct msigi_pubkey *keys;
    size_t count;
};

/* DER ECDSA-Sig-Value -> 64-byte r||s (zero-padded). The DER must be complete (every byte
 * consumed) and r, s must fit 32 bytes. Returns 0 or MSIG_E_FORMAT. */
int msigi_sigfmt_der_to_raw(const uint8_t *der, size_t der_len,
                            uint8_t raw[static MSIGI_P256_RAW_LEN]);
/* 64-byte r||s -> DER (allocated with msigi_malloc). Returns 0, MSIG_E_FORMAT, MSIG_E_NOMEM. */
int msigi_sigfmt_raw_to_der(const uint8_t raw[static MSIGI_P256_RAW_LEN], uint8_t **der,
                            size_t *der_len);

/* Standard base64 with padding, one line, no newline; *out is NUL-terminated
 * (msigi_malloc). Returns 0 or MSIG_E_NOMEM. */
int msigi_sigfmt_b64_encode(const uint8_t *in, size_t in_len, char **out, size_t *out_len);
/* Decodes like Go's base64.StdEncoding: '\r' and '\n' anywhere are skipped, padding is
 * required, anything else is an error. On MSIG_E_FORMAT, *bad_offset is the input byte
 * offset Go would report. *out is allocated with msigi_malloc (possibly 0 bytes). */
int msigi_sigfmt_b64_decode(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                            size_t *bad_offset);

/* "RSA 3072", "EC P-256", "EC secp384r1", "ED25519" ... into buf. */
void msigi_sigfmt_describe(EVP_PKEY *pkey, char *buf, size_t cap);
/* Is pkey an EC key on P-256? */
int msigi_sigfmt_is_p256(EVP_PKEY *pkey);

/* Verifies sig over msg (SHA-256) with pkey in the Mender encodings: RSA PKCS#1 v1.5 with
 * len == modulus bytes; EC P-256 with 64-byte r||s or strict DER. Returns 0, or
 * MSIG_E_SIGNATURE with the reason in why ("verification error", "signature is 383 bytes,
 * RSA-3072 needs 384", ...), or MSIG_E_NOMEM. */
int msigi_sigfmt_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                        size_t sig_len, char *why, size_t why_cap);

/* The same over a SHA-256 digest computed beforehand. */
int msigi_sigfmt_verify_digest(EVP_PKEY *pkey, const uint8_t digest[static 32], const uint8_t *sig,
                               size_t sig_len, char *why, size_t why_cap);

#endif
