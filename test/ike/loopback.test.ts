// A tunkit initiator core and a tunkit responder core in memory: every
// supported IKE/ESP proposal pair comes up, both derive the same Child SA
// keys (the initiator's outbound state is the responder's inbound one, key
// for key), the xfrm requests name the right SPIs, selectors are narrowed,
// and delete, DPD, retransmission and the failure notifies behave.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicySpec, StateSpec } from '../../src/control/xfrm.js';
import { makePair, pump } from './pair.js';
import type { Pair } from './pair.js';

function up(p: Pair): { err: string | null } {
  const res: { err: string | null } = { err: 'pending' };
  p.a.initiate('net-a', p.now, (err) => { res.err = err; });
  pump(p);
  return res;
}

const byDst = (s: readonly StateSpec[], dst: string): StateSpec => s.find((x) => x.dst === dst)!;

describe('IKE loopback: tunkit initiator ↔ tunkit responder', () => {
  const cases: [string, string, string][] = [
    ['aes128gcm16-prfsha256-x25519', 'aes128gcm16', 'rfc4106(gcm(aes))'],
    ['aes256gcm16-prfsha384-ecp256', 'aes256gcm16', 'rfc4106(gcm(aes))'],
    ['aes256-sha256-modp2048', 'aes256-sha256', 'cbc(aes)'],
    ['aes128-sha512-ecp384', 'aes128-sha384', 'cbc(aes)'],
  ];
  for (const [ike, esp, algo] of cases) {
    it(`${ike} / ${esp}: both ends install matching SAs`, () => {
      const p = makePair(ike, esp);
      assert.equal(up(p).err, null);
      const [ia, ib] = [p.a.list(), p.b.list()];
      assert.equal(ia.length, 1);
      assert.equal(ib.length, 1);
      assert.equal(ia[0]!.state, 'ESTABLISHED');
      assert.equal(ib[0]!.state, 'ESTABLISHED');
      assert.equal(ia[0]!.spiI, ib[0]!.spiI);
      assert.equal(ia[0]!.spiR, ib[0]!.spiR);
      assert.equal(ia[0]!.algorithms, ib[0]!.algorithms);
      assert.equal(ib[0]!.remoteId, 'a.example');
      assert.equal(ia[0]!.remoteId, 'b.example');
      const sa = p.ha.states();
      const sb = p.hb.states();
      assert.equal(sa.length, 2);
      assert.equal(sb.length, 2);
      const aOut = byDst(sa, '198.51.100.2');
      const bIn = byDst(sb, '198.51.100.2');
      const aIn = byDst(sa, '198.51.100.1');
      const bOut = byDst(sb, '198.51.100.1');
      assert.equal(aOut.spi, bIn.spi);
      assert.equal(aIn.spi, bOut.spi);
      assert.notEqual(aOut.spi, aIn.spi);
      for (const [x, y] of [[aOut, bIn], [aIn, bOut]] as const) {
        assert.deepEqual(x.aead ?? x.enc, y.aead ?? y.enc);
        assert.deepEqual(x.auth, y.auth);
        assert.equal((x.aead ?? x.enc)!.name, algo);
        assert.notEqual((x.aead ?? x.enc)!.keyHex, '');
      }
      assert.notEqual((aOut.aead ?? aOut.enc)!.keyHex, (aIn.aead ?? aIn.enc)!.keyHex, 'each direction has its own key');
      const ch = ia[0]!.children[0]!;
      assert.equal(ch.spiOut, aOut.spi.toString(16).padStart(8, '0'));
      assert.equal(ch.spiIn, aIn.spi.toString(16).padStart(8, '0'));
    });
  }

  it('GCM keys carry the 4-byte salt and CBC uses HMAC-SHA2-256-128 via auth-trunc', () => {
    const g = makePair('aes256gcm16-prfsha256-x25519', 'aes256gcm16');
    up(g);
    assert.equal(g.ha.states()[0]!.aead!.keyHex.length, 2 * 36);
    assert.equal(g.ha.states()[0]!.aead!.bits, 128);
    const c = makePair('aes128-sha256-x25519', 'aes128-sha256');
    up(c);
    const s = c.ha.states()[0]!;
    assert.equal(s.enc!.keyHex.length, 32);
    assert.deepEqual([s.auth!.name, s.auth!.bits, s.authTrunc, s.auth!.keyHex.length], ['hmac(sha256)', 128, true, 64]);
  });

  it('policies: out and in per selector pair, reqid of the states', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16');
    up(p);
    const pols = p.ha.xfrm.filter((r) => r.op === 'xfrm.policy.add').map((r) => (r.args as { policy: PolicySpec }).policy);
    assert.deepEqual(pols.map((x) => [x.dir, x.sel.src, x.sel.dst]), [['out', '203.0.113.0/28', '203.0.113.16/28'], ['in', '203.0.113.16/28', '203.0.113.0/28']]);
    assert.equal(pols[0]!.tmpls![0]!.reqid, p.ha.states()[0]!.reqid);
    assert.deepEqual([pols[0]!.tmpls![0]!.src, pols[0]!.tmpls![0]!.dst], ['198.51.100.1', '198.51.100.2']);
  });

  it('the responder narrows a wider TSi to its remote_ts', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16', { remoteTsB: '203.0.113.0/30' });
    assert.equal(up(p).err, null);
    assert.deepEqual(p.b.list()[0]!.children[0]!.remoteTs, ['203.0.113.0/30']);
    assert.deepEqual(p.a.list()[0]!.children[0]!.localTs, ['203.0.113.0/30']);
  });

  it('a responder selector that does not overlap: IKE SA up, TS_UNACCEPTABLE, no Child SA', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16', { remoteTsB: '192.0.2.0/24' });
    const r = up(p);
    assert.match(r.err ?? '', /TS_UNACCEPTABLE/);
    assert.equal(p.a.list()[0]!.state, 'ESTABLISHED');
    assert.equal(p.ha.xfrm.length, 0);
    assert.equal(p.hb.xfrm.length, 0);
  });

  it('a wrong PSK: AUTHENTICATION_FAILED on both ends, nothing installed, SAs gone', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16', { pskB: 'another secret' });
    const r = up(p);
    assert.match(r.err ?? '', /AUTHENTICATION_FAILED/);
    assert.ok(p.hb.logs.some((l) => /AUTHENTICATION_FAILED.*does not verify/.test(l)), p.hb.logs.join('\n'));
    assert.equal(p.a.list().length, 0);
    assert.equal(p.b.list().length, 0);
    assert.equal(p.ha.xfrm.length + p.hb.xfrm.length, 0);
  });

  it('no common proposal: NO_PROPOSAL_CHOSEN, logged with what was offered', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16');
    p.b.cfg = { ...p.b.cfg, connections: p.b.cfg.connections.map((c) => ({ ...c, proposals: [{ ...c.proposals[0]!, encr: [{ id: 12, keyLength: 256 }], integ: [12], prf: [5] }] })) };
    const r = up(p);
    assert.match(r.err ?? '', /NO_PROPOSAL_CHOSEN/);
    assert.ok(p.hb.logs.some((l) => /NO_PROPOSAL_CHOSEN.*offered/.test(l)));
  });

  it('INVALID_KE_PAYLOAD: the initiator retries with the group the responder wants', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519-ecp256', 'aes128gcm16');
    p.b.cfg = { ...p.b.cfg, connections: p.b.cfg.connections.map((c) => ({ ...c, proposals: [{ ...c.proposals[0]!, dh: [19] }] })) };
    assert.equal(up(p).err, null);
    assert.match(p.a.list()[0]!.algorithms, /ECP_256/);
    assert.ok(p.ha.logs.some((l) => /group 19: retrying/.test(l)));
  });

  it('encap=yes fakes a NAT: both float to 4500 and the SAs get espinudp 4500 4500', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16', { encap: true });
    assert.equal(up(p).err, null);
    for (const h of [p.ha, p.hb]) for (const s of h.states()) assert.deepEqual(s.encap, { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' });
    assert.equal(p.a.list()[0]!.remotePort, 4500);
    assert.equal(p.b.list()[0]!.localPort, 4500);
    assert.ok(p.b.list()[0]!.isNatDetected);
  });

  it('terminate: INFORMATIONAL delete removes both IKE SAs and every state and policy', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16');
    up(p);
    assert.equal(p.a.terminate('gw', p.now), 1);
    pump(p);
    assert.equal(p.a.list().length, 0);
    assert.equal(p.b.list().length, 0);
    for (const h of [p.ha, p.hb]) {
      assert.equal(h.xfrm.filter((r) => r.op === 'xfrm.state.del').length, 2);
      assert.equal(h.xfrm.filter((r) => r.op === 'xfrm.policy.del').length, 2);
    }
  });

  it('a liveness check (empty INFORMATIONAL) is answered and a retransmitted request gets the same answer', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16');
    up(p);
    const sa = [...p.a.sas.values()][0]!;
    let answered = 0;
    p.a.request(sa, 37, [], () => { answered++; }, () => assert.fail('timeout'));
    const req = p.ha.sent[0]!;
    pump(p);
    assert.equal(answered, 1);
    p.b.receive(req.data, req.from, req.to, p.now); // the same request again
    assert.equal(p.hb.sent.length, 1);
    assert.equal(p.b.list()[0]!.state, 'ESTABLISHED');
  });

  it('retransmits at 4 s × 1.8^n and gives up after 5 retransmissions', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16');
    let err: string | null = 'pending';
    p.a.initiate('net-a', p.now, (e) => { err = e; });
    const times: number[] = [];
    let t: number;
    for (let i = 0; i < 10 && p.a.list().length > 0; i++) {
      t = p.a.nextDeadline()!;
      p.a.tick(t);
      times.push(t - p.now);
    }
    assert.deepEqual(times, [4000, 11200, 24160, 47488, 89478, 165061]);
    assert.equal(p.ha.sent.length, 6);
    assert.match(String(err), /not answered/);
  });

  it('a refused xfrm request rolls back what went in and the child is refused', () => {
    const p = makePair('aes128gcm16-prfsha256-x25519', 'aes128gcm16');
    p.hb.refuse = (r) => r.op === 'xfrm.policy.add';
    const r = up(p);
    assert.match(r.err ?? '', /NO_PROPOSAL_CHOSEN/);
    assert.equal(p.hb.xfrm.filter((x) => x.op === 'xfrm.state.add').length, 2);
    assert.equal(p.hb.xfrm.filter((x) => x.op === 'xfrm.state.del').length, 2);
  });
});
