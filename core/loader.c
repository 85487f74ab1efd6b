/* loader.c -- plugin loader: built-in plugins from the generated msig_builtins.h table,
 * external plugins via dlopen, ABI checks before anything of the plugin runs, lazily created
 * instances with their host-services table, and the lock/error wrapping of plugin calls. */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctx.h"

#ifndef MSIG_PLUGIN_DIR
#  define MSIG_PLUGIN_DIR "/usr/local/lib/msig/plugins"
#endif

#define MAX_PLUGINS 64

/* Built-in plugins: msig_builtins.h (generated) holds MSIG_BUILTIN(id) lines. */
#define MSIG_BUILTIN(id) const struct msig_plugin *msig_plugin_##id##_entry_v1(void);
#include "msig_builtins.h"
#undef MSIG_BUILTIN

static msig_plugin_entry_fn *const builtin_entries[] = {
#define MSIG_BUILTIN(id) msig_plugin_##id##_entry_v1,
#include "msig_builtins.h"
#undef MSIG_BUILTIN
    NULL};

struct msigi_loader {
    struct msigi_plugin *list[MAX_PLUGINS];
    size_t count;
    int enabled;
    pthread_mutex_t lock; /* serialises instance_new / instance_free */
};

/* ---------------------------------------------------------------- host services */

static void host_log_msg(void *host_data, int level, const char *msg)
{
    struct msigi_plugin *p = host_data;
    if (level < MSIG_LOG_ERROR || level > MSIG_LOG_DEBUG)
        level = MSIG_LOG_INFO;
    msigi_log(p->ctx, level, "%s: %s", p->desc.name, msg ? msg : "");
}

static void host_set_error(void *host_data, int code, const char *msg)
{
    struct msigi_plugin *p = host_data;
    p->err_code = code;
    snprintf(p->err, sizeof(p->err), "%s", msg ? msg : "");
}

static void *host_mem_alloc(void *host_data, size_t len)
{
    (void)host_data;
    return msigi_malloc(len);
}

static void host_mem_free(void *host_data, void *ptr, size_t len)
{
    (void)host_data;
    msigi_free_secret(ptr, len);
}

static int host_get_param(void *host_data, const char *key, const char **value)
{
    struct msigi_plugin *p = host_data;
    if (!key || !value)
        return MSIG_E_INVALID;
    *value = NULL;
    const char *v = msigi_ctx_param(p->ctx, key);
    if (!v)
        return MSIG_E_NOT_FOUND;
    /* Hand out a copy that stays valid until instance_free even if the application changes
     * the parameter later; an unchanged value reuses its copy. */
    for (struct msigi_hostparam *hp = p->params; hp; hp = hp->next) {
        if (strcmp(hp->key, key) == 0 && strcmp(hp->value, v) == 0) {
            *value = hp->value;
            return 0;
        }
    }
    struct msigi_hostparam *hp = msigi_calloc(1, sizeof(*hp));
    char *k = msigi_strdup(key), *cv = msigi_strdup(v);
    if (!hp || !k || !cv) {
        msigi_free(hp);
        msigi_free(k);
        if (cv)
            msigi_free_secret(cv, strlen(cv));
        return MSIG_E_NOMEM;
    }
    hp->key = k;
    hp->value = cv;
    hp->next = p->params;
    p->params = hp;
    *value = cv;
    return 0;
}

static int host_get_pin(void *host_data, const struct msig_pin_request *req, char *pin,
                        size_t pin_cap, size_t *pin_len)
{
    struct msigi_plugin *p = host_data;
    if (!req || !pin || !pin_len || pin_cap == 0)
        return MSIG_E_INVALID;
    *pin_len = 0;
    if (p->no_prompt)
        return MSIG_E_PIN_REQUIRED;
    return msigi_ctx_get_pin(p->ctx, req, pin, pin_cap, pin_len);
}

static void free_hostparams(struct msigi_plugin *p)
{
    struct msigi_hostparam *hp = p->params;
    while (hp) {
        struct msigi_hostparam *next = hp->next;
        msigi_free_secret(hp->value, strlen(hp->value));
        msigi_free(hp->key);
        msigi_free(hp);
        hp = next;
    }
    p->params = NULL;
}

