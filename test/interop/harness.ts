// Interop harness: a real Linux 6.1 kernel (the QEMU guest of
// test/kernel-peer/kernel-peer.sh) at one end of each tunnel, tunkitd at the
// other.
//
//   host netns NS (unique per test file)             QEMU guest (Debian 6.1)
//   tunkitd --socket /run/tunkit/NS.sock             ip link add … type gre …
//   kp-<name> 198.51.100.1/24  ◄──── tap ────►      eth0 198.51.100.2/24
//
// One guest per test file (boot 6–35 s under TCG, depending on the host's
// load), reused by every case; each case creates its tunnels on both ends
// and deletes them again. Everything this process starts is torn down in
// `after`, on process exit and on SIGINT/SIGTERM: tunkitd is killed, the
// guest stopped, the netns deleted.
//
// Not root, no kernel peer, no guest kernel cache, no build: the tests FAIL
// with a message saying what is missing (they never skip). `npm test` sets
// the cache up first (kernel-peer.sh ensure, its pretest).
//
// TK_KERNEL_PEER (or its old name TK_LINUX_PEER) runs another script with
// the same interface; KP_CACHE (or LP_CACHE) names its cache.
//
// Nothing here runs at import time (node --test only runs *.test.js, but a
// helper must stay inert anyway).

import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../util/paths.js';

export const KERNEL_PEER = process.env['TK_KERNEL_PEER'] ?? process.env['TK_LINUX_PEER'] ?? join(REPO_ROOT, 'test', 'kernel-peer', 'kernel-peer.sh');
const KP_CACHE = process.env['KP_CACHE'] ?? process.env['LP_CACHE'] ?? '/var/cache/tunkit-kernel-peer';
export const TUNKIT = join(REPO_ROOT, 'bin', 'tunkit');
const TUNKITD = join(REPO_ROOT, 'bin', 'tunkitd');
export const XFER = join(REPO_ROOT, 'dist', 'src', 'demo', 'tcp-xfer.js');

/** Underlay addresses the kernel peer puts on the tap (ours) and the guest's eth0. */
export const OURS_OUTER = '198.51.100.1';
export const GUEST_OUTER = '198.51.100.2';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- process plumbing

export interface RunResult { readonly code: number; readonly stdout: string; readonly stderr: string }

/** Runs a command to completion (never throws for a non-zero exit; `code` -1 = could not run / killed). */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, {
      encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 120_000,
      env: { ...process.env, ...(opts.env ?? {}) },
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr: err !== null && code === -1 ? `${stderr}${err.message}` : stderr });
    });
  });
}

/** Like run, but throws (with the output) on a non-zero exit; returns stdout. */
export async function must(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const cleanups: (() => void)[] = [];
let hooked = false;

/** Runs every registered cleanup once (synchronously: also usable from 'exit' and signal handlers). */
export function cleanupAll(): void {
  while (cleanups.length > 0) {
    const c = cleanups.pop()!;
    try { c(); } catch { /* keep cleaning */ }
  }
}

function onCleanup(fn: () => void): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', cleanupAll);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => { cleanupAll(); process.exit(sig === 'SIGINT' ? 130 : 143); });
    }
  }
  cleanups.push(fn);
}

// ---------------------------------------------------------------- prerequisites

/**
 * Throws (the test then FAILS) unless everything the interop suite needs is
 * present: root, kernel-peer.sh, its kernel cache, qemu, tcpdump, the
 * host tools ip and ping, and a built tunkit (dist/ and the native addon).
 */
export function requirePrereqs(): void {
  const missing: string[] = [];
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) missing.push(`root (uid 0) for network namespaces, TUN devices, raw sockets and QEMU; uid is ${uid}. CI runs as root`);
  try { accessSync(KERNEL_PEER, constants.X_OK); } catch {
    missing.push(`the kernel peer at ${KERNEL_PEER} (executable; set TK_KERNEL_PEER to override)`);
  }
  if (!existsSync(join(KP_CACHE, 'initramfs.img'))) missing.push(`the guest kernel cache ${KP_CACHE}/initramfs.img: run "bash ${KERNEL_PEER} setup" first (npm test does)`);
  for (const tool of ['ip', 'ping', 'tcpdump', 'qemu-system-x86_64']) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { missing.push(`the host tool "${tool}" (kernel-peer.sh setup installs it)`); }
  }
  for (const f of [XFER, join(REPO_ROOT, 'dist', 'src', 'daemon', 'main.js'), join(REPO_ROOT, 'build', 'Release', 'tunkit_native.node')]) {
    if (!existsSync(f)) missing.push(`${f} (run npm run build)`);
  }
  if (missing.length > 0) {
    throw new Error(`tunkit interop tests cannot run; they need:\n  - ${missing.join('\n  - ')}\n(The interop tests fail rather than skip when they cannot run.)`);
  }
}

