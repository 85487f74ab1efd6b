/* kms.h -- the cloud KMS signer plugin: one module, four schemes (vault, gcpkms, azurekv,
 * signserver), one file per service. The services share the instance (one HTTP handle, so
 * one kept-alive connection per host, and the cached access tokens), the key object and the
 * Mender key policy; each service file only speaks its REST protocol. */
#ifndef MSIG_KMS_H
#define MSIG_KMS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include <msig/msig_plugin.h>

#include "evpsign.h"
#include "http.h"
#include "plugin_util.h"
#include "pubkey.h"

/* An access token obtained for one identity (token endpoint + client), kept until 60 s before
 * it expires, so several keys and artifacts in one process ask once. */
struct kms_token {
    char *identity;
    char *value; /* wiped on every path */
    time_t expires;
};
#define KMS_TOKENS 4

struct kms_inst {
    const struct msig_host *host;
    struct msigu_http *http;
    struct kms_token tokens[KMS_TOKENS];
};

struct kms_key;

struct kms_service {
    const char *scheme;
    /* Reads the settings, checks the key on the service and sets its public key
     * (kms_key_set_public). rest: the spec after "scheme:". */
    int (*open)(struct kms_key *k, const char *rest, uint32_t flags);
    /* Signs the 32-byte digest; RSA PKCS#1 v1.5 bytes or ECDSA (raw r||s or DER). */
    int (*sign)(struct kms_key *k, const uint8_t digest[32], uint8_t *sig, size_t cap,
                size_t *sig_len, uint32_t *sig_fmt);
    void (*close)(struct kms_key *k);
};

struct kms_key {
    struct kms_inst *inst;
    const struct kms_service *svc;
    struct msigu_http_opts http; /* strings borrowed from host params */
    EVP_PKEY *pub;
    uint8_t *pub_der;
    size_t pub_der_len;
    uint32_t key_type, bits;
    char what[512]; /* "Vault key k1 (transit, version 1)" for messages */
    void *svc_data; /* the service's own state */
};

extern const struct kms_service kms_vault, kms_gcpkms, kms_azurekv, kms_signserver;
/* key_list for "vault:" (every key of the mount) and "vault:NAME"; k is a scratch key. */
int kms_vault_list(struct kms_key *k, const char *rest, msig_key_list_fn *cb, void *cb_data);
/* key_list for "azurekv:" (the vault's keys, first page) and "azurekv:NAME". */
int kms_azure_list(struct kms_key *k, const char *rest, msig_key_list_fn *cb, void *cb_data);

/* ---- messages, parameters (kmsutil.c) */
/* Errors and log lines are msigu_error / msigu_log (plugins/util/plugin_util.h). */
/* A parameter's value, or NULL when unset or empty. */
const char *kms_param(const struct kms_inst *inst, const char *name);
/* A required parameter: MSIG_E_INVALID naming the parameter and its variable when unset. */
int kms_param_req(const struct kms_inst *inst, const char *name, const char *env,
                  const char **value);
/* The generic transport parameters (kms.*) into k->http; ca_param names the service's CA. */
int kms_http_setup(struct kms_key *k, const char *ca_param);
/* The service's hashed CA directory parameter (VAULT_CAPATH). */
void kms_http_ca_dir(struct kms_key *k, const char *dir_param);

/* ---- keys */
/* Applies the Mender policy (msigu_evp_policy) to a public key the service returned and keeps
 * it (ownership of pub transferred). MSIG_E_KEY names the key. */
int kms_key_set_public(struct kms_key *k, EVP_PKEY *pub);
/* Public keys from replies: msigu_pubkey_parse, msigu_pubkey_from_jwk_obj (pubkey.h). */

/* ---- encodings (base64: msigu_b64_* in pubkey.h) */
uint32_t kms_crc32c(const uint8_t *p, size_t len);
/* Copies a decoded signature into the host buffer: MSIG_E_BUFFER_TOO_SMALL when short. */
int kms_put_sig(const struct kms_key *k, const uint8_t *s, size_t len, uint8_t *sig, size_t cap,
                size_t *sig_len);

/* ---- requests */
/* One JSON request: body (may be NULL, then GET) sent as application/json when not NULL;
 * non-2xx statuses become errors (msigu_http_status_error) with what; on success *out holds
 * the reply JSON object (caller json_decref). */
int kms_json_call(struct kms_key *k, const char *method, const char *url,
                  const char *const *headers, const json_t *body, const char *what, json_t **out,
                  long *status);
/* Form POST for token endpoints: body wiped after. */
int kms_form_call(struct kms_key *k, const char *url, const char *const *headers, char *form,
                  const char *what, json_t **out);
/* A header line "Name: value" (malloc'd, free with kms_secret_free). */
char *kms_header(const char *name, const char *value);
void kms_secret_free(char *s);
/* Wipes the string member key of a JSON object in place (a token or key that jansson would
 * otherwise leave in freed memory); call before the last json_decref. */
void kms_json_wipe(json_t *obj, const char *key);

/* ---- tokens */
struct kms_token *kms_token_find(struct kms_inst *inst, const char *identity);
/* Stores value for identity, valid expires_in seconds (minus a 60 s margin). */
int kms_token_store(struct kms_inst *inst, const char *identity, const char *value, long expires_in,
                    struct kms_token **out);
void kms_token_drop(struct kms_token *t);
/* Gets an access token for k (cached or new). */
typedef int kms_token_fn(struct kms_key *k, struct kms_token **t);
/* One JSON request with "Authorization: Bearer TOKEN"; a 401 drops the cached token and
 * the request is tried once more with a new one. */
int kms_bearer_call(struct kms_key *k, kms_token_fn *get_token, const char *method, const char *url,
                    const json_t *body, const char *what, json_t **out);

#endif
