/* plugcall.c -- the one call path into plugins. Each call runs inside a frame on the calling
 * thread: the frame takes the instance lock (unless the plugin is thread-safe), knows the
 * context the call is for (so set_error, get_param and get_pin act for that context), carries
 * the NO_PROMPT flag, and collects the plugin's set_error detail. At the end the plugin's
 * result is translated at the boundary: codes a plugin may not return become MSIG_E_FAILED,
 * and the message becomes "key LABEL (plugin NAME): DETAIL". Also the host-services table. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "plugin.h"

#define SIG_DEFAULT_EC 72 /* the longest DER ECDSA-Sig-Value for P-256 */
#define PUB_DER_DEFAULT 16384

struct frame {
    struct frame *prev;
    struct msig_ctx *ctx;
    struct msigi_plugin *p;
    int no_prompt;
    int has_err;
    char err[MSIGI_PLUGIN_ERRMAX];
};

static _Thread_local struct frame *top;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* The innermost frame of this thread that is a call into p, or NULL. */
static struct frame *frame_of(const struct msigi_plugin *p)
{
    for (struct frame *f = top; f; f = f->prev)
        if (f->p == p)
            return f;
    return NULL;
}

/* Copies text from a plugin with control characters (C0, DEL, C1 as UTF-8) escaped. */
static void sanitize(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    for (; *s && o + 5 < cap; s++) {
        int c1 = s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F;
        if (*s < 0x20 || *s == 0x7F || c1) {
            unsigned v = c1 ? s[1] : *s;
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", v);
            s += c1;
        } else {
            dst[o++] = (char)*s;
        }
    }
    dst[o] = '\0';
}

/* ---------------------------------------------------------------- host services */

static void host_log_msg(void *host_data, int level, const char *msg)
{
    struct msigi_plugin *p = host_data;
    char line[MSIGI_PLUGIN_ERRMAX];
    if (level < MSIG_LOG_ERROR || level > MSIG_LOG_DEBUG)
        level = MSIG_LOG_INFO;
    sanitize(line, sizeof(line), msg);
    struct frame *f = frame_of(p);
    if (f) {
        msigi_log(f->ctx, level, "%s: %s", p->desc.name, line);
        return;
    }
    pthread_mutex_lock(&log_lock);
    if (p->log_ctx)
        msigi_log(p->log_ctx, level, "%s: %s", p->desc.name, line);
    pthread_mutex_unlock(&log_lock);
}

static void host_set_error(void *host_data, int code, const char *msg)
{
    (void)code; /* the return value decides; the code here is informative */
    struct frame *f = frame_of(host_data);
    if (!f)
        return; /* outside a call: nothing is waiting for the detail */
    sanitize(f->err, sizeof(f->err), msg);
    f->has_err = f->err[0] != '\0';
}

static void *host_mem_alloc(void *host_data, size_t len)
{
    (void)host_data;
    return len ? msigi_malloc(len) : NULL;
}

static void host_mem_free(void *host_data, void *ptr, size_t len)
{
    (void)host_data;
    msigi_free_secret(ptr, len);
}

/* Is key in p's namespace: "<name>." or "<scheme>." then at least one character? */
static int in_namespace(const struct msigi_plugin *p, const char *key)
{
    size_t n = strlen(p->desc.name);
    if (strncmp(key, p->desc.name, n) == 0 && key[n] == '.' && key[n + 1])
        return 1;
    for (size_t i = 0; p->desc.schemes[i]; i++) {
        n = strlen(p->desc.schemes[i]);
        if (strncmp(key, p->desc.schemes[i], n) == 0 && key[n] == '.' && key[n + 1])
            return 1;
    }
    return 0;
}

