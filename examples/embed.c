/* embed.c -- using libmsig from an application (an update agent and a signing service).
 *
 *   cc $(pkg-config --cflags msig) embed.c -o embed $(pkg-config --libs msig)
 *
 *   embed verify ARTIFACT [PUBKEY.pem]...
 *       Checks ARTIFACT (structure, every checksum, the signature with the given keys) and,
 *       only when it may be installed, prints what an update agent needs to decide:
 *       name, compatible devices, provides and payload types. Exit 0: install; 1: refuse.
 *       With keys, an unsigned artifact is refused ("missing signature").
 *   embed sign KEYSPEC IN OUT [NAME=VALUE]...
 *       Signs the artifact IN into OUT (IN and OUT may be the same file). KEYSPEC is
 *       "key.pem", "file:key.pem" or "<scheme>:..." of a signer plugin (found in the
 *       installed plugin directory or in MSIG_PLUGIN_PATH). NAME=VALUE are plugin
 *       parameters such as file.passphrase=... or example.command=...
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <msig/msig.h>

/* Prints the library's detail text for a failure (it names the file, key or value). */
static int fail(struct msig_ctx *ctx, const char *what, int rc)
{
    const char *msg = msig_ctx_last_error(ctx);

    if (msg[0] == '\0')
        msg = msig_strerror(rc);
    if (strstr(msg, what) != NULL)
        fprintf(stderr, "embed: %s\n", msg);
    else
        fprintf(stderr, "embed: %s: %s\n", what, msg);
    return 1;
}

static void print_list(const char *label, const char *const *v)
{
    size_t i;

    printf("%s:", label);
    for (i = 0; v != NULL && v[i] != NULL; i++)
        printf(" %s", v[i]);
    printf("\n");
}

static int verify(struct msig_ctx *ctx, const char *path, char **keyfiles, int nkeys)
{
    struct msig_pubkeys *keys = NULL;
    struct msig_artifact *art = NULL;
    int fd = -1, status = 1, rc, i;
    size_t p, j;

    rc = msig_pubkeys_new(ctx, &keys);
    if (rc != 0) {
        status = fail(ctx, "public keys", rc);
        goto out;
    }
    for (i = 0; i < nkeys; i++) {
        rc = msig_pubkeys_add_file(keys, keyfiles[i]);
        if (rc != 0) {
            status = fail(ctx, keyfiles[i], rc);
            goto out;
        }
    }
    /* Any readable descriptor works: a file, a pipe, a socket with the download. */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        goto out;
    }
    /* The full verdict in one call: 0 means the artifact may be installed. */
    rc = msig_artifact_verify_fd(ctx, fd, path, keys, &art);
    if (rc != 0) {
        status = fail(ctx, path, rc);
        goto out;
    }
    printf("artifact: %s\n", msig_artifact_name(art));
    printf("signature: %s\n", msig_artifact_signature(art) == MSIG_SIGNATURE_VERIFIED
                                  ? "verified"
                                  : "none (no key given)");
    print_list("compatible devices", msig_artifact_devices(art));
    if (msig_artifact_provides_group(art) != NULL)
        printf("provides group: %s\n", msig_artifact_provides_group(art));
    for (p = 0; p < msig_artifact_payload_count(art); p++) {
        const char *type = msig_artifact_payload_type(art, p);
        const char *const *prov = msig_artifact_payload_provides(art, p);

        printf("payload %zu type: %s\n", p, type ? type : "(empty)");
        for (j = 0; prov != NULL && prov[j] != NULL && prov[j + 1] != NULL; j += 2)
            printf("payload %zu provides: %s=%s\n", p, prov[j], prov[j + 1]);
    }
    status = 0;
out:
    msig_artifact_free(art);
    msig_pubkeys_free(keys);
    if (fd >= 0)
        close(fd);
    return status;
}

static int sign(struct msig_ctx *ctx, const char *spec, const char *in, const char *out_path,
                char **params, int nparams)
{
    struct msig_key *key = NULL;
    int status = 1, rc, i;

    /* External signer plugins are off until the application enables them. */
    rc = msig_ctx_enable_plugins(ctx, NULL);
    if (rc != 0) {
        status = fail(ctx, "plugins", rc);
        goto out;
    }
    for (i = 0; i < nparams; i++) {
        char name[128];
        const char *eq = strchr(params[i], '=');

        if (eq == NULL || (size_t)(eq - params[i]) >= sizeof(name)) {
            fprintf(stderr, "embed: parameter '%s' is not NAME=VALUE\n", params[i]);
            goto out;
        }
        memcpy(name, params[i], (size_t)(eq - params[i]));
        name[eq - params[i]] = '\0';
        rc = msig_ctx_set_param(ctx, name, eq + 1);
        if (rc != 0) {
            status = fail(ctx, name, rc);
            goto out;
        }
    }
    rc = msig_key_open(ctx, spec, 0, &key);
    if (rc != 0) {
        status = fail(ctx, spec, rc);
        goto out;
    }
    /* Written to a temporary file and renamed: on failure OUT is not created. */
    rc = msig_artifact_sign_file(ctx, key, in, out_path, 0);
    if (rc != 0) {
        status = fail(ctx, in, rc);
        goto out;
    }
    printf("signed %s -> %s\n", in, out_path);
    status = 0;
out:
    msig_key_close(key);
    return status;
}

int main(int argc, char **argv)
{
    struct msig_ctx *ctx = NULL;
    int status, rc;

    if (!(argc >= 3 && strcmp(argv[1], "verify") == 0) &&
        !(argc >= 5 && strcmp(argv[1], "sign") == 0)) {
        fprintf(stderr, "usage: embed verify ARTIFACT [PUBKEY]...\n"
                        "       embed sign KEYSPEC IN OUT [NAME=VALUE]...\n");
        return 2;
    }
    rc = msig_ctx_new(&ctx);
    if (rc != 0) {
        fprintf(stderr, "embed: %s\n", msig_strerror(rc));
        return 1;
    }
    if (argv[1][0] == 'v')
        status = verify(ctx, argv[2], argv + 3, argc - 3);
    else
        status = sign(ctx, argv[2], argv[3], argv[4], argv + 5, argc - 5);
    msig_ctx_free(ctx);
    return status;
}
