// Namespaces with a tunkitd each, for the IKE liveness tests (ike-live.test.ts):
//
//   direct:  left 198.51.100.1 ─── veth ─── 198.51.100.2 right
//   nat:     left 192.0.2.2 ── mid 192.0.2.1 | 198.51.100.1 (masquerade) ── 198.51.100.2 right
//
// Inner addresses on lo: left 203.0.113.1, right 203.0.113.17. Every name is
// unique per run; close() (call it in a finally) stops the daemons and
// deletes the namespaces.

import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IkeSaRecord } from '../../src/control/ike.js';
import { natRouter, Netns, vethPair } from '../../src/demo/netns.js';
import { REPO_ROOT } from '../util/paths.js';
import { sleep, TUNKIT, TUNKITD } from './pair.js';
import { asUser, LAUNCHER, withIpsec0 } from './privs-fixture.js';
import type { TestUser } from './privs-fixture.js';
import { gwConf } from '../util/swanctl-conf.js';

export const INNER = { left: '203.0.113.1', right: '203.0.113.17' } as const;
export type Side = 'left' | 'right';

export interface SideOpts {
  /** local_addrs (default: the side's own address; '%any' to have the daemon take the routed source). */
  readonly localAddrs?: string;
  /** Lines added to the connection, and to the child. */
  readonly conn?: string;
  readonly child?: string;
  readonly psk?: string;
  /** The charon { } body of the side's strongswan.conf. */
  readonly charon?: string;
  /** Certificate authentication (auth = pubkey both ways) instead of the PSK: the files go in x509/, private/, x509ca/ beside the conf. */
  readonly pubkey?: PubkeyOpts;
  /**
   * Runs the daemon as this user with no capabilities at all (zerocap.test.ts):
   * root pre-creates ipsec0 for it, the test's files become its own.
   */
  readonly zeroCap?: TestUser;
}

export interface PubkeyOpts {
  /** The side's certificate and private key (PEM). */
  readonly cert: string;
  readonly key: string;
  /** CA certificates trusted for the peer, by file name in x509ca/. */
  readonly cas: Readonly<Record<string, string>>;
  /** remote { cacerts = … } (absent: every CA in x509ca/). */
  readonly cacerts?: string;
}

/** A swanctl.conf for `me`; the right side answers any address (it may sit behind a NAT's masquerade). */
export function sideConf(me: Side, local: string, remote: string, o: SideOpts): string {
  const peer: Side = me === 'left' ? 'right' : 'left';
  return gwConf({
    me, peer, localAddrs: local, remoteAddrs: remote, ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16',
    localTs: `${INNER[me]}/32`, remoteTs: `${INNER[peer]}/32`,
    ...(o.conn !== undefined ? { connExtra: o.conn } : {}), ...(o.child !== undefined ? { childExtra: o.child } : {}),
    ...(o.pubkey !== undefined ? { pubkey: o.pubkey.cacerts !== undefined ? { cacerts: o.pubkey.cacerts } : {} } : {}),
    psk: o.psk ?? 'netns test secret, documentation only',
  });
}

export class IkeNet {
  readonly ns: Record<Side, Netns>;
  mid: Netns | null = null;
  /** The veth device of each end toward the other (or the middle). */
  readonly dev: Record<Side, string> = { left: '', right: '' };
  midDev = { left: '', right: '' };
  readonly addr: Record<Side, string>;
  private readonly dir = mkdtempSync(join(tmpdir(), 'tunkit-ikelive-'));
  readonly daemons: Partial<Record<Side, ChildProcess>> = {};
  readonly logs: Record<Side, string> = { left: '', right: '' };

  constructor(prefix: string, readonly isNat: boolean) {
    this.ns = { left: Netns.create(`${prefix}l`), right: Netns.create(`${prefix}r`) };
    if (!isNat) {
      const v = vethPair(this.ns.left, '198.51.100.1/24', this.ns.right, '198.51.100.2/24');
      this.dev = { left: v.aDev, right: v.bDev };
      this.addr = { left: '198.51.100.1', right: '198.51.100.2' };
    } else {
      const mid = Netns.create(`${prefix}m`);
      this.mid = mid;
      const d = natRouter(this.ns.left, mid, this.ns.right, { inside: '192.0.2.2/24', midIn: '192.0.2.1/24', midOut: '198.51.100.1/24', outside: '198.51.100.2/24' });
      this.dev = { left: d.inside, right: d.outside };
      this.midDev = { left: d.midIn, right: d.midOut };
      this.addr = { left: '192.0.2.2', right: '198.51.100.2' };
    }
    this.ns.left.exec('ip', ['addr', 'add', `${INNER.left}/32`, 'dev', 'lo']);
    this.ns.right.exec('ip', ['addr', 'add', `${INNER.right}/32`, 'dev', 'lo']);
  }