/* A copy of value that stays valid until instance_free, reused while unchanged. */
static const char *param_copy(struct msigi_plugin *p, const char *key, const char *v)
{
    const char *out = NULL;
    pthread_mutex_lock(&p->param_lock);
    for (struct msigi_hostparam *hp = p->params; hp; hp = hp->next) {
        if (strcmp(hp->key, key) == 0 && strcmp(hp->value, v) == 0) {
            out = hp->value;
            goto out;
        }
    }
    struct msigi_hostparam *hp = msigi_calloc(1, sizeof(*hp));
    char *k = msigi_strdup(key), *cv = msigi_strdup(v);
    if (!hp || !k || !cv) {
        msigi_free(hp);
        msigi_free(k);
        if (cv)
            msigi_free_secret(cv, strlen(cv));
        goto out;
    }
    hp->key = k;
    hp->value = cv;
    hp->next = p->params;
    p->params = hp;
    out = cv;
out:
    pthread_mutex_unlock(&p->param_lock);
    return out;
}

static int host_get_param(void *host_data, const char *key, const char **value)
{
    struct msigi_plugin *p = host_data;
    if (!key || !value)
        return MSIG_E_INVALID;
    *value = NULL;
    struct frame *f = frame_of(p);
    if (!f || !in_namespace(p, key))
        return MSIG_E_NOT_FOUND;
    const char *v = msigi_ctx_param(f->ctx, key);
    if (!v)
        return MSIG_E_NOT_FOUND;
    *value = param_copy(p, key, v);
    return *value ? 0 : MSIG_E_NOMEM;
}

static int host_get_pin(void *host_data, const struct msig_pin_request *req, char *pin,
                        size_t pin_cap, size_t *pin_len)
{
    if (!req || !pin || !pin_len || pin_cap == 0)
        return MSIG_E_INVALID;
    *pin_len = 0;
    struct frame *f = frame_of(host_data);
    if (!f)
        return MSIG_E_PIN_REQUIRED;
    struct msig_pin_request r = { .struct_size = sizeof(r) };
    size_t n = req->struct_size < sizeof(r) ? req->struct_size : sizeof(r);
    memcpy(&r, req, n);
    r.struct_size = sizeof(r);
    /* What the prompt shows is a label: a pin-value in the spec stays hidden. */
    char *shown = msigi_spec_label(r.key_spec ? r.key_spec : "");
    if (!shown)
        return MSIG_E_NOMEM;
    r.key_spec = shown;
    r.flags &= MSIG_PIN_F_RETRY | MSIG_PIN_F_FINAL_TRY | MSIG_PIN_F_COUNT_LOW;
    if (f->no_prompt)
        r.flags |= MSIG_PIN_F_NO_PROMPT;
    int rc = msigi_ctx_get_pin(f->ctx, &r, pin, pin_cap, pin_len);
    msigi_free(shown);
    if (rc == 0)
        pin[*pin_len] = '\0';
    return rc;
}

void msigi_plugcall_init_host(struct msigi_plugin *p)
{
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
}

void msigi_plugcall_forget_ctx(struct msigi_plugin *p, struct msig_ctx *ctx)
{
    pthread_mutex_lock(&log_lock);
    if (p->log_ctx == ctx)
        p->log_ctx = NULL;
    pthread_mutex_unlock(&log_lock);
}

/* ---------------------------------------------------------------- frames */

static void frame_begin(struct frame *f, struct msig_ctx *ctx, struct msigi_plugin *p,
                        uint32_t open_flags)
{
    memset(f, 0, sizeof(*f));
    f->ctx = ctx;
    f->p = p;
    f->no_prompt = (open_flags & MSIG_KEY_OPEN_F_NO_PROMPT) != 0;
    if (!(p->desc.flags & MSIG_PLUGIN_F_THREADSAFE))
        pthread_mutex_lock(&p->op_lock);
    if (ctx) {
        pthread_mutex_lock(&log_lock);
        p->log_ctx = ctx;
        pthread_mutex_unlock(&log_lock);
    }
    f->prev = top;
    top = f;
}

