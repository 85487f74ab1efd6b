/* plugin_util.h -- helpers every signer plugin needs around the host-services table: errors
 * with a formatted message, log lines, parameters, host memory. Part of plugins/util (static
 * PIC library msigu_base, hidden symbols): it uses only the public plugin ABI (msig_plugin.h),
 * never core internals; libmsig carries it for the built-in file plugin. Prefix msigu_. */
#ifndef MSIGU_PLUGIN_UTIL_H
#define MSIGU_PLUGIN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <msig/msig_plugin.h>

#if defined(__GNUC__)
#define MSIGU_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MSIGU_PRINTF(a, b)
#endif

/* Formats a message, hands it to host->set_error and returns code (so: return
 * msigu_error(host, MSIG_E_NOT_FOUND, "no key file %s", path);). host may be NULL. */
int msigu_error(const struct msig_host *host, int code, const char *fmt, ...) MSIGU_PRINTF(3, 4);
int msigu_verror(const struct msig_host *host, int code, const char *fmt, va_list ap)
    MSIGU_PRINTF(3, 0);
/* Formats a log line for host->log_msg (MSIG_LOG_*). */
void msigu_log(const struct msig_host *host, int level, const char *fmt, ...) MSIGU_PRINTF(3, 4);

/* host->get_param: 0 and *value, or MSIG_E_NOT_FOUND with *value = NULL when the parameter
 * is unset or empty (an empty environment variable counts as unset). */
int msigu_param(const struct msig_host *host, const char *name, const char **value);
/* A parameter as an unsigned integer in [min, max]; *value keeps dflt when unset.
 * MSIG_E_INVALID (with set_error naming the parameter and the value) when malformed. */
int msigu_param_uint(const struct msig_host *host, const char *name, uint64_t min, uint64_t max,
                     uint64_t dflt, uint64_t *value);
/* A parameter as a boolean: 1/true/yes/on or 0/false/no/off; dflt when unset. */
int msigu_param_bool(const struct msig_host *host, const char *name, int dflt, int *value);

/* Memory through the host (counted, failure-injected); msigu_free wipes len bytes. */
void *msigu_alloc(const struct msig_host *host, size_t len);
void *msigu_zalloc(const struct msig_host *host, size_t len);
void msigu_free(const struct msig_host *host, void *ptr, size_t len);
char *msigu_strdup(const struct msig_host *host, const char *s);
/* Frees a string from msigu_strdup, wiping it. */
void msigu_strfree(const struct msig_host *host, char *s);

/* Does spec start with "scheme:"? Returns the rest, or NULL. */
const char *msigu_spec_rest(const char *spec, const char *scheme);

#endif
