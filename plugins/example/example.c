/* example.c -- an out-of-tree msig signer plugin: signs by running a command.
 *
 *   cc -shared -fPIC $(pkg-config --cflags msig-plugin) example.c -o msig-example.so
 *
 * Key spec "example:<label>". Host parameters (msig_ctx_set_param, or the CLI's options):
 *   example.command  shell command that reads the 32-byte SHA-256 digest on stdin and writes
 *                    the raw signature on stdout, e.g.
 *                    openssl pkeyutl -sign -inkey key.pem -pkeyopt digest:sha256
 *   example.pubkey   file holding the key's public half as DER SubjectPublicKeyInfo
 *                    (openssl pkey -in key.pem -pubout -outform DER -out pub.der)
 * The plugin uses only libc: key type and size are left to the core, which reads them from
 * the public key and verifies every signature before using it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msig/msig_plugin.h>

#define PUB_MAX 8192

struct ex_inst {
    const struct msig_host *host;
};

struct ex_key {
    struct ex_inst *inst;
    const char *command; /* owned by the host, valid until instance_free */
    uint8_t pub[PUB_MAX];
    size_t pub_len;
    int is_ec;
};

/* Report an error: the detail goes through the host, the code is returned. */
static int fail(struct ex_inst *inst, int code, const char *msg)
{
    inst->host->set_error(inst->host->host_data, code, msg);
    return code;
}

static int ex_instance_new(const struct msig_host *host, void **out)
{
    /* Refuse a host table that lacks a service we call. */
    if (!MSIG_HAS_FIELD(host, struct msig_host, get_param))
        return MSIG_E_ABI;
    struct ex_inst *inst = host->mem_alloc(host->host_data, sizeof(*inst));
    if (!inst)
        return MSIG_E_NOMEM;
    inst->host = host;
    *out = inst;
    return 0;
}

static void ex_instance_free(void *p)
{
    struct ex_inst *inst = p;
    inst->host->mem_free(inst->host->host_data, inst, sizeof(*inst));
}

static int ex_key_open(void *p, const char *spec, uint32_t flags, void **out)
{
    struct ex_inst *inst = p;
    const struct msig_host *h = inst->host;
    const char *command = NULL, *pubfile = NULL;
    char msg[512];
    (void)spec;

    if (flags & ~(uint32_t)MSIG_KEY_OPEN_F_NO_PROMPT)
        return fail(inst, MSIG_E_UNSUPPORTED, "unknown key_open flags");
    if (h->get_param(h->host_data, "example.command", &command) != 0 ||
        h->get_param(h->host_data, "example.pubkey", &pubfile) != 0)
        return fail(inst, MSIG_E_INVALID,
                    "set the parameters example.command and "
                    "example.pubkey");
    struct ex_key *k = h->mem_alloc(h->host_data, sizeof(*k));
    if (!k)
        return MSIG_E_NOMEM;
    memset(k, 0, sizeof(*k));
    k->inst = inst;
    k->command = command;
    FILE *f = fopen(pubfile, "rb");
    if (!f) {
        snprintf(msg, sizeof(msg), "cannot open %s: %s", pubfile, strerror(errno));
        h->mem_free(h->host_data, k, sizeof(*k));
        return fail(inst, MSIG_E_IO, msg);
    }
    k->pub_len = fread(k->pub, 1, sizeof(k->pub), f);
    fclose(f);
    /* id-ecPublicKey (1.2.840.10045.2.1): EC keys give DER ECDSA signatures. */
    static const uint8_t ec_oid[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
    k->is_ec = memmem(k->pub, k->pub_len, ec_oid, sizeof(ec_oid)) != NULL;
    *out = k;
    return 0;
}

static void ex_key_close(void *p)
{
    struct ex_key *k = p;
    k->inst->host->mem_free(k->inst->host->host_data, k, sizeof(*k));
}

static int ex_key_info(void *p, struct msig_key_info *info)
{
    struct ex_key *k = p;
    /* key_type, bits, sig_schemes: 0 = let the core derive them from the public key. */
    info->max_sig_len = 1024;
    info->pub_der_len = k->pub_len;
    return 0;
}

static int ex_key_public_der(void *p, uint8_t *buf, size_t cap, size_t *len)
{
    struct ex_key *k = p;
    *len = k->pub_len;
    if (cap < k->pub_len)
        return MSIG_E_BUFFER_TOO_SMALL; /* *len says how much is needed */
    memcpy(buf, k->pub, k->pub_len);
    return 0;
}

/* Runs the command with the digest on stdin; its stdout is the signature. */
static int ex_sign_digest(void *p, uint32_t scheme, const uint8_t *digest, size_t digest_len,
                          uint8_t *sig, size_t cap, size_t *sig_len, uint32_t *sig_fmt)
{
    struct ex_key *k = p;
    int in[2] = { -1, -1 }, outp[2] = { -1, -1 };
    (void)scheme;
    if (pipe(in) != 0 || pipe(outp) != 0)
        return fail(k->inst, MSIG_E_FAILED, "pipe failed");
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]);
        close(in[1]);
        close(outp[0]);
        close(outp[1]);
        return fail(k->inst, MSIG_E_FAILED, "fork failed");
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[0]);
        close(in[1]);
        close(outp[0]);
        close(outp[1]);
        execl("/bin/sh", "sh", "-c", k->command, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    /* 32 bytes always fit the pipe buffer, so this cannot block. */
    ssize_t w = write(in[1], digest, digest_len);
    close(in[1]);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(outp[0], sig + n, cap - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap)
            break;
    }
    close(outp[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (w != (ssize_t)digest_len || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || n == 0) {
        memset(sig, 0, cap); /* clear outputs on failure */
        return fail(k->inst, MSIG_E_FAILED, "the signing command failed");
    }
    *sig_len = n;
    *sig_fmt = k->is_ec ? MSIG_SIGFMT_ECDSA_DER : MSIG_SIGFMT_NATIVE;
    return 0;
}

static const char *const ex_schemes[] = { "example", NULL };

static const struct msig_plugin ex_plugin = {
    .struct_size = sizeof(struct msig_plugin),
    .abi_major = MSIG_PLUGIN_ABI_MAJOR,
    .abi_minor = MSIG_PLUGIN_ABI_MINOR,
    .name = "example",
    .version = "1.0",
    .schemes = ex_schemes,
    .flags = 0, /* not thread-safe: the core serialises calls */
    .instance_new = ex_instance_new,
    .instance_free = ex_instance_free,
    .key_open = ex_key_open,
    .key_close = ex_key_close,
    .key_info = ex_key_info,
    .key_public_der = ex_key_public_der,
    .sign_digest = ex_sign_digest,
    .sign_message = NULL,
};

/* Exports msig_plugin_entry_v1, the only symbol the core looks up. */
MSIG_PLUGIN_DEFINE(example, ex_plugin)
