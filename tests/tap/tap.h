/* tap.h -- a small TAP producer for the C unit tests.
 * plan(n) first (or done_testing() at the end); each check prints "ok N - name" or
 * "not ok N - name" plus "#" diagnostics; exit_status() is non-zero if anything failed. */
#ifndef MSIG_TAP_H
#define MSIG_TAP_H

#include <stddef.h>

void plan(int n);
int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int is_str(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* got contains needle */
int like(const char *got, const char *needle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int is_mem(const void *got, size_t got_len, const void *want, size_t want_len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int done_testing(void); /* prints the plan if none was given; returns exit status */
int exit_status(void);

#endif
