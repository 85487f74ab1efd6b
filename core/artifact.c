/* artifact.c -- the parsed artifact: getters, JSON export, and the validation verdict. */
#include "artifact.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"

struct msig_artifact *msigi_artifact_new(void)
{
    struct msig_artifact *art = msigi_calloc(1, sizeof(*art));
    if (art)
        art->sig_key = -1;
    return art;
}

int msigi_artifact_set_payloads(struct msig_artifact *art, size_t n)
{
    art->payloads = msigi_calloc(n, sizeof(*art->payloads));
    if (!art->payloads)
        return MSIG_E_NOMEM;
    art->npayloads = n;
    return 0;
}

struct msigi_file *msigi_payload_add_file(struct msigi_payload *p, const char *name)
{
    if (p->nfiles == p->fcap) {
        size_t cap = p->fcap ? p->fcap * 2 : 4;
        struct msigi_file *f = msigi_realloc(p->files, cap * sizeof(*f));
        if (!f)
            return NULL;
        p->files = f;
        p->fcap = cap;
    }
    struct msigi_file *f = &p->files[p->nfiles];
    memset(f, 0, sizeof(*f));
    f->name = msigi_strdup(name);
    if (!f->name)
        return NULL;
    p->nfiles++;
    return f;
}

static void payload_free(struct msigi_payload *p)
{
    msigi_free(p->type);
    msigi_free(p->aug_type);
    json_decref(p->provides);
    json_decref(p->depends);
    json_decref(p->clears);
    json_decref(p->meta);
    msigi_strv_free(&p->prov_kv);
    msigi_strv_free(&p->dep_kv);
    msigi_strv_free(&p->clears_v);
    msigi_free(p->meta_text);
    for (size_t i = 0; i < p->nfiles; i++)
        msigi_free(p->files[i].name);
    msigi_free(p->files);
}

void msig_artifact_free(struct msig_artifact *art)
{
    if (!art)
        return;
    msigi_free(art->format);
    msigi_free(art->name);
    msigi_free(art->sig_error);
    msigi_strv_free(&art->devices);
    msigi_free(art->provides_group);
    msigi_strv_free(&art->dep_names);
    msigi_strv_free(&art->dep_groups);
    msigi_strv_free(&art->scripts);
    for (size_t i = 0; i < art->npayloads; i++)
        payload_free(&art->payloads[i]);
    msigi_free(art->payloads);
    msigi_free(art);
}

void msig_string_free(char *s)
{
    free(s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Fills kv with the object's keys in byte order, each followed by its value (strings as
 * they are, anything else as compact JSON). */
static int object_to_kv(json_t *obj, struct msigi_strv *kv)
{
    if (!obj)
        return 0;
    size_t n = json_object_size(obj);
    const char **keys = msigi_calloc(n ? n : 1, sizeof(*keys));
    if (!keys)
        return MSIG_E_NOMEM;
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach (obj, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof(*keys), cmp_str);
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++) {
        v = json_object_get(obj, keys[i]);
        rc = msigi_strv_push(kv, keys[i]);
        if (rc)
            break;
        if (json_is_string(v)) {
            rc = msigi_strv_pushn(kv, json_string_value(v), json_string_length(v));
        } else {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            rc = t ? msigi_strv_push(kv, t) : MSIG_E_NOMEM;
            free(t);
        }
    }
    msigi_free(keys);
    return rc;
}

int msigi_artifact_finish(struct msig_artifact *art)
{
    for (size_t i = 0; i < art->npayloads; i++) {
        struct msigi_payload *p = &art->payloads[i];
        msigi_strv_free(&p->prov_kv);
        msigi_strv_free(&p->dep_kv);
        msigi_strv_free(&p->clears_v);
        msigi_free(p->meta_text);
        p->meta_text = NULL;
        int rc = object_to_kv(p->provides, &p->prov_kv);
        if (rc == 0)
            rc = object_to_kv(p->depends, &p->dep_kv);
        size_t j;
        json_t *v;
        json_array_foreach (p->clears, j, v) {
            if (rc == 0 && json_is_string(v))
                rc = msigi_strv_push(&p->clears_v, json_string_value(v));
        }
        if (rc == 0 && p->meta) {
            char *t = json_dumps(p->meta, JSON_COMPACT | JSON_SORT_KEYS);
            if (!t)
                return MSIG_E_NOMEM;
            p->meta_text = msigi_strdup(t);
            free(t);
            if (!p->meta_text)
                rc = MSIG_E_NOMEM;
        }
        for (j = 0; j < p->nfiles; j++) {
            p->files[j].info.name = p->files[j].name;
            p->files[j].info.checksum = p->files[j].checksum;
        }
        if (rc)
            return rc;
    }
    return 0;
}

