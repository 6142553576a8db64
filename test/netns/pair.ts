// The netns system-test fixture: two network namespaces joined by veth,
// a tunkitd in each, and helpers to drive and observe them.
//
//   left  ns  198.51.100.1/24 ── veth ── 198.51.100.2/24  right ns
//             tunkitd --socket /run/tunkit/<ns>.sock   (one per side)
//
// Every name is unique per run (Netns: <prefix>-<pid>-<random>), and
// close() — call it in a finally — stops both daemons, removes leftover
// socket files and deletes the namespaces (Netns.cleanupAll), so nothing
// outlives a failing test. These tests need root and FAIL (never skip)
// without it. Only documentation addresses are used.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Netns, vethPair } from '../../src/demo/netns.js';
import { REPO_ROOT } from '../util/paths.js';
import { hex } from './packets.js';

export const TUNKIT = join(REPO_ROOT, 'bin', 'tunkit');
export const TUNKITD = join(REPO_ROOT, 'bin', 'tunkitd');
const XFER = join(REPO_ROOT, 'dist', 'src', 'demo', 'tcp-xfer.js');
const NATIVE = join(REPO_ROOT, 'dist', 'src', 'io', 'native.js');

export const MB10 = 10 * 1024 * 1024;
export type SideName = 'left' | 'right';
export const SIDES: readonly SideName[] = ['left', 'right'];
export const other = (s: SideName): SideName => (s === 'left' ? 'right' : 'left');

/** A finished command: exit status (signal → 128+n, -1 if it could not start) and its output. */
export interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

/** stats64 as `tunkit -j -s -s link show` prints it (iproute2 keys) plus tunkit's per-reason drops. */
export interface LinkStats {
  readonly rx: Readonly<Record<string, number>>;
  readonly tx: Readonly<Record<string, number>>;
  readonly drops: Readonly<Record<string, number>>;
}

/** Every device of one daemon (`tunkit -j -s -s link show`): name → stats. */
export type Snapshot = ReadonlyMap<string, LinkStats>;

export interface Side {
  readonly name: SideName;
  readonly ns: Netns;
  readonly sock: string;
  /** The underlay veth device in this namespace. */
  readonly veth: string;
  /** Underlay address (198.51.100.1 left, .2 right). */
  readonly addr: string;
  daemon: ChildProcess;
  /** Everything the daemon wrote to stderr (its log). */
  log: string;
}

export interface PingOpts {
  readonly count?: number;
  readonly intervalS?: number;
  /** -W: seconds to wait for each reply. */
  readonly waitS?: number;
  readonly v6?: boolean;
  /** -s: ICMP data bytes. */
  readonly size?: number;
  /** -M: do (set DF, no local fragmentation), dont, want. */
  readonly pmtudisc?: 'do' | 'dont' | 'want';
  readonly iface?: string;
}

export interface PingResult extends Run { readonly transmitted: number; readonly received: number }

function toRun(r: { status: number | null; signal: NodeJS.Signals | null; stdout: string | null; stderr: string | null; error?: Error }): Run {
  const code = r.status ?? (r.signal !== null ? 128 + (osConstants.signals[r.signal] ?? 0) : -1);
  return { code, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error !== undefined ? `\n${r.error.message}` : '') };
}

/** Runs to completion asynchronously (the event loop keeps serving spawned children); env: the child's whole environment (default: ours). */
export function runAsync(cmd: string, args: readonly string[], timeoutMs = 60_000, input?: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(env !== undefined ? { env } : {}) });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    c.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => { stderr += `\n(killed after ${timeoutMs} ms)`; c.kill('SIGKILL'); }, timeoutMs);
    c.on('error', (e) => { stderr += `\n${e.message}`; });
    // A child that exits before reading all its input (a batch stopping at its first error): EPIPE here,
    // which would otherwise be an uncaught 'error'; its exit code and stderr tell what happened.
    c.stdin.on('error', (e) => { stderr += `\n(stdin: ${e.message})`; });
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal !== null ? 128 + (osConstants.signals[signal] ?? 0) : -1), stdout, stderr });
    });
    c.stdin.end(input ?? '');
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `p`, or 'timeout' after `ms` (the timer is cleared either way, so it never holds the process open). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), ms); });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Fails (never skips) when not root: the suite must not silently pass on a CI runner without privileges. */
export function requireRoot(): void {
  const uid = process.getuid?.() ?? -1;
  assert.equal(uid, 0, `netns system tests must run as root (they create network namespaces, veth, TUN/TAP devices and raw sockets); running as uid ${uid}`);
}

