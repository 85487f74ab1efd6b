/* signer.h -- what the artifact code needs from the signing engine (private).
 * Implemented in sign.c / sigfmt.c / pubkeys.c on top of the plugin loader. */
#ifndef MSIG_SIGNER_H
#define MSIG_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

/* Signs a manifest: SHA-256 over msg, the key's plugin signs, the result is converted to
 * the Mender encoding (RSA: exactly modulus-length bytes; ECDSA P-256: 64 bytes r||s from
 * DER or raw), verified against the key's public key, and base64-encoded (standard alphabet,
 * padding, one line, no newline). *b64 is allocated with msigi_malloc; the caller frees it.
 * A signature that does not verify is an error and nothing is returned. */
int msigi_sign_manifest(struct msig_ctx *ctx, struct msig_key *key, const uint8_t *msg,
                        size_t msg_len, char **b64, size_t *b64_len);

/* Verifies the text of manifest.sig (base64; '\r' and '\n' anywhere are skipped, anything
 * else outside the alphabet or missing padding is an error) over msg, trying the keys in
 * order; the first that verifies wins. RSA: PKCS#1 v1.5 SHA-256, signature length equal to
 * the modulus length. ECDSA: 64-byte r||s or DER of any valid length. Returns 0 and sets
 * *which to the key index, or MSIG_E_SIGNATURE with a context error that says why for each
 * key (e.g. "key 1 (rsa3072-public.pem): RSA signature verification failed"). */
int msigi_verify_manifest(struct msig_ctx *ctx, const struct msig_pubkeys *keys, const uint8_t *msg,
                          size_t msg_len, const uint8_t *sig_text, size_t sig_text_len, int *which);

/* The file a key comes from (a file-plugin key), else NULL: outputs must not replace it. */
const char *msigi_key_file(const struct msig_key *key);

#endif
