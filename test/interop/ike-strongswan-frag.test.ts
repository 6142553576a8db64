// IKEv2 fragmentation (RFC 7383) against strongSwan 5.9's charon
// (strongswan.ts): both ends hold an RSA leaf padded with 60 SANs under an
// intermediate CA (test/ike/pki.ts), so each IKE_AUTH (leaf, intermediate,
// AUTH) is well over 1280 bytes; `fragmentation = yes` and strongSwan's
// default fragment_size = 1280 on both. tunkit as initiator and as
// responder: tcpdump on strongSwan's veth sees Encrypted Fragment payloads
// (IKE Next Payload 53 after the non-ESP marker on UDP 4500) from both
// ends, none over 1280 bytes of IP, charon logs splitting and
// reassembling, the SAs come up and a ping crosses.
//
// Needs root, strongSwan and tcpdump; fails, never skips, without them.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Netns, run } from '../../src/demo/netns.js';
import { Pki } from '../ike/pki.js';
import { requireRoot } from '../netns/pair.js';
import { INNER, OUTER, requireStrongswan, SwanPair, swanSpis, tunkitSas, until } from './strongswan.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fragConf(me: 't' | 's'): string {
  const peer = me === 't' ? 's' : 't';
  return `connections {
  gw {
    version = 2
    local_addrs = ${OUTER[me]}
    remote_addrs = ${OUTER[peer]}
    proposals = aes256-sha256-x25519
    encap = ${me === 's' ? 'yes' : 'no'}
    fragmentation = yes
    local {
      auth = pubkey
      certs = ${me}.pem
      id = ${me}.example
    }
    remote {
      auth = pubkey
      cacerts = ca.pem
      id = ${peer}.example
    }
    children {
      net-${me} {
        local_ts = ${INNER[me]}/32
        remote_ts = ${INNER[peer]}/32
        esp_proposals = aes128gcm16
      }
    }
  }
}
`;
}

/** tcpdump on strongSwan's veth: UDP 4500 datagrams whose IKE header (after the 4-byte marker) names SKF (53). */
class SkfCapture {
  private proc: ChildProcess;
  out = '';
  err = '';
  constructor(ns: Netns) {
    const dev = /^\d+: ([^@:]+)[@:]/m.exec(ns.exec('ip', ['-o', 'link', 'show', 'type', 'veth']))?.[1];
    assert.ok(dev !== undefined, 'strongSwan\'s veth');
    this.proc = ns.spawn('tcpdump', ['-i', dev, '-n', '-l', '-v', 'udp port 4500 and udp[28] = 53'], {});
    this.proc.stdout?.setEncoding('utf8').on('data', (d: string) => { this.out += d; });
    this.proc.stderr?.setEncoding('utf8').on('data', (d: string) => { this.err += d; });
  }
  async ready(): Promise<void> {
    for (let i = 0; i < 50 && !/listening on/.test(this.err); i++) await sleep(100);
    assert.match(this.err, /listening on/, 'tcpdump started');
  }
  /** IP total lengths of the SKF datagrams from `src`. */
  lengths(src: string): number[] {
    const re = new RegExp(`length (\\d+)\\)\\s+${src.replace(/\./g, '\\.')}\\.4500 >`, 'g');
    return [...this.out.matchAll(re)].map((m) => Number(m[1]));
  }
  stop(): void { this.proc.kill('SIGTERM'); }
}

let pki: Pki;

async function startWithBigCerts(p: SwanPair): Promise<void> {
  const pad = Array.from({ length: 60 }, (_x, i) => `DNS:host-${i}.fragmentation-padding.example`);
  const tag = Math.random().toString(36).substring(2, 8);
  const t = pki.leaf(`t-frag-${tag}`, 'rsa', 't.example', 'inter', [`IP:${OUTER.t}`, ...pad]);
  const s = pki.leaf(`s-frag-${tag}`, 'rsa', 's.example', 'inter', [`IP:${OUTER.s}`, ...pad]);
  const put = (sub: string, f: string, text: string): void => {
    mkdirSync(join(p.dir, sub), { recursive: true });
    writeFileSync(join(p.dir, sub, f), text, { mode: 0o600 });
  };
  for (const [dir, leaf, me] of [['', t, 't'], ['s/', s, 's']] as const) {
    put(`${dir}x509`, `${me}.pem`, leaf.cert);
    put(`${dir}x509ca`, 'ca.pem', pki.pem('ca'));
    put(`${dir}x509ca`, 'inter.pem', pki.pem('inter'));
    put(`${dir}private`, `${me}.key`, leaf.key);
  }
  await p.start(fragConf('t'), fragConf('s'), 's');
}

