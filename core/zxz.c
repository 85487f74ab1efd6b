/* zxz.c -- xz decoding block by block: the stream walk of liblzma's stream decoder, with
 * blocks of known size decoded on worker threads (see zxz.h). */
#include "zxz.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

#define MAX_JOBS 16
/* Memory all jobs in flight may hold (input, output, decoder); a block that would go beyond
 * is decoded in place. */
#define JOBS_MEMLIMIT (256u * 1024u * 1024u)

enum seq {
    SEQ_STREAM_HEADER,
    SEQ_BLOCK_HEADER,
    SEQ_BLOCK_INIT,
    SEQ_BLOCK_START,   /* in place: waits until the jobs before it are handed on */
    SEQ_BLOCK_RUN,     /* in place */
    SEQ_BLOCK_COLLECT, /* the input of a job */
    SEQ_BLOCK_TAIL,    /* a job whose input ended early, decoded in place */
    SEQ_INDEX,
    SEQ_STREAM_FOOTER,
    SEQ_STREAM_PADDING,
    SEQ_ERROR
};

enum job_state { J_COLLECT, J_QUEUED, J_RUNNING, J_DONE };

struct job {
    lzma_stream s;    /* its block decoder, made on the walking thread */
    lzma_block block; /* its sizes, for the index */
    uint8_t *in;      /* the block after its header: data, padding, check */
    size_t in_len, in_fill;
    uint8_t *out; /* its output; out_len produced, out_pos handed on */
    size_t out_cap, out_len, out_pos;
    size_t tail_pos; /* input decoded in place, when the stream ended inside the block */
    uint64_t mem;    /* what it holds */
    lzma_ret ret;    /* LZMA_STREAM_END or the error */
    enum job_state state;
};

struct msigi_zxz {
    int threads;
    uint64_t memlimit;
    enum seq seq;
    uint8_t buffer[LZMA_BLOCK_HEADER_SIZE_MAX];
    size_t pos;
    lzma_stream_flags flags;
    lzma_block block;
    lzma_filter filters[LZMA_FILTERS_MAX + 1];
    lzma_stream bd; /* the block decoder in place */
    int bd_live;
    lzma_index_hash *ih;
    int first_stream;
    uint64_t memusage;
    lzma_ret pending; /* an error of the walk, due once the jobs before it are handed on */
    int allow_buf_error;
    struct job *jobs[MAX_JOBS]; /* in stream order from jhead */
    size_t jhead, jcount;
    size_t max_jobs;
    size_t jobs_made;
    uint64_t job_mem; /* what the jobs in flight hold */
    int progress;     /* a job was handed on in this call (input it took came earlier) */
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a job is done */
    pthread_t *workers;
    int nworkers;
    int stop;
};

/* ------------------------------------------------------------------ jobs */

/* liblzma's allocations for a job's decoder: its dictionary (8 MiB at preset 6) is mapped,
 * so that it goes back to the system when the job's decoder ends; each allocation starts
 * with its size, kept in MAP_HDR bytes so that the alignment of malloc stays. */
#define MAP_HDR 32u
#define MAP_MIN (1024u * 1024u)

static void *map_alloc(void *opaque, size_t nmemb, size_t size)
{
    (void)opaque;
    if (size && nmemb > (SIZE_MAX - MAP_HDR) / size)
        return NULL;
    size_t n = nmemb * size + MAP_HDR;
    uint8_t *p = n >= MAP_MIN ? msigi_map_alloc(n) : msigi_malloc(n);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof(n));
    return p + MAP_HDR;
}

static void map_free(void *opaque, void *ptr)
{
    (void)opaque;
    if (!ptr)
        return;
    uint8_t *p = (uint8_t *)ptr - MAP_HDR;
    size_t n;
    memcpy(&n, p, sizeof(n));
    if (n >= MAP_MIN)
        msigi_map_free(p, n);
    else
        msigi_free(p);
}

static const lzma_allocator map_allocator = { map_alloc, map_free, NULL };

static void job_free(struct job *j)
{
    if (!j)
        return;
    lzma_end(&j->s);
    msigi_map_free(j->in, j->in_len);
    msigi_map_free(j->out, j->out_cap);
    msigi_free(j);
}

static enum job_state state_of(struct msigi_zxz *z, const struct job *j)
{
    pthread_mutex_lock(&z->mu);
    enum job_state st = j->state;
    pthread_mutex_unlock(&z->mu);
    return st;
}

static struct job *oldest(struct msigi_zxz *z)
{
    return z->jcount ? z->jobs[z->jhead] : NULL;
}

