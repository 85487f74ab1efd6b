/* strv.h -- a growable, NULL-terminated list of owned strings (private). */
#ifndef MSIG_STRV_H
#define MSIG_STRV_H

#include <stddef.h>

/* Zero-initialise; free with msigi_strv_free. v[n] is NULL whenever v is set. */
struct msigi_strv {
    char **v;
    size_t n;
    size_t cap;
};
int msigi_strv_push(struct msigi_strv *s, const char *str);
int msigi_strv_pushn(struct msigi_strv *s, const char *str, size_t len);
int msigi_strv_has(const struct msigi_strv *s, const char *str);
void msigi_strv_free(struct msigi_strv *s);
/* The list as a NULL-terminated array (never NULL, also when empty). */
const char *const *msigi_strv_get(const struct msigi_strv *s);

#endif