/* ---------------------------------------------------------------- registration */

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return 0;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    }
    return 1;
}

static void plugin_free(struct msigi_plugin *p)
{
    if (!p)
        return;
    if (p->inst_ready && p->desc.instance_free)
        p->desc.instance_free(p->inst);
    free_hostparams(p);
    if (p->dl && !(p->desc.flags & MSIG_PLUGIN_F_NO_UNLOAD))
        dlclose(p->dl);
    pthread_mutex_destroy(&p->op_lock);
    msigi_free(p->file);
    msigi_free(p);
}

/* Checks a descriptor and registers it. where: file name or "(built-in)", for messages.
 * On failure dl is left to the caller. */
static int register_plugin(struct msig_ctx *ctx, const struct msig_plugin *d, const char *where,
                           const char *file, void *dl)
{
    struct msigi_loader *ld = ctx->loader;
    struct msigi_plugin *p = NULL;
    int rc = MSIG_E_ABI;

    if (!d) {
        rc = msigi_err(ctx, MSIG_E_ABI, "plugin %s: entry function returned NULL", where);
        goto out;
    }
    if (d->abi_major != MSIG_PLUGIN_ABI_MAJOR) {
        rc = msigi_err(ctx, MSIG_E_ABI,
                       "plugin %s: ABI major version %u, this core supports %d", where,
                       (unsigned)d->abi_major, MSIG_PLUGIN_ABI_MAJOR);
        goto out;
    }
    if (d->struct_size < MSIG_PLUGIN_SIZE_1_0) {
        rc = msigi_err(ctx, MSIG_E_ABI,
                       "plugin %s: descriptor is %u bytes, ABI 1.0 needs at least %zu", where,
                       (unsigned)d->struct_size, (size_t)MSIG_PLUGIN_SIZE_1_0);
        goto out;
    }
    p = msigi_calloc(1, sizeof(*p));
    if (!p) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "plugin %s: out of memory", where);
        goto out;
    }
    size_t n = d->struct_size < sizeof(p->desc) ? d->struct_size : sizeof(p->desc);
    memcpy(&p->desc, d, n);
    p->desc.struct_size = (uint32_t)n;
    if (pthread_mutex_init(&p->op_lock, NULL) != 0) {
        msigi_free(p);
        p = NULL;
        rc = msigi_err(ctx, MSIG_E_FAILED, "plugin %s: cannot create a mutex", where);
        goto out;
    }
    if (!valid_name(p->desc.name)) {
        rc = msigi_err(ctx, MSIG_E_ABI, "plugin %s: name \"%s\" is not [a-z0-9-]+", where,
                       p->desc.name ? p->desc.name : "(null)");
        goto out;
    }
    const char *missing = !p->desc.instance_new     ? "instance_new"
                          : !p->desc.instance_free  ? "instance_free"
                          : !p->desc.key_open       ? "key_open"
                          : !p->desc.key_close      ? "key_close"
                          : !p->desc.key_info       ? "key_info"
                          : !p->desc.key_public_der ? "key_public_der"
                          : !p->desc.sign_digest    ? "sign_digest"
                                                    : NULL;
    if (missing) {
        rc = msigi_err(ctx, MSIG_E_ABI, "plugin %s (%s): required operation %s is NULL", where,
                       p->desc.name, missing);
        goto out;
    }
    if (!p->desc.schemes || !p->desc.schemes[0]) {
        rc = msigi_err(ctx, MSIG_E_ABI, "plugin %s (%s): declares no key scheme", where,
                       p->desc.name);
        goto out;
    }
    for (size_t i = 0; p->desc.schemes[i]; i++) {
        if (!valid_name(p->desc.schemes[i])) {
            rc = msigi_err(ctx, MSIG_E_ABI, "plugin %s (%s): scheme \"%s\" is not [a-z0-9-]+",
                           where, p->desc.name, p->desc.schemes[i]);
            goto out;
        }
    }
    for (size_t k = 0; k < ld->count; k++) {
        const struct msigi_plugin *o = ld->list[k];
        if (strcmp(o->desc.name, p->desc.name) == 0) {
            rc = msigi_err(ctx, MSIG_E_EXISTS,
                           "plugin %s: a plugin named \"%s\" is already loaded from %s", where,
                           p->desc.name, o->file ? o->file : "(built-in)");
            goto out;
        }
        for (size_t i = 0; p->desc.schemes[i]; i++) {
            for (size_t j = 0; o->desc.schemes[j]; j++) {
                if (strcmp(p->desc.schemes[i], o->desc.schemes[j]) == 0) {
                    rc = msigi_err(ctx, MSIG_E_EXISTS,
                                   "plugin %s (%s): scheme \"%s\" is already handled by plugin "
                                   "\"%s\"",
                                   where, p->desc.name, p->desc.schemes[i], o->desc.name);
                    goto out;
                }
            }
        }
    }
    if (ld->count >= MAX_PLUGINS) {
        rc = msigi_err(ctx, MSIG_E_LIMIT, "plugin %s: more than %d plugins", where, MAX_PLUGINS);
        goto out;
    }
    if (file) {
        p->file = msigi_strdup(file);
        if (!p->file) {
            rc = msigi_err(ctx, MSIG_E_NOMEM, "plugin %s: out of memory", where);
            goto out;
        }
    }
    p->ctx = ctx;
    p->dl = dl;
    p->host.struct_size = sizeof(p->host);
    p->host.abi_major = MSIG_PLUGIN_ABI_MAJOR;
    p->host.abi_minor = MSIG_PLUGIN_ABI_MINOR;
    p->host.host_data = p;
    p->host.log_msg = host_log_msg;
    p->host.set_error = host_set_error;
    p->host.mem_alloc = host_mem_alloc;
    p->host.mem_free = host_mem_free;
    p->host.get_param = host_get_param;
    p->host.get_pin = host_get_pin;
    ld->list[ld->count++] = p;
    p = NULL; /* transferred */
    rc = 0;
