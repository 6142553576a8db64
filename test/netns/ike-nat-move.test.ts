// A NATed initiator's outer address and port change under an established
// SA (ike-fixture.ts's nat layout: left 192.0.2.2 behind the masquerading
// mid, right 198.51.100.2). The NAT is moved by giving mid's outer side a
// new address (198.51.100.1 deleted: the kernel drops the masquerade's
// conntrack entries for it) and a new port range, so left's UDP 4500 shows
// up from another address and port. The responder follows (RFC 7296 §2.23)
// on the first authenticated packet from there — ESP (an xfrm mapping event)
// in one test, left's DPD INFORMATIONAL in the other — and moves its Child
// SA's states (xfrm.state.migrate) and policy templates: traffic resumes
// with the same SPIs, no rekey, the packet counters carried on, and the
// states show the new encap port.
// Needs root and nft; fails, never skips, without them.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { IkeSaRecord } from '../../src/control/ike.js';
import type { PolicyRecord, StateRecord } from '../../src/control/xfrm.js';
import { Netns } from '../../src/demo/netns.js';
import { requireRoot } from './pair.js';
import { IkeNet } from './ike-fixture.js';

const NEW_ADDR = '198.51.100.3';

async function withNat(prefix: string, fn: (n: IkeNet) => Promise<void>): Promise<void> {
  requireRoot();
  const n = new IkeNet(prefix, true);
  try {
    await fn(n);
  } finally {
    n.close();
  }
}

/** mid masquerades to NEW_ADDR (UDP from ports 40000-40099) from now on; the old address (and its NAT mappings) go. */
function moveNat(n: IkeNet): void {
  const mid = n.mid!;
  const dev = n.midDev.right;
  mid.exec('sysctl', ['-qw', `net.ipv4.conf.${dev}.promote_secondaries=1`]);
  mid.exec('nft', ['flush', 'chain', 'ip', 'nat', 'post']);
  mid.exec('nft', ['add', 'rule', 'ip', 'nat', 'post', 'oifname', dev, 'meta', 'l4proto', 'udp', 'masquerade', 'to', ':40000-40099']);
  mid.exec('nft', ['add', 'rule', 'ip', 'nat', 'post', 'oifname', dev, 'masquerade']);
  mid.exec('ip', ['addr', 'add', `${NEW_ADDR}/24`, 'dev', dev]);
  mid.exec('ip', ['addr', 'del', '198.51.100.1/24', 'dev', dev]);
}

/** The SPIs of both ends' one IKE SA and Child SA, as list-sas shows them. */
const spis = (l: IkeSaRecord, r: IkeSaRecord): string[] =>
  [l.spiI, l.spiR, r.spiI, r.spiR, l.children[0]!.spiIn, l.children[0]!.spiOut, r.children[0]!.spiIn, r.children[0]!.spiOut];

/** Brings the SA up through the NAT and pings; the SPIs and the responder's outbound packet count. */
async function upAndPing(n: IkeNet, leftConn = ''): Promise<{ before: string[]; packetsOut: number }> {
  await n.start('right');
  await n.start('left', { conn: leftConn });
  const r = n.tunkit('left', ['ike', 'initiate', 'net-left']);
  assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
  assert.equal(n.ping('left', 3), 3, `ping through the NAT\n${n.tail()}`);
  const [l, rr] = [n.sas('left')[0]!, n.sas('right')[0]!];
  assert.deepEqual([rr.remoteAddr, rr.remotePort, rr.children[0]!.encap], ['198.51.100.1', 4500, true], 'the masquerade kept port 4500');
  return { before: spis(l, rr), packetsOut: rr.children[0]!.packetsOut ?? 0 };
}

/** The responder followed: same SPIs, its states and policy templates at the NAT's new address and port. */
function assertMoved(n: IkeNet, before: string[], packetsOut: number): void {
  const [l, r] = [n.sas('left')[0]!, n.sas('right')[0]!];
  assert.deepEqual(spis(l, r), before, 'the same IKE and Child SAs: no rekey');
  assert.equal(r.remoteAddr, NEW_ADDR);
  const port = r.remotePort;
  assert.ok(port >= 40000 && port <= 40099, `the new NAT port: ${port}`);
  const states = JSON.parse(n.tunkit('right', ['-j', 'xfrm', 'state', 'list']).out) as StateRecord[];
  const out = states.find((s) => s.spi === parseInt(r.children[0]!.spiOut, 16));
  const inb = states.find((s) => s.spi === parseInt(r.children[0]!.spiIn, 16));
  assert.equal(states.length, 2, 'still one state each way');
  assert.deepEqual([out?.dst, out?.encap?.sport, out?.encap?.dport], [NEW_ADDR, 4500, port], 'outbound: to the new address and port');
  assert.deepEqual([inb?.src, inb?.encap?.sport, inb?.encap?.dport], [NEW_ADDR, port, 4500], 'inbound: from there');
  assert.ok((out?.curlft.packets ?? 0) > packetsOut, `the outbound counter went on from ${packetsOut}: ${out?.curlft.packets}`);
  assert.ok((out?.replay.oseq ?? 0) > packetsOut, 'and so did its sequence numbers');
  const pols = JSON.parse(n.tunkit('right', ['-j', 'xfrm', 'policy', 'list']).out) as PolicyRecord[];
  const tmpl = (dir: string): string[] => { const t = pols.find((p) => p.dir === dir)?.tmpls?.[0]; return [t?.src ?? '', t?.dst ?? '']; };
  assert.deepEqual([tmpl('out'), tmpl('in')], [['198.51.100.2', NEW_ADDR], [NEW_ADDR, '198.51.100.2']], 'the tunnel templates follow');
}

describe('IKEv2 NAT-T: the responder follows a NATed peer\'s new address and port without a rekey', () => {
  after(() => Netns.cleanupAll());

  it('ESP from the new mapping (xfrm mapping event) moves the Child SA; the ping resumes at once', () => withNat('tkf', async (n) => {
    const { before, packetsOut } = await upAndPing(n);
    moveNat(n);
    const got = n.ping('left', 5);
    assert.ok(got >= 3, `${got} of 5 replies after the NAT moved (the first may race the move)\n${n.tail()}`);
    await n.until('the responder logs the move', () => /the peer moved from 198\.51\.100\.1\[4500\] to 198\.51\.100\.3\[400\d\d\] \(ESP \(xfrm mapping\)\)/.test(n.logs.right), 2000);
    await n.until('and the Child SA\'s', () => /CHILD_SA net-right\{\d+\} now ESP in UDP to 198\.51\.100\.3\[400\d\d\]/.test(n.logs.right), 2000);
    assertMoved(n, before, packetsOut);
    assert.equal(n.ping('left', 3), 3, 'and keeps working');
  }));

  it('the initiator\'s DPD from the new mapping (an authenticated IKE message) moves it before any ESP', () => withNat('tkg', async (n) => {
    const { before, packetsOut } = await upAndPing(n, 'dpd_delay = 2s');
    moveNat(n);
    await n.until('the responder follows the DPD INFORMATIONAL', () => n.sas('right')[0]?.remoteAddr === NEW_ADDR, 8000);
    await n.until('the responder logs why', () => /the peer moved from 198\.51\.100\.1\[4500\] to 198\.51\.100\.3\[400\d\d\] \(an IKE message\)/.test(n.logs.right), 2000);
    assert.equal(n.ping('left', 3), 3, `the first ping after the move crosses\n${n.tail()}`);
    assertMoved(n, before, packetsOut);
  }));
});
