// strongSwan 5.9 (Debian's charon + swanctl, the kernel-libipsec plugin:
// this kernel has no xfrm ESP algorithms) as an IKEv2 peer for tunkit, each
// in its own network namespace, charon also in its own mount namespace with
// a tmpfs on /run (its pid file is fixed at /var/run/charon.pid), its own
// strongswan.conf (STRONGSWAN_CONF) and vici socket. kernel-libipsec only
// does ESP in UDP, so strongSwan runs with encap = yes (it fakes a NAT and
// both ends float to 4500).
//
//   tunkit ns  198.51.100.1/24 ── veth ── 198.51.100.2/24  strongSwan ns
//   inner      203.0.113.1/32 (lo)        203.0.113.2/32 (lo, ipsec0 routes)
//
// With { nat: true } tunkit sits behind a masquerading router namespace
// (UDP source ports remapped to 40000-40099, so no port survives it) and
// strongSwan can run with encap = no: NAT detection has a real NAT to find.
// strongSwan talks to the NAT's address; forwardIke() adds a port forward
// of UDP 500 and 4500 to tunkit so that strongSwan can initiate too.
//
//   tunkit 192.0.2.2/24 ── 192.0.2.1 mid 198.51.100.1 (masquerade) ── 198.51.100.2/24 strongSwan
//
// The packages are installed by test/kernel-peer/kernel-peer.sh ensure
// (npm pretest); here their absence fails the test with what to run.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IkeSaRecord } from '../../src/control/ike.js';
import { natRouter, Netns, run, vethPair } from '../../src/demo/netns.js';
import { tcpTransfer } from '../netns/pair.js';
import type { Transfer } from '../netns/pair.js';
import { REPO_ROOT } from '../util/paths.js';
import { gwConf } from '../util/swanctl-conf.js';

export const CHARON = '/usr/lib/ipsec/charon';
const LIBIPSEC = '/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so';
const TUNKIT = join(REPO_ROOT, 'bin', 'tunkit');
const TUNKITD = join(REPO_ROOT, 'bin', 'tunkitd');

export const OUTER = { t: '198.51.100.1', s: '198.51.100.2' } as const;
export const INNER = { t: '203.0.113.1', s: '203.0.113.2' } as const;
/** With { nat: true }: tunkit's address behind the NAT, and the NAT's outside address (what strongSwan sees). */
export const NAT = { t: '192.0.2.2', mid: '198.51.100.1' } as const;

/** Fails with the command to run when strongSwan is not installed. */
export function requireStrongswan(): void {
  for (const f of [CHARON, '/usr/sbin/swanctl', LIBIPSEC]) {
    assert.ok(existsSync(f), `${f} is missing: run 'bash test/kernel-peer/kernel-peer.sh ensure' as root (installs strongswan-charon, strongswan-swanctl, libcharon-extra-plugins, libstrongswan-standard-plugins)`);
  }
}

export interface Algs { readonly ike: string; readonly esp: string }

/**
 * One swanctl.conf for either side (the same file format on both ends: that
 * is the point). nat: tunkit's address is the one behind the NAT, and
 * strongSwan's peer is the NAT's outside address.
 */
export function swanctlConf(me: 't' | 's', a: Algs, opts: { psk: string; encap: boolean; nat?: boolean; connExtra?: string }): string {
  const peer = me === 't' ? 's' : 't';
  const isNat = opts.nat === true;
  const local = isNat && me === 't' ? NAT.t : OUTER[me];
  const remote = isNat && me === 's' ? NAT.mid : OUTER[peer];
  return gwConf({
    comment: `${me === 't' ? 'tunkit' : 'strongSwan'} side`, me, peer, localAddrs: local, remoteAddrs: remote,
    ike: a.ike, esp: a.esp, localTs: `${INNER[me]}/32`, remoteTs: `${INNER[peer]}/32`, encap: opts.encap, psk: opts.psk,
    ...(opts.connExtra !== undefined ? { connExtra: opts.connExtra } : {}),
  });
}

