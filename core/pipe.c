/* pipe.c -- one stage of the read pipeline: a worker thread and a bounded ring of slots. */
#include "pipe.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "ctx.h"

#define PIPE_MAX_SLOTS 64u

struct slot {
    uint8_t *buf;
    msig_ssize n;
    int err; /* errno after a failed fill */
    uint64_t tag;
};

struct msigi_pipe {
    msigi_pipe_fill_fn *fill;
    void *user;
    size_t slot_size;
    size_t nslots;
    struct slot slots[PIPE_MAX_SLOTS];
    pthread_mutex_t mu;
    pthread_cond_t can_fill; /* a slot became free, or stop */
    pthread_cond_t can_take; /* a slot was filled */
    size_t head;             /* the oldest filled slot (the consumer's, when held) */
    size_t count;            /* filled slots, the held one included */
    int held;                /* the consumer holds slots[head] */
    int stop;                /* the consumer wants the worker to end */
    int ended;               /* the consumer has taken the final result */
    msig_ssize final_n;      /* that result (0 or -1) and its errno */
    int final_err;
    pthread_t thread;
    int started;
};

static void *worker_main(void *arg)
{
    struct msigi_pipe *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->count == p->nslots && !p->stop)
            pthread_cond_wait(&p->can_fill, &p->mu);
        int stop = p->stop;
        struct slot *s = &p->slots[(p->head + p->count) % p->nslots];
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        /* The slot is free and only the worker writes it until it is counted. */
        uint64_t tag = 0;
        errno = 0;
        msig_ssize n = p->fill(p->user, s->buf, p->slot_size, &tag);
        int err = errno;
        pthread_mutex_lock(&p->mu);
        s->n = n;
        s->err = err;
        s->tag = tag;
        p->count++;
        pthread_cond_signal(&p->can_take);
        pthread_mutex_unlock(&p->mu);
        if (n <= 0)
            break;
    }
    return NULL;
}

int msigi_pipe_start(struct msig_ctx *ctx, msigi_pipe_fill_fn *fill, void *user, size_t nslots,
                     size_t slot_size, struct msigi_pipe **out)
{
    *out = NULL;
    if (nslots < 2 || nslots > PIPE_MAX_SLOTS || slot_size == 0)
        return msigi_err(ctx, MSIG_E_INVALID, "pipeline stage: %zu slots of %zu bytes", nslots,
                         slot_size);
    struct msigi_pipe *p = msigi_calloc(1, sizeof(*p));
    if (!p)
        return msigi_err(ctx, MSIG_E_NOMEM, "out of memory starting a pipeline stage");
    p->fill = fill;
    p->user = user;
    p->nslots = nslots;
    p->slot_size = slot_size;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->can_fill, NULL);
    pthread_cond_init(&p->can_take, NULL);
    for (size_t i = 0; i < nslots; i++) {
        p->slots[i].buf = msigi_malloc(slot_size);
        if (!p->slots[i].buf) {
            msigi_pipe_free(p);
            return msigi_err(ctx, MSIG_E_NOMEM, "out of memory starting a pipeline stage");
        }
    }
    int e = pthread_create(&p->thread, NULL, worker_main, p);
    if (e != 0) {
        msigi_pipe_free(p);
        return msigi_err(ctx, MSIG_E_FAILED, "cannot start a pipeline thread: %s", strerror(e));
    }
    p->started = 1;
    *out = p;
    return 0;
}

msig_ssize msigi_pipe_next(struct msigi_pipe *p, const uint8_t **data, uint64_t *tag)
{
    *data = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->held) {
        p->head = (p->head + 1) % p->nslots;
        p->count--;
        p->held = 0;
        pthread_cond_signal(&p->can_fill);
    }
    if (p->ended) {
        pthread_mutex_unlock(&p->mu);
        errno = p->final_err;
        return p->final_n;
    }
    while (p->count == 0)
        pthread_cond_wait(&p->can_take, &p->mu);
    struct slot *s = &p->slots[p->head];
    msig_ssize n = s->n;
    if (tag)
        *tag = s->tag;
    if (n > 0) {
        p->held = 1;
        *data = s->buf;
    } else {
        p->ended = 1;
        p->final_n = n;
        p->final_err = s->err;
    }
    pthread_mutex_unlock(&p->mu);
    errno = n < 0 ? s->err : 0;
    return n;
}

void msigi_pipe_free(struct msigi_pipe *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_signal(&p->can_fill);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    for (size_t i = 0; i < p->nslots; i++)
        msigi_free(p->slots[i].buf);
    pthread_cond_destroy(&p->can_take);
    pthread_cond_destroy(&p->can_fill);
    pthread_mutex_destroy(&p->mu);
    msigi_free(p);
}
