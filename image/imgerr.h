/* imgerr.h -- the message of an image handle (extfs, fatfs): "NAME: what went wrong". */
#ifndef MSIG_IMAGE_IMGERR_H
#define MSIG_IMAGE_IMGERR_H

#include <stddef.h>

/* Writes "name: " and the formatted text into err (cap bytes). Returns -1, for
 * `return img_fail(...)`. */
int img_fail(char *err, size_t cap, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* For a handle x with char arrays x->err and x->name. */
#define IMG_FAIL(x, ...) img_fail((x)->err, sizeof((x)->err), (x)->name, __VA_ARGS__)

#endif