out:
    if (p) {
        p->dl = NULL; /* the caller closes it */
        pthread_mutex_destroy(&p->op_lock);
        msigi_free(p->file);
        msigi_free(p);
    }
    return rc;
}

int msigi_loader_init(struct msig_ctx *ctx)
{
    int rc = 0;
    struct msigi_loader *ld = msigi_calloc(1, sizeof(*ld));
    if (!ld)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory creating the plugin loader");
    if (pthread_mutex_init(&ld->lock, NULL) != 0) {
        msigi_free(ld);
        return msigi_err(ctx, MSIG_E_FAILED, "cannot create the plugin loader mutex");
    }
    ctx->loader = ld;
    for (size_t i = 0; builtin_entries[i]; i++) {
        rc = register_plugin(ctx, builtin_entries[i](), "(built-in)", NULL, NULL);
        if (rc != 0)
            goto out;
    }
out:
    return rc;
}

void msigi_loader_fini(struct msig_ctx *ctx)
{
    struct msigi_loader *ld = ctx ? ctx->loader : NULL;
    if (!ld)
        return;
    for (size_t i = ld->count; i > 0; i--) {
        struct msigi_plugin *p = ld->list[i - 1];
        if (p->open_keys) {
            /* Keys still open: freeing the instance would pull the plugin from under them. */
            msigi_log(ctx, MSIG_LOG_WARN, "plugin %s: %zu key(s) still open at context free",
                      p->desc.name, p->open_keys);
            continue;
        }
        plugin_free(p);
    }
    pthread_mutex_destroy(&ld->lock);
    msigi_free(ld);
    ctx->loader = NULL;
}

/* ---------------------------------------------------------------- external plugins */

static int check_not_writable(struct msig_ctx *ctx, const char *path, const char *what)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return msigi_err(ctx, errno == ENOENT ? MSIG_E_NOT_FOUND : MSIG_E_IO,
                         "plugin %s: %s: %s", path, what, strerror(errno));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return msigi_err(ctx, MSIG_E_ABI,
                         "plugin %s: refusing to load: %s is group- or world-writable "
                         "(mode %04o)",
                         path, what, (unsigned)(st.st_mode & 07777));
    return 0;
}