/** Waits for a line matching `re` on a child's stdout; resolves with everything read so far. */
export function waitOutput(c: ChildProcess, re: RegExp, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (re.test(got)) done(null);
    };
    const onExit = (): void => done(new Error(`${what}: exited before printing ${String(re)}; got ${JSON.stringify(got)}`));
    const timer = setTimeout(() => done(new Error(`${what}: no ${String(re)} within ${timeoutMs} ms; got ${JSON.stringify(got)}`)), timeoutMs);
    function done(e: Error | null): void {
      clearTimeout(timer);
      c.stdout?.off('data', onData);
      c.off('exit', onExit);
      if (e !== null) reject(e);
      else resolve(got);
    }
    c.stdout?.on('data', onData);
    c.on('exit', onExit);
  });
}

/** What tcpTransfer saw: both "<bytes> <sha256>" lines (equal) and how long it took. */
export interface Transfer { readonly sent: string; readonly received: string; readonly ms: number }

/**
 * A verified TCP transfer of `bytes` from namespace `from` to a server on
 * `addr`:`port` in `to` (src/demo/tcp-xfer.ts). Returns both "<bytes>
 * <sha256>" lines and asserts that they are equal.
 */
export async function tcpTransfer(from: Netns, to: Netns, addr: string, port: number, bytes: number): Promise<Transfer> {
  const srv = to.spawn(process.execPath, [XFER, 'server', addr, String(port)]);
  let srvOut = '';
  srv.stdout?.on('data', (d: Buffer) => { srvOut += d.toString(); });
  let srvErr = '';
  srv.stderr?.on('data', (d: Buffer) => { srvErr += d.toString(); });
  const srvExit = new Promise<void>((resolve) => srv.on('exit', () => resolve()));
  try {
    await waitOutput(srv, /listening/, 10_000, `tcp-xfer server ${addr}:${port}`);
    const t0 = performance.now();
    const c = await runAsync('ip', ['netns', 'exec', from.name, process.execPath, XFER, 'client', addr, String(port), String(bytes)], 90_000);
    assert.equal(c.code, 0, `tcp-xfer client ${from.name} → ${addr}:${port} exited ${c.code}: ${c.stderr.trim()}`);
    const how = await within(srvExit.then(() => 'exit'), 30_000);
    assert.equal(how, 'exit', `tcp-xfer server ${addr}:${port} did not finish (got ${JSON.stringify(srvOut)} ${srvErr})`);
    const ms = performance.now() - t0;
    const sent = c.stdout.trim();
    const received = srvOut.replace('listening\n', '').trim();
    assert.match(sent, new RegExp(`^${bytes} [0-9a-f]{64}$`), `client line ${JSON.stringify(sent)}`);
    assert.equal(received, sent, `TCP ${from.name} → ${to.name} ${addr}: received "${received}" ≠ sent "${sent}"`);
    return { sent, received, ms };
  } finally {
    srv.kill('SIGKILL');
  }
}

export class Pair {
  readonly left: Side;
  readonly right: Side;
  private port = 5001;

  private constructor(left: Side, right: Side) {
    this.left = left;
    this.right = right;
  }

  /**
   * Builds the topology and starts both daemons (with daemonArgs; `launcher`, when
   * given, is the command line the daemon's argv is appended to, e.g. an unshare
   * wrapper; `sockDir` holds the control sockets, e.g. a directory of the
   * user a non-root daemon runs as); on any failure removes what it made.
   */
  static async create(prefix = 'tkt', daemonArgs: readonly string[] = [], launcher: readonly string[] = [], sockDir = '/run/tunkit'): Promise<Pair> {
    requireRoot();
    try {
      const lns = Netns.create(`${prefix}l`);
      const rns = Netns.create(`${prefix}r`);
      for (const ns of [lns, rns]) {
        // Quiet IPv6 on the tunnel devices: no DAD delay before ping -6, no router solicitations.
        ns.exec('sysctl', ['-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.router_solicitations=0']);
      }
      const { aDev, bDev } = vethPair(lns, '198.51.100.1/24', rns, '198.51.100.2/24');
      const left = await startDaemon('left', lns, aDev, '198.51.100.1', daemonArgs, launcher, {}, sockDir);
      const right = await startDaemon('right', rns, bDev, '198.51.100.2', daemonArgs, launcher, {}, sockDir);
      return new Pair(left, right);
    } catch (e) {
      Netns.cleanupAll();
      throw e;
    }
  }

