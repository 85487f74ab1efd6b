/* prov.c -- the msig provider's entry point: OSSL_provider_init, the algorithm tables and the
 * error library. The provider keeps one msig context (plugins loaded once: the installed
 * plugin directory, MSIG_PLUGIN_PATH, or the config parameter plugin-dir) and a private
 * library context with the default provider for digests and verification. */
#include "prov.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>

static int prov_lib;
static pthread_once_t prov_lib_once = PTHREAD_ONCE_INIT;
static ERR_STRING_DATA prov_reasons[] = {
    { ERR_PACK(0, 0, PROV_R_KEY), "msig key" },
    { ERR_PACK(0, 0, PROV_R_SIGN), "msig signing" },
    { ERR_PACK(0, 0, PROV_R_ARG), "unsupported argument" },
    { ERR_PACK(0, 0, PROV_R_INTERNAL), "internal error" },
    { 0, NULL },
};
static ERR_STRING_DATA prov_libname[] = { { 0, "msig provider" }, { 0, NULL } };

static void lib_init(void)
{
    prov_lib = ERR_get_next_error_library();
    prov_libname[0].error = ERR_PACK(prov_lib, 0, 0);
    for (size_t i = 0; prov_reasons[i].string != NULL; i++)
        prov_reasons[i].error = ERR_PACK(prov_lib, 0, ERR_GET_REASON(prov_reasons[i].error));
    ERR_load_strings(prov_lib, prov_libname);
    ERR_load_strings(prov_lib, prov_reasons);
}

void prov_error(int reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    pthread_once(&prov_lib_once, lib_init);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ERR_new();
    ERR_set_debug(OPENSSL_FILE, OPENSSL_LINE, "msig");
    ERR_set_error(prov_lib, reason, "%s", msg);
}

/* ------------------------------------------------------------------ algorithms */

#define PROPS "provider=msig"
static const OSSL_ALGORITHM prov_store[] = { { "msig", PROPS, prov_store_functions,
                                               "msig: URIs, keys of every msig signer plugin" },
                                             { NULL, NULL, NULL, NULL } };
static const OSSL_ALGORITHM prov_keymgmt[] = {
    { "RSA:rsaEncryption:1.2.840.113549.1.1.1", PROPS, prov_rsa_keymgmt_functions,
      "an RSA key held by an msig signer plugin" },
    { "EC:id-ecPublicKey:1.2.840.10045.2.1", PROPS, prov_ec_keymgmt_functions,
      "an EC P-256 key held by an msig signer plugin" },
    { NULL, NULL, NULL, NULL }
};
static const OSSL_ALGORITHM prov_signature[] = {
    { "RSA:rsaEncryption:1.2.840.113549.1.1.1", PROPS, prov_rsa_signature_functions,
      "RSA PKCS#1 v1.5 with SHA-256 by an msig signer plugin" },
    { "ECDSA", PROPS, prov_ecdsa_signature_functions,
      "ECDSA with SHA-256 by an msig signer plugin" },
    { NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *prov_query(void *provctx, int op, int *no_cache)
{
    (void)provctx;
    *no_cache = 0;
    switch (op) {
    case OSSL_OP_STORE:
        return prov_store;
    case OSSL_OP_KEYMGMT:
        return prov_keymgmt;
    case OSSL_OP_SIGNATURE:
        return prov_signature;
    default:
        return NULL;
    }
}

static const OSSL_PARAM *prov_gettable(void *provctx)
{
    static const OSSL_PARAM p[] = {
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0), OSSL_PARAM_END
    };

    (void)provctx;
    return p;
}

static int prov_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    (void)provctx;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, "msig provider"))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, msig_version()))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO)) != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, "libmsig " MSIG_VERSION_STRING))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) != NULL &&
        !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

static void prov_teardown(void *provctx)
{
    struct prov_ctx *pc = provctx;

    if (pc == NULL)
        return;
    msig_ctx_free(pc->mctx);
    OSSL_LIB_CTX_free(pc->libctx);
    pthread_mutex_destroy(&pc->lock);
    free(pc);
}

static const OSSL_DISPATCH prov_functions[] = {
    { OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))prov_teardown },
    { OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query },
    { OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))prov_gettable },
    { OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))prov_get_params },
    { 0, NULL }
};

/* The config section (openssl.cnf: [msig_sect]): plugin-dir = DIR, and
 * params = NAME=VALUE;NAME=VALUE for the plugins (values without ';'). */
static void read_config(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                        struct prov_ctx *pc)
{
    OSSL_FUNC_core_get_params_fn *get = NULL;
    char *dir = NULL, *params = NULL;
    OSSL_PARAM p[] = { OSSL_PARAM_utf8_ptr("plugin-dir", &dir, 0),
                       OSSL_PARAM_utf8_ptr("params", &params, 0), OSSL_PARAM_END };

    for (; in != NULL && in->function_id != 0; in++)
        if (in->function_id == OSSL_FUNC_CORE_GET_PARAMS)
            get = OSSL_FUNC_core_get_params(in);
    if (get == NULL || !get(handle, p))
        return;
    if (dir != NULL)
        snprintf(pc->plugin_dir, sizeof(pc->plugin_dir), "%s", dir);
    if (params != NULL)
        snprintf(pc->params, sizeof(pc->params), "%s", params);
}

/* Sets the config's plugin parameters on the msig context. */
static int set_params(struct prov_ctx *pc)
{
    char *save = NULL;

    for (char *item = strtok_r(pc->params, ";", &save); item != NULL;
         item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '=');
        while (*item == ' ')
            item++;
        if (eq == NULL || eq == item) {
            prov_error(PROV_R_ARG, "config params: '%s' is not NAME=VALUE", item);
            return 0;
        }
        *eq = '\0';
        if (msig_ctx_set_param(pc->mctx, item, eq + 1) != 0) {
            prov_error(PROV_R_ARG, "config params: %s", msig_ctx_last_error(pc->mctx));
            return 0;
        }
    }
    return 1;
}

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx);
__attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE *handle,
                                                              const OSSL_DISPATCH *in,
                                                              const OSSL_DISPATCH **out,
                                                              void **provctx)
{
    struct prov_ctx *pc = calloc(1, sizeof(*pc));

    if (pc == NULL)
        return 0;
    pc->handle = handle;
    pthread_mutex_init(&pc->lock, NULL);
    read_config(handle, in, pc);
    pc->libctx = OSSL_LIB_CTX_new();
    if (pc->libctx == NULL || OSSL_PROVIDER_load(pc->libctx, "default") == NULL ||
        msig_ctx_new(&pc->mctx) != 0) {
        prov_error(PROV_R_INTERNAL, "cannot set up the msig provider");
        prov_teardown(pc);
        return 0;
    }
    if (msig_ctx_enable_plugins(pc->mctx, pc->plugin_dir[0] ? pc->plugin_dir : NULL) != 0) {
        prov_error(PROV_R_INTERNAL, "msig plugins: %s", msig_ctx_last_error(pc->mctx));
        prov_teardown(pc);
        return 0;
    }
    if (!set_params(pc)) {
        prov_teardown(pc);
        return 0;
    }
    *out = prov_functions;
    *provctx = pc;
    return 1;
}