int msig_ctx_load_plugin(struct msig_ctx *ctx, const char *path)
{
    int rc = 0;
    void *dl = NULL;
    char *dir = NULL;

    if (!ctx || !path || !*path)
        return msigi_err(ctx, MSIG_E_INVALID, "msig_ctx_load_plugin: no path given");
    msigi_err_clear(ctx);
    if (!ctx->loader || !ctx->loader->enabled) {
        rc = msigi_err(ctx, MSIG_E_UNSUPPORTED,
                       "plugin %s: external plugins are not enabled (msig_ctx_enable_plugins)",
                       path);
        goto out;
    }
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        rc = msigi_err(ctx, errno == ENOENT ? MSIG_E_NOT_FOUND : MSIG_E_IO, "plugin %s: %s",
                       path, strerror(errno));
        goto out;
    }
    rc = check_not_writable(ctx, real, "the file");
    if (rc != 0)
        goto out;
    dir = msigi_strdup(real);
    if (!dir) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "plugin %s: out of memory", path);
        goto out;
    }
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    rc = check_not_writable(ctx, dir, "its directory");
    if (rc != 0)
        goto out;

    dlerror();
    dl = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        rc = msigi_err(ctx, MSIG_E_ABI, "plugin %s: cannot load: %s", path, e ? e : "dlopen failed");
        goto out;
    }
    void *sym = dlsym(dl, MSIG_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        if (dlsym(dl, "msig_plugin_entry_v2"))
            rc = msigi_err(ctx, MSIG_E_ABI,
                           "plugin %s: plugin needs a newer core (it exports "
                           "msig_plugin_entry_v2, this core supports ABI 1)",
                           path);
        else
            rc = msigi_err(ctx, MSIG_E_ABI,
                           "plugin %s: not an msig plugin: no %s symbol", path,
                           MSIG_PLUGIN_ENTRY_SYMBOL);
        goto out;
    }
    msig_plugin_entry_fn *entry;
    /* POSIX guarantees function pointers round-trip through void * for dlsym. */
    *(void **)&entry = sym;
    rc = register_plugin(ctx, entry(), path, real, dl);
    if (rc != 0)
        goto out;
    dl = NULL; /* transferred */
out:
    if (dl)
        dlclose(dl);
    msigi_free(dir);
    return rc;
}

static int has_so_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

/* Loads every *.so in dir (sorted by name). A missing directory is not an error; a plugin
 * that fails its checks is skipped with a warning, so one broken file does not disable the
 * others. */
static int scan_dir(struct msig_ctx *ctx, const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        if (errno != ENOENT)
            msigi_log(ctx, MSIG_LOG_WARN, "plugin directory %s: %s", dir, strerror(errno));
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (has_so_suffix(names[i]->d_name)) {
            char path[PATH_MAX];
            int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
            if (len > 0 && (size_t)len < sizeof(path) && msig_ctx_load_plugin(ctx, path) != 0)
                msigi_log(ctx, MSIG_LOG_WARN, "%s (skipped)", msig_ctx_last_error(ctx));
        }
        free(names[i]); /* allocated by scandir */
    }
    free(names);
    msigi_err_clear(ctx);
    return 0;
}

int msig_ctx_enable_plugins(struct msig_ctx *ctx, const char *dir)
{
    int rc = 0;
    char *copy = NULL;

    if (!ctx || !ctx->loader)
        return MSIG_E_INVALID;
    msigi_err_clear(ctx);
    ctx->loader->enabled = 1;
    if (dir) {
        rc = scan_dir(ctx, dir);
        goto out;
    }
    /* The environment is read here, in the core, never by plugins (design D.1.7). */
    const char *env = getenv("MSIG_PLUGIN_PATH");
    if (!env || !*env) {
        rc = scan_dir(ctx, MSIG_PLUGIN_DIR);
        goto out;
    }
    copy = msigi_strdup(env);
    if (!copy) {
        rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory reading MSIG_PLUGIN_PATH");
        goto out;
    }
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        rc = scan_dir(ctx, d);
        if (rc != 0)
            goto out;
    }
out:
    msigi_free(copy);
    return rc;
}

size_t msig_ctx_plugin_count(struct msig_ctx *ctx)
{
    return ctx && ctx->loader ? ctx->loader->count : 0;
}

