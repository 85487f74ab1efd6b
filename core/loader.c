/* loader.c -- plugin loader (minimal stub; the real loader follows). */
#include "ctx.h"

int msigi_loader_init(struct msig_ctx *ctx)
{
    (void)ctx;
    return 0;
}

void msigi_loader_fini(struct msig_ctx *ctx)
{
    (void)ctx;
}
