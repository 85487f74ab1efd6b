/* prov.h -- the msig OpenSSL 3 provider (module msig.so, provider name "msig"): every msig
 * signer plugin's keys for OpenSSL applications. It is not a signer plugin but a front end of
 * libmsig, like the CLI: it uses only the public API (msig.h). Files: prov.c (entry point,
 * algorithm tables, errors), store.c (the "msig:" OSSL_STORE loader), keymgmt.c (RSA and EC
 * key management over an msig key), signature.c (RSA PKCS#1 v1.5 and ECDSA, SHA-256). */
#ifndef MSIG_PROV_H
#define MSIG_PROV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

#include <msig/msig.h>

struct prov_ctx {
    const OSSL_CORE_HANDLE *handle;
    OSSL_LIB_CTX *libctx;  /* private, default provider: digests and verification */
    struct msig_ctx *mctx; /* plugins loaded once; calls serialised by lock */
    pthread_mutex_t lock;
    char plugin_dir[1024]; /* config "plugin-dir", else MSIG_PLUGIN_PATH or installed */
    char params[4096];     /* config "params": NAME=VALUE;... for the plugins */
};

/* A key: the msig key (for signing) and its public half (for everything else). */
struct prov_key {
    struct prov_ctx *pc;
    struct msig_key *key; /* NULL for a key that has only its public half */
    EVP_PKEY *pub;        /* in pc->libctx */
    uint32_t key_type, bits;
    int refs;
};

struct prov_key *prov_key_ref(struct prov_key *k);
void prov_key_unref(struct prov_key *k);

/* Errors on OpenSSL's queue (library "msig provider"), with the msig message. */
void prov_error(int reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum { PROV_R_KEY = 1, PROV_R_SIGN, PROV_R_ARG, PROV_R_INTERNAL };

extern const OSSL_DISPATCH prov_store_functions[];
extern const OSSL_DISPATCH prov_rsa_keymgmt_functions[];
extern const OSSL_DISPATCH prov_ec_keymgmt_functions[];
extern const OSSL_DISPATCH prov_rsa_signature_functions[];
extern const OSSL_DISPATCH prov_ecdsa_signature_functions[];

#endif
