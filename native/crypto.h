/*
 * crypto.h: the addon's ESP crypto exports (crypto.c), registered by one call
 * from tunkit.c's module init. Typed in src/crypto/native.ts.
 */
#ifndef TK_CRYPTO_H
#define TK_CRYPTO_H

#include <node_api.h>

/* Defines cryptoAeadNew, cryptoAuthencNew, cryptoEspSeal, cryptoEspOpen,
 * cryptoEspSealBatch, cryptoEspOpenBatch, cryptoAeadSeal, cryptoAeadOpen,
 * cryptoMac and cryptoDestroy on exports. */
napi_status tk_crypto_init(napi_env env, napi_value exports);

#endif