static struct job *newest(struct msigi_zxz *z)
{
    return z->jcount ? z->jobs[(z->jhead + z->jcount - 1) % MAX_JOBS] : NULL;
}

/* A whole block in memory: the same decoder that decodes it in place, all input at once. */
static void job_run(struct job *j)
{
    j->s.next_in = j->in;
    j->s.avail_in = j->in_len;
    j->s.next_out = j->out;
    j->s.avail_out = j->out_cap;
    lzma_ret r;
    do {
        size_t before_in = j->s.avail_in, before_out = j->s.avail_out;
        r = lzma_code(&j->s, LZMA_RUN);
        /* With both sizes in the header the block decoder ends or fails once it has all
         * of its input; no progress would be a broken block. */
        if (r == LZMA_OK && j->s.avail_in == before_in && j->s.avail_out == before_out)
            r = LZMA_DATA_ERROR;
        if (r == LZMA_BUF_ERROR)
            r = LZMA_DATA_ERROR;
    } while (r == LZMA_OK);
    j->out_len = j->out_cap - j->s.avail_out;
    j->ret = r;
    /* Its output may wait for the blocks before it: the decoder (its dictionary, 8 MiB at
     * preset 6) and the input go now. */
    lzma_end(&j->s);
    msigi_map_free(j->in, j->in_len);
    j->in = NULL;
}

static void *worker_main(void *arg)
{
    struct msigi_zxz *z = arg;
    pthread_mutex_lock(&z->mu);
    for (;;) {
        struct job *j = NULL;
        for (size_t i = 0; i < z->jcount && !j; i++) {
            struct job *c = z->jobs[(z->jhead + i) % MAX_JOBS];
            if (c->state == J_QUEUED)
                j = c;
        }
        if (!j && z->stop)
            break;
        if (!j) {
            pthread_cond_wait(&z->work, &z->mu);
            continue;
        }
        j->state = J_RUNNING;
        pthread_mutex_unlock(&z->mu);
        job_run(j);
        pthread_mutex_lock(&z->mu);
        j->state = J_DONE;
        pthread_cond_broadcast(&z->done);
    }
    pthread_mutex_unlock(&z->mu);
    return NULL;
}

static void wait_oldest(struct msigi_zxz *z)
{
    pthread_mutex_lock(&z->mu);
    while (oldest(z)->state != J_DONE)
        pthread_cond_wait(&z->done, &z->mu);
    pthread_mutex_unlock(&z->mu);
}

static void drop_jobs(struct msigi_zxz *z)
{
    while (z->jcount) {
        struct job *j = oldest(z);
        pthread_mutex_lock(&z->mu);
        while (j->state == J_QUEUED || j->state == J_RUNNING) {
            if (j->state == J_QUEUED) {
                j->state = J_DONE; /* never started */
                break;
            }
            pthread_cond_wait(&z->done, &z->mu);
        }
        z->jhead = (z->jhead + 1) % MAX_JOBS;
        z->jcount--;
        pthread_mutex_unlock(&z->mu);
        z->job_mem -= j->mem;
        job_free(j);
    }
}

/* Hands on the output of finished jobs in order. LZMA_OK, or a job's error (after its
 * output) or the index's. wait: block until the oldest job is done. */
static lzma_ret deliver(struct msigi_zxz *z, uint8_t *out, size_t *out_pos, size_t out_size,
                        int wait)
{
    while (z->jcount && state_of(z, oldest(z)) != J_COLLECT) {
        struct job *j = oldest(z);
        if (state_of(z, j) != J_DONE) {
            if (!wait)
                return LZMA_OK;
            wait_oldest(z);
        }
        size_t n = j->out_len - j->out_pos;
        if (n > out_size - *out_pos)
            n = out_size - *out_pos;
        memcpy(out + *out_pos, j->out + j->out_pos, n);
        *out_pos += n;
        j->out_pos += n;
        if (j->out_pos < j->out_len)
            return LZMA_OK; /* out is full */
        if (j->ret != LZMA_STREAM_END)
            return j->ret;
        lzma_ret r = lzma_index_hash_append(z->ih, lzma_block_unpadded_size(&j->block),
                                            j->block.uncompressed_size);
        z->job_mem -= j->mem;
        z->progress = 1;
        pthread_mutex_lock(&z->mu);
        z->jhead = (z->jhead + 1) % MAX_JOBS;
        z->jcount--;
        pthread_mutex_unlock(&z->mu);
        job_free(j);
        if (r != LZMA_OK)
            return r;
        wait = 0;
    }
    return LZMA_OK;
}

