// REFERENCE (tests and benchmarks only): EspCrypto's batch calls as loops
// over seal/open, shared by the node:crypto reference classes.
import type { EspCrypto } from '../../../src/xfrm/esp-crypto.js';

type One = Pick<EspCrypto, 'seal' | 'open' | 'ivLen' | 'icvLen' | 'blockAlign'>;

export function refSealBatch(c: One, slab: Uint8Array, offs: Int32Array, ptLens: Int32Array, seqHi: Uint32Array, count: number): void {
  if (count > offs.length || count > ptLens.length || count > seqHi.length) throw new RangeError('count exceeds a side array');
  for (let i = 0; i < count; i++) {
    const need = 8 + c.ivLen + ptLens[i]! + c.icvLen;
    if (ptLens[i]! % c.blockAlign !== 0 || offs[i]! < 0 || offs[i]! + need > slab.length) throw new RangeError(`packet ${i} does not fit`);
  }
  for (let i = 0; i < count; i++) c.seal(slab, offs[i]!, ptLens[i]!, seqHi[i]!);
}

export function refOpenBatch(c: One, slab: Uint8Array, offs: Int32Array, espLens: Int32Array, seqHi: Uint32Array,
  ok: Uint8Array, count: number): number {
  if (count > offs.length || count > espLens.length || count > seqHi.length || count > ok.length) throw new RangeError('count exceeds a side array');
  let n = 0;
  for (let i = 0; i < count; i++) {
    ok[i] = c.open(slab, offs[i]!, espLens[i]!, seqHi[i]!) ? 1 : 0;
    n += ok[i]!;
  }
  return n;
}
