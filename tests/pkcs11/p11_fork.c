/* p11_fork.c -- a PKCS#11 key opened (and logged in) in a parent process signs in a forked
 * child: the plugin sees the new process, opens the token again and logs in again.
 * Usage: p11_fork PLUGIN_DIR URI PIN. Prints TAP; the child's result comes back by exit code. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <msig/msig.h>

static int n_test;

static int ok(int cond, const char *name)
{
    printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
    return cond;
}

/* Signs a digest and checks the DER signature with the key's public half. */
static int sign_and_check(struct msig_key *key, const char *who)
{
    uint8_t dg[32], sig[600], der[600];
    size_t len = 0, dlen = 0;
    const unsigned char *p = der;
    uint32_t type = 0, bits = 0;
    EVP_PKEY *pub;
    EVP_PKEY_CTX *c;
    int good;

    memset(dg, 0x42, sizeof(dg));
    if (msig_key_describe(key, &type, &bits) != 0 ||
        msig_key_public_der(key, der, sizeof(der), &dlen) != 0)
        return 0;
    if (msig_key_sign_digest(
            key, type == MSIG_KEY_RSA ? MSIG_SIG_RSA_PKCS1_SHA256 : MSIG_SIG_ECDSA_SHA256, dg,
            sizeof(dg), MSIG_SIGOUT_DER, sig, sizeof(sig), &len) != 0) {
        fprintf(stderr, "%s: signing failed\n", who);
        return 0;
    }
    pub = d2i_PUBKEY(NULL, &p, (long)dlen);
    c = pub ? EVP_PKEY_CTX_new(pub, NULL) : NULL;
    good = c && EVP_PKEY_verify_init(c) == 1 &&
           EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
           EVP_PKEY_verify(c, sig, len, dg, sizeof(dg)) == 1;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pub);
    return good;
}

int main(int argc, char **argv)
{
    struct msig_ctx *ctx = NULL;
    struct msig_key *key = NULL;
    int status = 0;
    pid_t pid;

    if (argc != 4) {
        fprintf(stderr, "usage: p11_fork PLUGIN_DIR URI PIN\n");
        return 2;
    }
    if (msig_ctx_new(&ctx) != 0 || msig_ctx_enable_plugins(ctx, argv[1]) != 0 ||
        msig_ctx_set_param(ctx, "pkcs11.pin", argv[3]) != 0 ||
        msig_key_open(ctx, argv[2], MSIG_KEY_OPEN_F_NO_PROMPT, &key) != 0) {
        printf("Bail out! cannot open the key: %s\n", ctx ? msig_ctx_last_error(ctx) : "no ctx");
        return 1;
    }
    ok(sign_and_check(key, "parent"), "the parent signs (and logs in)");
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(sign_and_check(key, "child") && sign_and_check(key, "child again") ? 0 : 1);
    ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "a forked child signs twice with the parent's key handle");
    ok(sign_and_check(key, "parent after fork"), "the parent still signs after the fork");
    msig_key_close(key);
    msig_ctx_free(ctx);
    printf("1..%d\n", n_test);
    return 0;
}