int msig_artifact_format_version(const struct msig_artifact *art)
{
    return art ? art->version : 0;
}
const char *msig_artifact_format(const struct msig_artifact *art)
{
    return art && art->format ? art->format : "";
}
const char *msig_artifact_name(const struct msig_artifact *art)
{
    return art && art->name ? art->name : "";
}
int msig_artifact_signature(const struct msig_artifact *art)
{
    return art ? art->sig_state : MSIG_SIGNATURE_NONE;
}
const char *msig_artifact_signature_error(const struct msig_artifact *art)
{
    return art && art->sig_error ? art->sig_error : "";
}
int msig_artifact_signature_key(const struct msig_artifact *art)
{
    return art ? art->sig_key : -1;
}
const char *const *msig_artifact_devices(const struct msig_artifact *art)
{
    return msigi_strv_get(&art->devices);
}
const char *msig_artifact_provides_group(const struct msig_artifact *art)
{
    return art->provides_group;
}
const char *const *msig_artifact_depends_names(const struct msig_artifact *art)
{
    return msigi_strv_get(&art->dep_names);
}
const char *const *msig_artifact_depends_groups(const struct msig_artifact *art)
{
    return msigi_strv_get(&art->dep_groups);
}
const char *const *msig_artifact_scripts(const struct msig_artifact *art)
{
    return msigi_strv_get(&art->scripts);
}
int msig_artifact_augmented(const struct msig_artifact *art)
{
    return art->augmented;
}
size_t msig_artifact_payload_count(const struct msig_artifact *art)
{
    return art ? art->npayloads : 0;
}

static const struct msigi_payload *payload_at(const struct msig_artifact *art, size_t p)
{
    return art && p < art->npayloads ? &art->payloads[p] : NULL;
}

const char *msig_artifact_payload_type(const struct msig_artifact *art, size_t p)
{
    /* Merged view: an augmented section's type names the update module that installs it. */
    const struct msigi_payload *pl = payload_at(art, p);
    return pl ? (pl->aug_type ? pl->aug_type : pl->type) : NULL;
}
const char *const *msig_artifact_payload_provides(const struct msig_artifact *art, size_t p)
{
    static const struct msigi_strv none;
    const struct msigi_payload *pl = payload_at(art, p);
    return msigi_strv_get(pl ? &pl->prov_kv : &none);
}
const char *const *msig_artifact_payload_depends(const struct msig_artifact *art, size_t p)
{
    static const struct msigi_strv none;
    const struct msigi_payload *pl = payload_at(art, p);
    return msigi_strv_get(pl ? &pl->dep_kv : &none);
}
const char *const *msig_artifact_payload_clears(const struct msig_artifact *art, size_t p)
{
    static const struct msigi_strv none;
    const struct msigi_payload *pl = payload_at(art, p);
    return msigi_strv_get(pl ? &pl->clears_v : &none);
}
const char *msig_artifact_payload_meta_data(const struct msig_artifact *art, size_t p)
{
    const struct msigi_payload *pl = payload_at(art, p);
    return pl ? pl->meta_text : NULL;
}
size_t msig_artifact_payload_file_count(const struct msig_artifact *art, size_t p)
{
    const struct msigi_payload *pl = payload_at(art, p);
    return pl ? pl->nfiles : 0;
}
const struct msig_file_info *msig_artifact_payload_file(const struct msig_artifact *art, size_t p,
                                                        size_t i)
{
    const struct msigi_payload *pl = payload_at(art, p);
    return pl && i < pl->nfiles ? &pl->files[i].info : NULL;
}