async function fragmentedUp(initiator: 'tunkit' | 'strongswan', say: (msg: string) => void): Promise<void> {
  const p = new SwanPair();
  let cap: SkfCapture | null = null;
  try {
    await startWithBigCerts(p);
    cap = new SkfCapture(p.sns);
    await cap.ready();
    try {
      if (initiator === 'tunkit') p.tunkit(['ike', 'initiate', 'net-t']);
      else p.swanctl(['--initiate', '--child', 'net-s', '--timeout', '20']);
    } catch (e) {
      assert.fail(`${e instanceof Error ? e.message.split('\n').filter((l) => !l.startsWith('plugin ')).join('\n') : String(e)}\n${p.logs()}`);
    }
    await until('tunkit shows the Child SA', p, () => tunkitSas(p)[0]?.children.length === 1, 15_000);
    assert.equal(p.ping(3), 3, `ping through the tunnel\n${p.logs()}`);
    assert.equal(tunkitSas(p)[0]!.isInitiator, initiator === 'tunkit');
    assert.ok(swanSpis(p.swanctl(['--list-sas'])) !== null, `strongSwan lists the SAs\n${p.logs()}`);
    // both daemons say so: tunkit split its IKE_AUTH, charon split its own and reassembled ours
    const split = /IKE_AUTH: splitting IKE message \(\d+ bytes\) into (\d+) fragments/;
    await until('tunkitd logs the split', p, () => split.test(p.tunkitdLog), 15_000);
    const nT = Number(split.exec(p.tunkitdLog)![1]);
    const charonLog = (): string => run('cat', [join(p.dir, 'charon.log')]);
    const swanSplit = /splitting IKE message \(\d+ bytes\) into (\d+) fragments/;
    await until('charon logs its split', p, () => swanSplit.test(charonLog()), 15_000);
    const nS = Number(swanSplit.exec(charonLog())![1]);
    // the wire: SKF datagrams both ways, as many as each side split into (waiting for tcpdump's
    // output to catch up, not taking the count it had printed so far), each a whole IP datagram
    // of at most fragment_size = 1280
    await until(`tcpdump saw ${nT} SKF datagrams from tunkit and ${nS} from strongSwan`, p,
      () => cap!.lengths(OUTER.t).length >= nT && cap!.lengths(OUTER.s).length >= nS, 15_000);
    const [fromT, fromS] = [cap.lengths(OUTER.t), cap.lengths(OUTER.s)];
    say(`SKF datagrams on the wire (IP lengths): tunkit ${fromT.join(' ')}; strongSwan ${fromS.join(' ')}`);
    assert.ok(nT >= 2 && nS >= 2, `both sides fragment: tunkit ${nT}, strongSwan ${nS}\n${p.logs()}`);
    assert.equal(fromT.length, nT, `tunkit's SKF datagrams on the wire = its fragments\n${p.logs()}`);
    assert.equal(fromS.length, nS, `strongSwan's SKF datagrams on the wire = its fragments\n${p.logs()}`);
    assert.ok([...fromT, ...fromS].every((n) => n <= 1280), `IP lengths: tunkit ${fromT.join(' ')}, strongSwan ${fromS.join(' ')}`);
    assert.match(charonLog(), new RegExp(`received fragment #\\d+ of ${nT}, reassembled fragmented IKE message \\(\\d+ bytes\\)`), p.logs());
    p.tunkit(['ike', 'terminate', 'gw']);
    await until('both sides drop the SAs', p, () => tunkitSas(p).length === 0 && swanSpis(p.swanctl(['--list-sas'])) === null, 15_000);
  } finally {
    cap?.stop();
    p.close();
  }
}

describe('IKEv2 fragmentation interop (RFC 7383): tunkit ↔ strongSwan 5.9', () => {
  before(() => { pki = new Pki(); });
  after(() => { pki.close(); Netns.cleanupAll(); });

  it('prerequisites: root, strongSwan and tcpdump', () => {
    requireRoot();
    requireStrongswan();
    assert.doesNotThrow(() => run('tcpdump', ['--version']), 'tcpdump is needed (apt-get install tcpdump)');
  });

  it('certificate chains over 1280 bytes, tunkit initiates: IKE_AUTH fragmented both ways, SA up, ping crosses', (t) => fragmentedUp('tunkit', (m) => t.diagnostic(m)));
  it('certificate chains over 1280 bytes, strongSwan initiates (tunkit responds): the same', (t) => fragmentedUp('strongswan', (m) => t.diagnostic(m)));
});
