/* imgerr.c -- the message of an image handle (see imgerr.h). */
#include "imgerr.h"

#include <stdarg.h>
#include <stdio.h>

int img_fail(char *err, size_t cap, const char *name, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, cap, "%s: ", name);

    va_start(ap, fmt);
    if (n > 0 && (size_t)n < cap)
        vsnprintf(err + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}