// ---------------------------------------------------------------- the guest

/** A kernel-peer guest in its own network namespace (created and removed by kernel-peer.sh). */
export class LinuxPeer {
  readonly name: string;
  readonly ns: string;
  readonly tap: string;
  private readonly env: NodeJS.ProcessEnv;
  private stopped = false;

  private constructor(tag: string) {
    // name ≤ 12 characters: the tap is "kp-<name>" and must fit IFNAMSIZ (15).
    this.name = `${tag}${process.pid.toString(36)}${randomBytes(1).toString('hex')}`.slice(0, 12);
    this.ns = `tk-interop-${this.name}`;
    this.tap = `kp-${this.name}`;
    // KP_* for kernel-peer.sh; the same values as LP_* keep a TK_KERNEL_PEER
    // override to the older linux-peer.sh working.
    const knobs = { NAME: this.name, TAP: this.tap, EXEC_TIMEOUT: '90' };
    this.env = Object.fromEntries(Object.entries(knobs).flatMap(([k, v]) => [[`KP_${k}`, v], [`LP_${k}`, v]]));
  }

  /** Boots a guest wired to a tap in a new netns `tk-interop-<name>`; registered for cleanup first. */
  static async boot(tag: string): Promise<LinuxPeer> {
    const p = new LinuxPeer(tag);
    onCleanup(() => p.stop());
    const r = await run(KERNEL_PEER, ['start', p.ns], { env: p.env, timeoutMs: 240_000 });
    if (r.code !== 0) throw new Error(`kernel-peer start ${p.ns} failed (${r.code}):\n${r.stdout}${r.stderr}`);
    return p;
  }

  /** Runs a bash script in the guest; output is stdout+stderr merged. */
  async exec(script: string): Promise<{ code: number; out: string }> {
    const r = await run(KERNEL_PEER, ['exec', script], { env: this.env, timeoutMs: 150_000 });
    return { code: r.code, out: r.stdout + r.stderr };
  }

  /** Runs a script that must succeed; returns its output. */
  async sh(script: string): Promise<string> {
    const r = await this.exec(script);
    if (r.code !== 0) throw new Error(`guest script failed (exit ${r.code}):\n${script}\n--- output:\n${r.out}`);
    return r.out;
  }

  async put(file: string, path: string): Promise<void> {
    await must(KERNEL_PEER, ['put', file, path], { env: this.env, timeoutMs: 120_000 });
  }

  /** `ip -s -s -j link show DEV` in the guest. */
  async stats(dev: string): Promise<Stats> {
    return parseIpStats(await this.sh(`ip -s -s -j link show ${dev}`), dev);
  }

  /** Kills the guest, removes the tap and the netns (idempotent, synchronous). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try { execFileSync(KERNEL_PEER, ['stop'], { env: { ...process.env, ...this.env }, stdio: 'ignore', timeout: 30_000 }); } catch { /* best effort */ }
    try { execFileSync('ip', ['netns', 'del', this.ns], { stdio: 'ignore' }); } catch { /* kernel-peer.sh removed it */ }
  }
}

// ---------------------------------------------------------------- our end

/** tunkitd running in the guest's netns (the host side of the tap). */
export class Ours {
  readonly sock: string;
  private readonly log: string[] = [];
  private constructor(readonly ns: string, private readonly daemon: ChildProcess) {
    this.sock = `/run/tunkit/${ns}.sock`;
  }

  static async start(ns: string): Promise<Ours> {
    const sock = `/run/tunkit/${ns}.sock`;
    const d = spawn('ip', ['netns', 'exec', ns, process.execPath, TUNKITD, '--socket', sock], { stdio: ['ignore', 'pipe', 'pipe'] });
    const o = new Ours(ns, d);
    onCleanup(() => o.stop());
    const keep = (b: Buffer): void => { o.log.push(b.toString()); if (o.log.length > 400) o.log.shift(); };
    d.stdout?.on('data', keep);
    d.stderr?.on('data', keep);
    for (let i = 0; i < 200; i++) {
      if (d.exitCode !== null) break;
      if (existsSync(sock) && (await o.tunkitRc('link', 'show')).code === 0) return o;
      await sleep(50);
    }
    throw new Error(`tunkitd did not come up in ${ns} (exit ${String(d.exitCode)}):\n${o.daemonLog()}`);
  }

  daemonLog(): string { return this.log.join(''); }

