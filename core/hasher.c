/* hasher.c -- the hashing stage (see hasher.h). The ring's counters: `pushed` buffers were
 * queued by the caller, `hashed` of them are done; buffer i % NBUF is free for the caller
 * again when hashed > i - NBUF. A digest ends when the caller asks for it with every pushed
 * buffer hashed. */
#include "hasher.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "ctx.h"

struct msigi_hasher {
    struct msig_ctx *ctx;
    int threaded;
    size_t buf_size;
    uint8_t *buf[MSIGI_HASHER_NBUF];
    size_t len[MSIGI_HASHER_NBUF];
    uint64_t taken;  /* buffers handed to the caller */
    uint64_t pushed; /* buffers queued */
    uint64_t hashed; /* buffers hashed */
    int failed;      /* EVP failed on the hashing thread */
    EVP_MD_CTX *md;
    pthread_t tid;
    int started;
    int stop;
    int sync_init;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* every change of pushed, hashed, stop */
};

static int hash_one(struct msigi_hasher *h, const uint8_t *buf, size_t len)
{
    return EVP_DigestUpdate(h->md, buf, len) == 1 ? 0 : -1;
}

static void *hasher_main(void *arg)
{
    struct msigi_hasher *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->stop && h->hashed == h->pushed)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->hashed == h->pushed) /* stop, with nothing left */
            break;
        size_t i = (size_t)(h->hashed % MSIGI_HASHER_NBUF);
        pthread_mutex_unlock(&h->mu);
        int r = hash_one(h, h->buf[i], h->len[i]);
        pthread_mutex_lock(&h->mu);
        if (r != 0)
            h->failed = 1;
        h->hashed++;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

uint8_t *msigi_hasher_buf(struct msigi_hasher *h)
{
    if (h->taken > h->pushed) /* taken and not pushed: still the caller's */
        return h->buf[h->pushed % MSIGI_HASHER_NBUF];
    size_t i = (size_t)(h->taken % MSIGI_HASHER_NBUF);
    if (h->threaded) {
        pthread_mutex_lock(&h->mu);
        while (h->taken >= MSIGI_HASHER_NBUF && h->hashed + MSIGI_HASHER_NBUF <= h->taken)
            pthread_cond_wait(&h->cv, &h->mu);
        pthread_mutex_unlock(&h->mu);
    }
    h->taken++;
    return h->buf[i];
}

int msigi_hasher_push(struct msigi_hasher *h, size_t len)
{
    if (h->taken != h->pushed + 1 || len > h->buf_size)
        return msigi_err(h->ctx, MSIG_E_INVALID, "hasher: push of %zu bytes without a buffer", len);
    size_t i = (size_t)(h->pushed % MSIGI_HASHER_NBUF);
    h->len[i] = len;
    if (!h->threaded) {
        h->pushed++;
        h->hashed++;
        return hash_one(h, h->buf[i], len) == 0
                   ? 0
                   : msigi_err(h->ctx, MSIG_E_FAILED, "SHA-256 of %zu bytes failed", len);
    }
    pthread_mutex_lock(&h->mu);
    h->pushed++;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return 0;
}

int msigi_hasher_end(struct msigi_hasher *h, uint8_t md[static 32])
{
    int failed = 0;
    unsigned int n = 0;
    if (h->threaded) {
        pthread_mutex_lock(&h->mu);
        while (h->hashed != h->pushed)
            pthread_cond_wait(&h->cv, &h->mu);
        failed = h->failed;
        pthread_mutex_unlock(&h->mu);
    }
    /* The hashing thread is idle until the next push: md is the caller's now. */
    if (failed || EVP_DigestFinal_ex(h->md, md, &n) != 1 || n != 32 ||
        EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
        return msigi_err(h->ctx, MSIG_E_FAILED, "SHA-256 of a payload failed");
    return 0;
}

void msigi_hasher_free(struct msigi_hasher *h)
{
    if (!h)
        return;
    if (h->started) {
        pthread_mutex_lock(&h->mu);
        h->stop = 1;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->tid, NULL);
    }
    if (h->sync_init) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
    }
    for (int i = 0; i < MSIGI_HASHER_NBUF; i++)
        msigi_free(h->buf[i]);
    EVP_MD_CTX_free(h->md);
    msigi_free(h);
}

int msigi_hasher_new(struct msig_ctx *ctx, int threaded, size_t buf_size, struct msigi_hasher **out)
{
    int rc = MSIG_E_NOMEM;
    struct msigi_hasher *h = msigi_calloc(1, sizeof(*h));
    *out = NULL;
    if (!h)
        goto nomem;
    h->ctx = ctx;
    h->threaded = threaded;
    h->buf_size = buf_size;
    for (int i = 0; i < MSIGI_HASHER_NBUF; i++)
        if (!(h->buf[i] = msigi_malloc(buf_size)))
            goto nomem;
    if (!(h->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
        goto nomem;
    if (threaded) {
        if (pthread_mutex_init(&h->mu, NULL) != 0)
            goto nomem;
        if (pthread_cond_init(&h->cv, NULL) != 0) {
            pthread_mutex_destroy(&h->mu);
            goto nomem;
        }
        h->sync_init = 1;
        int e = pthread_create(&h->tid, NULL, hasher_main, h);
        if (e != 0) {
            rc = msigi_err(ctx, MSIG_E_FAILED, "cannot start the hashing thread: %s", strerror(e));
            goto out;
        }
        h->started = 1;
    }
    *out = h;
    h = NULL; /* transferred */
    rc = 0;
    goto out;
nomem:
    rc = msigi_err(ctx, MSIG_E_NOMEM, "out of memory starting the hashing stage");
out:
    msigi_hasher_free(h);
    return rc;
}
