/* loader.c -- plugin loader: built-in plugins from the generated msig_builtins.h table,
 * external plugins via dlopen, ABI checks before anything of the plugin runs. A plugin file
 * is loaded once per process: contexts share its descriptor and its one instance through a
 * reference count (the process registry below); each context keeps its own list of the
 * plugins it registered, and of those refused, for messages. */
#include "plugin.h"

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
#define MSIG_PLUGIN_DIR "/usr/local/lib/msig/plugins"
#endif

#define MAX_PLUGINS 64
#define MAX_REFUSED 16

/* Built-in plugins: msig_builtins.h (generated) holds MSIG_BUILTIN(id) lines. */
#define MSIG_BUILTIN(id) const struct msig_plugin *msig_plugin_##id##_entry_v1(void);
#include "msig_builtins.h"
#undef MSIG_BUILTIN

static msig_plugin_entry_fn *const builtin_entries[] = {
#define MSIG_BUILTIN(id) msig_plugin_##id##_entry_v1,
#include "msig_builtins.h"
#undef MSIG_BUILTIN
    NULL
};

struct ctx_plugin {
    struct msigi_plugin *p;
    int explicit_load; /* given by path, not found by a directory scan */
};

struct refused {
    char *file;
    char *why;
};

struct msigi_loader {
    struct ctx_plugin list[MAX_PLUGINS];
    size_t count;
    int enabled;
    struct refused refused[MAX_REFUSED];
    size_t n_refused;
};

/* The process registry: every loaded plugin, guarded by reg_lock (also held around
 * instance_new and instance_free, which it serialises). Recursive, since a failing
 * registration releases what it took while holding it. */
static pthread_mutex_t reg_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct msigi_plugin *registry;

void msigi_loader_lock(void)
{
    pthread_mutex_lock(&reg_lock);
}

void msigi_loader_unlock(void)
{
    pthread_mutex_unlock(&reg_lock);
}

/* ---------------------------------------------------------------- descriptor checks */

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

static const char *missing_op(const struct msig_plugin *d)
{
    return !d->instance_new     ? "instance_new"
           : !d->instance_free  ? "instance_free"
           : !d->key_open       ? "key_open"
           : !d->key_close      ? "key_close"
           : !d->key_info       ? "key_info"
           : !d->key_public_der ? "key_public_der"
           : !d->sign_digest    ? "sign_digest"
                                : NULL;
}

/* Checks what the plugin declares (on the copy in the core). where: file or "(built-in)". */
static int check_desc(struct msig_ctx *ctx, const struct msig_plugin *d, const char *where)
{
    if (!valid_name(d->name))
        return msigi_err(ctx, MSIG_E_ABI, "plugin %s: name \"%s\" is not [a-z0-9-]+", where,
                         d->name ? d->name : "(null)");
    const char *missing = missing_op(d);
    if (missing)
        return msigi_err(ctx, MSIG_E_ABI, "plugin %s (%s): required operation %s is NULL", where,
                         d->name, missing);
    if (!d->schemes || !d->schemes[0])
        return msigi_err(ctx, MSIG_E_ABI, "plugin %s (%s): declares no key scheme", where, d->name);
    for (size_t i = 0; d->schemes[i]; i++) {
        if (!valid_name(d->schemes[i]))
            return msigi_err(ctx, MSIG_E_ABI,
                             "plugin %s (%s): scheme \"%s\" is not "
                             "[a-z0-9-]+",
                             where, d->name, d->schemes[i]);
    }
    return 0;
}

/* Makes the core's copy of a descriptor: checks major and size, copies what this core
 * knows (min of both sizes), checks the rest. *out is msigi_malloc'd. */
