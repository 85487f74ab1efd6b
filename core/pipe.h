/* pipe.h -- one stage of the read pipeline (private): a worker thread calls a fill function
 * again and again and hands each result, in order, through a bounded queue of slots to the
 * consumer thread. The consumer sees exactly the sequence of results it would get by calling
 * the fill function itself (the same byte counts, the same end, the same failure, errno
 * included), so work moves to another thread without changing what happens. Memory is
 * nslots * slot_size, whatever the amount of data that passes.
 *
 * Thread rules: one producer (the worker) and one consumer (the thread that started the
 * pipe and calls msigi_pipe_next and msigi_pipe_free). While the pipe runs, the fill function
 * and everything it touches belong to the worker; they are the consumer's again once
 * msigi_pipe_next has returned 0 or -1, or after msigi_pipe_free. */
#ifndef MSIGI_PIPE_H
#define MSIGI_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include <msig/msig.h>

/* Fills buf with up to cap bytes: returns the count (> 0), 0 at the end, -1 on failure (with
 * errno). *tag may be set to a value that travels with the result (0 if not set). */
typedef msig_ssize msigi_pipe_fill_fn(void *user, uint8_t *buf, size_t cap, uint64_t *tag);

struct msigi_pipe;

/* Starts the worker. 0, or MSIG_E_NOMEM / MSIG_E_FAILED (message on ctx). */
int msigi_pipe_start(struct msig_ctx *ctx, msigi_pipe_fill_fn *fill, void *user, size_t nslots,
                     size_t slot_size, struct msigi_pipe **out);
/* The next result: n > 0 bytes at *data (valid until the next call or msigi_pipe_free),
 * 0 at the end, -1 on failure (errno as the fill function left it). After 0 or -1 every
 * further call returns the same. *tag gets the result's tag (tag may be NULL). */
msig_ssize msigi_pipe_next(struct msigi_pipe *p, const uint8_t **data, uint64_t *tag);
/* Stops the worker after its current fill call, waits for it, and frees. NULL is ignored. */
void msigi_pipe_free(struct msigi_pipe *p);

#endif
