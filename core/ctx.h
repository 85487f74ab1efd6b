/* ctx.h -- the library context (private): last-error slot, logging, parameters, PIN
 * callback, the plugin loader, and the one allocation wrapper every module uses. */
#ifndef MSIG_CTX_H
#define MSIG_CTX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

#include "strv.h"

#define MSIGI_ERRMAX 2048

struct msigi_param {
    struct msigi_param *next;
    char *key;
    char *value;
};

struct msigi_loader; /* loader.c */

struct msig_ctx {
    char errbuf[MSIGI_ERRMAX];
    int errcode;
    msig_log_fn *log_fn;
    void *log_user;
    msig_pin_fn *pin_fn;
    void *pin_user;
    struct msigi_param *params;
    struct msigi_loader *loader;
    struct msigi_strv inputs; /* paths no output may replace (msig_ctx_add_input) */
    msig_progress_fn *progress_fn;
    void *progress_user;
    int threads; /* msig_ctx_set_threads; 0 = CPUs available */
};
/* Reports progress to the application's callback, if any. */
void msigi_progress(struct msig_ctx *ctx, uint64_t done, uint64_t total);

/* Sets the last error (printf-style) and returns code, so callers write
 * `return msigi_err(ctx, MSIG_E_FORMAT, "...", ...);`. */
int msigi_err(struct msig_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the current error text with "prefix: ". Returns code. */
int msigi_err_prefix(struct msig_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void msigi_err_clear(struct msig_ctx *ctx);
/* Logs a line at MSIG_LOG_* level through the context's log callback. */
void msigi_log(struct msig_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The value of a parameter set with msig_ctx_set_param, or NULL. */
const char *msigi_ctx_param(const struct msig_ctx *ctx, const char *key);
/* Asks the PIN callback; MSIG_E_PIN_REQUIRED when none is set. */
int msigi_ctx_get_pin(struct msig_ctx *ctx, const struct msig_pin_request *req, char *buf,
                      size_t cap, size_t *len);

/* Allocation: one wrapper so tests can inject failures (msigi_alloc_fail_after). */
void *msigi_malloc(size_t n);
void *msigi_calloc(size_t n, size_t size);
void *msigi_realloc(void *p, size_t n);
char *msigi_strdup(const char *s);
/* A copy of a key spec for messages: the value of every "pin-value=" is shown as "(hidden)"
 * (RFC 7512 PKCS#11 URIs may carry the PIN). */
char *msigi_spec_label(const char *spec);
char *msigi_strndup(const char *s, size_t n);
void msigi_free(void *p);
/* Large buffers (MiB) that come and go while a stream runs: mapped pages, handed back to
 * the system when freed, whatever malloc's thresholds have become (a block decoder's
 * output freed into the heap would stay in the peak memory of every later block).
 * msigi_map_free takes the size given to msigi_map_alloc; NULL is ignored. */
void *msigi_map_alloc(size_t n);
void msigi_map_free(void *p, size_t n);
/* Wipes len bytes, then frees. */
void msigi_free_secret(void *p, size_t len);
/* Wipes len bytes (not optimised away). */
void msigi_wipe(void *p, size_t len);
/* Test hook: the n-th allocation from now fails (n >= 1); 0 disables. */
void msigi_alloc_fail_after(long n);
/* What is left of the countdown: > 0 after a run means the failure was never reached. */
long msigi_alloc_fail_left(void);

/* Loader (loader.c): registers built-in plugins at context creation, frees at the end. */
int msigi_loader_init(struct msig_ctx *ctx);
void msigi_loader_fini(struct msig_ctx *ctx);

#endif