/* Whether the block whose header is in z->block can go to a worker, and the memory its
 * job would hold: both sizes known, the output at most MSIGI_ZXZ_JOB_MAX, the input within
 * what that output can take compressed, and room among the jobs. */
static int job_fits(struct msigi_zxz *z, uint64_t memusage, uint64_t *mem)
{
    const lzma_block *b = &z->block;
    if (z->nworkers == 0 || z->jcount >= z->max_jobs || b->compressed_size == LZMA_VLI_UNKNOWN ||
        b->uncompressed_size == LZMA_VLI_UNKNOWN || b->uncompressed_size > MSIGI_ZXZ_JOB_MAX)
        return 0;
    lzma_vli total = lzma_block_total_size(b);
    if (total == 0 || total - b->header_size > lzma_block_buffer_bound(b->uncompressed_size))
        return 0;
    *mem = (total - b->header_size) + b->uncompressed_size + memusage;
    return z->job_mem + *mem <= JOBS_MEMLIMIT;
}

/* A job for the block whose header is in z->block (filters in z->filters). */
static lzma_ret job_new(struct msigi_zxz *z, uint64_t mem)
{
    struct job *j = msigi_calloc(1, sizeof(*j));
    if (!j)
        return LZMA_MEM_ERROR;
    lzma_stream init = LZMA_STREAM_INIT;
    j->s = init;
    j->block = z->block;
    j->in_len = (size_t)(lzma_block_total_size(&z->block) - z->block.header_size);
    j->out_cap = (size_t)z->block.uncompressed_size;
    j->in = msigi_map_alloc(j->in_len);
    j->out = msigi_map_alloc(j->out_cap);
    j->s.allocator = &map_allocator;
    lzma_ret r = j->in && j->out ? lzma_block_decoder(&j->s, &j->block) : LZMA_MEM_ERROR;
    j->block.filters = NULL; /* copied by the decoder; freed by the caller */
    if (r != LZMA_OK) {
        job_free(j);
        return r;
    }
    j->state = J_COLLECT;
    j->mem = mem;
    z->job_mem += mem;
    z->jobs_made++;
    pthread_mutex_lock(&z->mu);
    z->jobs[(z->jhead + z->jcount) % MAX_JOBS] = j;
    z->jcount++;
    pthread_mutex_unlock(&z->mu);
    return LZMA_OK;
}

static void job_queue(struct msigi_zxz *z, struct job *j)
{
    pthread_mutex_lock(&z->mu);
    j->state = J_QUEUED;
    pthread_cond_signal(&z->work);
    pthread_mutex_unlock(&z->mu);
}

/* ------------------------------------------------------------------ the walk */

static lzma_ret stream_reset(struct msigi_zxz *z)
{
    z->ih = lzma_index_hash_init(z->ih, NULL);
    if (!z->ih)
        return LZMA_MEM_ERROR;
    z->seq = SEQ_STREAM_HEADER;
    z->pos = 0;
    return LZMA_OK;
}

/* Copies input into buffer up to `want` bytes; 1 when complete. */
static int take(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos, size_t in_size, size_t want)
{
    size_t n = in_size - *in_pos;
    if (n > want - z->pos)
        n = want - z->pos;
    memcpy(z->buffer + z->pos, in + *in_pos, n);
    *in_pos += n;
    z->pos += n;
    if (z->pos < want)
        return 0;
    z->pos = 0;
    return 1;
}

static lzma_ret st_stream_header(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos,
                                 size_t in_size)
{
    if (!take(z, in, in_pos, in_size, LZMA_STREAM_HEADER_SIZE))
        return LZMA_OK;
    lzma_ret r = lzma_stream_header_decode(&z->flags, z->buffer);
    if (r != LZMA_OK)
        return r == LZMA_FORMAT_ERROR && !z->first_stream ? LZMA_DATA_ERROR : r;
    z->first_stream = 0;
    z->seq = SEQ_BLOCK_HEADER;
    if (!lzma_check_is_supported(z->flags.check))
        return LZMA_UNSUPPORTED_CHECK;
    return LZMA_OK;
}

/* The block header in z->buffer: decoded, its memory checked, and either a job made for it
 * (both sizes known, threads, room) or the in-place decoder readied. */
