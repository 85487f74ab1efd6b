#include "kms.h"
static int o(struct kms_key *k, const char *r, uint32_t f) { (void)r; (void)f; return kms_fail(k->inst, MSIG_E_UNSUPPORTED, "todo"); }
static int sg(struct kms_key *k, const uint8_t d[32], uint8_t *s, size_t c, size_t *l, uint32_t *fm) { (void)k; (void)d; (void)s; (void)c; (void)l; (void)fm; return MSIG_E_FAILED; }
const struct kms_service kms_signserver = {"signserver", o, sg, NULL};
