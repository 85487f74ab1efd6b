/* ctx.c -- context, last-error slot, logging, parameters, allocation wrapper. */
#include "ctx.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* Atomic: the workers of a read or a write allocate too, and exactly one allocation, on
 * whichever thread, must see the count reach zero. */
static atomic_long alloc_fail_countdown;

void msigi_alloc_fail_after(long n)
{
    atomic_store(&alloc_fail_countdown, n);
}
long msigi_alloc_fail_left(void)
{
    return atomic_load(&alloc_fail_countdown);
}

static int alloc_should_fail(void)
{
    if (atomic_load_explicit(&alloc_fail_countdown, memory_order_relaxed) <= 0)
        return 0;
    return atomic_fetch_sub(&alloc_fail_countdown, 1) == 1;
}

void *msigi_malloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *msigi_calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *msigi_map_alloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void msigi_map_free(void *p, size_t n)
{
    if (p != NULL)
        munmap(p, n ? n : 1);
}

void *msigi_realloc(void *p, size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

char *msigi_strdup(const char *s)
{
    return s ? msigi_strndup(s, strlen(s)) : NULL;
}

char *msigi_spec_label(const char *spec)
{
    static const char key[] = "pin-value=", shown[] = "(hidden)";
    size_t n = spec ? strlen(spec) : 0, o = 0;
    char *d = spec ? msigi_malloc(n + 1 + (n / sizeof(key) + 1) * sizeof(shown)) : NULL;

    if (!d)
        return NULL;
    for (size_t i = 0; i < n;) {
        if (strncmp(spec + i, key, sizeof(key) - 1) != 0) {
            d[o++] = spec[i++];
            continue;
        }
        memcpy(d + o, key, sizeof(key) - 1);
        o += sizeof(key) - 1;
        memcpy(d + o, shown, sizeof(shown) - 1);
        o += sizeof(shown) - 1;
        for (i += sizeof(key) - 1; i < n && spec[i] != '&' && spec[i] != ';'; i++)
            ;
    }
    d[o] = '\0';
    return d;
}

char *msigi_strndup(const char *s, size_t n)
{
    char *d = msigi_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void msigi_free(void *p)
{
    free(p);
}

void msigi_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

void msigi_free_secret(void *p, size_t len)
{
    msigi_wipe(p, len);
    free(p);
}

int msig_ctx_new(struct msig_ctx **out)
{
    if (!out)
        return MSIG_E_INVALID;
    *out = NULL;
    struct msig_ctx *ctx = msigi_calloc(1, sizeof(*ctx));
    if (!ctx)
        return MSIG_E_NOMEM;
    int rc = msigi_loader_init(ctx);
    if (rc != 0) {
        msig_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void msig_ctx_set_progress(struct msig_ctx *ctx, msig_progress_fn *fn, void *user)
{
    if (ctx) {
        ctx->progress_fn = fn;
        ctx->progress_user = user;
    }
}

int msig_ctx_set_threads(struct msig_ctx *ctx, int threads)
{
    if (!ctx)
        return MSIG_E_INVALID;
    if (threads < 0 || threads > MSIG_THREADS_MAX)
        return msigi_err(ctx, MSIG_E_INVALID, "thread count %d is out of range (0 to %d)", threads,
                         MSIG_THREADS_MAX);
    ctx->threads = threads;
    return 0;
}

/* The CPUs in this process's affinity mask, else the online CPUs, else 1. */
static int cpus_available(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n > MSIG_THREADS_MAX ? MSIG_THREADS_MAX : n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > MSIG_THREADS_MAX ? MSIG_THREADS_MAX : (int)n;
}

int msig_ctx_threads(const struct msig_ctx *ctx)
{
    if (ctx && ctx->threads > 0)
        return ctx->threads;
    return cpus_available();
}

void msigi_progress(struct msig_ctx *ctx, uint64_t done, uint64_t total)
{
    if (ctx && ctx->progress_fn)
        ctx->progress_fn(ctx->progress_user, done, total);
}

int msig_ctx_add_input(struct msig_ctx *ctx, const char *path)
{
    if (!ctx || !path || !*path)
        return ctx ? msigi_err(ctx, MSIG_E_INVALID, "msig_ctx_add_input: no path") : MSIG_E_INVALID;
    return msigi_strv_push(&ctx->inputs, path) ? msigi_err(ctx, MSIG_E_NOMEM, "out of memory") : 0;
}

void msig_ctx_free(struct msig_ctx *ctx)
{
    if (!ctx)
        return;
    msigi_strv_free(&ctx->inputs);
    msigi_loader_fini(ctx);
    struct msigi_param *p = ctx->params;
    while (p) {
        struct msigi_param *next = p->next;
        msigi_free_secret(p->value, strlen(p->value));
        msigi_free(p->key);
        msigi_free(p);
        p = next;
    }
    msigi_free(ctx);
}

const char *msig_ctx_last_error(const struct msig_ctx *ctx)
{
    return ctx ? ctx->errbuf : "";
}

const char *msig_version(void)
{
    return MSIG_VERSION_STRING;
}

const char *msig_strerror(int code)
{
    switch (code) {
    case MSIG_OK:
        return "success";
    case MSIG_E_FAILED:
        return "operation failed";
    case MSIG_E_NOMEM:
        return "out of memory";
    case MSIG_E_INVALID:
        return "invalid argument";
    case MSIG_E_UNSUPPORTED:
        return "not supported";
    case MSIG_E_NOT_FOUND:
        return "not found";
    case MSIG_E_BUFFER_TOO_SMALL:
        return "buffer too small";
    case MSIG_E_PIN_REQUIRED:
        return "PIN required";
    case MSIG_E_PIN_INCORRECT:
        return "PIN incorrect";
    case MSIG_E_PIN_LOCKED:
        return "PIN locked";
    case MSIG_E_CANCELLED:
        return "cancelled";
    case MSIG_E_DEVICE:
        return "device error";
    case MSIG_E_AUTH:
        return "authentication failed";
    case MSIG_E_UNAVAILABLE:
        return "service unavailable";
    case MSIG_E_ABI:
        return "plugin ABI mismatch";
    case MSIG_E_IO:
        return "input/output error";
    case MSIG_E_FORMAT:
        return "invalid artifact";
    case MSIG_E_CHECKSUM:
        return "checksum mismatch";
    case MSIG_E_SIGNATURE:
        return "signature verification failed";
    case MSIG_E_NO_SIGNATURE:
        return "missing signature";
    case MSIG_E_NO_VERIFIER:
        return "missing verifier";
    case MSIG_E_LIMIT:
        return "limit exceeded";
    case MSIG_E_VERSION:
        return "unsupported artifact version";
    case MSIG_E_EXISTS:
        return "already exists";
    case MSIG_E_KEY:
        return "unusable key";
    default:
        return "unknown error";
    }
}

int msigi_err(struct msig_ctx *ctx, int code, const char *fmt, ...)
{
    if (!ctx)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errbuf, sizeof(ctx->errbuf), fmt, ap);
    va_end(ap);
    ctx->errcode = code;
    return code;
}

int msigi_err_prefix(struct msig_ctx *ctx, int code, const char *fmt, ...)
{
    if (!ctx)
        return code;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    char old[MSIGI_ERRMAX];
    memcpy(old, ctx->errbuf, sizeof(old));
    /* prefix, ": ", then as much of the old text as fits */
    size_t pl = strlen(prefix);
    memcpy(ctx->errbuf, prefix, pl + 1);
    if (old[0] && pl + 2 < sizeof(ctx->errbuf)) {
        memcpy(ctx->errbuf + pl, ": ", 2);
        size_t room = sizeof(ctx->errbuf) - pl - 3;
        size_t ol = strlen(old);
        if (ol > room)
            ol = room;
        memcpy(ctx->errbuf + pl + 2, old, ol);
        ctx->errbuf[pl + 2 + ol] = '\0';
    }
    ctx->errcode = code;
    return code;
}

void msigi_err_clear(struct msig_ctx *ctx)
{
    if (ctx) {
        ctx->errbuf[0] = '\0';
        ctx->errcode = 0;
    }
}

void msigi_log(struct msig_ctx *ctx, int level, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn)
        return;
    char line[MSIGI_ERRMAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user, level, line);
}

void msig_ctx_set_log(struct msig_ctx *ctx, msig_log_fn *fn, void *user)
{
    if (ctx) {
        ctx->log_fn = fn;
        ctx->log_user = user;
    }
}

void msig_ctx_set_pin_callback(struct msig_ctx *ctx, msig_pin_fn *fn, void *user)
{
    if (ctx) {
        ctx->pin_fn = fn;
        ctx->pin_user = user;
    }
}

int msig_ctx_set_param(struct msig_ctx *ctx, const char *key, const char *value)
{
    if (!ctx || !key || !*key)
        return MSIG_E_INVALID;
    struct msigi_param **pp = &ctx->params;
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0)
            break;
    }
    if (*pp && !value) {
        struct msigi_param *p = *pp;
        *pp = p->next;
        msigi_free_secret(p->value, strlen(p->value));
        msigi_free(p->key);
        msigi_free(p);
        return 0;
    }
    if (!value)
        return 0;
    char *v = msigi_strdup(value);
    if (!v)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory setting parameter %s", key);
    if (*pp) {
        msigi_free_secret((*pp)->value, strlen((*pp)->value));
        (*pp)->value = v;
        return 0;
    }
    struct msigi_param *p = msigi_calloc(1, sizeof(*p));
    char *k = msigi_strdup(key);
    if (!p || !k) {
        msigi_free(p);
        msigi_free(k);
        msigi_free_secret(v, strlen(v));
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory setting parameter %s", key);
    }
    p->key = k;
    p->value = v;
    p->next = ctx->params;
    ctx->params = p;
    return 0;
}

const char *msigi_ctx_param(const struct msig_ctx *ctx, const char *key)
{
    for (const struct msigi_param *p = ctx ? ctx->params : NULL; p; p = p->next) {
        if (strcmp(p->key, key) == 0)
            return p->value;
    }
    return NULL;
}

int msigi_ctx_get_pin(struct msig_ctx *ctx, const struct msig_pin_request *req, char *buf,
                      size_t cap, size_t *len)
{
    if (!ctx->pin_fn)
        return MSIG_E_PIN_REQUIRED;
    *len = 0;
    int rc = ctx->pin_fn(ctx->pin_user, req, buf, cap, len);
    if (rc == 0 && *len >= cap)
        rc = MSIG_E_BUFFER_TOO_SMALL;
    if (rc != 0)
        msigi_wipe(buf, cap);
    return rc;
}
