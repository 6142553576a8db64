// Helpers shared by the ESP interop suites (esp.test.ts, esp-negative.test.ts):
// SA/policy configuration written once and applied with `ip xfrm` on the
// guest and `tunkit xfrm` on ours (the same iproute2 syntax), parsers for
// `ip -s xfrm state` / `tunkit -s xfrm state list` text and for
// /proc/net/xfrm_stat / `tunkit xfrm stat`, tap captures with a per-sender
// census of what crossed the wire, and raw re-injection of captured packets.
//
// Nothing here runs at import time.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { formatIp4 } from '../../src/wire/addr.js';
import { Ip4Packet } from '../../src/wire/ip4.js';
import { IPPROTO_ESP, IPPROTO_GRE, IPPROTO_UDP } from '../../src/wire/ipproto.js';
import { isPcapError, readPcap } from '../../src/wire/pcap.js';
import { REPO_ROOT } from '../util/paths.js';
import { GUEST_OUTER, OURS_OUTER, readBytes, sleep } from './harness.js';
import type { LinuxPeer, Ours } from './harness.js';

/** Inner (tunnel-mode) addresses: ours on lo of our netns, the guest's on its lo. */
export const OURS_INNER = '203.0.113.1';
export const GUEST_INNER = '203.0.113.2';

/** A deterministic test key of `bytes` bytes for a label (never use outside tests). */
export function testKey(label: string, bytes: number): string {
  let hex = '';
  for (let i = 0; hex.length < bytes * 2; i++) hex += createHash('sha256').update(`${label}/${i}`).digest('hex');
  return `0x${hex.slice(0, bytes * 2)}`;
}

/** The algorithm words of `ip xfrm state add`, for one direction (label makes the keys). */
export type AlgoWords = (label: string) => string[];

export const gcm = (keyBytes: 16 | 32): AlgoWords => (l) => ['aead', 'rfc4106(gcm(aes))', testKey(l, keyBytes + 4), '128'];
export const chacha: AlgoWords = (l) => ['aead', 'rfc7539esp(chacha20,poly1305)', testKey(l, 36), '128'];
export const cbcHmac = (sha: 256 | 384 | 512, encBytes: 16 | 32 = 16): AlgoWords => (l) => [
  'enc', 'cbc(aes)', testKey(`${l}/enc`, encBytes), 'auth-trunc', `hmac(sha${sha})`, testKey(`${l}/auth`, sha / 8), String(sha / 2),
];

export interface SaDef {
  readonly src: string;
  readonly dst: string;
  readonly spi: number;
  readonly reqid: number;
  readonly mode: 'tunnel' | 'transport';
  readonly algo: string[];
  /** More `ip xfrm state add` words (flag esn, encap …, replay-window N); default replay-window 32. */
  readonly extra?: readonly string[];
}

export const saWords = (s: SaDef): string[] => [
  'src', s.src, 'dst', s.dst, 'proto', 'esp', 'spi', `0x${s.spi.toString(16).padStart(8, '0')}`, 'reqid', String(s.reqid),
  'mode', s.mode, ...(s.extra?.some((w) => w === 'replay-window') === true ? [] : ['replay-window', '32']), ...s.algo, ...(s.extra ?? []),
];

/** `SELECTOR dir DIR tmpl …` words of a policy; tunnel templates carry the SA's endpoints. */
export function policyWords(sel: string, dir: 'in' | 'out', sa: SaDef): string[] {
  const tmplEnds = sa.mode === 'tunnel' ? ['src', sa.src, 'dst', sa.dst] : [];
  return [...sel.split(' '), 'dir', dir, 'tmpl', ...tmplEnds, 'proto', 'esp', 'reqid', String(sa.reqid), 'mode', sa.mode];
}

const shq = (w: string): string => (/^[\w./:-]+$/.test(w) ? w : `'${w}'`);
export const guestLine = (words: readonly string[]): string => words.map(shq).join(' ');