  /** `tunkit --socket S ARGS` (run inside the netns, as a user would). */
  tunkitRc(...args: string[]): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.ns, process.execPath, TUNKIT, '--socket', this.sock, ...args]);
  }

  async tunkit(...args: string[]): Promise<string> {
    const r = await this.tunkitRc(...args);
    if (r.code !== 0) throw new Error(`tunkit ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}\n--- tunkitd log:\n${this.daemonLog()}`);
    return r.stdout;
  }

  /** A command inside the netns (never throws). */
  run(cmd: string, ...args: string[]): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.ns, cmd, ...args]);
  }

  /** A command inside the netns that must succeed; returns stdout. */
  async sh(cmd: string, ...args: string[]): Promise<string> {
    return must('ip', ['netns', 'exec', this.ns, cmd, ...args]);
  }

  /** `tunkit -j -s -s link show DEV`. */
  async stats(dev: string): Promise<Stats> {
    return parseIpStats(await this.tunkit('-j', '-s', '-s', 'link', 'show', dev), dev);
  }

  /** Starts a long-running process in the netns, killed by cleanup. */
  spawn(cmd: string, args: readonly string[]): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', this.ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => { if (c.exitCode === null) c.kill('SIGKILL'); });
    return c;
  }

  stop(): void {
    if (this.daemon.exitCode === null && this.daemon.signalCode === null) {
      this.daemon.kill('SIGTERM');
      // The daemon leaves its devices on SIGTERM (fail closed); the netns deletion removes them.
      try { execFileSync('sh', ['-c', `for i in $(seq 40); do [ -S ${this.sock} ] || exit 0; sleep 0.05; done`], { stdio: 'ignore' }); } catch { /* gone */ }
    }
  }
}

// ---------------------------------------------------------------- counters

/** One device's counters: stats64.rx / stats64.tx by their `ip -s -s -j` names, plus tunkit's drop reasons. */
export interface Stats {
  readonly rx: Readonly<Record<string, number>>;
  readonly tx: Readonly<Record<string, number>>;
  readonly drops: Readonly<Record<string, number>>;
}

export function parseIpStats(json: string, dev: string): Stats {
  let arr: unknown;
  try { arr = JSON.parse(json); } catch { throw new Error(`link show ${dev}: not JSON: ${json}`); }
  const d = (arr as { stats64?: { rx: Record<string, number>; tx: Record<string, number> }; tunkit_drops?: Record<string, number> }[])[0];
  if (d?.stats64 === undefined) throw new Error(`link show ${dev}: no stats64 in ${json}`);
  return { rx: d.stats64.rx, tx: d.stats64.tx, drops: d.tunkit_drops ?? {} };
}

/** after − before, per counter. */
export function delta(before: Stats, after: Stats): Stats {
  const sub = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = (a[k] ?? 0) - (b[k] ?? 0);
    return out;
  };
  return { rx: sub(after.rx, before.rx), tx: sub(after.tx, before.tx), drops: sub(after.drops, before.drops) };
}

/** A compact one-line rendering for diagnostics. */
export function fmtStats(s: Stats): string {
  const pick = (r: Readonly<Record<string, number>>, keys: string[]): string => keys.filter((k) => (r[k] ?? 0) !== 0 || k === 'packets').map((k) => `${k}=${r[k] ?? 0}`).join(' ');
  const drops = Object.entries(s.drops).filter(([, n]) => n !== 0).map(([k, n]) => `${k}=${n}`).join(' ');
  return `rx[${pick(s.rx, ['packets', 'bytes', 'errors', 'dropped', 'crc_errors', 'fifo_errors', 'length_errors', 'frame_errors'])}] `
    + `tx[${pick(s.tx, ['packets', 'bytes', 'errors', 'dropped', 'carrier_errors', 'collisions', 'fifo_errors'])}]${drops !== '' ? ` drops[${drops}]` : ''}`;
}

/**
 * Polls both ends until `ok(ours delta, guest delta)` holds (packets in
 * flight at the first read, or background traffic such as MLD reports, make
 * one read insufficient), or until the timeout; returns the last deltas.
 */
export async function settle(
  peer: LinuxPeer, ours: Ours, gdev: string, odev: string, gBefore: Stats, oBefore: Stats,
  ok: (o: Stats, g: Stats) => boolean, timeoutMs = 8000,
): Promise<{ o: Stats; g: Stats; oAbs: Stats; gAbs: Stats }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [gAbs, oAbs] = await Promise.all([peer.stats(gdev), ours.stats(odev)]);
    const o = delta(oBefore, oAbs);
    const g = delta(gBefore, gAbs);
    if (ok(o, g) || Date.now() > end) return { o, g, oAbs, gAbs };
    await sleep(300);
  }
}

