/* p11module.c -- which PKCS#11 module a key spec uses, loaded through p11-kit (managed, so
 * p11-kit's module options and its fork handling apply). First one set wins:
 *   1. the URI's module-path (a file) or module-name (a module registered with p11-kit);
 *   2. parameter pkcs11.module (a path when it holds a '/', else a registered name);
 *   3. parameter pkcs11.module-path (the CLI sets it from PKCS11_MODULE_PATH);
 *   4. every module registered with p11-kit (/usr/share/p11-kit/modules/\*.module, ...). */
#include "p11.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_util.h"

void p11_module_name(CK_FUNCTION_LIST *mod, char *buf, size_t cap)
{
    char *n = p11_kit_module_get_name(mod);
    char *f = n == NULL ? p11_kit_module_get_filename(mod) : NULL;
    const char *s = n != NULL ? n : f != NULL ? f : "(unknown module)";
    const char *base = n == NULL && strrchr(s, '/') != NULL ? strrchr(s, '/') + 1 : s;

    snprintf(buf, cap, "%s", base);
    free(n);
    free(f);
}

static int load_path(struct p11_key *k, const char *path, const char *source)
{
    const struct msig_host *h = k->host;
    CK_RV rv;
    char rvs[80];

    if (access(path, R_OK) != 0) {
        int e = errno;
        return msigu_error(h, e == ENOENT ? MSIG_E_NOT_FOUND : MSIG_E_IO,
                           "PKCS#11 module %s "
                           "(%s): %s",
                           path, source, strerror(e));
    }
    k->mods.single = p11_kit_module_load(path, 0);
    if (k->mods.single == NULL) {
        const char *m = p11_kit_message();
        return msigu_error(h, MSIG_E_FAILED, "cannot load the PKCS#11 module %s (%s): %s", path,
                           source, m != NULL && *m ? m : "p11-kit gave no reason");
    }
    rv = p11_kit_module_initialize(k->mods.single);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        p11_kit_module_release(k->mods.single);
        k->mods.single = NULL;
        return msigu_error(h, rv == CKR_GENERAL_ERROR ? MSIG_E_DEVICE : p11_rv_code(rv),
                           "the PKCS#11 module %s (%s) failed to initialise: %s%s", path, source,
                           p11_rv_text(rv, rvs, sizeof(rvs)),
                           strstr(path, "softhsm") != NULL
                               ? " (for SoftHSM: check SOFTHSM2_CONF and its token directory)"
                               : "");
    }
    k->mods.how = msigu_strdup(h, source);
    return k->mods.how != NULL ? 0 : MSIG_E_NOMEM;
}

/* The modules registered with p11-kit; with name, only that one is kept usable. */
static int load_registry(struct p11_key *k, const char *name, const char *source)
{
    const struct msig_host *h = k->host;
    char have[512] = "", n[64];
    size_t used = 0;
    int found = 0;

    k->mods.registry = p11_kit_modules_load_and_initialize(0);
    if (k->mods.registry == NULL) {
        const char *m = p11_kit_message();
        return msigu_error(h, MSIG_E_FAILED,
                           "cannot load the modules registered with p11-kit:"
                           " %s",
                           m != NULL && *m ? m : "p11-kit gave no reason");
    }
    for (size_t i = 0; k->mods.registry[i] != NULL; i++) {
        p11_module_name(k->mods.registry[i], n, sizeof(n));
        found |= name == NULL || strcmp(n, name) == 0;
        if (used < sizeof(have))
            used += (size_t)snprintf(have + used, sizeof(have) - used, "%s%s", i ? ", " : "", n);
    }
    if (k->mods.registry[0] == NULL)
        return msigu_error(h, MSIG_E_NOT_FOUND,
                           "no PKCS#11 module is registered with p11-kit "
                           "and none was named (give module-path in the URI, or "
                           "PKCS11_MODULE_PATH)");
    if (!found)
        return msigu_error(h, MSIG_E_NOT_FOUND,
                           "no PKCS#11 module named '%s' is registered "
                           "with p11-kit (%s; registered: %s)",
                           name, source, have);
    if (name != NULL && (k->mods.only = msigu_strdup(h, name)) == NULL)
        return MSIG_E_NOMEM;
    k->mods.how = msigu_strdup(h, source);
    return k->mods.how != NULL ? 0 : MSIG_E_NOMEM;
}

int p11_modules_open(struct p11_key *k)
{
    const char *path = p11_kit_uri_get_module_path(k->uri);
    const char *name = p11_kit_uri_get_module_name(k->uri);
    const char *param = NULL;

    memset(&k->mods, 0, sizeof(k->mods));
    if (path != NULL)
        return load_path(k, path, "module-path in the URI");
    if (name != NULL)
        return load_registry(k, name, "module-name in the URI");
    if (msigu_param(k->host, "pkcs11.module", &param) == 0)
        return strchr(param, '/') != NULL ? load_path(k, param, "parameter pkcs11.module")
                                          : load_registry(k, param, "parameter pkcs11.module");
    if (msigu_param(k->host, "pkcs11.module-path", &param) == 0)
        return load_path(k, param, "PKCS11_MODULE_PATH");
    return load_registry(k, NULL, "the modules registered with p11-kit");
}

CK_FUNCTION_LIST *const *p11_modules_list(const struct p11_modules *m, CK_FUNCTION_LIST *buf[2])
{
    if (m->registry != NULL)
        return m->registry;
    buf[0] = m->single;
    buf[1] = NULL;
    return buf;
}

void p11_modules_close(const struct msig_host *host, struct p11_modules *m)
{
    if (m->single != NULL) {
        p11_kit_module_finalize(m->single);
        p11_kit_module_release(m->single);
    }
    if (m->registry != NULL)
        p11_kit_modules_finalize_and_release(m->registry);
    msigu_strfree(host, m->how);
    msigu_strfree(host, m->only);
    memset(m, 0, sizeof(*m));
}
