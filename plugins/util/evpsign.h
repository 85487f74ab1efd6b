/* evpsign.h -- signing with an OpenSSL EVP_PKEY for plugins that hold the key in OpenSSL (the
 * file plugin, the provider-key plugin): the Mender key policy, key_info, the public key in
 * DER and a digest signature in the form the host wants. Part of plugins/util (msigu_evp). */
#ifndef MSIGU_EVPSIGN_H
#define MSIGU_EVPSIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <msig/msig_plugin.h>

/* The Mender policy: RSA (not RSA-PSS-only) of >= 2048 bits, or EC P-256. Sets *key_type
 * (MSIG_KEY_*) and *bits; else MSIG_E_KEY with a message saying which type and size was
 * found and why it is refused. what names the key in the message ("key file /k.pem"). */
int msigu_evp_policy(const struct msig_host *host, EVP_PKEY *pkey, const char *what,
                     uint32_t *key_type, uint32_t *bits);
/* Fills key_info for a policy-checked key (type, bits, scheme, max_sig_len, pub_der_len),
 * honouring info->struct_size; extra_flags are OR-ed into info->flags. */
int msigu_evp_key_info(EVP_PKEY *pkey, uint32_t key_type, uint32_t bits, uint32_t extra_flags,
                       struct msig_key_info *info);
/* DER SubjectPublicKeyInfo into buf; MSIG_E_BUFFER_TOO_SMALL with *len set when cap is short. */
int msigu_evp_public_der(const struct msig_host *host, EVP_PKEY *pkey, uint8_t *buf, size_t cap,
                         size_t *len);
/* Signs a 32-byte SHA-256 digest: RSA PKCS#1 v1.5 (MSIG_SIGFMT_NATIVE) or ECDSA (DER,
 * MSIG_SIGFMT_ECDSA_DER). libctx/propq select the provider (NULL: default). Refuses a scheme
 * that does not fit the key (MSIG_E_UNSUPPORTED). OpenSSL's error text goes to set_error. */
int msigu_evp_sign_digest(const struct msig_host *host, EVP_PKEY *pkey, OSSL_LIB_CTX *libctx,
                          const char *propq, uint32_t scheme, const uint8_t *digest,
                          size_t digest_len, uint8_t *sig, size_t cap, size_t *sig_len,
                          uint32_t *sig_fmt);
/* The newest OpenSSL error as text ("" when none), and clears the queue. */
const char *msigu_ossl_error(char *buf, size_t cap);

#endif
