/* text.h -- the printable-text rule for header strings (text.c). */
#ifndef MSIGI_TEXT_H
#define MSIGI_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* 0 when s[0..len) holds no control, bidi or separator character; else -1 with the byte
 * offset and code point of the first one. */
int msigi_text_check(const char *s, size_t len, size_t *at, uint32_t *cp);

#endif
