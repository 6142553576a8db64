// Packet builders for the xfrm tests.
import { checksum16 } from '../../src/wire/checksum.js';
import { ip4 } from '../util/packets.js';

export { a4 } from '../util/packets.js';

/**
 * An IPv4 ICMP echo request src → dst with `dataLen` payload bytes (a
 * counting pattern), the given flags/fragment word and TOS; checksums valid.
 */
export function icmp4Echo(src: string, dst: string, id: number, seq: number, dataLen: number, fragWord: number, tos: number): Uint8Array {
  const p = ip4({ src, dst, proto: 1, tos, df: (fragWord & 0x4000) !== 0, payloadLen: 8 + dataLen, id: seq & 0xffff });
  const o = 20;
  p[o] = 8; p[o + 1] = 0;
  p[o + 4] = id >>> 8; p[o + 5] = id & 0xff;
  p[o + 6] = (seq >>> 8) & 0xff; p[o + 7] = seq & 0xff;
  for (let i = 0; i < dataLen; i++) p[o + 8 + i] = i & 0xff;
  p[o + 2] = 0; p[o + 3] = 0;
  const c = checksum16(p, o, 8 + dataLen);
  p[o + 2] = c >>> 8; p[o + 3] = c & 0xff;
  return p;
}