static lzma_ret st_block_init(struct msigi_zxz *z)
{
    memset(&z->block, 0, sizeof(z->block));
    z->block.version = 1;
    z->block.check = z->flags.check;
    z->block.header_size = lzma_block_header_size_decode(z->buffer[0]);
    z->block.filters = z->filters;
    lzma_ret r = lzma_block_header_decode(&z->block, NULL, z->buffer);
    if (r != LZMA_OK)
        return r;
    uint64_t memusage = lzma_raw_decoder_memusage(z->filters);
    if (memusage == UINT64_MAX) {
        r = LZMA_OPTIONS_ERROR;
    } else {
        z->memusage = memusage;
        uint64_t mem = 0;
        if (memusage > z->memlimit) {
            r = LZMA_MEMLIMIT_ERROR;
        } else if (job_fits(z, memusage, &mem) && job_new(z, mem) == LZMA_OK) {
            z->seq = SEQ_BLOCK_COLLECT;
        } else {
            /* In place (also when a job could not be made: the result is the same). */
            z->seq = SEQ_BLOCK_START;
            return LZMA_OK; /* the filters stay for the in-place decoder */
        }
    }
    lzma_filters_free(z->filters, NULL);
    z->block.filters = NULL;
    return r;
}

static lzma_ret st_block_start(struct msigi_zxz *z)
{
    lzma_stream init = LZMA_STREAM_INIT;
    z->bd = init;
    lzma_ret r = lzma_block_decoder(&z->bd, &z->block);
    z->bd_live = r == LZMA_OK;
    lzma_filters_free(z->filters, NULL);
    z->block.filters = NULL;
    if (r == LZMA_OK)
        z->seq = SEQ_BLOCK_RUN;
    return r;
}

/* The in-place block decoder on the given input. LZMA_OK (more to do), or its end/error. */
static lzma_ret run_in_place(lzma_stream *s, const uint8_t *in, size_t *in_pos, size_t in_size,
                             uint8_t *out, size_t *out_pos, size_t out_size)
{
    s->next_in = in + *in_pos;
    s->avail_in = in_size - *in_pos;
    s->next_out = out + *out_pos;
    s->avail_out = out_size - *out_pos;
    lzma_ret r = lzma_code(s, LZMA_RUN);
    *in_pos = in_size - s->avail_in;
    *out_pos = out_size - s->avail_out;
    /* lzma_code's own "no progress" rule is applied once, by msigi_zxz_code. */
    return r == LZMA_BUF_ERROR ? LZMA_OK : r;
}

static lzma_ret st_block_run(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos, size_t in_size,
                             uint8_t *out, size_t *out_pos, size_t out_size)
{
    lzma_ret r = run_in_place(&z->bd, in, in_pos, in_size, out, out_pos, out_size);
    if (r != LZMA_STREAM_END)
        return r;
    lzma_end(&z->bd);
    z->bd_live = 0;
    z->seq = SEQ_BLOCK_HEADER;
    return lzma_index_hash_append(z->ih, lzma_block_unpadded_size(&z->block),
                                  z->block.uncompressed_size);
}

static void st_block_collect(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos, size_t in_size)
{
    struct job *j = newest(z);
    size_t n = in_size - *in_pos;
    if (n > j->in_len - j->in_fill)
        n = j->in_len - j->in_fill;
    memcpy(j->in + j->in_fill, in + *in_pos, n);
    j->in_fill += n;
    *in_pos += n;
    if (j->in_fill == j->in_len) {
        job_queue(z, j);
        z->seq = SEQ_BLOCK_HEADER;
    }
}

/* A job whose input ended early: decoded in place from what it got, as the in-place decoder
 * would have decoded it. */
static lzma_ret st_block_tail(struct msigi_zxz *z, uint8_t *out, size_t *out_pos, size_t out_size)
{
    struct job *j = oldest(z);
    lzma_ret r = run_in_place(&j->s, j->in, &j->tail_pos, j->in_fill, out, out_pos, out_size);
    /* The block cannot end early: its decoder knows its size. */
    return r == LZMA_STREAM_END ? LZMA_DATA_ERROR : r;
}

static lzma_ret st_index(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos, size_t in_size)
{
    if (*in_pos >= in_size)
        return LZMA_OK;
    lzma_ret r = lzma_index_hash_decode(z->ih, in, in_pos, in_size);
    if (r != LZMA_STREAM_END)
        return r;
    z->seq = SEQ_STREAM_FOOTER;
    return LZMA_OK;
}