export class SwanPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'tunkit-ike-'));
  readonly tns = Netns.create('tkike-t');
  readonly sns = Netns.create('tkike-s');
  /** The masquerading router between them ({ nat: true }). */
  readonly mid: Netns | null = null;
  readonly tsock = join(this.dir, 't.sock');
  readonly vici = `unix://${join(this.dir, 'charon.vici')}`;
  private charon: ChildProcess | null = null;
  private tunkitd: ChildProcess | null = null;
  charonLog = '';
  tunkitdLog = '';

  private port = 5201;

  constructor(opts: { nat?: boolean } = {}) {
    if (opts.nat === true) {
      this.mid = Netns.create('tkike-m');
      natRouter(this.tns, this.mid, this.sns, { inside: `${NAT.t}/24`, midIn: '192.0.2.1/24', midOut: `${NAT.mid}/24`, outside: `${OUTER.s}/24` }, '40000-40099');
      this.mid.exec('nft', ['add table inet tkwire ; add chain inet tkwire fw { type filter hook forward priority 0 ; } ; ' +
        'add rule inet tkwire fw meta l4proto esp counter ; add rule inet tkwire fw udp dport 4500 counter']);
    } else {
      vethPair(this.tns, `${OUTER.t}/24`, this.sns, `${OUTER.s}/24`);
    }
    this.tns.exec('ip', ['addr', 'add', `${INNER.t}/32`, 'dev', 'lo']);
    this.sns.exec('ip', ['addr', 'add', `${INNER.s}/32`, 'dev', 'lo']);
  }

  /**
   * Starts charon and tunkitd with these configurations; resolves once both
   * answer. sSub: a subdirectory of dir for strongSwan's s.conf (swanctl
   * --load-all loads x509/, x509ca/, private/ beside the file it is given).
   * charon: lines for both sides' charon { } (tunkitd's --strongswan-conf).
   */
  async start(tConf: string, sConf: string, sSub = '', charon = ''): Promise<void> {
    writeFileSync(join(this.dir, 't.conf'), tConf, { mode: 0o600 });
    mkdirSync(join(this.dir, sSub), { recursive: true });
    writeFileSync(join(this.dir, sSub, 's.conf'), sConf, { mode: 0o600 });
    writeFileSync(join(this.dir, 'strongswan.conf'), `charon {
  install_routes = yes
  retransmit_tries = 2
  ${charon}
  filelog {
    test {
      path = ${join(this.dir, 'charon.log')}
      default = 1
      flush_line = yes
    }
  }
  plugins {
    include /etc/strongswan.d/charon/*.conf
    kernel-libipsec { load = yes }
    vici { socket = ${this.vici} }
  }
}
`);
    this.charon = this.sns.spawn('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tunkit-ike-run /run && exec /usr/lib/ipsec/charon'],
      { STRONGSWAN_CONF: join(this.dir, 'strongswan.conf') });
    this.charon.stderr?.setEncoding('utf8').on('data', (d: string) => { this.charonLog += d; });
    const tArgs = ['--socket', this.tsock, '--swanctl', join(this.dir, 't.conf')];
    if (charon !== '') {
      writeFileSync(join(this.dir, 't.strongswan.conf'), `charon {\n${charon}\n}\n`);
      tArgs.push('--strongswan-conf', join(this.dir, 't.strongswan.conf'));
    }
    this.tunkitd = this.tns.spawn(TUNKITD, tArgs);
    this.tunkitd.stderr?.setEncoding('utf8').on('data', (d: string) => { this.tunkitdLog += d; });
    for (let i = 0; i < 100 && !(existsSync(join(this.dir, 'charon.vici')) && existsSync(this.tsock)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(this.tsock), `tunkitd did not start:\n${this.tunkitdLog}`);
    assert.ok(existsSync(join(this.dir, 'charon.vici')), `charon did not start:\n${this.charonLog}`);
    this.swanctl(['--load-all', '--file', join(this.dir, sSub, 's.conf')]);
  }

  swanctl(args: readonly string[]): string { return this.sns.exec('swanctl', [...args, '--uri', this.vici]); }
  tunkit(args: readonly string[]): string { return this.tns.exec(TUNKIT, ['--socket', this.tsock, ...args]); }

  /** Like tunkit() but never throws: exit status and output. */
  tunkitRun(args: readonly string[]): { code: number; out: string } {
    try {
      return { code: 0, out: this.tunkit(args) };
    } catch (e) {
      return { code: 1, out: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Pings the strongSwan side's inner address from tunkit's; the number of replies. */
  ping(count = 3): number {
    let out: string;
    try {
      out = this.tns.exec('ping', ['-c', String(count), '-i', '0.3', '-W', '2', '-I', INNER.t, INNER.s]);
    } catch (e) {
      out = e instanceof Error ? e.message : String(e);
    }
    return Number(/(\d+) received/.exec(out)?.[1] ?? 0);
  }

  /** { nat: true }: the NAT forwards UDP 500 and 4500 on its outside address to tunkit (a DNAT port forward). */
  forwardIke(): void {
    assert.ok(this.mid !== null, 'forwardIke needs { nat: true }');
    this.mid.exec('nft', ['add chain ip nat pre { type nat hook prerouting priority -100 ; } ; ' +
      `add rule ip nat pre ip daddr ${NAT.mid} udp dport { 500, 4500 } dnat to ${NAT.t}`]);
  }

  /** { nat: true }: packets the NAT has forwarded since its creation, as raw ESP and as UDP to port 4500 (either way: replies are un-NATed before forwarding). */
  natForwarded(): { esp: number; udp4500: number } {
    assert.ok(this.mid !== null, 'natForwarded needs { nat: true }');
    const out = this.mid.exec('nft', ['list', 'chain', 'inet', 'tkwire', 'fw']);
    const n = (what: string): number => Number(new RegExp(`${what} counter packets (\\d+)`).exec(out)?.[1] ?? -1);
    return { esp: n('meta l4proto esp'), udp4500: n('udp dport 4500') };
  }

  /** A verified TCP transfer of `bytes` between the inner addresses, from `from`'s side to the other's (tcpTransfer). */
  transfer(from: 't' | 's', bytes: number): Promise<Transfer> {
    const [a, b] = from === 't' ? [this.tns, this.sns] : [this.sns, this.tns];
    return tcpTransfer(a, b, INNER[from === 't' ? 's' : 't'], this.port++, bytes);
  }

  /** The whole charon log (file), for failure messages. */
  logs(): string {
    let log = '';
    try { log = run('cat', [join(this.dir, 'charon.log')]); } catch { /* not written yet */ }
    return `--- charon.log\n${log.split('\n').slice(-40).join('\n')}\n--- tunkitd\n${this.tunkitdLog.split('\n').slice(-40).join('\n')}`;
  }

  close(): void {
    this.charon?.kill('SIGTERM');
    this.tunkitd?.kill('SIGTERM');
    this.tns.delete();
    this.sns.delete();
    this.mid?.delete();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The first IKE SA and its first Child SA in `swanctl --list-sas`. */
export interface SwanSa {
  readonly ikeI: string;
  readonly ikeR: string;
  /** The peer's IKE address and port (`remote 'ID' @ ADDR[PORT]`). */
  readonly remoteAddr: string;
  readonly remotePort: number;
  /** The IKE SA's algorithms, the line after `remote` ("AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519"; "" when absent). */
  readonly ikeAlgs: string;
  /** The child's SPIs, its mode ("TUNNEL" or "TUNNEL-in-UDP") and ESP algorithms. */
  readonly spiIn: string;
  readonly spiOut: string;
  readonly mode: string;
  readonly algs: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** SPIs from `swanctl --list-sas`: IKE (i, r) and the child's in/out, and the rest of SwanSa. */
export function swanSpis(text: string): SwanSa | null {
  const ike = /IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r/.exec(text);
  const r = /\n\s+remote\s+'[^']*' @ ([0-9a-f.:]+)\[(\d+)\]/.exec(text);
  const i = /\n\s+in\s+([0-9a-f]{8}),\s+(\d+) bytes/.exec(text);
  const o = /\n\s+out\s+([0-9a-f]{8}),\s+(\d+) bytes/.exec(text);
  const a = /(TUNNEL\S*), ESP:(\S+)/.exec(text);
  const ikeAlgs = /\n\s+remote\s[^\n]*\n\s+([A-Z][A-Z0-9_-]*(?:\/[A-Z0-9_-]+)+)\n/.exec(text)?.[1] ?? '';
  if (ike === null || r === null || i === null || o === null || a === null) return null;
  return {
    ikeI: ike[1]!, ikeR: ike[2]!, remoteAddr: r[1]!, remotePort: Number(r[2]), ikeAlgs, spiIn: i[1]!, spiOut: o[1]!,
    mode: a[1]!, algs: a[2]!, bytesIn: Number(i[2]), bytesOut: Number(o[2]),
  };
}

/** tunkit's IKE SAs as `tunkit -j ike list-sas` lists them. */
export const tunkitSas = (p: SwanPair): IkeSaRecord[] => JSON.parse(p.tunkit(['-j', 'ike', 'list-sas'])) as IkeSaRecord[];

/** Polls `ok` every 200 ms until it holds; fails after `ms` with both ends' logs. */
export async function until(what: string, p: SwanPair, ok: () => boolean, ms = 10_000): Promise<void> {
  for (let t = 0; t < ms; t += 200) {
    if (ok()) return;
    await new Promise<void>((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} within ${ms} ms\n${p.logs()}`);
}

/** Both ends' counters of the (first) Child SA: tunkit's from list-sas, strongSwan's from swanctl --list-sas. */
function counters(p: SwanPair): { tIn: number; tOut: number; sIn: number; sOut: number } {
  const ch = tunkitSas(p)[0]?.children[0];
  const theirs = swanSpis(p.swanctl(['--list-sas']));
  assert.ok(ch !== undefined && theirs !== null, `a Child SA on both ends\n${p.logs()}`);
  return { tIn: ch.bytesIn ?? 0, tOut: ch.bytesOut ?? 0, sIn: theirs.bytesIn, sOut: theirs.bytesOut };
}

/**
 * A verified TCP transfer of `bytes` from each side in `from` (default:
 * each way) between the inner addresses, sha256 compared on both ends; both
 * ends' Child SA byte counters must grow by at least `bytes` in each
 * direction that carried one. Returns "t → s 812 ms, s → t 640 ms".
 */
export async function tcpThrough(p: SwanPair, bytes: number, from: readonly ('t' | 's')[] = ['t', 's']): Promise<string> {
  const c0 = counters(p);
  const took: string[] = [];
  for (const f of from) took.push(`${f} → ${f === 't' ? 's' : 't'} ${(await p.transfer(f, bytes)).ms.toFixed(0)} ms`);
  const c1 = counters(p);
  const grew = (k: keyof typeof c0): number => c1[k] - c0[k];
  const why = `${JSON.stringify(c0)} → ${JSON.stringify(c1)}`;
  if (from.includes('t')) assert.ok(grew('tOut') >= bytes && grew('sIn') >= bytes, `tunkit → strongSwan: tunkit's out and strongSwan's in bytes grew by ≥ ${bytes}: ${why}`);
  if (from.includes('s')) assert.ok(grew('sOut') >= bytes && grew('tIn') >= bytes, `strongSwan → tunkit: strongSwan's out and tunkit's in bytes grew by ≥ ${bytes}: ${why}`);
  return took.join(', ');
}
