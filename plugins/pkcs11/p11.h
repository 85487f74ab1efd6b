/* p11.h -- the PKCS#11 signer plugin (scheme pkcs11:), through p11-kit. One key is one
 * module set (a module given by path or name, or every module registered with p11-kit), one
 * token the URI selects, one read-only session, and the key's public half read without a
 * login; the login happens at the first signature. Files: pkcs11.c (the ABI operations),
 * p11module.c (module choice and loading), p11token.c (token choice, login, PINs),
 * p11key.c (objects, the public key, mechanisms and signing). */
#ifndef MSIG_P11_H
#define MSIG_P11_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include <msig/msig_plugin.h>

#include "secret.h"

#define P11_MAX_TOKENS 64  /* tokens considered per key spec */
#define P11_MAX_OBJECTS 16 /* matching objects read per search (2 are enough to refuse) */

struct p11_inst {
    const struct msig_host *host;
};

/* The modules a key uses: one loaded by path, or the p11-kit registry. */
struct p11_modules {
    CK_FUNCTION_LIST *single;    /* p11_kit_module_load + initialize */
    CK_FUNCTION_LIST **registry; /* p11_kit_modules_load_and_initialize */
    char *how;                   /* where the choice came from, for messages */
    char *only;                  /* module-name: the one registered module to use */
};

/* One token a URI may select. */
struct p11_token {
    CK_FUNCTION_LIST *mod;
    CK_SLOT_ID slot;
    CK_TOKEN_INFO info;
    char label[33], serial[17], manufacturer[33], model[17];
    char module[64]; /* the module's name, for messages */
};

struct p11_key {
    struct p11_inst *inst;
    const struct msig_host *host;
    char *spec; /* for the PIN request (the host hides a pin-value) */
    uint32_t open_flags;
    pid_t pid; /* the process that opened it */
    P11KitUri *uri;
    struct p11_modules mods;
    struct p11_token tok;
    CK_SESSION_HANDLE session;
    int have_session, logged_in;
    CK_OBJECT_HANDLE priv;
    int have_priv, always_auth;
    uint32_t key_type, bits;
    EVP_PKEY *pub;
    uint8_t *pub_der;
    size_t pub_der_len;
    int rsa_combined;        /* token has CKM_SHA256_RSA_PKCS */
    int ec_raw, ec_combined; /* token has CKM_ECDSA / CKM_ECDSA_SHA256 */
    struct msigu_secret pin; /* kept only for CKA_ALWAYS_AUTHENTICATE keys */
};

/* ---- p11module.c */
int p11_modules_open(struct p11_key *k);
void p11_modules_close(const struct msig_host *host, struct p11_modules *m);
/* The loaded modules as a NULL-terminated list (one or the registry). */
CK_FUNCTION_LIST *const *p11_modules_list(const struct p11_modules *m, CK_FUNCTION_LIST *buf[2]);
/* A module's name for messages: p11-kit's name, else its file name. */
void p11_module_name(CK_FUNCTION_LIST *mod, char *buf, size_t cap);

/* ---- p11token.c */
int p11_token_select(struct p11_key *k);
int p11_session_open(struct p11_key *k);
/* Logs in to the selected token (PIN order of the README), at most once. */
int p11_login(struct p11_key *k);
/* The context-specific login of a CKA_ALWAYS_AUTHENTICATE key, after C_SignInit. */
int p11_login_context(struct p11_key *k);
/* Fills t from a slot's token info. */
void p11_token_fill(struct p11_token *t, CK_FUNCTION_LIST *mod, CK_SLOT_ID slot,
                    const CK_TOKEN_INFO *info);
/* "token 'LABEL' (serial S, module M)" */
void p11_token_describe(const struct p11_token *t, char *buf, size_t cap);

/* ---- p11key.c */
/* Finds the public half (public-key object, else certificate, else the private key's
 * attributes after a login) and applies the Mender policy. */
int p11_key_public(struct p11_key *k);
/* Drops the public half p11_key_public found (key type and size stay). */
void p11_key_forget_public(struct p11_key *k);
/* Finds exactly one private key the URI names (after login); checks CKA_SIGN. */
int p11_key_private(struct p11_key *k);
int p11_sign(struct p11_key *k, int message, uint32_t scheme, const uint8_t *in, size_t len,
             uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt);
/* Which mechanisms the token offers for this key type. */
void p11_key_mechanisms(struct p11_key *k);
/* Lists the keys of one token (public objects, no login) for key_list. */
int p11_list_token(struct p11_key *k, const struct p11_token *t, msig_key_list_fn *cb,
                   void *cb_data);

/* ---- shared helpers (p11token.c) */
/* A CK_RV as "CKR_PIN_INCORRECT (0xa0)". */
const char *p11_rv_text(CK_RV rv, char *buf, size_t cap);
/* The MSIG_E_* code for a CK_RV (device errors, PIN errors, mechanism errors, ...). */
int p11_rv_code(CK_RV rv);
/* Copies a blank-padded PKCS#11 string into a NUL-terminated one. */
void p11_str(char *dst, size_t cap, const CK_UTF8CHAR *src, size_t len);

#endif
