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
// The packages are installed by test/kernel-peer/kernel-peer.sh ensure
// (npm pretest); here their absence fails the test with what to run.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, run, vethPair } from '../../src/demo/netns.js';
import { REPO_ROOT } from '../util/paths.js';
import { gwConf } from '../util/swanctl-conf.js';

export const CHARON = '/usr/lib/ipsec/charon';
const LIBIPSEC = '/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so';
const TUNKIT = join(REPO_ROOT, 'bin', 'tunkit');
const TUNKITD = join(REPO_ROOT, 'bin', 'tunkitd');

export const OUTER = { t: '198.51.100.1', s: '198.51.100.2' } as const;
export const INNER = { t: '203.0.113.1', s: '203.0.113.2' } as const;

/** Fails with the command to run when strongSwan is not installed. */
export function requireStrongswan(): void {
  for (const f of [CHARON, '/usr/sbin/swanctl', LIBIPSEC]) {
    assert.ok(existsSync(f), `${f} is missing: run 'bash test/kernel-peer/kernel-peer.sh ensure' as root (installs strongswan-charon, strongswan-swanctl, libcharon-extra-plugins, libstrongswan-standard-plugins)`);
  }
}

export interface Algs { readonly ike: string; readonly esp: string }

/** One swanctl.conf for either side (the same file format on both ends: that is the point). */
export function swanctlConf(me: 't' | 's', a: Algs, opts: { psk: string; encap: boolean }): string {
  const peer = me === 't' ? 's' : 't';
  return gwConf({
    comment: `${me === 't' ? 'tunkit' : 'strongSwan'} side`, me, peer, localAddrs: OUTER[me], remoteAddrs: OUTER[peer],
    ike: a.ike, esp: a.esp, localTs: `${INNER[me]}/32`, remoteTs: `${INNER[peer]}/32`, encap: opts.encap, psk: opts.psk,
  });
}

export class SwanPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'tunkit-ike-'));
  readonly tns = Netns.create('tkike-t');
  readonly sns = Netns.create('tkike-s');
  readonly tsock = join(this.dir, 't.sock');
  readonly vici = `unix://${join(this.dir, 'charon.vici')}`;
  private charon: ChildProcess | null = null;
  private tunkitd: ChildProcess | null = null;
  charonLog = '';
  tunkitdLog = '';

  constructor() {
    vethPair(this.tns, `${OUTER.t}/24`, this.sns, `${OUTER.s}/24`);
    this.tns.exec('ip', ['addr', 'add', `${INNER.t}/32`, 'dev', 'lo']);
    this.sns.exec('ip', ['addr', 'add', `${INNER.s}/32`, 'dev', 'lo']);
  }

  /**
   * Starts charon and tunkitd with these configurations; resolves once both
   * answer. sSub: a subdirectory of dir for strongSwan's s.conf (swanctl
   * --load-all loads x509/, x509ca/, private/ beside the file it is given).
   */
  async start(tConf: string, sConf: string, sSub = ''): Promise<void> {
    writeFileSync(join(this.dir, 't.conf'), tConf, { mode: 0o600 });
    mkdirSync(join(this.dir, sSub), { recursive: true });
    writeFileSync(join(this.dir, sSub, 's.conf'), sConf, { mode: 0o600 });
    writeFileSync(join(this.dir, 'strongswan.conf'), `charon {
  install_routes = yes
  retransmit_tries = 2
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
    this.tunkitd = this.tns.spawn(TUNKITD, ['--socket', this.tsock, '--swanctl', join(this.dir, 't.conf')]);
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
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SPIs from `swanctl --list-sas`: IKE (i, r) and the child's in/out. */
export function swanSpis(text: string): { ikeI: string; ikeR: string; spiIn: string; spiOut: string; algs: string } | null {
  const ike = /IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r/.exec(text);
  const i = /\n\s+in\s+([0-9a-f]{8}),/.exec(text);
  const o = /\n\s+out\s+([0-9a-f]{8}),/.exec(text);
  const a = /ESP:(\S+)/.exec(text);
  if (ike === null || i === null || o === null || a === null) return null;
  return { ikeI: ike[1]!, ikeR: ike[2]!, spiIn: i[1]!, spiOut: o[1]!, algs: a[1]! };
}