/* May a plugin return rc? */
static int plugin_code(int rc)
{
    return (rc <= MSIG_E_FAILED && rc >= MSIG_E_ABI) || rc == MSIG_E_IO || rc == MSIG_E_KEY;
}

/* Ends the call; translates rc. what: "key LABEL (plugin NAME)" or similar. */
static int frame_end(struct frame *f, int rc, const char *what)
{
    struct msigi_plugin *p = f->p;
    top = f->prev;
    if (!(p->desc.flags & MSIG_PLUGIN_F_THREADSAFE))
        pthread_mutex_unlock(&p->op_lock);
    if (rc == 0 || !f->ctx)
        return rc == 0 ? 0 : (plugin_code(rc) ? rc : MSIG_E_FAILED);
    if (!plugin_code(rc)) {
        if (f->has_err)
            return msigi_err(f->ctx, MSIG_E_FAILED,
                             "%s: %s (the plugin returned code %d, "
                             "which plugins may not return)",
                             what, f->err, rc);
        return msigi_err(f->ctx, MSIG_E_FAILED,
                         "%s: the plugin returned code %d, which "
                         "plugins may not return",
                         what, rc);
    }
    if (f->has_err)
        return msigi_err(f->ctx, rc, "%s: %s", what, f->err);
    return msigi_err(f->ctx, rc, "%s: %s", what, msig_strerror(rc));
}

static void key_what(const struct msig_key *key, char *buf, size_t cap)
{
    snprintf(buf, cap, "key %s (plugin %s)", key->label, key->plugin->desc.name);
}

/* ---------------------------------------------------------------- instances */

int msigi_plugcall_instance(struct msig_ctx *ctx, struct msigi_plugin *p)
{
    if (p->inst_ready)
        return 0;
    char what[160];
    snprintf(what, sizeof(what), "plugin %s: creating its instance", p->desc.name);
    struct frame f;
    void *inst = NULL;
    frame_begin(&f, ctx, p, MSIG_KEY_OPEN_F_NO_PROMPT);
    int rc = p->desc.instance_new(&p->host, &inst);
    rc = frame_end(&f, rc, what);
    if (rc != 0)
        return rc;
    p->inst = inst;
    p->inst_ready = 1;
    return 0;
}

void msigi_plugcall_instance_free(struct msigi_plugin *p)
{
    if (!p->inst_ready)
        return;
    struct frame f;
    frame_begin(&f, NULL, p, MSIG_KEY_OPEN_F_NO_PROMPT);
    p->desc.instance_free(p->inst);
    frame_end(&f, 0, "");
    p->inst = NULL;
    p->inst_ready = 0;
    pthread_mutex_lock(&p->param_lock);
    struct msigi_hostparam *hp = p->params;
    while (hp) {
        struct msigi_hostparam *next = hp->next;
        msigi_free_secret(hp->value, strlen(hp->value));
        msigi_free(hp->key);
        msigi_free(hp);
        hp = next;
    }
    p->params = NULL;
    pthread_mutex_unlock(&p->param_lock);
}

static int ensure_instance(struct msig_ctx *ctx, struct msigi_plugin *p)
{
    msigi_loader_lock();
    int rc = msigi_plugcall_instance(ctx, p);
    msigi_loader_unlock();
    return rc;
}

/* ---------------------------------------------------------------- key operations */

int msigi_plug_key_open(struct msig_ctx *ctx, struct msig_key *key)
{
    struct msigi_plugin *p = key->plugin;
    char what[600];
    key_what(key, what, sizeof(what));
    int rc = ensure_instance(ctx, p);
    if (rc != 0)
        return rc;
    /* The core never passes flag bits newer than the plugin's minor; NO_PROMPT is 1.0. */
    struct frame f;
    void *h = NULL;
    frame_begin(&f, ctx, p, key->open_flags);
    rc = p->desc.key_open(p->inst, key->spec, key->open_flags, &h);
    rc = frame_end(&f, rc, what);
    if (rc != 0)
        return rc;
    if (!h)
        return msigi_err(ctx, MSIG_E_ABI, "%s: the plugin returned success and no key handle",
                         what);
    key->handle = h;
    return 0;
}

