// Where each key of a TOML document is: path → 1-based line, for error
// messages (`FILE:12: link "gre1": key "ttl": …`). smol-toml reports the
// line of a syntax error but gives no positions for values that parse, so
// this walks the text once: table headers `[a.b]`, array-of-tables headers
// `[[a.b]]` (numbered in order, as the parser numbers them), `key = …` lines
// and the keys of a one-line inline table. A path with no line of its own
// (an element of a multi-line array) is found at its nearest ancestor.

import type { Path } from './fields.js';

const BARE = /^[A-Za-z0-9_-]+/;

/** Splits a dotted key (`a."b.c".d`) into its parts; null if it is not one. */
export function splitKey(s: string): string[] | null {
  const out: string[] = [];
  let rest = s.trim();
  for (;;) {
    let m: RegExpExecArray | null;
    if ((m = /^"((?:[^"\\]|\\.)*)"/.exec(rest)) !== null) {
      try {
        out.push(JSON.parse(`"${m[1]!}"`) as string);
      } catch {
        return null; // an escape JSON does not know: not a key we can place
      }
    } else if ((m = /^'([^']*)'/.exec(rest)) !== null) out.push(m[1]!);
    else if ((m = BARE.exec(rest)) !== null) out.push(m[0]);
    else return null;
    rest = rest.substring(m[0].length).trimStart();
    if (rest === '') return out;
    if (!rest.startsWith('.')) return null;
    rest = rest.substring(1).trimStart();
  }
}

const KEY_AT_START = /^\s*((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*=\s*(.*)$/;
const AOT = /^\s*\[\[\s*(.+?)\s*\]\]\s*(?:#.*)?$/;
const TABLE = /^\s*\[\s*([^[].*?)\s*\]\s*(?:#.*)?$/;

/** The line of every key and table the text defines, by JSON.stringify(path). */
export class KeyLines {
  private readonly lines = new Map<string, number>();

  constructor(text: string) {
    const aot = new Map<string, number>(); // array-of-tables name path → its current index
    const resolve = (segs: readonly string[]): (string | number)[] => {
      const path: (string | number)[] = [];
      const names: string[] = [];
      for (const s of segs) {
        path.push(s);
        names.push(s);
        const ix = aot.get(names.join('\0'));
        if (ix !== undefined) path.push(ix);
      }
      return path;
    };
    let cur: (string | number)[] = [];
    text.split('\n').forEach((line, i) => {
      const n = i + 1;
      let m: RegExpExecArray | null;
      if ((m = AOT.exec(line)) !== null) {
        const segs = splitKey(m[1]!);
        if (segs === null) return;
        const name = segs.join('\0');
        aot.set(name, (aot.get(name) ?? -1) + 1);
        cur = resolve(segs);
        this.note(cur, n);
      } else if ((m = TABLE.exec(line)) !== null && !line.includes('=')) {
        const segs = splitKey(m[1]!);
        if (segs === null) return;
        cur = resolve(segs);
        this.note(cur, n);
      } else if ((m = KEY_AT_START.exec(line)) !== null) {
        const segs = splitKey(m[1]!);
        if (segs === null) return;
        const path = [...cur, ...segs];
        this.note(path, n);
        if (m[2]!.startsWith('{')) this.inline(path, m[2]!, n);
      }
    });
  }

  /** The keys of a one-line inline table `{ a = 1, b = { c = 2 } }` (nested ones too). */
  private inline(path: readonly (string | number)[], v: string, n: number): void {
    const toks = [...v.matchAll(/"(?:[^"\\]|\\.)*"|'[^']*'|[{}[\],=]|[A-Za-z0-9_-]+/g)].map((m) => m[0]);
    const stack: (string | number)[][] = [];
    let pending: (string | number)[] | null = null;
    for (let j = 0; j < toks.length; j++) {
      const t = toks[j]!;
      if (t === '{') { stack.push(pending ?? [...path]); pending = null; continue; }
      if (t === '}') { stack.pop(); continue; }
      const k = toks[j + 1] === '=' && stack.length > 0 ? splitKey(t)?.[0] : undefined;
      if (k === undefined) { pending = null; continue; }
      pending = [...stack[stack.length - 1]!, k];
      this.note(pending, n);
      j++;
    }
  }

  private note(path: readonly (string | number)[], n: number): void {
    const k = JSON.stringify(path);
    if (!this.lines.has(k)) this.lines.set(k, n);
  }

  /** The line of `path`, or of its nearest ancestor that has one; 0 if none. */
  lineOf(path: Path): number {
    for (let i = path.length; i > 0; i--) {
      const n = this.lines.get(JSON.stringify(path.filter((_, j) => j < i)));
      if (n !== undefined) return n;
    }
    return 0;
  }
}
