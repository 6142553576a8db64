// ALGO-KEYMAT of `tunkit xfrm state add|update … ALGO-NAME ALGO-KEYMAT`:
// ip's reading (ip/xfrm_state.c xfrm_algo_parse: 0x… is hex, anything else
// its bytes, at most XFRM_ALGO_KEY_BUF_SIZE) and tunkit's `@FILE` extension
// (KeyInput: the key read from a file by the CLI, a literal key reported).
// xfrm-state-args.ts parseAlgo calls keyArg then algoKeyHex.

import { parseKeyText } from '../config/keys.js';
import { getU8, invarg, UsageError } from './args.js';

/** XFRM_ALGO_KEY_BUF_SIZE (ip/xfrm_state.c). */
const KEY_BUF_SIZE = 512;

/** xfrm_state.c xfrm_algo_parse(): a 0x… key as hex (an odd digit count gets a leading 0), else the bytes. */
export function algoKeyHex(key: string): string {
  const b = Buffer.from(key, 'utf8');
  if (b.length > 2 && b[0] === 0x30 && b[1] === 0x78) {
    const p = b.toString('latin1', 2);
    const len = (p.length + 1) >> 1;
    if (len > KEY_BUF_SIZE) throw invarg('ALGO-KEYMAT value makes buffer overflow\n', 'ALGO-KEYMAT', 'key');
    let hex = '';
    for (let i = -(p.length % 2), j = 0; j < len; i += 2, j++) {
      const v = getU8(`${i >= 0 ? p[i] : '0'}${p[i + 1] ?? ''}`, 16);
      if (v === null) throw invarg('ALGO-KEYMAT value is invalid', 'ALGO-KEYMAT', 'key');
      hex += v.toString(16).padStart(2, '0');
    }
    return hex;
  }
  if (b.length > KEY_BUF_SIZE) throw invarg('ALGO-KEYMAT value makes buffer overflow\n', 'ALGO-KEYMAT', 'key');
  return b.toString('hex');
}

/**
 * How `state add|update` reads an ALGO-KEYMAT (a tunkit extension): `@FILE`
 * names a file holding the key in hex (0x… or bare digits), read by the
 * CLI and sent over the socket; a key written on the command line itself is
 * reported to onLiteral (it is visible in ps). Without a KeyInput a key is
 * read as ip reads it, `@…` included.
 */
export interface KeyInput {
  /** The file's text; throws Error with the reason (missing, readable by group or others). */
  readonly readFile: (path: string) => string;
  readonly onLiteral: () => void;
}

/** The KEYMAT argument as ip's xfrm_algo_parse would see it: `@FILE` replaced by 0x + the file's hex. */
export function keyArg(key: string, keys: KeyInput | undefined): string {
  if (keys === undefined) return key;
  if (!key.startsWith('@')) {
    keys.onLiteral();
    return key;
  }
  const path = key.substring(1);
  let text: string;
  try {
    text = keys.readFile(path);
  } catch (e) {
    throw new UsageError(`Error: key file ${path}: ${e instanceof Error ? e.message : String(e)}`, 'key');
  }
  const hex = parseKeyText(text);
  if (hex === null) throw new UsageError(`Error: key file ${path} does not hold a hex key (0x… or hex digits)`, 'key');
  return `0x${hex}`;
}
