// IPsec helpers for the netns system tests (pair.ts topology): install a
// pair of ESP SAs and their policies on both daemons through the
// `tunkit xfrm` CLI, read the per-SA counters (`tunkit -j -s xfrm state
// list`) and the MIB (`tunkit xfrm stat`), and capture what crosses the veth
// with tcpdump (a classic pcap, parsed here without src/wire: a system test
// should not trust the codecs it checks).
//
//   left  198.51.100.1 ══ ESP spi S (L→R), spi S+1 (R→L) ══ 198.51.100.2  right
//   inner 203.0.113.1/32 on lo                     203.0.113.2/32 on lo

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StateRecord } from '../../src/xfrm/spec.js';
import { sleep, within } from './pair.js';
import type { Pair, SideName } from './pair.js';

/** Underlay (SA endpoints) and inner (policy selector) addresses, [left, right]. */
export const OUTER = ['198.51.100.1', '198.51.100.2'] as const;
export const INNER = ['203.0.113.1', '203.0.113.2'] as const;

/** `0x` + n random bytes as hex: a fresh key. */
export const key = (n: number): string => `0x${randomBytes(n).toString('hex')}`;

/** One SA pair's configuration: the algorithm words (fresh keys per call) and any extra `state add` words. */
export interface SaSpec {
  readonly algo: () => readonly string[];
  readonly extra?: readonly string[];
  /** Extra words for the L→R SA only (e.g. lifetimes). */
  readonly extraLR?: readonly string[];
  readonly mode: 'tunnel' | 'transport';
  /** Selector words for transport SAs and policies (e.g. ['proto', 'gre']); tunnel policies select the inner /32s. */
  readonly upspec?: readonly string[];
}

const IDX = { left: 0, right: 1 } as const;

/** Removes every state and policy on both sides (the policy TUN's routes go with the policies). */
export function flushXfrm(p: Pair): void {
  for (const s of ['left', 'right'] as const) {
    p.tunkitOk(s, 'xfrm policy flush');
    p.tunkitOk(s, 'xfrm state flush');
  }
}

/**
 * SA spi (left → right, reqid spi) and spi+1 (right → left, reqid spi+1),
 * the same keys on both daemons, and on each side an out and an in policy
 * with one template naming the SA's reqid.
 */
export function installSas(p: Pair, spi: number, c: SaSpec): void {
  const dirs = [[0, 1, spi], [1, 0, spi + 1]] as const;
  for (const [a, b, id] of dirs) {
    const algo = c.algo();
    const sel = c.mode === 'transport' ? ['sel', 'src', OUTER[a], 'dst', OUTER[b], ...(c.upspec ?? [])] : [];
    const words = [
      'xfrm', 'state', 'add', 'src', OUTER[a], 'dst', OUTER[b], 'proto', 'esp', 'spi', `0x${id.toString(16)}`,
      'reqid', String(id), 'mode', c.mode, 'replay-window', '32', ...algo, ...sel, ...(c.extra ?? []), ...(a === 0 ? c.extraLR ?? [] : []),
    ];
    for (const s of ['left', 'right'] as const) p.tunkitOk(s, words);
  }
  for (const s of ['left', 'right'] as const) {
    const i = IDX[s];
    const j = 1 - i;
    const outId = i === 0 ? spi : spi + 1;
    const inId = i === 0 ? spi + 1 : spi;
    const addrs = c.mode === 'tunnel' ? INNER : OUTER;
    const upspec = c.mode === 'transport' ? c.upspec ?? [] : [];
    const tmpl = (from: number, to: number, id: number): string[] =>
      ['tmpl', ...(c.mode === 'tunnel' ? ['src', OUTER[from]!, 'dst', OUTER[to]!] : []), 'proto', 'esp', 'reqid', String(id), 'mode', c.mode];
    p.tunkitOk(s, ['xfrm', 'policy', 'add', 'src', addrs[i]!, 'dst', addrs[j]!, ...upspec, 'dir', 'out', ...tmpl(i, j, outId)]);
    p.tunkitOk(s, ['xfrm', 'policy', 'add', 'src', addrs[j]!, 'dst', addrs[i]!, ...upspec, 'dir', 'in', ...tmpl(j, i, inId)]);
  }
}

/** `-j xfrm` prints snake_case keys (cli/format.ts snakeKeys); back to StateRecord's camelCase ones (`esn` was `isEsn`). */
const camelKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k === 'esn' ? 'isEsn' : k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), camelKeys(x)]));
};

/** `tunkit -j -s xfrm state list` on one side. */
export function states(p: Pair, s: SideName): StateRecord[] {
  return camelKeys(JSON.parse(p.tunkitOk(s, '-j -s xfrm state list'))) as StateRecord[];
}

/** The state with this SPI in a list (each side holds both SAs of a pair). */
export function sa(list: readonly StateRecord[], spi: number, where: string): StateRecord {
  const x = list.find((r) => r.spi === spi);
  assert.ok(x !== undefined, `${where}: no SA spi 0x${spi.toString(16)} in xfrm state list (have ${list.map((r) => r.spi.toString(16)).join(', ')})`);
  return x;
}