/** States and policies on both ends: `ip xfrm …` in the guest (one script), `tunkit xfrm …` on ours. */
export async function applyXfrm(
  peer: LinuxPeer, ours: Ours,
  g: { sas: readonly SaDef[]; pols: readonly string[][] }, o: { sas: readonly SaDef[]; pols: readonly string[][] },
): Promise<void> {
  await peer.sh([
    ...g.sas.map((s) => `ip xfrm state add ${guestLine(saWords(s))}`),
    ...g.pols.map((p) => `ip xfrm policy add ${guestLine(p)}`),
  ].join('\n'));
  for (const s of o.sas) await ours.tunkit('xfrm', 'state', 'add', ...saWords(s));
  for (const p of o.pols) await ours.tunkit('xfrm', 'policy', 'add', ...p);
}

export async function flushXfrm(peer: LinuxPeer, ours: Ours): Promise<void> {
  await peer.exec('ip xfrm policy flush; ip xfrm state flush');
  await ours.tunkitRc('xfrm', 'policy', 'flush');
  await ours.tunkitRc('xfrm', 'state', 'flush');
}

/** The SA pair of a case: o2g (ours → guest), g2o (guest → ours). */
export function saPair(base: number, algo: AlgoWords, mode: 'tunnel' | 'transport', extra: readonly string[] = []): { o2g: SaDef; g2o: SaDef } {
  const reqid = base >> 8;
  return {
    o2g: { src: OURS_OUTER, dst: GUEST_OUTER, spi: base + 1, reqid, mode, algo: algo(`${base}/o2g`), extra },
    g2o: { src: GUEST_OUTER, dst: OURS_OUTER, spi: base + 2, reqid, mode, algo: algo(`${base}/g2o`), extra },
  };
}

/** Tunnel-mode SAs + in/out policies for 203.0.113.1 ⇄ 203.0.113.2 on both ends. */
export async function configureTunnel(peer: LinuxPeer, ours: Ours, p: { o2g: SaDef; g2o: SaDef }): Promise<void> {
  const toGuest = `src ${OURS_INNER}/32 dst ${GUEST_INNER}/32`;
  const toUs = `src ${GUEST_INNER}/32 dst ${OURS_INNER}/32`;
  await applyXfrm(peer, ours,
    { sas: [p.o2g, p.g2o], pols: [policyWords(toUs, 'out', p.g2o), policyWords(toGuest, 'in', p.o2g)] },
    { sas: [p.o2g, p.g2o], pols: [policyWords(toGuest, 'out', p.o2g), policyWords(toUs, 'in', p.g2o)] });
}

// ---------------------------------------------------------------- counters

/** One SA as `ip -s xfrm state` prints it (the fields these tests compare). */
export interface SaStats {
  readonly src: string; readonly dst: string; readonly spi: number;
  readonly bytes: number; readonly packets: number;
  readonly replayWindow: number; readonly replay: number; readonly failed: number;
}

/** Parses `ip -s xfrm state` (guest) or `tunkit -s xfrm state list` (ours): one block per SA, each starting "src A dst B". */
export function parseXfrmStates(text: string): SaStats[] {
  const out: SaStats[] = [];
  for (const block of text.split(/^(?=src )/m)) {
    const head = /^src (\S+) dst (\S+)/.exec(block);
    if (head === null) continue;
    const spi = /proto esp spi 0x([0-9a-f]+)/.exec(block);
    const cur = /lifetime current:\s*\n\s*(\d+)\(bytes\), (\d+)\(packets\)/.exec(block);
    const st = /stats:\s*\n\s*replay-window (\d+) replay (\d+) failed (\d+)/.exec(block);
    if (spi === null || cur === null || st === null) throw new Error(`xfrm state block without spi/lifetime/stats:\n${block}`);
    out.push({
      src: head[1]!, dst: head[2]!, spi: parseInt(spi[1]!, 16), bytes: Number(cur[1]), packets: Number(cur[2]),
      replayWindow: Number(st[1]), replay: Number(st[2]), failed: Number(st[3]),
    });
  }
  return out;
}

export const guestStates = async (peer: LinuxPeer): Promise<SaStats[]> => parseXfrmStates(await peer.sh('ip -s xfrm state'));

