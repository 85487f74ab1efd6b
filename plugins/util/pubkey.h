/* pubkey.h -- public keys in the forms services hand them out, turned into DER
 * SubjectPublicKeyInfo: PEM (PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE), DER (SPKI or X.509),
 * JWK (RSA "n"/"e", EC P-256 "x"/"y"); and base64/base64url on OpenSSL's codec.
 * Part of plugins/util (msigu_evp). Bounded: inputs above 64 KiB are refused. */
#ifndef MSIGU_PUBKEY_H
#define MSIGU_PUBKEY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include <msig/msig_plugin.h>

/* PEM or DER public key or certificate -> EVP_PKEY; MSIG_E_KEY with a message on failure. */
int msigu_pubkey_parse(const struct msig_host *host, const void *data, size_t len, const char *what,
                       EVP_PKEY **out);
/* JWK object text (JSON) -> EVP_PKEY (kty RSA or EC with crv P-256). */
int msigu_pubkey_from_jwk(const struct msig_host *host, const char *json, size_t len,
                          const char *what, EVP_PKEY **out);
/* The same from a parsed JWK object (a reply's "key" member). */
int msigu_pubkey_from_jwk_obj(const struct msig_host *host, const json_t *jwk, const char *what,
                              EVP_PKEY **out);

/* base64url without padding (RFC 4648 section 5). *out is malloc'd by the host allocator
 * (msigu_strfree). */
int msigu_b64url_encode(const struct msig_host *host, const uint8_t *in, size_t len, char **out);
/* Accepts base64url or standard base64, with or without padding; *out_len bytes into out
 * (cap at least 3/4 of the input length). MSIG_E_INVALID on a bad character. */
int msigu_b64_decode(const struct msig_host *host, const char *in, size_t len, uint8_t *out,
                     size_t cap, size_t *out_len);
int msigu_b64_encode(const struct msig_host *host, const uint8_t *in, size_t len, char **out);

#endif