  side(s: SideName): Side { return s === 'left' ? this.left : this.right; }

  /** `tunkit --socket SOCK ARGS…` in the side's namespace; never throws on a non-zero exit. */
  tunkit(s: SideName, args: string | readonly string[]): Run {
    const sd = this.side(s);
    const a = typeof args === 'string' ? args.split(/\s+/).filter((x) => x !== '') : args;
    return this.exec(s, process.execPath, [TUNKIT, '--socket', sd.sock, ...a]);
  }

  /** `tunkit ARGS` that must succeed; returns stdout. */
  tunkitOk(s: SideName, args: string | readonly string[]): string {
    const r = this.tunkit(s, args);
    assert.equal(r.code, 0, `[${s}] tunkit ${String(args)} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** A shell-like command line (split on blanks, no quoting) in the side's namespace. */
  sh(s: SideName, cmd: string): Run {
    const [c, ...a] = cmd.split(/\s+/).filter((x) => x !== '');
    return this.exec(s, c!, a);
  }

  /** sh() that must succeed; returns stdout. */
  shOk(s: SideName, cmd: string): string {
    const r = this.sh(s, cmd);
    assert.equal(r.code, 0, `[${s}] ${cmd} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  exec(s: SideName, cmd: string, args: readonly string[], input?: string): Run {
    return toRun(spawnSync('ip', ['netns', 'exec', this.side(s).ns.name, cmd, ...args], {
      encoding: 'utf8', input: input ?? '', timeout: 120_000, maxBuffer: 64 * 1024 * 1024,
    }));
  }

  /** ping from a side; resolves (never rejects) with the transmitted/received counts parsed. */
  async ping(s: SideName, addr: string, o: PingOpts = {}): Promise<PingResult> {
    const args = [o.v6 === true ? '-6' : '-4', '-n', '-c', String(o.count ?? 3), '-i', String(o.intervalS ?? 0.2), '-W', String(o.waitS ?? 2)];
    if (o.size !== undefined) args.push('-s', String(o.size));
    if (o.pmtudisc !== undefined) args.push('-M', o.pmtudisc);
    if (o.iface !== undefined) args.push('-I', o.iface);
    const r = await runAsync('ip', ['netns', 'exec', this.side(s).ns.name, 'ping', ...args, addr], 60_000);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    return { ...r, transmitted: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0) };
  }

  /** ping that must get every reply. */
  async pingOk(s: SideName, addr: string, o: PingOpts = {}): Promise<PingResult> {
    const r = await this.ping(s, addr, o);
    assert.ok(r.code === 0 && r.received === r.transmitted && r.received > 0,
      `[${s}] ping ${addr} ${JSON.stringify(o)}: ${r.received}/${r.transmitted} replies, exit ${r.code}\n${r.stdout}${r.stderr}`);
    return r;
  }

  /** A verified TCP transfer of `bytes` from `from` to a server on `addr` in `to` (tcpTransfer). */
  transfer(from: SideName, to: SideName, addr: string, bytes = MB10): Promise<Transfer> {
    return tcpTransfer(this.side(from).ns, this.side(to).ns, addr, this.port++, bytes);
  }

  /** Every device's counters on one side (`tunkit -j -s -s link show`). */
  snapshot(s: SideName): Snapshot {
    const out = this.tunkitOk(s, '-j -s -s link show');
    const devs = JSON.parse(out) as { ifname: string; stats64: { rx: Record<string, number>; tx: Record<string, number> }; tunkit_drops: Record<string, number> }[];
    return new Map(devs.map((d) => [d.ifname, { rx: d.stats64.rx, tx: d.stats64.tx, drops: d.tunkit_drops }]));
  }

  /** One device's counters (`tunkit -j -s -s link show DEV`, iproute2 JSON keys). */
  stats(s: SideName, dev: string): LinkStats {
    const devs = JSON.parse(this.tunkitOk(s, ['-j', '-s', '-s', 'link', 'show', dev])) as { ifname: string; stats64: { rx: Record<string, number>; tx: Record<string, number> }; tunkit_drops: Record<string, number> }[];
    const d = devs[0];
    assert.ok(d !== undefined && d.ifname === dev, `[${s}] tunkit link show ${dev} returned ${JSON.stringify(devs)}`);
    return { rx: d.stats64.rx, tx: d.stats64.tx, drops: d.tunkit_drops };
  }

  /**
   * Both sides' counters once traffic has stopped: read until two reads
   * 200 ms apart agree on every packet counter (in-flight packets landed,
   * background IPv6 chatter such as MLD reports is between bursts).
   */
  async settle(maxMs = 6000): Promise<{ left: Snapshot; right: Snapshot }> {
    const key = (a: Snapshot, b: Snapshot): string =>
      JSON.stringify([...a, ...b].map(([n, st]) => [n, st.rx['packets'], st.tx['packets'], st.rx['errors'], st.tx['errors']]));
    let prev = { left: this.snapshot('left'), right: this.snapshot('right') };
    const t0 = performance.now();
    for (;;) {
      await sleep(200);
      const cur = { left: this.snapshot('left'), right: this.snapshot('right') };
      if (key(cur.left, cur.right) === key(prev.left, prev.right) || performance.now() - t0 > maxMs) return cur;
      prev = cur;
    }
  }

  /**
   * Sends hand-built outer IPv4 packets (header included, packets.ts) from
   * inside a side's namespace through an IPPROTO_RAW socket (IP_HDRINCL):
   * the kernel routes each by its destination — to the peer over the veth,
   * or via the local route to this side's own raw sockets — and keeps the
   * source address as written. Note raw(7): the kernel always rewrites the
   * outer total length and header checksum. Returns how many were sent.
   */
  inject(s: SideName, packets: readonly Uint8Array[]): number {
    const script = `
      import { native } from ${JSON.stringify(pathToFileURL(NATIVE).href)};
      import { readFileSync } from 'node:fs';
      const pkts = readFileSync(0, 'utf8').split('\\n').filter((l) => l !== '').map((h) => Buffer.from(h, 'hex'));
      const n = native();
      const fd = n.rawOpen(255);
      const stride = 65536;
      const slab = new Uint8Array(stride * pkts.length);
      const offs = new Int32Array(pkts.length), sizes = new Int32Array(pkts.length), dst = new Uint32Array(pkts.length);
      pkts.forEach((p, i) => { slab.set(p, i * stride); offs[i] = i * stride; sizes[i] = p.length; dst[i] = p.readUInt32BE(16); });
      const sent = n.sendBatch(fd, slab, offs, sizes, dst, pkts.length);
      process.stdout.write(JSON.stringify({ sent, errors: n.lastBatchErrors(), error: n.lastSendError() }));
      n.closeFd(fd);`;
    const r = this.exec(s, process.execPath, ['--input-type=module', '-e', script], `${packets.map(hex).join('\n')}\n`);
    assert.equal(r.code, 0, `[${s}] injector failed: ${r.stderr}`);
    const res = JSON.parse(r.stdout) as { sent: number; errors: number; error: string };
    assert.equal(res.sent, packets.length, `[${s}] injector sent ${res.sent}/${packets.length} (${res.error})`);
    return res.sent;
  }

  /** Starts `tunkit [-j] monitor WHAT` in a side's namespace (killed by close()). */
  monitor(s: SideName, what: string, json = false): ChildProcess {
    const sd = this.side(s);
    return sd.ns.spawn(process.execPath, [TUNKIT, '--socket', sd.sock, ...(json ? ['-j'] : []), 'monitor', what]);
  }

  /** Is the side's daemon process still running? */
  isAlive(s: SideName): boolean {
    const d = this.side(s).daemon;
    return d.exitCode === null && d.signalCode === null;
  }

  /** Sends a signal to a side's daemon and waits for it to exit; resolves with its exit code (or signal name). */
  async stopDaemon(s: SideName, sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<number | string> {
    const d = this.side(s).daemon;
    if (!this.isAlive(s)) return d.exitCode ?? d.signalCode ?? -1;
    const exited = new Promise<number | string>((resolve) => d.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    d.kill(sig);
    const r = await within(exited, timeoutMs);
    if (r === 'timeout') {
      d.kill('SIGKILL');
      return 'timeout';
    }
    return r;
  }

  /**
   * Stops a side's daemon (SIGTERM; it leaves its devices, which the new one
   * adopts), unless it is already gone, and starts a new one with `extra`
   * arguments (e.g. --config FILE) and `env` added to the environment.
   */
  async restartDaemon(s: SideName, extra: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
    await this.stopDaemon(s);
    const sd = this.side(s);
    const fresh = await startDaemon(s, sd.ns, sd.veth, sd.addr, extra, [], env);
    sd.daemon = fresh.daemon;
    sd.log += `--- restarted: tunkitd ${extra.join(' ')} ---\n${fresh.log}`;
    fresh.daemon.stderr?.on('data', (d: Buffer) => { sd.log += d.toString(); });
    fresh.daemon.stdout?.on('data', (d: Buffer) => { sd.log += d.toString(); });
  }

  /** Both daemons' logs, for failure messages. */
  logs(): string {
    return SIDES.map((s) => `--- ${s} tunkitd (${this.side(s).ns.name}) ---\n${this.side(s).log}`).join('\n');
  }

  /** A tunnel on both sides: `link add NAME SPEC local L remote R`, addresses, up. */
  tunnel(name: string, spec: string, under: readonly [string, string], addrs: readonly [string, string] | null, addrs6: readonly [string, string] | null = null): void {
    for (const [i, s] of SIDES.entries()) {
      this.tunkitOk(s, `link add ${name} ${spec} local ${under[i]!} remote ${under[1 - i]!}`);
      if (addrs !== null) this.shOk(s, `ip addr add ${addrs[i]!} dev ${name}`);
      if (addrs6 !== null) this.shOk(s, `ip -6 addr add ${addrs6[i]!} dev ${name} nodad`);
      this.tunkitOk(s, `link set ${name} up`);
    }
  }

  /** Stops both daemons, removes leftover socket files and deletes both namespaces. Idempotent. */
  async close(): Promise<void> {
    try {
      await Promise.all(SIDES.map((s) => this.stopDaemon(s)));
    } finally {
      for (const s of SIDES) {
        const sock = this.side(s).sock;
        if (existsSync(sock)) {
          try { unlinkSync(sock); } catch { /* raced with the daemon */ }
        }
      }
      Netns.cleanupAll();
    }
  }
}

async function startDaemon(name: SideName, ns: Netns, veth: string, addr: string, args: readonly string[], launcher: readonly string[] = [],
  env: NodeJS.ProcessEnv = {}, sockDir = '/run/tunkit'): Promise<Side> {
  const sock = `${sockDir}/${ns.name}.sock`;
  const argv = [process.execPath, TUNKITD, '--socket', sock, ...args];
  const daemon = launcher.length > 0 ? ns.spawn(launcher[0]!, [...launcher.slice(1), ...argv], env) : ns.spawn(argv[0]!, argv.slice(1), env);
  const side: Side = { name, ns, sock, veth, addr, daemon, log: '' };
  daemon.stderr?.on('data', (d: Buffer) => { side.log += d.toString(); });
  daemon.stdout?.on('data', (d: Buffer) => { side.log += d.toString(); });
  for (let i = 0; i < 200; i++) {
    if (existsSync(sock)) return side;
    if (daemon.exitCode !== null) break;
    await sleep(25);
  }
  throw new Error(`tunkitd in ${ns.name} did not create ${sock}: ${side.log}`);
}

/**
 * A subtest whose failure message carries both daemons' logs. `todo` marks a
 * check of kernel behaviour that tunkit is known to get wrong (reported, with
 * the reason in the output): it still runs, but its failure does not fail the run.
 */
export function step(t: TestContext, p: Pair, name: string, fn: () => Promise<void>, todo?: string): Promise<void> {
  return t.test(name, todo !== undefined ? { todo } : {}, async () => {
    try {
      await fn();
    } catch (e) {
      if (e instanceof Error) e.message += `\n${p.logs()}`;
      throw e;
    }
  });
}

/**
 * Runs `fn` with a fresh Pair and always tears it down; a failure message
 * gets both daemons' logs appended.
 */
export async function withPair(prefix: string, fn: (p: Pair) => Promise<void>, daemonArgs: readonly string[] = []): Promise<void> {
  const p = await Pair.create(prefix, daemonArgs);
  try {
    await fn(p);
  } catch (e) {
    if (e instanceof Error) e.message += `\n${p.logs()}`;
    throw e;
  } finally {
    await p.close();
  }
}
