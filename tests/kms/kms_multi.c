/* kms_multi.c -- test helper: an embedder signing several digests in one process, as a run
 * that signs several artifacts does. Usage: kms_multi SPEC N [NAME=VALUE...]. Opens SPEC,
 * signs N different digests, closes it, opens it again and signs once more; prints
 * "signed N+1" on success, the library's message otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msig/msig.h>

static int sign_some(struct msig_ctx *ctx, const char *spec, int n)
{
    struct msig_key *key = NULL;
    uint32_t type = 0, bits = 0;
    int rc = msig_key_open(ctx, spec, MSIG_KEY_OPEN_F_NO_PROMPT, &key);

    if (rc == 0)
        rc = msig_key_describe(key, &type, &bits);
    for (int i = 0; rc == 0 && i < n; i++) {
        uint8_t digest[32], sig[1024];
        size_t len = 0;

        memset(digest, i + 1, sizeof(digest));
        rc = msig_key_sign_digest(
            key, type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256, digest,
            sizeof(digest), MSIG_SIGOUT_RAW, sig, sizeof(sig), &len);
    }
    msig_key_close(key);
    return rc;
}

int main(int argc, char **argv)
{
    struct msig_ctx *ctx = NULL;
    int n, rc;

    if (argc < 3)
        return 2;
    n = atoi(argv[2]);
    rc = msig_ctx_new(&ctx);
    if (rc == 0)
        rc = msig_ctx_enable_plugins(ctx, NULL);
    for (int i = 3; rc == 0 && i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL)
            return 2;
        *eq = '\0';
        rc = msig_ctx_set_param(ctx, argv[i], eq + 1);
    }
    if (rc == 0)
        rc = sign_some(ctx, argv[1], n);
    if (rc == 0)
        rc = sign_some(ctx, argv[1], 1);
    if (rc == 0)
        printf("signed %d\n", n + 1);
    else
        fprintf(stderr, "kms_multi: %s\n", msig_ctx_last_error(ctx));
    msig_ctx_free(ctx);
    return rc == 0 ? 0 : 1;
}