static lzma_ret st_stream_footer(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos,
                                 size_t in_size)
{
    if (!take(z, in, in_pos, in_size, LZMA_STREAM_HEADER_SIZE))
        return LZMA_OK;
    lzma_stream_flags footer;
    lzma_ret r = lzma_stream_footer_decode(&footer, z->buffer);
    if (r != LZMA_OK)
        return r == LZMA_FORMAT_ERROR ? LZMA_DATA_ERROR : r;
    if (lzma_index_hash_size(z->ih) != footer.backward_size)
        return LZMA_DATA_ERROR;
    if ((r = lzma_stream_flags_compare(&z->flags, &footer)) != LZMA_OK)
        return r;
    z->seq = SEQ_STREAM_PADDING;
    return LZMA_OK;
}

/* Stream padding (groups of four zero bytes), then the end or another stream. */
static lzma_ret st_padding(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos, size_t in_size,
                           int finish)
{
    for (;;) {
        if (*in_pos >= in_size) {
            if (!finish)
                return LZMA_OK;
            return z->pos == 0 ? LZMA_STREAM_END : LZMA_DATA_ERROR;
        }
        if (in[*in_pos] != 0x00)
            break;
        ++*in_pos;
        z->pos = (z->pos + 1) & 3;
    }
    if (z->pos != 0) {
        ++*in_pos;
        return LZMA_DATA_ERROR;
    }
    return stream_reset(z);
}

/* The sequences that must follow every job's output: all but block headers and jobs. */
static int needs_order(enum seq s)
{
    return s != SEQ_BLOCK_HEADER && s != SEQ_BLOCK_INIT && s != SEQ_BLOCK_COLLECT;
}

static lzma_ret walk(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos, size_t in_size,
                     uint8_t *out, size_t *out_pos, size_t out_size, int finish)
{
    for (;;) {
        struct job *o = oldest(z);
        int input_done = *in_pos >= in_size;
        /* Wait for the oldest job when nothing else can go on. */
        int wait = o && state_of(z, o) != J_COLLECT &&
                   (needs_order(z->seq) || z->pending != LZMA_OK || (input_done && finish) ||
                    (z->seq == SEQ_BLOCK_HEADER && z->pos == 0 && z->jcount >= z->max_jobs));
        lzma_ret r = deliver(z, out, out_pos, out_size, wait);
        if (r != LZMA_OK)
            return r;
        if (*out_pos == out_size)
            return LZMA_OK;
        if (z->jcount && state_of(z, oldest(z)) != J_COLLECT &&
            (needs_order(z->seq) || z->pending != LZMA_OK))
            continue; /* delivered part of the jobs; more to wait for */
        if (z->pending != LZMA_OK)
            return z->pending;
        if (z->seq == SEQ_BLOCK_COLLECT && input_done && finish) {
            z->seq = SEQ_BLOCK_TAIL; /* the stream ends inside this block */
            continue;
        }
        switch (z->seq) {
        case SEQ_STREAM_HEADER:
            if ((r = st_stream_header(z, in, in_pos, in_size)) != LZMA_OK)
                return r;
            if (z->seq == SEQ_STREAM_HEADER)
                return LZMA_OK;
            break;
        case SEQ_BLOCK_HEADER:
            if (input_done)
                return LZMA_OK;
            if (z->pos == 0 && in[*in_pos] == 0x00) {
                z->seq = SEQ_INDEX;
                break;
            }
            if (z->pos == 0 && z->jcount >= z->max_jobs)
                return LZMA_OK; /* waited above; the ring is still full */
            if (take(z, in, in_pos, in_size,
                     lzma_block_header_size_decode(z->pos ? z->buffer[0] : in[*in_pos])))
                z->seq = SEQ_BLOCK_INIT;
            else
                return LZMA_OK;
            break;
        case SEQ_BLOCK_INIT:
            if ((r = st_block_init(z)) != LZMA_OK) {
                if (z->jcount == 0)
                    return r;
                z->pending = r; /* after the jobs before it */
            }
            break;
        case SEQ_BLOCK_START:
            if ((r = st_block_start(z)) != LZMA_OK)
                return r;
            break;
        case SEQ_BLOCK_RUN: {
            size_t in0 = *in_pos, out0 = *out_pos;
            r = st_block_run(z, in, in_pos, in_size, out, out_pos, out_size);
            if (r != LZMA_OK || (*in_pos == in0 && *out_pos == out0))
                return r;
            break;
        }
        case SEQ_BLOCK_COLLECT:
            if (input_done)
                return LZMA_OK;
            st_block_collect(z, in, in_pos, in_size);
            break;
        case SEQ_BLOCK_TAIL: {
            size_t out0 = *out_pos;
            r = st_block_tail(z, out, out_pos, out_size);
            if (r != LZMA_OK || *out_pos == out0)
                return r;
            break;
        }
        case SEQ_INDEX:
            if (input_done)
                return LZMA_OK;
            if ((r = st_index(z, in, in_pos, in_size)) != LZMA_OK)
                return r;
            break;
        case SEQ_STREAM_FOOTER:
            if ((r = st_stream_footer(z, in, in_pos, in_size)) != LZMA_OK)
                return r;
            if (z->seq == SEQ_STREAM_FOOTER)
                return LZMA_OK;
            break;
        case SEQ_STREAM_PADDING:
            r = st_padding(z, in, in_pos, in_size, finish);
            if (r != LZMA_OK || z->seq == SEQ_STREAM_PADDING)
                return r;
            break;
        default:
            return LZMA_PROG_ERROR;
        }
    }
}