/** Packets match both ways: what one end sent, the other received. */
/**
 * Inner IP + TCP header bytes of the transfers' segments (IPv4 20 or IPv6
 * 40, TCP 20 + 12 of timestamps): what each extra segment of a TSO split adds.
 */
export const TSO_SEG_HDR4 = 52;
export const TSO_SEG_HDR6 = 72;

/**
 * The two ends' packet counters agree. Guest → us: one for one (our
 * receive counts each segment). Us → guest: one for one, or, where our
 * device counts a TSO super-packet once as the kernel's own device does
 * (TUN offload, on by default: iptunnel_xmit_stats on the GSO skb), the
 * guest counts every segment and each extra segment carries exactly one
 * more copy of the inner headers, so the byte difference is TSO_SEG_HDR4
 * (IPv6 transfers: TSO_SEG_HDR6) per extra packet.
 */
export function mirrored(o: Stats, g: Stats): boolean {
  if (o.rx['packets'] !== g.tx['packets']) return false;
  const extra = g.rx['packets']! - o.tx['packets']!;
  const more = g.rx['bytes']! - o.tx['bytes']!;
  return extra === 0 || (extra > 0 && (more === extra * TSO_SEG_HDR4 || more === extra * TSO_SEG_HDR6));
}

/** Reads counters until two reads 400 ms apart agree on both ends (a quiet moment to take a "before"). */
export async function quiet(peer: LinuxPeer, ours: Ours, gdev: string, odev: string): Promise<{ g: Stats; o: Stats }> {
  let prev: { g: Stats; o: Stats } | null = null;
  for (let i = 0; i < 15; i++) {
    const [g, o] = await Promise.all([peer.stats(gdev), ours.stats(odev)]);
    if (prev !== null && JSON.stringify(prev) === JSON.stringify({ g, o })) return { g, o };
    prev = { g, o };
    await sleep(400);
  }
  return prev!;
}

// ---------------------------------------------------------------- traffic

/** `ping` output says how many replies came back. */
export function pingReceived(out: string): number {
  const m = /(\d+) (?:packets )?received/.exec(out);
  return m === null ? 0 : Number(m[1]);
}

/** Guest pings ours: busybox ping, 3 echo requests from the guest's inner address. */
export async function guestPing(peer: LinuxPeer, src: string, dst: string, count = 3): Promise<{ code: number; out: string; received: number }> {
  const r = await peer.exec(`ping -c ${count} -i 0.2 -W 2 -I ${src} ${dst}`);
  return { ...r, received: pingReceived(r.out) };
}

/** Ours pings the guest: iputils ping inside the netns. */
export async function oursPing(ours: Ours, src: string, dst: string, count = 3, extra: string[] = []): Promise<{ code: number; out: string; received: number }> {
  const r = await ours.run('ping', '-c', String(count), '-i', '0.2', '-W', '2', '-I', src, ...extra, dst);
  const out = r.stdout + r.stderr;
  return { code: r.code, out, received: pingReceived(out) };
}

const isV6 = (a: string): boolean => a.includes(':');
/** Command prefix running a guest command in the guest's netns `ns` ('' = its root netns). */
const inNs = (ns: string): string => (ns === '' ? '' : `ip netns exec ${ns} `);

/** A file of `bytes` random bytes in the guest; returns "<bytes> <sha256>". */
export async function guestRandomFile(peer: LinuxPeer, path: string, bytes: number): Promise<string> {
  const out = await peer.sh(`head -c ${bytes} /dev/urandom > ${path} && sha256sum ${path} && stat -c %s ${path}`);
  const m = /^([0-9a-f]{64})\s+\S+\n(\d+)/m.exec(out);
  if (m === null) throw new Error(`sha256sum in the guest: ${out}`);
  return `${m[2]} ${m[1]}`;
}

export interface Xfer { readonly sent: string; readonly received: string; readonly ms: number }

/**
 * TCP guest (netns `guestNs` in the guest, default its root) → us: our `tcp-xfer.js server ADDR PORT` prints "<bytes> <sha256>"
 * of what arrived; the guest sends `file` with socat. `sent` is the guest's
 * "<bytes> <sha256>" of the file (from guestRandomFile).
 */
