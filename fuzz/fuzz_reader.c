/* fuzz_reader.c -- the whole artifact reader (outer tar, version, manifest, manifest.sig,
 * headers and their JSON, compressed payload tars, checksums) through msig_reader_read_cb.
 * Each input is read twice: without keys, all at once; then with two public keys (so
 * base64, DER and RSA/ECDSA verification run), in 509-byte chunks. What was read is then
 * walked through every getter and the JSON export, and the verdict is applied. */
#include <string.h>

#include "fuzz.h"
#include "fuzz_keys.h"

struct sink {
    int open;
    uint64_t got;
};

/* Discards file data, checking the begin/data/end order of the events. */
static int on_file(void *user, const struct msig_file_event *ev, const void *data, size_t len,
                   int last)
{
    struct sink *k = user;
    FUZZ_CHECK(ev != NULL && ev->name != NULL);
    FUZZ_CHECK(ev->kind == MSIG_FILE_PAYLOAD || ev->kind == MSIG_FILE_SCRIPT);
    if (!k->open) {
        FUZZ_CHECK(data == NULL && len == 0 && !last);
        k->open = 1;
        k->got = 0;
        return 0;
    }
    if (last) {
        FUZZ_CHECK(len == 0);
        k->open = 0;
        return 0;
    }
    FUZZ_CHECK(len == 0 || data != NULL);
    k->got += len;
    return 0;
}

static void walk_list(const char *const *l)
{
    for (; l && *l; l++)
        FUZZ_CHECK(strlen(*l) < ((size_t)1 << 30));
}

static void walk(struct msig_ctx *ctx, const struct msig_artifact *art, int rc, int have_keys)
{
    (void)msig_artifact_format_version(art);
    (void)msig_artifact_format(art);
    (void)msig_artifact_name(art);
    int sig = msig_artifact_signature(art);
    FUZZ_CHECK(sig >= MSIG_SIGNATURE_NONE && sig <= MSIG_SIGNATURE_FAILED);
    (void)msig_artifact_signature_error(art);
    int which = msig_artifact_signature_key(art);
    FUZZ_CHECK(sig == MSIG_SIGNATURE_VERIFIED ? (which == 0 || which == 1) : which == -1);
    if (!have_keys)
        FUZZ_CHECK(sig != MSIG_SIGNATURE_VERIFIED && sig != MSIG_SIGNATURE_FAILED);
    walk_list(msig_artifact_devices(art));
    (void)msig_artifact_provides_group(art);
    walk_list(msig_artifact_depends_names(art));
    walk_list(msig_artifact_depends_groups(art));
    walk_list(msig_artifact_scripts(art));
    (void)msig_artifact_augmented(art);
    size_t np = msig_artifact_payload_count(art);
    for (size_t p = 0; p < np; p++) {
        (void)msig_artifact_payload_type(art, p);
        walk_list(msig_artifact_payload_provides(art, p));
        walk_list(msig_artifact_payload_depends(art, p));
        walk_list(msig_artifact_payload_clears(art, p));
        (void)msig_artifact_payload_meta_data(art, p);
        size_t nf = msig_artifact_payload_file_count(art, p);
        for (size_t i = 0; i < nf; i++) {
            const struct msig_file_info *fi = msig_artifact_payload_file(art, p, i);
            FUZZ_CHECK(fi != NULL && fi->name != NULL);
        }
    }
    char *json = NULL;
    if (msig_artifact_to_json(art, &json) == 0)
        FUZZ_CHECK(json != NULL);
    msig_string_free(json);
    int v = msig_artifact_verdict(ctx, rc, art, have_keys);
    if (rc != 0)
        FUZZ_CHECK(v != 0);
}

static void read_once(struct msig_ctx *ctx, const uint8_t *data, size_t size,
                      const struct msig_pubkeys *keys, size_t step)
{
    struct msig_reader *r = NULL;
    struct msig_artifact *art = NULL;
    struct src s = { data, size, 0, step };
    struct sink k = { 0, 0 };

    if (msig_reader_new(ctx, &r) != 0)
        goto out;
    msig_reader_set_pubkeys(r, keys);
    msig_reader_set_file_handler(r, on_file, &k);
    int rc = msig_reader_read_cb(r, src_read, &s, "fuzz.mender", &art);
    FUZZ_CHECK(rc <= 0);
    if (rc != 0)
        FUZZ_CHECK(msig_ctx_last_error(ctx)[0] != '\0');
    else
        FUZZ_CHECK(art != NULL && !k.open);
    if (art)
        walk(ctx, art, rc, keys != NULL);
out:
    msig_artifact_free(art);
    msig_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct msig_ctx *ctx = NULL;
    struct msig_pubkeys *keys = NULL;

    if (msig_ctx_new(&ctx) != 0)
        return 0;
    read_once(ctx, data, size, NULL, 0);
    FUZZ_CHECK(fuzz_pubkeys_new(ctx, &keys) == 0);
    read_once(ctx, data, size, keys, 509);
    msig_pubkeys_free(keys);
    msig_ctx_free(ctx);
    return 0;
}