int msig_ctx_plugin_info(struct msig_ctx *ctx, size_t index, struct msig_plugin_info *info)
{
    if (!ctx || !ctx->loader || !info || info->struct_size < sizeof(uint32_t))
        return msigi_err(ctx, MSIG_E_INVALID, "msig_ctx_plugin_info: bad argument");
    if (index >= ctx->loader->count)
        return msigi_err(ctx, MSIG_E_NOT_FOUND, "no plugin with index %zu (there are %zu)",
                         index, ctx->loader->count);
    const struct msigi_plugin *p = ctx->loader->list[index];
    struct msig_plugin_info full = {
        .struct_size = info->struct_size,
        .name = p->desc.name,
        .version = p->desc.version ? p->desc.version : "",
        .file = p->file ? p->file : "(built-in)",
        .schemes = p->desc.schemes,
        .abi_major = p->desc.abi_major,
        .abi_minor = p->desc.abi_minor,
    };
    size_t n = info->struct_size < sizeof(full) ? info->struct_size : sizeof(full);
    memcpy(info, &full, n);
    return 0;
}

/* ---------------------------------------------------------------- lookup and calls */

struct msigi_plugin *msigi_loader_find_scheme(struct msig_ctx *ctx, const char *spec)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (!colon || colon == spec || !ctx->loader)
        return NULL;
    size_t n = (size_t)(colon - spec);
    for (size_t k = 0; k < ctx->loader->count; k++) {
        struct msigi_plugin *p = ctx->loader->list[k];
        for (size_t i = 0; p->desc.schemes[i]; i++) {
            if (strlen(p->desc.schemes[i]) == n && strncmp(p->desc.schemes[i], spec, n) == 0)
                return p;
        }
    }
    return NULL;
}

struct msigi_plugin *msigi_loader_find_name(struct msig_ctx *ctx, const char *name)
{
    for (size_t k = 0; ctx->loader && k < ctx->loader->count; k++) {
        if (strcmp(ctx->loader->list[k]->desc.name, name) == 0)
            return ctx->loader->list[k];
    }
    return NULL;
}

void msigi_loader_call_begin(struct msigi_plugin *p)
{
    if (!(p->desc.flags & MSIG_PLUGIN_F_THREADSAFE))
        pthread_mutex_lock(&p->op_lock);
    p->err_code = 0;
    p->err[0] = '\0';
}

static int known_code(int rc)
{
    return rc <= MSIG_E_FAILED && rc >= MSIG_E_KEY;
}

int msigi_loader_call_end(struct msigi_plugin *p, int rc, const char *what)
{
    char detail[MSIGI_PLUGIN_ERRMAX];
    int has_detail = p->err[0] != '\0';
    if (has_detail)
        memcpy(detail, p->err, sizeof(detail));
    p->err[0] = '\0';
    if (!(p->desc.flags & MSIG_PLUGIN_F_THREADSAFE))
        pthread_mutex_unlock(&p->op_lock);
    if (rc == 0)
        return 0;
    int code = known_code(rc) ? rc : MSIG_E_FAILED;
    if (has_detail)
        return msigi_err(p->ctx, code, "%s: %s", what, detail);
    if (code != rc)
        return msigi_err(p->ctx, code, "%s: plugin returned unknown code %d", what, rc);
    return msigi_err(p->ctx, code, "%s: %s", what, msig_strerror(code));
}

int msigi_loader_instance(struct msig_ctx *ctx, struct msigi_plugin *p)
{
    int rc = 0;
    pthread_mutex_lock(&ctx->loader->lock);
    if (p->inst_ready)
        goto out;
    void *inst = NULL;
    char what[160];
    snprintf(what, sizeof(what), "plugin %s: instance_new failed", p->desc.name);
    msigi_loader_call_begin(p);
    rc = p->desc.instance_new(&p->host, &inst);
    rc = msigi_loader_call_end(p, rc, what);
    if (rc != 0) {
        free_hostparams(p);
        goto out;
    }
    p->inst = inst;
    p->inst_ready = 1;
out:
    pthread_mutex_unlock(&ctx->loader->lock);
    return rc;
}
