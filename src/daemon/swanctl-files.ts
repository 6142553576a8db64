// Reading swanctl.conf and strongswan.conf files with their `include`s
// (ike/include.ts expands them; this supplies the file reads and glob(3)).
// Errors name the file and line they are about, included files too.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, parse, sep } from 'node:path';
import type { CharonSettings } from '../ike/charon.js';
import { parseCharonConf } from '../ike/charon.js';
import type { FileRef, IkeConfig, PeerAuth } from '../ike/config.js';
import { expandIncludes, remapError } from '../ike/include.js';
import type { Expanded, IncludeFs } from '../ike/include.js';
import { parseSwanctl } from '../ike/swanctl.js';
import { ConfigError, VpnError } from '../wire/errors.js';

/** One glob(3) path component ("*.conf", "peer-?.conf", "[ab].conf") as a RegExp; `*` and `?` do not match a leading dot. */
function componentRe(c: string): RegExp {
  let re = '';
  for (let i = 0; i < c.length; i++) {
    const ch = c[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = c.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      const body = c.substring(i + 1, end);
      re += `[${(body.startsWith('!') ? `^${body.substring(1)}` : body).replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^(?!\\.)${re}$`);
}

/** Files matching an absolute glob pattern, sorted (as glob(3) returns them); none is not an error. */
export function globFiles(pattern: string): string[] {
  const root = parse(pattern).root;
  let paths = [root];
  for (const c of pattern.substring(root.length).split(sep).filter((x) => x !== '')) {
    if (!/[*?[]/.test(c)) { paths = paths.map((p) => join(p, c)); continue; }
    const re = componentRe(c);
    const next: string[] = [];
    for (const p of paths) {
      let names: string[];
      try { names = readdirSync(p); } catch { continue; } // not a directory: no match there
      for (const n of names.sort()) if (re.test(n)) next.push(join(p, n));
    }
    paths = next;
  }
  return paths.filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true).sort();
}

const FS: IncludeFs = { read: (p) => readFileSync(p, 'utf8'), glob: globFiles };

function parseFile<T>(file: string, parse: (text: string, name: string) => T, post: (v: T, x: Expanded) => T = (v) => v): T {
  let x;
  try {
    x = expandIncludes(file, FS);
  } catch (e) {
    if (e instanceof VpnError) throw e; // an include's own error, naming file and line
    throw new ConfigError('file', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let v: T;
  try {
    v = parse(x.text, file);
  } catch (e) {
    throw remapError(e, x, file);
  }
  return post(v, x);
}

/** r with its line re-aimed at the file and line it is written in (an include's), as remapError does for parse errors. */
function placed<R extends FileRef>(r: R, x: Expanded): R {
  const at = x.lines[r.line - 1];
  return at === undefined ? r : { ...r, file: at.file, line: at.line };
}

/** The config with every certificate and key file reference placed (creds.ts names them in its errors). */
function placeRefs(cfg: IkeConfig, x: Expanded): IkeConfig {
  const peer = (p: PeerAuth): PeerAuth => ({ ...p, certFiles: p.certFiles.map((r) => placed(r, x)) });
  return {
    ...cfg,
    connections: cfg.connections.map((c) => ({ ...c, local: peer(c.local), remote: peer(c.remote) })),
    ...(cfg.keyFiles !== undefined ? { keyFiles: cfg.keyFiles.map((r) => placed(r, x)) } : {}),
  };
}

/** Reads and parses a swanctl.conf with its includes; throws (naming file, line and key) before anything changes. */
export const readSwanctlFile = (file: string): IkeConfig => parseFile(file, parseSwanctl, placeRefs);

/** Reads the charon section of a strongswan.conf with its includes. */
export const readCharonFile = (file: string): CharonSettings => parseFile(file, parseCharonConf);