static int module_new(struct msig_ctx *ctx, const struct msig_plugin *d, const char *where,
                      struct msigi_plugin **out)
{
    *out = NULL;
    if (!d)
        return msigi_err(ctx, MSIG_E_ABI, "plugin %s: entry function returned NULL", where);
    if (d->abi_major != MSIG_PLUGIN_ABI_MAJOR)
        return msigi_err(ctx, MSIG_E_ABI,
                         "plugin %s: ABI major version %u, this core "
                         "supports %d",
                         where, (unsigned)d->abi_major, MSIG_PLUGIN_ABI_MAJOR);
    if (d->struct_size < MSIG_PLUGIN_SIZE_1_0)
        return msigi_err(ctx, MSIG_E_ABI,
                         "plugin %s: descriptor is %u bytes, ABI 1.0 needs "
                         "at least %zu",
                         where, (unsigned)d->struct_size, (size_t)MSIG_PLUGIN_SIZE_1_0);
    struct msigi_plugin *p = msigi_calloc(1, sizeof(*p));
    if (!p)
        return msigi_err(ctx, MSIG_E_NOMEM, "plugin %s: out of memory", where);
    size_t n = d->struct_size < sizeof(p->desc) ? d->struct_size : sizeof(p->desc);
    memcpy(&p->desc, d, n);
    p->desc.struct_size = (uint32_t)n;
    int rc = check_desc(ctx, &p->desc, where);
    if (rc != 0) {
        msigi_free(p);
        return rc;
    }
    pthread_mutex_init(&p->op_lock, NULL);
    pthread_mutex_init(&p->param_lock, NULL);
    msigi_plugcall_init_host(p);
    *out = p;
    return 0;
}

/* ---------------------------------------------------------------- the registry */

static struct msigi_plugin *registry_find(msig_plugin_entry_fn *builtin, dev_t dev, ino_t ino)
{
    for (struct msigi_plugin *p = registry; p; p = p->next) {
        if (builtin ? p->builtin == builtin : (!p->builtin && p->dev == dev && p->ino == ino))
            return p;
    }
    return NULL;
}