/** `tunkit xfrm stat` (the /proc/net/xfrm_stat text) parsed: name → value. */
export function xfrmStat(p: Pair, s: SideName): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of p.tunkitOk(s, 'xfrm stat').split('\n')) {
    const m = /^(Xfrm\w+)\s+(\d+)$/.exec(line);
    if (m !== null) out[m[1]!] = Number(m[2]);
  }
  assert.ok(Object.keys(out).length >= 28, `[${s}] xfrm stat printed ${Object.keys(out).length} counters`);
  return out;
}

export type Stats = Record<SideName, Record<string, number>>;

/** `tunkit xfrm stat` on both sides. */
export const xfrmStats = (p: Pair): Stats => ({ left: xfrmStat(p, 'left'), right: xfrmStat(p, 'right') });

/**
 * Every xfrm_stat counter is an error counter: none may have moved since
 * `before`, except those in `allowed` (name → largest allowed rise).
 * Returns the rises seen (for diagnostics).
 */
export function assertXfrmDelta(p: Pair, before: Stats, allowed: Readonly<Record<string, number>> = {}): string {
  const seen: string[] = [];
  for (const s of ['left', 'right'] as const) {
    const now = xfrmStat(p, s);
    const moved = Object.entries(now).map(([k, v]) => [k, v - (before[s][k] ?? 0)] as const).filter(([, d]) => d !== 0);
    for (const [k, d] of moved) seen.push(`${s} ${k} +${d}`);
    const bad = moved.filter(([k, d]) => !(k in allowed) || d > allowed[k]!);
    assert.deepEqual(bad, [], `[${s}] xfrm stat error counters moved`);
  }
  return seen.join(', ') || 'none';
}

/** Both sides' SA lists once the packet counters stop moving (in-flight packets landed). */
export async function settleStates(p: Pair, maxMs = 6000): Promise<{ left: StateRecord[]; right: StateRecord[] }> {
  const key2 = (l: StateRecord[], r: StateRecord[]): string => JSON.stringify([...l, ...r].map((x) => [x.spi, x.curlft.packets]));
  let prev = { left: states(p, 'left'), right: states(p, 'right') };
  const t0 = performance.now();
  for (;;) {
    await sleep(200);
    const cur = { left: states(p, 'left'), right: states(p, 'right') };
    if (key2(cur.left, cur.right) === key2(prev.left, prev.right) || performance.now() - t0 > maxMs) return cur;
    prev = cur;
  }
}

/** One IPv4 packet seen on the wire: protocol, total length, UDP ports (0 otherwise). */
export interface Seen { readonly proto: number; readonly totalLen: number; readonly sport: number; readonly dport: number }

/** tcpdump on a side's veth (IPv4 only), written as pcap; stop() returns what it saw. */
export class Capture {
  private constructor(private readonly c: ChildProcess, private readonly dir: string, private readonly file: string) {}

  static async start(p: Pair, s: SideName): Promise<Capture> {
    const dir = mkdtempSync(join(tmpdir(), 'tkesp-'));
    const file = join(dir, 'veth.pcap');
    // --immediate-mode: else TPACKET_V3 holds packets until a block times out (1 s) and SIGINT loses them.
    // -Z root: tcpdump would drop to its own user before opening the file in our 0700 directory.
    const c = p.side(s).ns.spawn('tcpdump', ['-i', p.side(s).veth, '-n', '--immediate-mode', '-U', '-Z', 'root', '-s', '128', '-w', file, 'ip']);
    let err = '';
    const ready = new Promise<boolean>((resolve) => {
      c.stderr?.on('data', (d: Buffer) => { err += d.toString(); if (/listening on/.test(err)) resolve(true); });
      c.on('exit', () => resolve(false));
    });
    const ok = await within(ready, 10_000);
    if (ok !== true) {
      c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      assert.fail(`[${s}] tcpdump did not start: ${err}`);
    }
    return new Capture(c, dir, file);
  }

  async stop(): Promise<Seen[]> {
    await sleep(300);
    const exited = new Promise<void>((resolve) => this.c.on('exit', () => resolve()));
    this.c.kill('SIGINT');
    if ((await within(exited, 5000)) === 'timeout') this.c.kill('SIGKILL');
    try {
      return parsePcap(readFileSync(this.file));
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Classic pcap (either byte order), Ethernet link type: the IPv4 packets. */
export function parsePcap(b: Buffer): Seen[] {
  assert.ok(b.length >= 24, `pcap file of ${b.length} bytes`);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  assert.ok(le || b.readUInt32BE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b23c4d, `not a pcap file (magic ${magic.toString(16)})`);
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  assert.equal(u32(20), 1, 'link type EN10MB');
  const out: Seen[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const incl = u32(o + 8);
    const pkt = b.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    if (pkt.length < 34 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (pkt[14]! & 0xf) * 4;
    const proto = pkt[23]!;
    const udp = proto === 17 && pkt.length >= 14 + ihl + 4;
    out.push({ proto, totalLen: pkt.readUInt16BE(16), sport: udp ? pkt.readUInt16BE(14 + ihl) : 0, dport: udp ? pkt.readUInt16BE(14 + ihl + 2) : 0 });
  }
  return out;
}

/** A summary like "50×6 len 140" for diagnostics. */
export function describe(seen: readonly Seen[]): string {
  const groups = new Map<string, number>();
  for (const x of seen) {
    const k = `proto ${x.proto}${x.proto === 17 ? ` ${x.sport}→${x.dport}` : ''} len ${x.totalLen}`;
    groups.set(k, (groups.get(k) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => `${n}× ${k}`).join(', ') || 'nothing';
}
