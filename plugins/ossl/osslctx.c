/* osslctx.c -- the private OpenSSL library context of a provider key: an optional config
 * file (ossl.conf), the module directory (ossl.provider_path, else OPENSSL_MODULES, else
 * OpenSSL's own), the named providers (ossl.provider) and "default". The application's default
 * context is never touched. */
#include "ossl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "evpsign.h"
#include "plugin_util.h"

/* Where a provider module is looked for, for messages: OpenSSL_version gives
 * MODULESDIR: "/usr/lib/.../ossl-modules". */
static const char *module_dir(const char *param, char *buf, size_t cap)
{
    const char *env = getenv("OPENSSL_MODULES");
    const char *v = OpenSSL_version(OPENSSL_MODULES_DIR), *q = strchr(v, '"');

    if (param != NULL)
        return param;
    if (env != NULL && *env)
        return env;
    snprintf(buf, cap, "%.*s", q ? (int)strcspn(q + 1, "\"") : (int)strlen(v), q ? q + 1 : v);
    return buf;
}

static int load_one(const struct msig_host *host, struct ossl_ctx *c, const char *name,
                    const char *dir)
{
    char err[256];
    OSSL_PROVIDER *p;

    if (c->n_prov >= OSSL_MAX_PROVIDERS)
        return msigu_error(host, MSIG_E_INVALID, "more than %d providers in ossl.provider",
                           OSSL_MAX_PROVIDERS);
    p = OSSL_PROVIDER_load(c->libctx, name);
    if (p == NULL) {
        char path[4096];
        int missing;

        snprintf(path, sizeof(path), "%s/%s.so", dir, name);
        missing = strchr(name, '/') == NULL && access(path, F_OK) != 0;
        msigu_ossl_error(err, sizeof(err));
        if (missing)
            return msigu_error(host, MSIG_E_NOT_FOUND,
                               "unknown OpenSSL provider '%s': there "
                               "is no %s (set --key-provider-path or OPENSSL_MODULES)",
                               name, path);
        return msigu_error(host, MSIG_E_DEVICE,
                           "the OpenSSL provider '%s' (in %s) failed to "
                           "start%s%s%s",
                           name, dir, err[0] ? ": " : "", err,
                           strcmp(name, "tpm2") == 0
                               ? " (is the TPM reachable? check "
                                 "TPM2OPENSSL_TCTI, /dev/tpmrm0 or the TPM simulator)"
                               : "");
    }
    c->prov[c->n_prov++] = p;
    return 0;
}

/* The comma-separated list of ossl.provider, each loaded in order. */
static int load_named(const struct msig_host *host, struct ossl_ctx *c, const char *list,
                      const char *dir)
{
    char name[256];
    int rc = 0;

    for (const char *s = list; rc == 0 && *s;) {
        size_t n = strcspn(s, ", ");
        if (n > 0 && n < sizeof(name)) {
            memcpy(name, s, n);
            name[n] = '\0';
            rc = load_one(host, c, name, dir);
        } else if (n >= sizeof(name)) {
            rc = msigu_error(host, MSIG_E_INVALID, "a provider name of %zu characters", n);
        }
        s += n + (s[n] != '\0');
    }
    return rc;
}

int ossl_ctx_open(const struct msig_host *host, struct ossl_ctx *c)
{
    const char *conf = NULL, *dir = NULL, *names = NULL;
    char err[256], where[1024];
    int rc;

    memset(c, 0, sizeof(*c));
    msigu_param(host, "ossl.conf", &conf);
    msigu_param(host, "ossl.provider_path", &dir);
    msigu_param(host, "ossl.provider", &names);
    if ((c->libctx = OSSL_LIB_CTX_new()) == NULL)
        return msigu_error(host, MSIG_E_NOMEM, "cannot create an OpenSSL library context");
    if (conf != NULL && !OSSL_LIB_CTX_load_config(c->libctx, conf))
        return msigu_error(host, access(conf, R_OK) != 0 ? MSIG_E_NOT_FOUND : MSIG_E_INVALID,
                           "cannot load the OpenSSL config %s (ossl.conf): %s", conf,
                           msigu_ossl_error(err, sizeof(err)));
    if (dir != NULL && !OSSL_PROVIDER_set_default_search_path(c->libctx, dir))
        return msigu_error(host, MSIG_E_INVALID, "cannot use %s as the provider directory", dir);
    if (names == NULL && conf == NULL)
        return msigu_error(host, MSIG_E_INVALID,
                           "no OpenSSL provider named: give "
                           "--key-provider NAME (parameter ossl.provider) or ossl.conf");
    if (names != NULL &&
        (rc = load_named(host, c, names, module_dir(dir, where, sizeof(where)))) != 0)
        return rc;
    return load_one(host, c, "default", module_dir(dir, where, sizeof(where)));
}

void ossl_ctx_close(struct ossl_ctx *c)
{
    while (c->n_prov > 0)
        OSSL_PROVIDER_unload(c->prov[--c->n_prov]);
    OSSL_LIB_CTX_free(c->libctx);
    c->libctx = NULL;
}