int msigi_plug_key_info(struct msig_ctx *ctx, struct msig_key *key)
{
    struct msigi_plugin *p = key->plugin;
    char what[600];
    key_what(key, what, sizeof(what));
    memset(&key->info, 0, sizeof(key->info));
    key->info.struct_size = sizeof(key->info);
    struct frame f;
    frame_begin(&f, ctx, p, key->open_flags);
    int rc = p->desc.key_info(key->handle, &key->info);
    rc = frame_end(&f, rc, what);
    key->info.struct_size = sizeof(key->info);
    if (rc != 0)
        return rc;
    if (key->info.max_sig_len > MSIG_HOST_SIG_MAX || key->info.pub_der_len > MSIG_HOST_PUB_DER_MAX)
        return msigi_err(ctx, MSIG_E_LIMIT,
                         "%s: key_info asks for a %zu-byte signature and a "
                         "%zu-byte public key (limits %u and %u)",
                         what, key->info.max_sig_len, key->info.pub_der_len, MSIG_HOST_SIG_MAX,
                         MSIG_HOST_PUB_DER_MAX);
    return 0;
}

/* One call that fills buf; on MSIG_E_BUFFER_TOO_SMALL with a larger *len and retry set, tells
 * the caller to grow (returns 1). */
typedef int fill_fn(struct msig_key *key, void *arg, uint8_t *buf, size_t cap, size_t *len);

static int call_filling(struct msig_ctx *ctx, struct msig_key *key, fill_fn *fill, void *arg,
                        size_t cap, size_t max, const char *what, uint8_t **out, size_t *out_len)
{
    int rc = 0;
    uint8_t *buf = NULL;
    *out = NULL;
    *out_len = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (cap > max) {
            rc = msigi_err(ctx, MSIG_E_LIMIT,
                           "%s: the plugin needs a %zu-byte buffer (limit "
                           "%zu)",
                           what, cap, max);
            goto out;
        }
        msigi_free(buf);
        buf = msigi_calloc(1, cap);
        if (!buf) {
            rc = msigi_err(ctx, MSIG_E_NOMEM, "%s: out of memory", what);
            goto out;
        }
        size_t len = cap;
        struct frame f;
        frame_begin(&f, ctx, key->plugin, key->open_flags);
        rc = fill(key, arg, buf, cap, &len);
        if (rc == MSIG_E_BUFFER_TOO_SMALL && attempt == 0 && len > cap) {
            frame_end(&f, 0, what);
            cap = len;
            continue;
        }
        rc = frame_end(&f, rc, what);
        if (rc != 0)
            goto out;
        if (len > cap || len == 0) {
            rc = msigi_err(ctx, MSIG_E_ABI,
                           "%s: the plugin reported %zu bytes in a %zu-byte "
                           "buffer",
                           what, len, cap);
            goto out;
        }
        *out = buf;
        *out_len = len;
        buf = NULL; /* transferred */
        goto out;
    }
out:
    msigi_free(buf);
    return rc;
}

static int fill_public(struct msig_key *key, void *arg, uint8_t *buf, size_t cap, size_t *len)
{
    (void)arg;
    return key->plugin->desc.key_public_der(key->handle, buf, cap, len);
}

int msigi_plug_public_der(struct msig_ctx *ctx, struct msig_key *key, uint8_t **der,
                          size_t *der_len)
{
    char what[640];
    snprintf(what, sizeof(what), "key %s (plugin %s): reading its public key", key->label,
             key->plugin->desc.name);
    size_t cap = key->info.pub_der_len ? key->info.pub_der_len : PUB_DER_DEFAULT;
    return call_filling(ctx, key, fill_public, NULL, cap, MSIG_HOST_PUB_DER_MAX, what, der,
                        der_len);
}

