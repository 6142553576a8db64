// `include PATTERN` in swanctl.conf / strongswan.conf, as strongSwan's
// settings parser takes it: a line `include PATTERN` (not `include = …`,
// which is a key) is replaced by the files the glob(3) pattern matches,
// in sorted order, at that point of the enclosing section. A relative
// pattern is relative to the directory of the file that includes it. A
// pattern with wildcards that matches nothing includes nothing; a plain
// path that does not exist is an error (as strongSwan fails opening it).
//
// Pure: the caller hands in how to read a file and expand a pattern
// (daemon/swanctl-files.ts). The result is one text plus a line map, so
// the one-text parser's "FILE:LINE: …" errors can be re-aimed at the
// included file and its own line (remapError).

import { dirname, isAbsolute, join } from 'node:path';
import { VpnError } from '../wire/errors.js';

export interface IncludeFs {
  /** A file's text; throws (with the reason) when it cannot be read. */
  read(path: string): string;
  /** Files matching a glob pattern (absolute pattern), sorted. */
  glob(pattern: string): string[];
}

export interface Expanded {
  readonly text: string;
  /** Where line n (1-based) of text came from. */
  readonly lines: readonly { readonly file: string; readonly line: number }[];
}

/** strongSwan's limit on nested includes (a cycle is caught before it). */
export const MAX_INCLUDE_DEPTH = 10;

const hasWildcard = (p: string): boolean => /[*?[]/.test(p);

/** The pattern of an include line, or null when the line is something else. */
export function includePattern(raw: string): string | null {
  const m = /^\s*include\s+([^=\s].*)$/.exec(raw);
  if (m === null) return null;
  let p = m[1]!.trim();
  if (p.startsWith('"')) {
    const end = p.indexOf('"', 1);
    return end < 0 ? p : p.substring(1, end);
  }
  const hash = p.indexOf('#');
  if (hash >= 0) p = p.substring(0, hash).trim();
  return p;
}

const fail = (file: string, line: number, why: string): never => {
  throw new VpnError('ESWANCTL', `${file}:${line}: include: ${why}`, 'include');
};

/** The file with every include expanded; throws (naming file and line) on a missing file, a cycle or too deep a nesting. */
export function expandIncludes(file: string, fs: IncludeFs): Expanded {
  const text: string[] = [];
  const lines: { file: string; line: number }[] = [];
  const walk = (f: string, body: string, stack: readonly string[]): void => {
    body.split('\n').forEach((raw, i) => {
      const pat = includePattern(raw);
      if (pat === null) {
        text.push(raw);
        lines.push({ file: f, line: i + 1 });
        return;
      }
      if (pat === '') fail(f, i + 1, 'needs a file name or pattern');
      if (stack.length >= MAX_INCLUDE_DEPTH) fail(f, i + 1, `nested more than ${MAX_INCLUDE_DEPTH} deep`);
      const abs = isAbsolute(pat) ? pat : join(dirname(f), pat);
      const files = hasWildcard(abs) ? fs.glob(abs) : [abs];
      for (const g of files) {
        if (stack.includes(g)) fail(f, i + 1, `${g} includes itself (through ${stack.join(' → ')})`);
        let inner: string;
        try {
          inner = fs.read(g);
        } catch (e) {
          return fail(f, i + 1, `cannot read ${g}: ${e instanceof Error ? e.message : String(e)}`);
        }
        walk(g, inner, [...stack, g]);
      }
    });
  };
  walk(file, fs.read(file), [file]);
  return { text: text.join('\n'), lines };
}

/**
 * An error from parsing x.text under the name `file` ("FILE:LINE: rest"),
 * re-aimed at the line's own file and line; other errors unchanged.
 */
export function remapError(e: unknown, x: Expanded, file: string): unknown {
  if (!(e instanceof VpnError) || !e.message.startsWith(`${file}:`)) return e;
  const m = /^:(\d+): ([\s\S]*)$/.exec(e.message.substring(file.length));
  if (m === null) return e;
  const n = Number(m[1]);
  const at = x.lines[n - 1];
  if (at === undefined) return e; // line 0: about the whole configuration
  const r = new VpnError(e.code, `${at.file}:${at.line}: ${m[2]!}`, e.field, { cause: e });
  return r;
}
