// One config file, read and checked as a whole: TOML syntax, then the shape
// (schema.ts), then every object's meaning (validate.ts). The first thing
// wrong becomes one ConfigFileError naming file, line, object and key:
//
//   /etc/tunkit.toml:12: link "gre1": key "ttl": 300 is not in 0..255
//
// Sans-I/O: the caller passes the text, reads key files, and says which
// devices exist (HostView).

import { VpnError } from '../wire/errors.js';
import { ConfigIssue } from './fields.js';
import type { Path } from './fields.js';
import { KeyLines } from './lines.js';
import { parseConfig, tomlLine } from './schema.js';
import type { ParseOptions, Parsed } from './schema.js';
import { validateModel } from './validate.js';
import type { HostView } from './validate.js';

/** A config file refused: `file`, 1-based `line` (0 when unknown), and the key path as `field`. */
export class ConfigFileError extends VpnError {
  constructor(readonly file: string, readonly line: number, message: string, field?: string) {
    super('EINVAL', message, field);
  }
}

/** `link "gre1"`, `xfrm state #2`, … and the key below it (`aead.key`, `tmpl[0].mode`), from a path. */
export function describePath(p: Path): { what: string; key: string } {
  const after = (n: number): Path => p.filter((_, i) => i >= n);
  const keyOf = (rest: Path): string => rest.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
  if (p[0] === 'link' && p.length >= 2) return { what: `link ${JSON.stringify(p[1])}`, key: keyOf(after(2)) };
  if (p[0] === 'xfrm' && (p[1] === 'state' || p[1] === 'policy') && typeof p[2] === 'number') {
    return { what: `xfrm ${p[1]} #${p[2] + 1}`, key: keyOf(after(3)) };
  }
  if (p[0] === 'xfrm' && p[1] === 'defaults') return { what: 'xfrm defaults', key: keyOf(after(2)) };
  return { what: p.length > 0 ? keyOf(p) : 'file', key: '' };
}

/** Parses and validates; throws ConfigFileError. */
export function loadConfig(text: string, file: string, opts: ParseOptions & HostView): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseConfig(text, opts);
    validateModel(parsed.model, opts);
  } catch (e) {
    const line = tomlLine(e);
    if (line !== null) {
      const first = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
      throw new ConfigFileError(file, line, `${file}:${line}: TOML syntax: ${first}`);
    }
    if (!(e instanceof ConfigIssue)) throw e;
    const n = new KeyLines(text).lineOf(e.path);
    const { what, key } = describePath(e.path);
    const msg = `${file}:${n}: ${what}: ${key !== '' ? `key ${JSON.stringify(key)}: ` : ''}${e.message}`;
    throw new ConfigFileError(file, n, msg, key !== '' ? key : undefined);
  }
  return parsed;
}
