/* artifact.h -- the parsed view of an artifact that the reader fills and the getters of
 * msig.h read (private). */
#ifndef MSIG_ARTIFACT_H
#define MSIG_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <msig/msig.h>

#include "strv.h"

struct msigi_file {
    struct msig_file_info info; /* name and checksum point into the strings below */
    char *name;
    char checksum[65];
};

struct msigi_payload {
    char *type; /* NULL for a null (empty payload) type */
    int has_type_info;
    int has_meta_data;
    int has_data;
    int has_files;    /* v2 headers/NNNN/files seen */
    json_t *provides; /* object of strings, merged with the augment section */
    json_t *depends;  /* object */
    json_t *clears;   /* array of strings */
    json_t *meta;     /* object or NULL */
    char *aug_type;
    /* Views built by msigi_artifact_finish() for the getters. */
    struct msigi_strv prov_kv;
    struct msigi_strv dep_kv;
    struct msigi_strv clears_v;
    char *meta_text;
    struct msigi_file *files;
    size_t nfiles;
    size_t fcap;
};

struct msig_artifact {
    int version;
    char *format;
    char *name;
    int sig_state;
    char *sig_error;
    int sig_key;
    struct msigi_strv devices;
    char *provides_group;
    struct msigi_strv dep_names;
    struct msigi_strv dep_groups;
    struct msigi_strv scripts;
    int augmented;
    struct msigi_payload *payloads;
    size_t npayloads;
};

struct msig_artifact *msigi_artifact_new(void);
/* Allocates n empty payloads. */
int msigi_artifact_set_payloads(struct msig_artifact *art, size_t n);
struct msigi_file *msigi_payload_add_file(struct msigi_payload *p, const char *name);
/* Builds the getter views (sorted key/value lists, meta-data text). */
int msigi_artifact_finish(struct msig_artifact *art);

#endif
