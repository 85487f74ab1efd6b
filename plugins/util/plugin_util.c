/* plugin_util.c -- errors, log lines, parameters and memory through the host-services table
 * (msigu_base). Only the public plugin ABI is used here. */
#include "plugin_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MSG_MAX 1024

int msigu_verror(const struct msig_host *host, int code, const char *fmt, va_list ap)
{
    char msg[MSG_MAX];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (host != NULL && host->set_error != NULL)
        host->set_error(host->host_data, code, msg);
    return code;
}

int msigu_error(const struct msig_host *host, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = msigu_verror(host, code, fmt, ap);
    va_end(ap);
    return code;
}

void msigu_log(const struct msig_host *host, int level, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;

    if (host == NULL || host->log_msg == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    host->log_msg(host->host_data, level, msg);
}

int msigu_param(const struct msig_host *host, const char *name, const char **value)
{
    *value = NULL;
    if (host->get_param(host->host_data, name, value) != 0 || *value == NULL ||
        (*value)[0] == '\0') {
        *value = NULL;
        return MSIG_E_NOT_FOUND;
    }
    return 0;
}

int msigu_param_uint(const struct msig_host *host, const char *name, uint64_t min, uint64_t max,
                     uint64_t dflt, uint64_t *value)
{
    const char *v;
    char *end = NULL;
    unsigned long long n;

    *value = dflt;
    if (msigu_param(host, name, &v) != 0)
        return 0;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno == ERANGE || n < min || n > max)
        return msigu_error(host, MSIG_E_INVALID,
                           "parameter %s: '%s' is not a whole number "
                           "from %" PRIu64 " to %" PRIu64,
                           name, v, min, max);
    *value = (uint64_t)n;
    return 0;
}

int msigu_param_bool(const struct msig_host *host, const char *name, int dflt, int *value)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };
    const char *v;

    *value = dflt;
    if (msigu_param(host, name, &v) != 0)
        return 0;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *value = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    return msigu_error(host, MSIG_E_INVALID,
                       "parameter %s: '%s' is not a boolean (1, true, "
                       "yes, on or 0, false, no, off)",
                       name, v);
}

void *msigu_alloc(const struct msig_host *host, size_t len)
{
    return host->mem_alloc(host->host_data, len);
}

void *msigu_zalloc(const struct msig_host *host, size_t len)
{
    void *p = host->mem_alloc(host->host_data, len);

    if (p != NULL)
        memset(p, 0, len);
    return p;
}

void msigu_free(const struct msig_host *host, void *ptr, size_t len)
{
    if (ptr != NULL)
        host->mem_free(host->host_data, ptr, len);
}

char *msigu_strdup(const struct msig_host *host, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = host->mem_alloc(host->host_data, n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

void msigu_strfree(const struct msig_host *host, char *s)
{
    if (s != NULL)
        host->mem_free(host->host_data, s, strlen(s) + 1);
}

const char *msigu_spec_rest(const char *spec, const char *scheme)
{
    size_t n = strlen(scheme);

    if (strncmp(spec, scheme, n) != 0 || spec[n] != ':')
        return NULL;
    return spec + n + 1;
}