interface StateJson {
  src: string; dst: string; spi: number;
  stats: { replay_window: number; replay: number; integrity_failed: number };
  curlft: { bytes: number; packets: number };
}

/** Ours: `tunkit -s xfrm state list` (text), checked against `tunkit -j -s xfrm state list` (JSON) SA by SA. */
export async function ourStates(ours: Ours): Promise<SaStats[]> {
  const text = parseXfrmStates(await ours.tunkit('-s', 'xfrm', 'state', 'list'));
  const json = (JSON.parse(await ours.tunkit('-j', '-s', 'xfrm', 'state', 'list')) as StateJson[]).map((j): SaStats => ({
    src: j.src, dst: j.dst, spi: j.spi, bytes: j.curlft.bytes, packets: j.curlft.packets,
    replayWindow: j.stats.replay_window, replay: j.stats.replay, failed: j.stats.integrity_failed,
  }));
  const bySpi = (a: SaStats, b: SaStats): number => a.spi - b.spi;
  // Packets may arrive between the two reads: compare the identities and the (quiet) error counters.
  assert.deepEqual(json.map((s) => [s.src, s.dst, s.spi]).sort(), text.map((s) => [s.src, s.dst, s.spi]).sort(), 'tunkit -j and text list the same SAs');
  const j = [...json].sort(bySpi);
  [...text].sort(bySpi).forEach((s, i) => assert.deepEqual([s.replayWindow, s.replay, s.failed], [j[i]!.replayWindow, j[i]!.replay, j[i]!.failed], `SA ${s.spi}: text vs JSON stats`));
  return json;
}

export function sa(list: readonly SaStats[], spi: number): SaStats {
  const s = list.find((x) => x.spi === spi);
  if (s === undefined) throw new Error(`no SA with spi 0x${spi.toString(16)} in ${JSON.stringify(list)}`);
  return s;
}

/** /proc/net/xfrm_stat or `tunkit xfrm stat`: "Name<spaces>\tvalue" lines. */
export function parseXfrmStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(Xfrm\w+)\s+(\d+)$/gm)) out[m[1]!] = Number(m[2]);
  if (Object.keys(out).length < 28) throw new Error(`xfrm_stat has ${Object.keys(out).length} counters, want the 28 of 6.1:\n${text}`);
  return out;
}

export const guestStat = async (peer: LinuxPeer): Promise<Record<string, number>> => parseXfrmStat(await peer.sh('cat /proc/net/xfrm_stat'));
export const ourStat = async (ours: Ours): Promise<Record<string, number>> => parseXfrmStat(await ours.tunkit('xfrm', 'stat'));

/** Counters that changed between two xfrm_stat reads. */
export function statDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) d[k] = v - (before[k] ?? 0);
  return d;
}

/** Polls `read` until `ok` or the timeout (packets in flight); returns the last value. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 6000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await sleep(300);
  }
}

// ---------------------------------------------------------------- capture

export interface Capture { readonly proc: ChildProcess; readonly file: string; readonly exited: Promise<void> }

export async function captureStart(ours: Ours, tap: string, file: string, filter = 'ip'): Promise<Capture> {
  rmSync(file, { force: true });
  const proc = ours.spawn('tcpdump', ['-i', tap, '-nn', '-U', '--immediate-mode', '-s', '0', '-w', file, filter]);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  for (let i = 0; i < 200 && !err.includes('listening on'); i++) await sleep(25);
  if (!err.includes('listening on')) throw new Error(`tcpdump did not start: ${err}`);
  return { proc, file, exited };
}

/** Stops tcpdump (after a moment for the last packets) and returns the IPv4 packets (Ethernet header stripped). */
export async function captureStop(c: Capture): Promise<Uint8Array[]> {
  await sleep(400);
  c.proc.kill('SIGINT');
  await c.exited;
  const f = readPcap(readBytes(c.file));
  rmSync(c.file, { force: true });
  if (isPcapError(f)) throw new Error(`pcap: ${f.error} at ${f.offset}`);
  return f.records.map((r) => r.data).filter((b) => b.length > 34 && b[12] === 0x08 && b[13] === 0x00).map((b) => b.subarray(14));
}

