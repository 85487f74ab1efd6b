/* rdtar.c -- what the reader's tar walks share: libarchive's entries checked against the strict
 * tar layer, exact reads, the NNNN index of entry names, SHA-256. */
#include "rd.h"

#include <string.h>

#include "manifest.h"

int msigi_rd_sha256_init(struct msig_ctx *ctx, EVP_MD_CTX **md)
{
    *md = EVP_MD_CTX_new();
    if (!*md || EVP_DigestInit_ex(*md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(*md);
        *md = NULL;
        return msigi_err(ctx, MSIG_E_FAILED, "cannot initialise SHA-256");
    }
    return 0;
}

void msigi_rd_sha256_hex(EVP_MD_CTX *md, char out[65])
{
    uint8_t d[32];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(md, d, &dl);
    msigi_hex(d, 32, out);
}

/* Parses "NNNN" (exactly four digits). */
int msigi_rd_index4(const char *s, size_t len)
{
    if (len != 4)
        return -1;
    int v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* libarchive and the strict tar layer must have seen the same entry (name and size). */
int msigi_rd_same_entry(struct msigi_rd *rd, struct msigi_targuard *g, struct archive_entry *e,
                        const char *what)
{
    struct msigi_tg_entry t;
    const char *name = archive_entry_pathname(e);

    if (msigi_tg_next(g, &t) != 0 || name == NULL ||
        t.name_hash != msigi_tg_name_hash(name, strlen(name)) ||
        (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) != t.size))
        return msigi_err(rd->ctx, MSIG_E_FORMAT,
                         "%s: %s: entry '%.200s': the tar reader and "
                         "msig's tar layer read different names or sizes",
                         rd->name, what, name ? name : "?");
    return 0;
}

/* Reads exactly size bytes of the current entry of a into buf. Returns the count read (less
 * at a premature end), or -1 when the archive reports an error. */
la_ssize_t msigi_rd_read_exact(struct archive *a, uint8_t *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        la_ssize_t n = archive_read_data(a, buf + got, size - got);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (la_ssize_t)got;
}
