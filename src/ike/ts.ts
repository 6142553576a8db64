// Traffic selectors (RFC 7296 §2.9): configured selectors as address
// ranges, and narrowing — the responder answers with the intersection of
// what the initiator proposed and what its own policy allows. The first
// selector of each of TSi/TSr is the packet that triggered the exchange
// when the initiator sends one; this slice does not send it (no trap
// policies yet) and treats every selector alike.

import { TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE } from '../wire/ike/consts.js';
import type { TrafficSelector } from '../wire/ike/ts.js';
import { be16 } from '../wire/bytes.js';

/** Address bytes of an IPv4 or IPv6 literal; null when malformed. */
export function addrBytes(s: string): Uint8Array | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4 !== null) {
    const o = [v4[1], v4[2], v4[3], v4[4]].map(Number);
    return o.every((x) => x <= 255) ? Uint8Array.from(o) : null;
  }
  if (!s.includes(':') || !/^[0-9a-fA-F:]+$/.test(s)) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)) ? g.map((x) => parseInt(x, 16)) : null;
  };
  const a = groups(halves[0]!);
  const b = halves.length === 2 ? groups(halves[1]!) : [];
  if (a === null || b === null) return null;
  const fill = 8 - a.length - b.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...a, ...new Array<number>(fill).fill(0), ...b];
  const out = new Uint8Array(16);
  all.forEach((g, i) => { out[2 * i] = g >>> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

/** Text of 4 or 16 address bytes (IPv6 without :: compression beyond the longest zero run). */
export function addrText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(be16(b, i).toString(16));
  const s = g.join(':');
  const m = /(^|:)0(:0)+(:|$)/.exec(s);
  return m === null ? s : `${s.substring(0, m.index)}::${s.substring(m.index + m[0].length)}`;
}

/** "CIDR" or "ADDR" (host) or "dynamic" to a selector; null when malformed. `dynamic` needs the IKE address. */
export function parseTs(text: string, dynamicAddr: string | null): TrafficSelector | null {
  const t = text.trim();
  const cidr = t === 'dynamic' ? dynamicAddr : t;
  if (cidr === null) return null;
  const [a, p] = cidr.split('/');
  const start = addrBytes(a ?? '');
  if (start === null) return null;
  const bits = p === undefined ? start.length * 8 : Number(p);
  if (!/^\d+$/.test(p ?? '0') || !Number.isInteger(bits) || bits < 0 || bits > start.length * 8) return null;
  const s = new Uint8Array(start.length);
  const e = new Uint8Array(start.length);
  for (let i = 0; i < start.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    s[i] = start[i]! & mask;
    e[i] = (start[i]! & mask) | (~mask & 0xff);
  }
  return { tsType: start.length === 4 ? TS_IPV4_ADDR_RANGE : TS_IPV6_ADDR_RANGE, ipProto: 0, startPort: 0, endPort: 65535, start: s, end: e };
}

const cmp = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
};

/** The intersection of two selectors, or null when they do not overlap (protocol, ports and addresses). */
export function intersect(a: TrafficSelector, b: TrafficSelector): TrafficSelector | null {
  if (a.tsType !== b.tsType) return null;
  if (a.ipProto !== 0 && b.ipProto !== 0 && a.ipProto !== b.ipProto) return null;
  const startPort = Math.max(a.startPort, b.startPort);
  const endPort = Math.min(a.endPort, b.endPort);
  if (startPort > endPort) return null;
  const start = cmp(a.start, b.start) >= 0 ? a.start : b.start;
  const end = cmp(a.end, b.end) <= 0 ? a.end : b.end;
  if (cmp(start, end) > 0) return null;
  return { tsType: a.tsType, ipProto: a.ipProto !== 0 ? a.ipProto : b.ipProto, startPort, endPort, start, end };
}

/** §2.9 narrowing: every non-empty intersection of a proposed selector with a configured one (duplicates dropped). */
export function narrow(proposed: readonly TrafficSelector[], mine: readonly TrafficSelector[]): TrafficSelector[] {
  const out: TrafficSelector[] = [];
  for (const p of proposed) {
    for (const m of mine) {
      const x = intersect(p, m);
      if (x !== null && !out.some((o) => tsEqual(o, x))) out.push(x);
    }
  }
  return out;
}

export const tsEqual = (a: TrafficSelector, b: TrafficSelector): boolean =>
  a.tsType === b.tsType && a.ipProto === b.ipProto && a.startPort === b.startPort && a.endPort === b.endPort && cmp(a.start, b.start) === 0 && cmp(a.end, b.end) === 0;

/** True when `inner` lies within some selector of `outer` (the initiator's check of a narrowed answer). */
export const isWithin = (inner: TrafficSelector, outer: readonly TrafficSelector[]): boolean =>
  outer.some((o) => { const x = intersect(inner, o); return x !== null && tsEqual(x, inner); });

/**
 * The selector as a prefix "ADDR/PLEN" when its range is one (what an xfrm
 * policy selector can hold); null for ranges that are not a prefix.
 */
export function tsToCidr(t: TrafficSelector): string | null {
  let bits = 0;
  let inHost = false;
  for (let i = 0; i < t.start.length; i++) {
    const x = t.start[i]! ^ t.end[i]!;
    if ((t.start[i]! & x) !== 0 || (~t.end[i]! & x & 0xff) !== 0) return null;
    for (let bit = 7; bit >= 0; bit--) {
      const isHost = ((x >> bit) & 1) === 1;
      if (isHost) inHost = true;
      else if (inHost) return null;
      else bits++;
    }
  }
  return `${addrText(t.start)}/${bits}`;
}

/** strongSwan-style text: "203.0.113.0/24" or "203.0.113.1..203.0.113.9", with "[proto/port]" when narrowed. */
export function tsText(t: TrafficSelector): string {
  const base = tsToCidr(t) ?? `${addrText(t.start)}..${addrText(t.end)}`;
  if (t.ipProto === 0 && t.startPort === 0 && t.endPort === 65535) return base;
  const port = t.startPort === 0 && t.endPort === 65535 ? '' : t.startPort === t.endPort ? `/${t.startPort}` : `/${t.startPort}-${t.endPort}`;
  return `${base}[${t.ipProto}${port}]`;
}
