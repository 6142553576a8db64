// tunkit ↔ tunkit IKEv2 in namespaces (ike-fixture.ts): NAT-T through a
// masquerading namespace (ESP in UDP 4500 and keepalives on the wire, ping),
// DPD after kill -9 of one side, COOKIEs under a burst of IKE_SA_INIT from
// many source ports, a wrong PSK refused on both ends, and a trap policy
// whose acquire brings the tunnel up. Short timers come from each side's
// strongswan.conf (charon.keep_alive, retransmit_*, cookie_threshold*).
// Needs root; fails, never skips, without it.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Netns } from '../../src/demo/netns.js';
import { requireRoot, sleep, TUNKIT } from './pair.js';
import { BURST, IkeNet, INNER } from './ike-fixture.js';

const FAST = 'retransmit_timeout = 1\nretransmit_base = 1\nretransmit_tries = 2';

async function withNet(prefix: string, isNat: boolean, fn: (n: IkeNet) => Promise<void>): Promise<void> {
  requireRoot();
  const n = new IkeNet(prefix, isNat);
  try {
    await fn(n);
  } finally {
    n.close();
  }
}

describe('IKEv2 liveness in namespaces: tunkit ↔ tunkit', () => {
  after(() => Netns.cleanupAll());

  it('NAT-T through a masquerading namespace: ESP in UDP 4500 on the wire, keepalives every keep_alive while idle, ping', () => withNet('tkn', true, async (n) => {
    await n.start('right');
    await n.start('left', { charon: 'keep_alive = 2s' });
    const dump = n.mid!.spawn('tcpdump', ['-i', n.midDev.right, '-n', '-l', 'udp port 4500 or udp port 500']);
    let wire = '';
    dump.stdout?.setEncoding('utf8').on('data', (x: string) => { wire += x; });
    await sleep(1000);
    const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
    assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
    assert.equal(n.ping('left', 3), 3, `ping through the NAT\n${n.tail()}`);
    await sleep(7000); // idle: keepalives
    dump.kill('SIGTERM');
    await sleep(300);
    const l = n.sas('left')[0]!;
    const rr = n.sas('right')[0]!;
    assert.equal(l.isNatDetected, true);
    assert.equal(l.localPort, 4500, 'floated to 4500');
    assert.equal(rr.remoteAddr, '198.51.100.1', 'the responder sees the NAT\'s address');
    assert.equal(l.children[0]!.encap, true);
    assert.match(wire, /198\.51\.100\.1\.\d+ > 198\.51\.100\.2\.4500: UDP-encap: ESP\(spi=0x/, `ESP in UDP on the wire:\n${wire}`);
    const keepalives = wire.split('\n').filter((x) => /198\.51\.100\.1\.\d+ > 198\.51\.100\.2\.4500: (isakmp-nat-keep-alive|.*length 1$)/.test(x));
    assert.ok(keepalives.length >= 2, `keepalives from the NATed side while idle:\n${wire}`);
    assert.ok(!/198\.51\.100\.2\.4500 > 198\.51\.100\.1\.\d+: (isakmp-nat-keep-alive|.*length 1$)/m.test(wire), 'none from the side not behind the NAT');
  }));

  it('local_addrs = %any: the initiator takes the routed source (RTM_GETROUTE src, as charon), both ends agree, ping passes', () => withNet('tka', false, async (n) => {
    await n.start('right');
    await n.start('left', { localAddrs: '%any' });
    const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
    assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
    const l = n.sas('left')[0]!;
    assert.equal(l.localAddr, n.addr.left, 'the address the kernel routes from toward the responder');
    assert.equal(n.sas('right')[0]!.remoteAddr, n.addr.left);
    const states = JSON.parse(n.tunkit('left', ['-j', 'xfrm', 'state', 'list']).out) as { src: string; dst: string }[];
    assert.deepEqual(states.map((s) => `${s.src}>${s.dst}`).sort(), [`${n.addr.left}>${n.addr.right}`, `${n.addr.right}>${n.addr.left}`].sort());
    assert.equal(n.ping('left', 2), 2, n.tail());
  }));

  it('rekey_bytes: the soft byte limit on the initiator\'s states expires, the Child SA rekeys, traffic goes on over the new SPIs', () => withNet('tkb', false, async (n) => {
    await n.start('right');
    await n.start('left', { child: 'rekey_bytes = 20k' });
    const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
    assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
    const before = n.sas('left')[0]!.children[0]!;
    const states = JSON.parse(n.tunkit('left', ['-j', 'xfrm', 'state', 'list']).out) as { limits?: { byte_soft?: number; byte_hard?: number } }[];
    assert.equal(states.length, 2);
    for (const s of states) assert.ok(s.limits?.byte_soft !== undefined && s.limits.byte_soft <= 20480 && s.limits.byte_hard === 22528, JSON.stringify(s.limits));
    n.ns.left.exec('ping', ['-c', '30', '-i', '0.05', '-s', '1000', '-q', '-I', INNER.left, INNER.right]); // ~30 KB each way
    await n.until('the Child SA is rekeyed', () => {
      const c = n.sas('left')[0]?.children.find((x) => x.state === 'INSTALLED');
      return c !== undefined && c.spiIn !== before.spiIn;
    }, 10_000);
    await n.until('the initiator logs the soft expire that started it', () => /CHILD_SA net-left\{\d+\}: soft expire of SA/.test(n.logs.left), 3000);
    assert.equal(n.ping('left', 2), 2, n.tail());
  }));

  it('DPD: after kill -9 of the initiator the responder clears the SA within dpd_delay + retransmissions', () => withNet('tkd', false, async (n) => {
    await n.start('right', { conn: 'dpd_delay = 2s', charon: FAST });
    await n.start('left', { charon: FAST });
    const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
    assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
    assert.equal(n.ping('left', 2), 2);
    assert.equal(n.sas('right').length, 1);
    n.daemons.left!.kill('SIGKILL');
    const took = await n.until('the responder clears the dead peer\'s SA', () => n.sas('right').length === 0, 15_000);
    assert.ok(took <= 2000 + 3000 + 2000, `cleared after ${took} ms: dpd_delay 2 s + 3 × 1 s of retransmission`);
    await n.until('the responder logs the dead peer', () => /did not answer a liveness check/.test(n.logs.right), 2000);
    const states = JSON.parse(n.tunkit('right', ['-j', 'xfrm', 'state', 'list']).out) as unknown[];
    assert.equal(states.length, 0, 'its xfrm states went too');
  }));

  it('COOKIE: past cookie_threshold the responder answers a burst with N(COOKIE), and a real initiator still gets through', () => withNet('tkc', false, async (n) => {
    await n.start('right', { charon: 'cookie_threshold = 5\ncookie_threshold_ip = 5' });
    await n.start('left');
    const out = n.ns.left.exec(process.execPath, [BURST, n.addr.right, '20']);
    const tally = JSON.parse(out) as { full: number; cookie: number; other: number };
    assert.deepEqual(tally, { full: 5, cookie: 15, other: 0 }, n.tail());
    const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
    assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
    await n.until('the responder logs the COOKIE it asked of the real initiator', () => (n.logs.right.match(/asking for a COOKIE/g) ?? []).length >= 16, 2000);
    assert.equal(n.ping('left', 2), 2);
  }));

  it('a wrong PSK: AUTHENTICATION_FAILED on both ends, nothing left', () => withNet('tkp', false, async (n) => {
    await n.start('right', { psk: 'one secret, documentation only' });
    await n.start('left', { psk: 'another secret, documentation only' });
    const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /AUTHENTICATION_FAILED/);
    await n.until('the responder logs why', () => /AUTHENTICATION_FAILED: the AUTH of 'left\.example' does not verify/.test(n.logs.right), 5000);
    await n.until('the initiator logs it', () => /AUTHENTICATION_FAILED/.test(n.logs.left), 2000);
    assert.deepEqual([n.sas('left').length, n.sas('right').length], [0, 0]);
  }));

  it('start_action = trap: a ping with no SA raises acquire (xfrm monitor shows it), IKE comes up, the ping passes', () => withNet('tkt', false, async (n) => {
    await n.start('right');
    await n.start('left', { child: 'start_action = trap' });
    const pols = JSON.parse(n.tunkit('left', ['-j', 'xfrm', 'policy', 'list']).out) as unknown[];
    const states = JSON.parse(n.tunkit('left', ['-j', 'xfrm', 'state', 'list']).out) as unknown[];
    assert.deepEqual([pols.length, states.length], [2, 0], 'trap policies, no state');
    const mon = n.ns.left.spawn(process.execPath, [TUNKIT, '--socket', n.sock('left'), 'xfrm', 'monitor']);
    let events = '';
    mon.stdout?.setEncoding('utf8').on('data', (x: string) => { events += x; });
    await sleep(500);
    const got = n.ping('left', 8);
    await n.until('xfrm monitor prints the acquire', () => /^acquire proto esp/m.test(events), 2000);
    mon.kill('SIGTERM');
    assert.ok(got >= 4, `${got} of 8 replies once the SA is up\n${n.tail()}`);
    await n.until('the IKE shell logs the acquire', () => /net-left: acquire for .*: initiating/.test(n.logs.left), 2000);
    const sa = n.sas('left')[0];
    assert.equal(sa?.children.length, 1);
    n.tunkit('left', ['ike', 'terminate', 'gw']);
    await n.until('the SA is gone', () => n.sas('left').length === 0, 5000);
    const back = JSON.parse(n.tunkit('left', ['-j', 'xfrm', 'policy', 'list']).out) as unknown[];
    assert.equal(back.length, 2, 'the trap policies stay for the next packet');
  }));
});
