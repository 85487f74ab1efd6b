/* ossl.h -- the ossl signer plugin (scheme ossl:): keys held by an OpenSSL 3 provider (a TPM
 * through tpm2-openssl, an HSM's provider), opened with OSSL_STORE in a private library
 * context, signed with the provider that holds the key. Files: ossl.c (the ABI operations),
 * osslctx.c (the library context and its providers). */
#ifndef MSIG_OSSL_H
#define MSIG_OSSL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include <msig/msig_plugin.h>

#define OSSL_MAX_PROVIDERS 8

/* A private library context with the providers a key needs. */
struct ossl_ctx {
    OSSL_LIB_CTX *libctx;
    OSSL_PROVIDER *prov[OSSL_MAX_PROVIDERS + 1]; /* the named ones, then "default" */
    size_t n_prov;
};

/* Creates the context from the parameters ossl.conf, ossl.provider_path and ossl.provider
 * (a comma-separated list; "default" is always loaded as well, for decoders and digests). */
int ossl_ctx_open(const struct msig_host *host, struct ossl_ctx *c);
void ossl_ctx_close(struct ossl_ctx *c);

#endif
