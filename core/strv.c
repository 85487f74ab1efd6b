/* strv.c -- growable NULL-terminated string lists. */
#include "strv.h"

#include <string.h>

#include "ctx.h"

int msigi_strv_pushn(struct msigi_strv *s, const char *str, size_t len)
{
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **v = msigi_realloc(s->v, cap * sizeof(*v));
        if (!v)
            return MSIG_E_NOMEM;
        s->v = v;
        s->cap = cap;
    }
    char *d = msigi_strndup(str, len);
    if (!d)
        return MSIG_E_NOMEM;
    s->v[s->n++] = d;
    s->v[s->n] = NULL;
    return 0;
}

int msigi_strv_push(struct msigi_strv *s, const char *str)
{
    return msigi_strv_pushn(s, str, strlen(str));
}

int msigi_strv_has(const struct msigi_strv *s, const char *str)
{
    for (size_t i = 0; s && i < s->n; i++) {
        if (strcmp(s->v[i], str) == 0)
            return 1;
    }
    return 0;
}

void msigi_strv_free(struct msigi_strv *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        msigi_free(s->v[i]);
    msigi_free(s->v);
    memset(s, 0, sizeof(*s));
}

const char *const *msigi_strv_get(const struct msigi_strv *s)
{
    static const char *const empty[1] = { NULL };
    return s->v ? (const char *const *)s->v : empty;
}