lzma_ret msigi_zxz_code(struct msigi_zxz *z, const uint8_t *in, size_t *in_pos, size_t in_size,
                        uint8_t *out, size_t *out_pos, size_t out_size, int finish)
{
    if (z->seq == SEQ_ERROR)
        return LZMA_PROG_ERROR;
    size_t in0 = *in_pos, out0 = *out_pos;
    z->progress = 0;
    lzma_ret r = walk(z, in, in_pos, in_size, out, out_pos, out_size, finish);
    if (r != LZMA_OK && r != LZMA_STREAM_END) {
        z->seq = SEQ_ERROR;
        drop_jobs(z);
        return r;
    }
    /* As lzma_code: no progress twice in a row is LZMA_BUF_ERROR. */
    if (r == LZMA_OK && *in_pos == in0 && *out_pos == out0 && !z->progress) {
        if (z->allow_buf_error)
            return LZMA_BUF_ERROR;
        z->allow_buf_error = 1;
    } else {
        z->allow_buf_error = 0;
    }
    return r;
}

lzma_ret msigi_zxz_new(int threads, uint64_t memlimit, struct msigi_zxz **out)
{
    *out = NULL;
    struct msigi_zxz *z = msigi_calloc(1, sizeof(*z));
    if (!z)
        return LZMA_MEM_ERROR;
    z->memlimit = memlimit;
    z->first_stream = 1;
    z->pending = LZMA_OK;
    pthread_mutex_init(&z->mu, NULL);
    pthread_cond_init(&z->work, NULL);
    pthread_cond_init(&z->done, NULL);
    if (stream_reset(z) != LZMA_OK) {
        msigi_zxz_free(z);
        return LZMA_MEM_ERROR;
    }
    int n = threads > 1 ? (threads > MAX_JOBS - 1 ? MAX_JOBS - 1 : threads) : 0;
    z->max_jobs = (size_t)n + 1; /* one more collects while the others run */
    if (n > 0) {
        z->workers = msigi_calloc((size_t)n, sizeof(*z->workers));
        if (!z->workers) {
            msigi_zxz_free(z);
            return LZMA_MEM_ERROR;
        }
    }
    for (int i = 0; i < n; i++) {
        if (pthread_create(&z->workers[i], NULL, worker_main, z) != 0)
            break; /* fewer workers; with none every block is decoded in place */
        z->nworkers++;
    }
    *out = z;
    return LZMA_OK;
}

uint64_t msigi_zxz_memusage(const struct msigi_zxz *z)
{
    return z->memusage;
}

lzma_check msigi_zxz_check(const struct msigi_zxz *z)
{
    return z->flags.check;
}

size_t msigi_zxz_jobs(const struct msigi_zxz *z)
{
    return z->jobs_made;
}

void msigi_zxz_free(struct msigi_zxz *z)
{
    if (!z)
        return;
    drop_jobs(z);
    pthread_mutex_lock(&z->mu);
    z->stop = 1;
    pthread_cond_broadcast(&z->work);
    pthread_mutex_unlock(&z->mu);
    for (int i = 0; i < z->nworkers; i++)
        pthread_join(z->workers[i], NULL);
    msigi_free(z->workers);
    if (z->bd_live)
        lzma_end(&z->bd);
    if (z->seq == SEQ_BLOCK_START)
        lzma_filters_free(z->filters, NULL);
    lzma_index_hash_end(z->ih, NULL);
    pthread_cond_destroy(&z->done);
    pthread_cond_destroy(&z->work);
    pthread_mutex_destroy(&z->mu);
    msigi_free(z);
}