static void registry_remove(struct msigi_plugin *p)
{
    for (struct msigi_plugin **pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

const char *msigi_plugin_name(const struct msigi_plugin *p)
{
    return p->desc.name;
}

void msigi_plugin_ref(struct msigi_plugin *p)
{
    pthread_mutex_lock(&reg_lock);
    p->refs++;
    pthread_mutex_unlock(&reg_lock);
}

/* The last reference frees the instance and the module (dlclose unless NO_UNLOAD). */
void msigi_plugin_unref(struct msigi_plugin *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&reg_lock);
    if (--p->refs > 0) {
        pthread_mutex_unlock(&reg_lock);
        return;
    }
    registry_remove(p);
    msigi_plugcall_instance_free(p);
    pthread_mutex_unlock(&reg_lock);
    if (p->dl && !(p->desc.flags & MSIG_PLUGIN_F_NO_UNLOAD))
        dlclose(p->dl);
    pthread_mutex_destroy(&p->op_lock);
    pthread_mutex_destroy(&p->param_lock);
    msigi_free(p->file);
    msigi_free(p);
}

/* ---------------------------------------------------------------- per-context list */

static void note_refused(struct msig_ctx *ctx, const char *file)
{
    struct msigi_loader *ld = ctx->loader;
    if (ld->n_refused >= MAX_REFUSED)
        return;
    struct refused *r = &ld->refused[ld->n_refused];
    r->file = msigi_strdup(file);
    r->why = msigi_strdup(msig_ctx_last_error(ctx));
    if (r->file && r->why) {
        ld->n_refused++;
        return;
    }
    msigi_free(r->file);
    msigi_free(r->why);
}

static int shares_scheme(const struct msigi_plugin *a, const struct msigi_plugin *b,
                         const char **which)
{
    for (size_t i = 0; a->desc.schemes[i]; i++) {
        for (size_t j = 0; b->desc.schemes[j]; j++) {
            if (strcmp(a->desc.schemes[i], b->desc.schemes[j]) == 0) {
                *which = a->desc.schemes[i];
                return 1;
            }
        }
    }
    return 0;
}

static const char *where_of(const struct msigi_plugin *p)
{
    return p->file ? p->file : "(built-in)";
}

static void ctx_drop(struct msig_ctx *ctx, size_t k)
{
    struct msigi_loader *ld = ctx->loader;
    msigi_plugcall_forget_ctx(ld->list[k].p, ctx);
    msigi_plugin_unref(ld->list[k].p);
    memmove(&ld->list[k], &ld->list[k + 1], (ld->count - k - 1) * sizeof(ld->list[0]));
    ld->count--;
}

/* Is p in conflict with a plugin of ctx? Returns 0 (none), 1 (p is already there: nothing to
 * do), or an error. An explicitly loaded plugin replaces a scanned one of the same name. */
static int ctx_conflict(struct msig_ctx *ctx, struct msigi_plugin *p, const char *where,
                        int explicit_load)
{
    struct msigi_loader *ld = ctx->loader;
    for (size_t k = 0; k < ld->count; k++) {
        struct msigi_plugin *o = ld->list[k].p;
        const char *s = NULL;
        if (o == p) {
            if (explicit_load)
                msigi_log(ctx, MSIG_LOG_INFO,
                          "plugin %s: already loaded (found by the "
                          "directory scan); loaded once",
                          where);
            ld->list[k].explicit_load |= explicit_load;
            return 1;
        }
        if (strcmp(o->desc.name, p->desc.name) == 0 && explicit_load &&
            !ld->list[k].explicit_load) {
            msigi_log(ctx, MSIG_LOG_WARN,
                      "plugin %s: replaces plugin \"%s\" found by the "
                      "directory scan in %s (the explicit file wins)",
                      where, o->desc.name, where_of(o));
            ctx_drop(ctx, k);
            return ctx_conflict(ctx, p, where, explicit_load);
        }
        if (strcmp(o->desc.name, p->desc.name) == 0)
            return msigi_err(ctx, MSIG_E_EXISTS,
                             "plugin %s: a plugin named \"%s\" is already "
                             "loaded from %s",
                             where, p->desc.name, where_of(o));
        if (shares_scheme(p, o, &s))
            return msigi_err(ctx, MSIG_E_EXISTS,
                             "plugin %s (%s): scheme \"%s\" is already "
                             "handled by plugin \"%s\"",
                             where, p->desc.name, s, o->desc.name);
    }
    if (ld->count >= MAX_PLUGINS)
        return msigi_err(ctx, MSIG_E_LIMIT, "plugin %s: more than %d plugins", where, MAX_PLUGINS);
    return 0;
}

/* Adds p (one reference, taken by the caller) to ctx, or releases it on conflict. */
static int ctx_attach(struct msig_ctx *ctx, struct msigi_plugin *p, const char *where,
                      int explicit_load)
{
    int rc = ctx_conflict(ctx, p, where, explicit_load);
    if (rc != 0) {
        msigi_plugin_unref(p);
        return rc == 1 ? 0 : rc;
    }
    struct msigi_loader *ld = ctx->loader;
    ld->list[ld->count].p = p;
    ld->list[ld->count].explicit_load = explicit_load;
    ld->count++;
    return 0;
}

/* ---------------------------------------------------------------- built-ins */

static int attach_builtin(struct msig_ctx *ctx, msig_plugin_entry_fn *entry)
{
    pthread_mutex_lock(&reg_lock);
    struct msigi_plugin *p = registry_find(entry, 0, 0);
    int rc = 0;
    if (p) {
        p->refs++;
    } else {
        rc = module_new(ctx, entry(), "(built-in)", &p);
        if (rc == 0) {
            p->builtin = entry;
            p->refs = 1;
            p->next = registry;
            registry = p;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return rc != 0 ? rc : ctx_attach(ctx, p, "(built-in)", 1);
}

int msigi_loader_init(struct msig_ctx *ctx)
{
    struct msigi_loader *ld = msigi_calloc(1, sizeof(*ld));
    if (!ld)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory creating the plugin loader");
    ctx->loader = ld;
    for (size_t i = 0; builtin_entries[i]; i++) {
        int rc = attach_builtin(ctx, builtin_entries[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void msigi_loader_fini(struct msig_ctx *ctx)
{
    struct msigi_loader *ld = ctx ? ctx->loader : NULL;
    if (!ld)
        return;
    while (ld->count > 0)
        ctx_drop(ctx, ld->count - 1);
    for (size_t i = 0; i < ld->n_refused; i++) {
        msigi_free(ld->refused[i].file);
        msigi_free(ld->refused[i].why);
    }
    msigi_free(ld);
    ctx->loader = NULL;
}

/* ---------------------------------------------------------------- external plugins */

static int check_not_writable(struct msig_ctx *ctx, const char *path, const char *what,
                              struct stat *st)
{
    if (stat(path, st) != 0)
        return msigi_err(ctx, errno == ENOENT ? MSIG_E_NOT_FOUND : MSIG_E_IO, "plugin %s: %s: %s",
                         path, what, strerror(errno));
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return msigi_err(ctx, MSIG_E_ABI,
                         "plugin %s: refusing to load: %s is group- or world-writable "
                         "(mode %04o)",
                         path, what, (unsigned)(st->st_mode & 07777));
    return 0;
}

/* Resolves path and checks the file and its directory; fills real and st. */
static int check_file(struct msig_ctx *ctx, const char *path, char real[PATH_MAX], struct stat *st)
{
    if (!realpath(path, real))
        return msigi_err(ctx, errno == ENOENT ? MSIG_E_NOT_FOUND : MSIG_E_IO, "plugin %s: %s", path,
                         strerror(errno));
    int rc = check_not_writable(ctx, real, "the file", st);
    if (rc != 0)
        return rc;
    char dir[PATH_MAX];
    memcpy(dir, real, PATH_MAX);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    struct stat dst;
    return check_not_writable(ctx, dir, "its directory", &dst);
}

/* dlopens real and returns its descriptor's module (not yet in the registry). */
static int open_module(struct msig_ctx *ctx, const char *path, const char *real,
                       struct msigi_plugin **out)
{
    *out = NULL;
    dlerror();
    void *dl = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        return msigi_err(ctx, MSIG_E_ABI, "plugin %s: cannot load: %s", path,
                         e ? e : "dlopen failed");
    }
    int rc = 0;
    void *sym = dlsym(dl, MSIG_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        if (dlsym(dl, "msig_plugin_entry_v2"))
            rc = msigi_err(ctx, MSIG_E_ABI,
                           "plugin %s: plugin needs a newer core (it exports "
                           "msig_plugin_entry_v2, this core supports ABI 1)",
                           path);
        else
            rc = msigi_err(ctx, MSIG_E_ABI, "plugin %s: not an msig plugin: no %s symbol", path,
                           MSIG_PLUGIN_ENTRY_SYMBOL);
        dlclose(dl);
        return rc;
    }
    msig_plugin_entry_fn *entry;
    /* POSIX guarantees function pointers round-trip through void * for dlsym. */
    *(void **)&entry = sym;
    rc = module_new(ctx, entry(), path, out);
    if (rc != 0) {
        dlclose(dl);
        return rc;
    }
    (*out)->dl = dl;
    (*out)->file = msigi_strdup(real);
    if (!(*out)->file) {
        (*out)->refs = 1; /* not in the registry yet: the unref frees it */
        msigi_plugin_unref(*out);
        *out = NULL;
        return msigi_err(ctx, MSIG_E_NOMEM, "plugin %s: out of memory", path);
    }
    return 0;
}

static int load_file(struct msig_ctx *ctx, const char *path, int explicit_load)
{
    char real[PATH_MAX];
    struct stat st;
    int rc = check_file(ctx, path, real, &st);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&reg_lock);
    struct msigi_plugin *p = registry_find(NULL, st.st_dev, st.st_ino);
    if (p) {
        p->refs++;
    } else {
        rc = open_module(ctx, path, real, &p);
        if (rc == 0) {
            p->dev = st.st_dev;
            p->ino = st.st_ino;
            p->refs = 1;
            p->next = registry;
            registry = p;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return rc != 0 ? rc : ctx_attach(ctx, p, path, explicit_load);
}

int msig_ctx_load_plugin(struct msig_ctx *ctx, const char *path)
{
    if (!ctx || !path || !*path)
        return msigi_err(ctx, MSIG_E_INVALID, "msig_ctx_load_plugin: no path given");
    msigi_err_clear(ctx);
    if (!ctx->loader || !ctx->loader->enabled)
        return msigi_err(ctx, MSIG_E_UNSUPPORTED,
                         "plugin %s: external plugins are not "
                         "enabled (msig_ctx_enable_plugins)",
                         path);
    return load_file(ctx, path, 1);
}

/* The directory scan loads only names ending in ".so". */
static int has_so_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

/* Loads every *.so in dir (sorted by name). A missing directory is not an error; a plugin
 * that fails its checks is skipped with a warning (and remembered for messages), so one
 * broken file does not disable the others. */
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
            if (len > 0 && (size_t)len < sizeof(path) && load_file(ctx, path, 0) != 0) {
                msigi_log(ctx, MSIG_LOG_WARN, "%s (skipped)", msig_ctx_last_error(ctx));
                note_refused(ctx, path);
            }
        }
        free(names[i]); /* allocated by scandir */
    }
    free(names);
    msigi_err_clear(ctx);
    return 0;
}

/* The installed plugin directory, found from where libmsig itself was loaded
 * (<libdir>/MSIG_PLUGIN_DIR_FROM_LIBDIR), so that an install moved to another prefix, or
 * installed with `cmake --install --prefix P`, finds its own plugins; else the configured
 * MSIG_PLUGIN_DIR. */
static const char *installed_plugin_dir(char *buf, size_t cap)
{
#ifdef MSIG_PLUGIN_DIR_FROM_LIBDIR
    Dl_info info;
    struct stat st;

    if (dladdr((void *)msig_ctx_enable_plugins, &info) != 0 && info.dli_fname != NULL) {
        const char *slash = strrchr(info.dli_fname, '/');
        if (slash != NULL &&
            snprintf(buf, cap, "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname,
                     MSIG_PLUGIN_DIR_FROM_LIBDIR) < (int)cap &&
            stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
            return buf;
    }
#else
    (void)buf;
    (void)cap;
#endif
    return MSIG_PLUGIN_DIR;
}

int msig_ctx_enable_plugins(struct msig_ctx *ctx, const char *dir)
{
    int rc = 0;
    char *copy = NULL;

    if (!ctx || !ctx->loader)
        return MSIG_E_INVALID;
    msigi_err_clear(ctx);
    ctx->loader->enabled = 1;
    if (dir)
        return scan_dir(ctx, dir);
    /* The environment is read here, in the core, never by plugins (design D.1.7). */
    const char *env = getenv("MSIG_PLUGIN_PATH");
    if (!env || !*env) {
        char own[PATH_MAX];
        return scan_dir(ctx, installed_plugin_dir(own, sizeof(own)));
    }
    copy = msigi_strdup(env);
    if (!copy)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory reading MSIG_PLUGIN_PATH");
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d && rc == 0; d = strtok_r(NULL, ":", &save))
        rc = scan_dir(ctx, d);
    msigi_free(copy);
    return rc;
}

/* ---------------------------------------------------------------- listing */

size_t msig_ctx_plugin_count(struct msig_ctx *ctx)
{
    return ctx && ctx->loader ? ctx->loader->count : 0;
}

int msig_ctx_plugin_info(struct msig_ctx *ctx, size_t index, struct msig_plugin_info *info)
{
    if (!ctx || !ctx->loader || !info || info->struct_size < sizeof(uint32_t))
        return msigi_err(ctx, MSIG_E_INVALID, "msig_ctx_plugin_info: bad argument");
    if (index >= ctx->loader->count)
        return msigi_err(ctx, MSIG_E_NOT_FOUND, "no plugin with index %zu (there are %zu)", index,
                         ctx->loader->count);
    const struct msigi_plugin *p = ctx->loader->list[index].p;
    static const char *const none[] = { NULL };
    struct msig_plugin_info full = {
        .struct_size = info->struct_size,
        .name = p->desc.name,
        .version = p->desc.version ? p->desc.version : "",
        .file = p->file ? p->file : "(built-in)",
        .schemes = p->desc.schemes,
        .abi_major = p->desc.abi_major,
        .abi_minor = p->desc.abi_minor,
        .params = p->desc.params ? p->desc.params : none,
        .can_list = p->desc.key_list != NULL,
    };
    size_t n = info->struct_size < sizeof(full) ? info->struct_size : sizeof(full);
    memcpy(info, &full, n);
    return 0;
}

size_t msig_ctx_refused_count(struct msig_ctx *ctx)
{
    return ctx && ctx->loader ? ctx->loader->n_refused : 0;
}

int msig_ctx_refused_info(struct msig_ctx *ctx, size_t index, const char **file, const char **why)
{
    if (!ctx || !ctx->loader || !file || !why || index >= ctx->loader->n_refused)
        return msigi_err(ctx, MSIG_E_INVALID, "msig_ctx_refused_info: bad argument");
    *file = ctx->loader->refused[index].file;
    *why = ctx->loader->refused[index].why;
    return 0;
}

/* ---------------------------------------------------------------- lookup */

size_t msigi_loader_scheme_len(const char *spec)
{
    size_t n = 0;
    while (spec && ((spec[n] >= 'a' && spec[n] <= 'z') || (spec[n] >= '0' && spec[n] <= '9') ||
                    spec[n] == '-'))
        n++;
    return spec && n > 0 && n <= 64 && spec[n] == ':' ? n : 0;
}

struct msigi_plugin *msigi_loader_find_scheme(struct msig_ctx *ctx, const char *spec)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (!colon || colon == spec || !ctx->loader)
        return NULL;
    size_t n = (size_t)(colon - spec);
    for (size_t k = 0; k < ctx->loader->count; k++) {
        struct msigi_plugin *p = ctx->loader->list[k].p;
        for (size_t i = 0; p->desc.schemes[i]; i++) {
            if (strlen(p->desc.schemes[i]) == n && strncmp(p->desc.schemes[i], spec, n) == 0)
                return p;
        }
    }
    return NULL;
}

int msigi_loader_no_scheme(struct msig_ctx *ctx, const char *spec, const char *label)
{
    char why[MSIGI_ERRMAX];
    size_t used = 0;
    why[0] = '\0';
    for (size_t i = 0; ctx->loader && i < ctx->loader->n_refused && used < sizeof(why); i++)
        used +=
            (size_t)snprintf(why + used, sizeof(why) - used, "%s%s",
                             i ? "; " : "; refused at load time: ", ctx->loader->refused[i].why);
    return msigi_err(ctx, MSIG_E_UNSUPPORTED,
                     "key %s: no loaded plugin serves the '%.*s' "
                     "scheme (see 'msig plugins')%s",
                     label, (int)msigi_loader_scheme_len(spec), spec, why);
}

/* ---------------------------------------------------------------- parameters */

static int param_owner(const struct msigi_plugin *p, const char *name)
{
    size_t n = strlen(p->desc.name);
    if (strncmp(name, p->desc.name, n) == 0 && name[n] == '.')
        return 1;
    for (size_t i = 0; p->desc.schemes[i]; i++) {
        n = strlen(p->desc.schemes[i]);
        if (strncmp(name, p->desc.schemes[i], n) == 0 && name[n] == '.')
            return 1;
    }
    return 0;
}

static int param_declared(const struct msigi_plugin *p, const char *name)
{
    if (!p->desc.params)
        return 1; /* a plugin that lists nothing takes any name in its namespace */
    for (size_t i = 0; p->desc.params[i]; i++)
        if (strcmp(p->desc.params[i], name) == 0)
            return 1;
    return 0;
}

/* Appends the names p declares to buf. */
static size_t list_params(const struct msigi_plugin *p, char *buf, size_t cap, size_t used)
{
    for (size_t i = 0; p->desc.params && p->desc.params[i] && used < cap; i++)
        used +=
            (size_t)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", p->desc.params[i]);
    return used;
}

int msig_ctx_check_param(struct msig_ctx *ctx, const char *name)
{
    if (!ctx || !ctx->loader || !name)
        return msigi_err(ctx, MSIG_E_INVALID, "msig_ctx_check_param: bad argument");
    char names[MSIGI_ERRMAX / 2];
    size_t used = 0;
    names[0] = '\0';
    for (size_t k = 0; k < ctx->loader->count; k++) {
        const struct msigi_plugin *p = ctx->loader->list[k].p;
        if (!param_owner(p, name))
            continue;
        if (param_declared(p, name))
            return 0;
        list_params(p, names, sizeof(names), 0);
        return msigi_err(ctx, MSIG_E_NOT_FOUND,
                         "parameter %s: plugin %s takes no such "
                         "parameter (it takes: %s)",
                         name, p->desc.name, names[0] ? names : "none");
    }
    for (size_t k = 0; k < ctx->loader->count && used < sizeof(names); k++)
        used = list_params(ctx->loader->list[k].p, names, sizeof(names), used);
    return msigi_err(ctx, MSIG_E_NOT_FOUND,
                     "parameter %s: no loaded plugin owns the namespace "
                     "'%.*s' (valid names: %s)",
                     name, (int)strcspn(name, "."), name, names[0] ? names : "none declared");
}