struct sign_args {
    uint32_t scheme;
    const uint8_t *msg;
    size_t msg_len;
    const uint8_t *digest;
    uint32_t *fmt;
};

static int fill_sig(struct msig_key *key, void *arg, uint8_t *buf, size_t cap, size_t *len)
{
    struct sign_args *a = arg;
    const struct msig_plugin *d = &key->plugin->desc;
    *a->fmt = MSIG_SIGFMT_NATIVE;
    if (a->msg && msigi_plug_wants_message(key))
        return d->sign_message(key->handle, a->scheme, a->msg, a->msg_len, buf, cap, len, a->fmt);
    return d->sign_digest(key->handle, a->scheme, a->digest, 32, buf, cap, len, a->fmt);
}

int msigi_plug_wants_message(const struct msig_key *key)
{
    return key->plugin->desc.sign_message && (key->info.flags & MSIG_KEYINFO_F_PREFER_MESSAGE);
}

int msigi_plug_sign(struct msig_ctx *ctx, struct msig_key *key, uint32_t scheme, const uint8_t *msg,
                    size_t msg_len, const uint8_t digest[static 32], size_t cap, uint8_t **sig,
                    size_t *sig_len, uint32_t *fmt)
{
    char what[640];
    snprintf(what, sizeof(what), "signing with key %s (plugin %s)", key->label,
             key->plugin->desc.name);
    struct sign_args a = { scheme, msg, msg_len, digest, fmt };
    if (cap < SIG_DEFAULT_EC)
        cap = SIG_DEFAULT_EC;
    return call_filling(ctx, key, fill_sig, &a, cap, MSIG_HOST_SIG_MAX, what, sig, sig_len);
}

void msigi_plug_key_close(struct msig_key *key)
{
    if (!key->handle)
        return;
    struct frame f;
    frame_begin(&f, NULL, key->plugin, MSIG_KEY_OPEN_F_NO_PROMPT);
    key->plugin->desc.key_close(key->handle);
    frame_end(&f, 0, "");
    key->handle = NULL;
}

/* ---------------------------------------------------------------- key listing */

struct list_relay {
    msig_key_list_fn *cb;
    void *user;
    int cb_rc;
};

static int relay_entry(void *user, const struct msig_key_entry *e)
{
    struct list_relay *r = user;
    if (!e || e->struct_size < offsetof(struct msig_key_entry, spec) + sizeof(e->spec) || !e->spec)
        return 0; /* malformed entry: skipped */
    struct msig_key_entry full;
    memset(&full, 0, sizeof(full));
    size_t n = e->struct_size < sizeof(full) ? e->struct_size : sizeof(full);
    memcpy(&full, e, n);
    full.struct_size = sizeof(full);
    int rc = r->cb(r->user, &full);
    if (rc != 0)
        r->cb_rc = rc;
    return rc;
}

int msigi_plug_key_list(struct msig_ctx *ctx, struct msigi_plugin *p, const char *spec,
                        uint32_t flags, msig_key_list_fn *cb, void *user)
{
    char what[600];
    char *label = msigi_spec_label(spec);
    snprintf(what, sizeof(what), "listing keys of %s (plugin %s)", label ? label : "(spec)",
             p->desc.name);
    msigi_free(label);
    if (!p->desc.key_list)
        return msigi_err(ctx, MSIG_E_UNSUPPORTED, "%s: the plugin cannot list keys", what);
    int rc = ensure_instance(ctx, p);
    if (rc != 0)
        return rc;
    struct list_relay r = { cb, user, 0 };
    struct frame f;
    frame_begin(&f, ctx, p, flags);
    rc = p->desc.key_list(p->inst, spec, flags, relay_entry, &r);
    if (r.cb_rc != 0 && rc == r.cb_rc) {
        frame_end(&f, 0, what);
        return rc; /* the application's own code, passed through */
    }
    return frame_end(&f, rc, what);
}