export async function xferGuestToUs(peer: LinuxPeer, ours: Ours, addr: string, port: number, file: string, sent: string, guestNs = ''): Promise<Xfer> {
  const srv = ours.spawn(process.execPath, [XFER, 'server', addr, String(port)]);
  let got = '';
  let err = '';
  srv.stdout?.on('data', (d: Buffer) => { got += d.toString(); });
  srv.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => srv.on('exit', () => resolve()));
  for (let i = 0; i < 200 && !got.includes('listening'); i++) await sleep(25);
  if (!got.includes('listening')) throw new Error(`tcp-xfer server on ${addr}:${port} did not start: ${err}`);
  const t0 = performance.now();
  const target = isV6(addr) ? `TCP6:[${addr}]:${port}` : `TCP4:${addr}:${port}`;
  const r = await peer.exec(`${inNs(guestNs)}timeout 80 socat -u FILE:${file} ${target}`);
  const timer = setTimeout(() => srv.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`guest socat to ${addr}:${port} failed (${r.code}): ${r.out}`);
  return { sent, received: got.replace('listening\n', '').trim(), ms };
}

/**
 * TCP us → guest (in the guest's netns `guestNs`, default its root): the guest listens with socat and writes the sha256 of what
 * arrived to /tmp/r.PORT (renamed into place when complete); we send `bytes`
 * of tcp-xfer's pattern with `tcp-xfer.js client`.
 */
export async function xferUsToGuest(peer: LinuxPeer, ours: Ours, addr: string, port: number, bytes: number, guestNs = ''): Promise<Xfer> {
  const listen = isV6(addr) ? `TCP6-LISTEN:${port},reuseaddr,bind=[${addr}]` : `TCP4-LISTEN:${port},reuseaddr,bind=${addr}`;
  const ns = inNs(guestNs);
  await peer.sh(`rm -f /tmp/r.${port} /tmp/r.${port}.tmp
setsid ${ns}sh -c 'socat -u ${listen} - | sha256sum > /tmp/r.${port}.tmp && mv /tmp/r.${port}.tmp /tmp/r.${port}' >/dev/null 2>&1 </dev/null &
for i in $(seq 50); do ${ns}netstat -ltn | grep -q ":${port} " && exit 0; sleep 0.1; done; echo "socat did not listen"; exit 1`);
  const t0 = performance.now();
  const c = await ours.run(process.execPath, XFER, 'client', addr, String(port), String(bytes));
  if (c.code !== 0) throw new Error(`tcp-xfer client to ${addr}:${port} failed (${c.code}): ${c.stderr}`);
  let received = '';
  for (let i = 0; i < 120 && received === ''; i++) {
    const r = await peer.exec(`cat /tmp/r.${port} 2>/dev/null`);
    const m = /^([0-9a-f]{64})\s+-/m.exec(r.out);
    if (m !== null) received = m[1]!;
    else await sleep(250);
  }
  const ms = performance.now() - t0;
  const sent = c.stdout.trim();
  // The guest reports only the digest; a digest match implies the byte count.
  return { sent, received: received === '' ? '(nothing)' : `${sent.split(' ')[0]} ${received}`, ms };
}

// ---------------------------------------------------------------- iputils ping for the guest

/**
 * The guest's ping is busybox (no -M). For the DF tests, the host's iputils
 * ping and the libraries it needs that the guest lacks are copied into
 * /tmp/iputils (LD_LIBRARY_PATH). Returns the command prefix to run it.
 */
export async function installIputilsPing(peer: LinuxPeer): Promise<string> {
  const ping = execFileSync('sh', ['-c', 'command -v ping'], { encoding: 'utf8' }).trim();
  const version = execFileSync(ping, ['-V'], { encoding: 'utf8' });
  if (!version.includes('iputils')) throw new Error(`host ping ${ping} is not iputils: ${version}`);
  const libs = execFileSync('ldd', [ping], { encoding: 'utf8' }).split('\n')
    .map((l) => /=>\s+(\/\S+)/.exec(l)?.[1]).filter((p): p is string => p !== undefined && !/\/libc\.so/.test(p));
  const have = (await peer.sh('ls /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu 2>/dev/null || true')).split(/\s+/);
  await peer.sh('mkdir -p /tmp/iputils');
  for (const lib of libs) {
    const base = lib.split('/').pop()!;
    if (!have.includes(base)) await peer.put(lib, `/tmp/iputils/${base}`);
  }
  await peer.put(ping, '/tmp/iputils/ping');
  const cmd = 'env LD_LIBRARY_PATH=/tmp/iputils /tmp/iputils/ping';
  const v = await peer.sh(`${cmd} -V`);
  if (!v.includes('iputils')) throw new Error(`iputils ping does not run in the guest: ${v}`);
  return cmd;
}

/** Reads a host file (for pcap analysis); a helper so tests need no fs import. */
export const readBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
