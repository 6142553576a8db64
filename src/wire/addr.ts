// IPv4 / IPv6 address text forms for the control plane, CLI and tests.
// Data path code keeps IPv4 addresses as u32 numbers and IPv6 addresses as
// 16 bytes inside the packet; nothing here runs per packet.

/** Parses dotted-quad IPv4 ("192.0.2.1") to a u32; null if malformed. */
export function parseIp4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** Formats a u32 as dotted-quad. */
export const formatIp4 = (v: number): string =>
  `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/** True for 224.0.0.0/4 (ipv4_is_multicast). */
export const isIp4Multicast = (v: number): boolean => (v >>> 28) === 0xe;

/**
 * Parses an IPv6 address in any RFC 4291 §2.2 text form (including "::" and
 * an embedded dotted-quad tail) into 16 bytes; null if malformed.
 */
export function parseIp6(s: string): Uint8Array | null {
  if (s.length < 2 || s.length > 45) return null;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (lastColon !== -1 && text.indexOf('.', lastColon) !== -1) {
    // Rewrite the dotted-quad tail as two hex groups, then parse uniformly.
    const v4 = parseIp4(text.substring(lastColon + 1));
    if (v4 === null) return null;
    text = `${text.substring(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (head === null || rest === null) return null;
  const n = head.length + rest.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return null;
  const words = [...head, ...new Array<number>(8 - n).fill(0), ...rest];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Colon-separated 1–4 digit hex groups; "" is zero groups; null if malformed. */
function parseGroups(t: string): number[] | null {
  if (t === '') return [];
  const out: number[] = [];
  for (const g of t.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    out.push(parseInt(g, 16));
  }
  return out;
}

/** Formats 16 bytes at b[off] as RFC 5952 canonical text (lower case, longest zero run as "::"). */
export function formatIp6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(w);
  return `${hex(w.filter((_, i) => i < bestStart))}::${hex(w.filter((_, i) => i >= bestStart + bestLen))}`;
}
