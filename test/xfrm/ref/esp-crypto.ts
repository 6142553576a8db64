// REFERENCE (tests and benchmarks only): makeEspCrypto's construction over the
// node:crypto implementations in this directory, for the differential test.
// No validation: callers pass configurations makeEspCrypto accepted.
import { authIcvLen, findAlgo } from '../../../src/xfrm/algo.js';
import type { AlgoInfo } from '../../../src/xfrm/algo.js';
import type { EspCrypto, EspCryptoConfig } from '../../../src/xfrm/esp-crypto.js';
import { RefAeadEsp } from './aead.js';
import { RefCbcHmacEsp } from './cbc-hmac.js';

function info(kind: 'aead' | 'enc' | 'auth', name: string): AlgoInfo {
  const a = findAlgo(kind, name);
  if (a === null) throw new Error(`reference: no ${kind} ${name}`);
  return a;
}

export function makeRefEspCrypto(cfg: EspCryptoConfig): EspCrypto {
  if (cfg.aead !== undefined) {
    const a = info('aead', cfg.aead.name);
    return new RefAeadEsp(a, cfg.aead.key, (cfg.aead.bits ?? a.defaultBits) >>> 3, cfg.esn);
  }
  if (cfg.enc === undefined) throw new Error('reference: enc required');
  const auth = cfg.auth === undefined ? null : info('auth', cfg.auth.name);
  const icv = auth === null || cfg.auth === undefined ? 0 : authIcvLen(auth, cfg.auth.bits);
  return new RefCbcHmacEsp(info('enc', cfg.enc.name), cfg.enc.key, auth, cfg.auth?.key ?? null, icv, cfg.esn);
}