/** What each end put on the wire, by kind. */
export interface Census { esp: number; udp4500: number; gre: number; other: number; innerClear: number }

/**
 * Per outer source (ours / guest): raw ESP, UDP 4500, clear GRE, anything
 * else; innerClear = packets with an inner address (203.0.113.0/24, or
 * 192.0.2.0/24 of the GRE case) in the clear, counted for ours when sent from
 * 203.0.113.1 / 192.0.2.1.
 */
export function census(pkts: readonly Uint8Array[]): { ours: Census; guest: Census } {
  const ip = new Ip4Packet();
  const mk = (): Census => ({ esp: 0, udp4500: 0, gre: 0, other: 0, innerClear: 0 });
  const r = { ours: mk(), guest: mk() };
  for (const b of pkts) {
    if (!ip.wrap(b, 0, b.length)) continue;
    const src = formatIp4(ip.src);
    const dst = formatIp4(ip.dst);
    const c = src === OURS_OUTER ? r.ours : src === GUEST_OUTER ? r.guest : null;
    if (/^(203\.0\.113|192\.0\.2)\./.test(src) || /^(203\.0\.113|192\.0\.2)\./.test(dst)) {
      (src === OURS_INNER || src === '192.0.2.1' || src === OURS_OUTER ? r.ours : r.guest).innerClear++;
      continue;
    }
    if (c === null) continue;
    const p = ip.payloadOffset;
    if (ip.protocol === IPPROTO_ESP) c.esp++;
    else if (ip.protocol === IPPROTO_UDP && b[p + 2] === 0x11 && b[p + 3] === 0x94 && b[p] === 0x11 && b[p + 1] === 0x94) c.udp4500++;
    else if (ip.protocol === IPPROTO_GRE) c.gre++;
    else c.other++;
  }
  return r;
}

/** The raw ESP packets (whole IPv4 packets) a source sent, in capture order. */
export function espFrom(pkts: readonly Uint8Array[], src: string): Uint8Array[] {
  const ip = new Ip4Packet();
  return pkts.filter((b) => ip.wrap(b, 0, b.length) && ip.protocol === IPPROTO_ESP && formatIp4(ip.src) === src);
}

// ---------------------------------------------------------------- injection

const NATIVE = join(REPO_ROOT, 'dist', 'src', 'io', 'native.js');

/**
 * Sends whole IPv4 packets from our netns through a raw IP_HDRINCL socket
 * (the native addon's rawOpen(255), as test/netns/pair.ts injects): to the
 * guest's address they leave on the tap unchanged; to our own address they
 * loop back and are received as if they had arrived (our raw ESP socket sees them).
 */
export async function inject(ours: Ours, packets: readonly Uint8Array[]): Promise<void> {
  const hex = packets.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('hex')).join(',');
  const script = `
    import { native } from ${JSON.stringify(pathToFileURL(NATIVE).href)};
    const pkts = ${JSON.stringify(hex)}.split(',').map((h) => Buffer.from(h, 'hex'));
    const n = native();
    const fd = n.rawOpen(255);
    const stride = 65536;
    const slab = new Uint8Array(stride * pkts.length);
    const offs = new Int32Array(pkts.length), sizes = new Int32Array(pkts.length), dst = new Uint32Array(pkts.length);
    pkts.forEach((p, i) => { slab.set(p, i * stride); offs[i] = i * stride; sizes[i] = p.length; dst[i] = p.readUInt32BE(16); });
    const sent = n.sendBatch(fd, slab, offs, sizes, dst, pkts.length);
    process.stdout.write(JSON.stringify({ sent, error: n.lastSendError() }));
    n.closeFd(fd);`;
  const r = await ours.run(process.execPath, '--input-type=module', '-e', script);
  assert.equal(r.code, 0, `injector failed: ${r.stderr}`);
  const res = JSON.parse(r.stdout) as { sent: number; error: string };
  assert.equal(res.sent, packets.length, `injector sent ${res.sent}/${packets.length} (${res.error})`);
}