static json_t *strv_json(const struct msigi_strv *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

static const char *sig_state_name(int s)
{
    switch (s) {
    case MSIG_SIGNATURE_UNCHECKED:
        return "signed-unchecked";
    case MSIG_SIGNATURE_VERIFIED:
        return "verified";
    case MSIG_SIGNATURE_FAILED:
        return "verification-failed";
    default:
        return "unsigned";
    }
}

int msig_artifact_to_json(const struct msig_artifact *art, char **out)
{
    if (!art || !out)
        return MSIG_E_INVALID;
    *out = NULL;
    json_t *root = json_object();
    json_t *payloads = json_array();
    if (!root || !payloads) {
        json_decref(root);
        json_decref(payloads);
        return MSIG_E_NOMEM;
    }
    json_object_set_new(root, "name", json_string(msig_artifact_name(art)));
    json_object_set_new(root, "format", json_string(msig_artifact_format(art)));
    json_object_set_new(root, "version", json_integer(art->version));
    json_object_set_new(root, "signature", json_string(sig_state_name(art->sig_state)));
    if (art->sig_state == MSIG_SIGNATURE_FAILED)
        json_object_set_new(root, "signature_error",
                            json_string(msig_artifact_signature_error(art)));
    if (art->sig_state == MSIG_SIGNATURE_VERIFIED)
        json_object_set_new(root, "signature_key_index", json_integer(art->sig_key));
    json_object_set_new(root, "compatible_types", strv_json(&art->devices));
    json_object_set_new(root, "provides_group",
                        art->provides_group ? json_string(art->provides_group) : json_null());
    json_object_set_new(root, "depends_artifact_names", strv_json(&art->dep_names));
    json_object_set_new(root, "depends_groups", strv_json(&art->dep_groups));
    json_object_set_new(root, "state_scripts", strv_json(&art->scripts));
    json_object_set_new(root, "augmented", json_boolean(art->augmented));
    for (size_t i = 0; i < art->npayloads; i++) {
        const struct msigi_payload *p = &art->payloads[i];
        json_t *pj = json_object();
        json_t *files = json_array();
        const char *merged = p->aug_type ? p->aug_type : p->type;
        json_object_set_new(pj, "type", merged ? json_string(merged) : json_null());
        if (p->aug_type)
            json_object_set_new(pj, "original_type", p->type ? json_string(p->type) : json_null());
        json_object_set_new(pj, "provides",
                            p->provides ? json_deep_copy(p->provides) : json_object());
        json_object_set_new(pj, "depends", p->depends ? json_deep_copy(p->depends) : json_object());
        json_object_set_new(pj, "clears_provides",
                            p->clears ? json_deep_copy(p->clears) : json_array());
        json_object_set_new(pj, "meta_data", p->meta ? json_deep_copy(p->meta) : json_null());
        for (size_t j = 0; j < p->nfiles; j++) {
            const struct msigi_file *f = &p->files[j];
            json_t *fj = json_object();
            char when[32] = "";
            time_t t = (time_t)f->info.mtime;
            struct tm tmv;
            if (gmtime_r(&t, &tmv))
                strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tmv);
            json_object_set_new(fj, "name", json_string(f->name));
            json_object_set_new(fj, "size", json_integer((json_int_t)f->info.size));
            json_object_set_new(fj, "modified", json_string(when));
            json_object_set_new(fj, "mode", json_integer(f->info.mode));
            json_object_set_new(fj, "checksum", json_string(f->checksum));
            json_object_set_new(fj, "augmented", json_boolean(f->info.augmented));
            json_array_append_new(files, fj);
        }
        json_object_set_new(pj, "files", files);
        json_array_append_new(payloads, pj);
    }
    json_object_set_new(root, "payloads", payloads);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(root);
    if (!text)
        return MSIG_E_NOMEM;
    *out = text;
    return 0;
}

int msig_artifact_verdict(struct msig_ctx *ctx, int read_rc, const struct msig_artifact *art,
                          int have_keys)
{
    if (read_rc != 0)
        return read_rc; /* (a) structure and checksums; the reader set the message */
    if (!art)
        return msigi_err(ctx, MSIG_E_INVALID, "no artifact to judge");
    switch (art->sig_state) {
    case MSIG_SIGNATURE_FAILED: /* (b) */
        return msigi_err(ctx, MSIG_E_SIGNATURE, "%s", msig_artifact_signature_error(art));
    case MSIG_SIGNATURE_NONE: /* (c) */
        if (have_keys)
            return msigi_err(ctx, MSIG_E_NO_SIGNATURE, "missing signature");
        return 0;
    case MSIG_SIGNATURE_UNCHECKED: /* (d) */
        return msigi_err(ctx, MSIG_E_NO_VERIFIER, "missing verifier");
    default:
        return 0;
    }
}