  sock(s: Side): string { return join(this.dir, `${s}.sock`); }

  /** Starts tunkitd on side s with its swanctl.conf (and strongswan.conf when charon is given); waits for its socket. */
  async start(s: Side, o: SideOpts = {}): Promise<void> {
    const remote = s === 'left' ? this.addr.right : '%any';
    const conf = o.pubkey !== undefined ? this.certDir(s, o.pubkey) : join(this.dir, `${s}.swanctl.conf`);
    writeFileSync(conf, sideConf(s, o.localAddrs ?? this.addr[s], remote, o), { mode: 0o600 });
    const args = ['--socket', this.sock(s), '--swanctl', conf, '--log-level', 'debug'];
    if (o.charon !== undefined) {
      const sc = join(this.dir, `${s}.strongswan.conf`);
      writeFileSync(sc, `charon {\n${o.charon}\n}\n`);
      args.push('--strongswan-conf', sc);
    }
    this.logs[s] = '';
    const u = o.zeroCap;
    if (u !== undefined) for (const f of [this.dir, conf, ...args.filter((a) => a.endsWith('.conf'))]) chownSync(f, u.uid, u.gid);
    const d = u === undefined ? this.ns[s].spawn(TUNKITD, args)
      : this.ns[s].spawn('sh', [...withIpsec0(u).slice(1), ...LAUNCHER, ...asUser(u, ''), process.execPath, TUNKITD, ...args]);
    d.stderr?.setEncoding('utf8').on('data', (x: string) => { this.logs[s] += x; });
    d.stdout?.setEncoding('utf8').on('data', (x: string) => { this.logs[s] += x; });
    this.daemons[s] = d;
    for (let i = 0; i < 100 && !existsSync(this.sock(s)); i++) await sleep(100);
    assert.ok(existsSync(this.sock(s)), `tunkitd (${s}) did not start:\n${this.logs[s]}`);
  }

  /** dir/SIDE/{x509,private,x509ca} as swanctl --load-all reads them; the swanctl.conf path beside them. */
  private certDir(s: Side, pk: PubkeyOpts): string {
    const d = join(this.dir, s);
    const put = (sub: string, files: Readonly<Record<string, string>>): void => {
      mkdirSync(join(d, sub), { recursive: true });
      for (const [f, text] of Object.entries(files)) writeFileSync(join(d, sub, f), text, { mode: 0o600 });
    };
    put('x509', { [`${s}.pem`]: pk.cert });
    put('private', { [`${s}.key`]: pk.key });
    put('x509ca', pk.cas);
    return join(d, 'swanctl.conf');
  }

  /** `tunkit --socket … ARGS` on side s: exit code and output (never throws). */
  tunkit(s: Side, args: readonly string[]): { code: number; out: string } {
    try {
      return { code: 0, out: this.ns[s].exec(process.execPath, [TUNKIT, '--socket', this.sock(s), ...args]) };
    } catch (e) {
      return { code: 1, out: e instanceof Error ? e.message : String(e) };
    }
  }

  sas(s: Side): IkeSaRecord[] {
    const r = this.tunkit(s, ['-j', 'ike', 'list-sas']);
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out) as IkeSaRecord[];
  }

  /** Pings the other side's inner address from this side's; the number of replies. */
  ping(s: Side, count: number, waitS = 1): number {
    const peer: Side = s === 'left' ? 'right' : 'left';
    let out: string;
    try {
      out = this.ns[s].exec('ping', ['-c', String(count), '-i', '0.3', '-W', String(waitS), '-I', INNER[s], INNER[peer]]);
    } catch (e) {
      out = e instanceof Error ? e.message : String(e);
    }
    return Number(/(\d+) received/.exec(out)?.[1] ?? 0);
  }

  /** Both daemons' last log lines, for failure messages. */
  tail(): string {
    return (['left', 'right'] as const).map((s) => `--- ${s}\n${this.logs[s].split('\n').slice(-30).join('\n')}`).join('\n');
  }

  async until(what: string, ok: () => boolean, ms: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      if (ok()) return Date.now() - t0;
      if (Date.now() - t0 > ms) assert.fail(`${what} within ${ms} ms\n${this.tail()}`);
      await sleep(200);
    }
  }

  close(): void {
    for (const d of Object.values(this.daemons)) d?.kill('SIGTERM');
    for (const n of [this.ns.left, this.ns.right, this.mid]) n?.delete();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const BURST = join(REPO_ROOT, 'dist', 'test', 'netns', 'ike-burst.js');
