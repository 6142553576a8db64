// CREATE_CHILD_SA between two tunkit cores in memory with a fake clock:
// Child SA rekey from either side, with and without PFS; IKE SA rekey from
// either side; crossing rekeys (§2.8.1, §2.8.2); rekey_time with its jitter
// and life_time; xfrm expire events; a second Child SA; and 50 rekeys in a
// row with no instant where a side sends on an SA its peer cannot receive.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makePair } from './pair.js';
import type { Pair } from './pair.js';
import { advance, checkNoGap, problems, pumpChecked, up } from './rekey-helpers.js';

const GCM = 'aes128gcm16-prfsha256-x25519';
const LINGER_MS = 6_000; // past OLD_SA_LINGER_MS: replaced SAs' inbound states are gone

const child = (p: Pair, side: 'a' | 'b') => p[side].list()[0]!.children;
const spis = (p: Pair, side: 'a' | 'b'): [string, string][] => child(p, side).map((c) => [c.spiIn, c.spiOut]);

/** Both sides agree: one IKE SA with the same SPIs, one installed Child SA whose SPIs mirror each other; two states each. */
function agreed(p: Pair): void {
  const [a, b] = [p.a.list(), p.b.list()];
  assert.equal(a.length, 1, JSON.stringify(a));
  assert.equal(b.length, 1, JSON.stringify(b));
  assert.deepEqual([a[0]!.spiI, a[0]!.spiR], [b[0]!.spiI, b[0]!.spiR]);
  assert.deepEqual(spis(p, 'a'), spis(p, 'b').map(([i, o]) => [o, i]));
  assert.deepEqual(child(p, 'a').map((c) => c.state), ['INSTALLED']);
  assert.equal(p.ha.sad.size, 2);
  assert.equal(p.hb.sad.size, 2);
}

function rekeyChild(p: Pair, side: 'a' | 'b'): void {
  assert.equal(p[side].rekey({ child: `net-${side}` }, p.now), 1);
  pumpChecked(p, 1);
  advance(p, LINGER_MS, 1);
}

describe('IKE CREATE_CHILD_SA: Child SA rekey', () => {
  for (const side of ['a', 'b'] as const) {
    for (const esp of ['aes128gcm16', 'aes256gcm16-x25519', 'aes128-sha256-ecp256']) {
      it(`started by ${side === 'a' ? 'the IKE initiator' : 'the IKE responder'}, ESP ${esp}: new SPIs, same reqid and policies, no gap`, () => {
        const p = makePair(GCM, esp);
        assert.equal(up(p), null);
        const before = spis(p, 'a');
        const reqid = child(p, 'a')[0]!.reqid;
        rekeyChild(p, side);
        agreed(p);
        const after = spis(p, 'a');
        assert.notEqual(after[0]![0], before[0]![0], 'new inbound SPI');
        assert.notEqual(after[0]![1], before[0]![1], 'new outbound SPI');
        assert.equal(child(p, 'a')[0]!.reqid, reqid);
        for (const h of [p.ha, p.hb]) {
          assert.equal(h.xfrm.filter((r) => r.op === 'xfrm.policy.add').length, 2, 'policies stay');
          assert.equal(h.xfrm.filter((r) => r.op === 'xfrm.policy.del').length, 0);
          assert.equal(h.xfrm.filter((r) => r.op === 'xfrm.state.del').length, 2, 'the old pair went');
          assert.deepEqual(problems(h), []);
        }
        const pfs = esp.includes('x25519') || esp.includes('ecp256');
        assert.equal(p[side === 'a' ? 'ha' : 'hb'].logs.some((l) => /rekeyed with SPIs .* \(PFS\)/.test(l)), pfs, 'PFS exactly when the proposal names a group');
      });
    }
  }

  it('PFS group mismatch: INVALID_KE_PAYLOAD, the initiator retries with the group the responder wants', () => {
    const p = makePair(GCM, 'aes128gcm16-ecp256-x25519', { espB: 'aes128gcm16-x25519' });
    assert.equal(up(p), null);
    rekeyChild(p, 'a');
    agreed(p);
    assert.ok(p.ha.logs.some((l) => /wants key exchange group 31: retrying/.test(l)), p.ha.logs.join('\n'));
  });

  it('the responder holds its new outbound SA back until the initiator deletes the old one', () => {
    const p = makePair(GCM, 'aes128gcm16');
    up(p);
    const old = child(p, 'b')[0]!;
    p.a.rekey({ child: 'net-a' }, p.now);
    p.b.receive(p.ha.sent[0]!.data, p.ha.sent[0]!.from, p.ha.sent[0]!.to, p.now); // the request only
    p.ha.sent.shift();
    assert.equal(p.hb.outState(old.reqid)!.spi, parseInt(old.spiOut, 16), 'b still sends on the old SA');
    assert.equal(p.hb.sad.size, 3, 'new inbound state in');
    pumpChecked(p, 1);
    assert.notEqual(p.hb.outState(old.reqid)!.spi, parseInt(old.spiOut, 16), 'after the delete b sends on the new SA');
  });

  it('an unknown SPI in REKEY_SA gets CHILD_SA_NOT_FOUND', () => {
    const p = makePair(GCM, 'aes128gcm16');
    up(p);
    const ch = [...p.a.sas.values()][0]!.children[0]!;
    (ch as { spiIn: number }).spiIn = 0xc0ffee00; // what the peer does not know
    p.a.rekey({ child: 'net-a' }, p.now);
    pumpChecked(p, null);
    assert.ok(p.ha.logs.some((l) => /rekey failed: refused with CHILD_SA_NOT_FOUND/.test(l)), p.ha.logs.join('\n'));
  });

  it('crossing rekeys (§2.8.1): one new SA survives on both ends, the redundant one is deleted, no gap', () => {
    for (let round = 0; round < 8; round++) { // the nonces are random: either side may win
      const p = makePair(GCM, 'aes128gcm16');
      up(p);
      p.a.rekey({ child: 'net-a' }, p.now);
      p.b.rekey({ child: 'net-b' }, p.now);
      pumpChecked(p, 1);
      advance(p, LINGER_MS, 1);
      agreed(p);
      assert.ok([...p.ha.logs, ...p.hb.logs].some((l) => /rekey collision lost/.test(l)), 'one side lost');
      assert.deepEqual([...problems(p.ha), ...problems(p.hb)], []);
    }
  });

  it('50 rekeys in a row, from alternating sides: never a gap, one SA pair at the end, policies untouched', () => {
    const p = makePair(GCM, 'aes128gcm16-x25519');
    up(p);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      rekeyChild(p, i % 2 === 0 ? 'a' : 'b');
      agreed(p);
      seen.add(spis(p, 'a')[0]!.join('/'));
    }
    assert.equal(seen.size, 50, 'every rekey made new SPIs');
    for (const h of [p.ha, p.hb]) {
      assert.equal(h.xfrm.filter((r) => r.op === 'xfrm.state.add').length, 2 + 100);
      assert.equal(h.xfrm.filter((r) => r.op === 'xfrm.policy.add').length, 2);
      assert.deepEqual(problems(h), []);
    }
  });
});

describe('IKE CREATE_CHILD_SA: IKE SA rekey', () => {
  for (const side of ['a', 'b'] as const) {
    it(`started by ${side}: new IKE SPIs and keys, the Child SA moves over, the old IKE SA is deleted`, () => {
      const p = makePair('aes256-sha256-modp2048', 'aes128gcm16');
      up(p);
      const old = p.a.list()[0]!;
      const ch = spis(p, 'a');
      assert.equal(p[side].rekey({ ike: 'gw' }, p.now), 1);
      pumpChecked(p, 1);
      agreed(p);
      const now = p.a.list()[0]!;
      assert.notEqual(now.spiI, old.spiI);
      assert.notEqual(now.spiR, old.spiR);
      assert.equal(now.isInitiator, side === 'a', 'who rekeys is the new SA\'s initiator');
      assert.deepEqual(spis(p, 'a'), ch, 'the Child SA is the same');
      // The new IKE SA works: its keys agree (a child rekey over it), Message IDs start at 0.
      const sa = [...p.a.sas.values()][0]!;
      assert.equal(sa.nextMid, 0);
      rekeyChild(p, side === 'a' ? 'b' : 'a');
      agreed(p);
      assert.deepEqual([...problems(p.ha), ...problems(p.hb)], []);
    });
  }

  it('crossing IKE rekeys (§2.8.2): one IKE SA left on both ends with the child', () => {
    for (let round = 0; round < 6; round++) {
      const p = makePair(GCM, 'aes128gcm16');
      up(p);
      p.a.rekey({ ike: 'gw' }, p.now);
      p.b.rekey({ ike: 'gw' }, p.now);
      pumpChecked(p, 1);
      agreed(p);
      assert.ok([...p.ha.logs, ...p.hb.logs].some((l) => /IKE_SA rekey collision lost/.test(l)));
      rekeyChild(p, 'a');
      agreed(p);
      assert.deepEqual([...problems(p.ha), ...problems(p.hb)], []);
    }
  });

  it('a child rekey asked for during an IKE rekey waits for it and goes over the new IKE SA', () => {
    const p = makePair(GCM, 'aes128gcm16');
    up(p);
    p.a.rekey({ ike: 'gw' }, p.now);
    p.a.rekey({ child: 'net-a' }, p.now);
    pumpChecked(p, 1);
    advance(p, LINGER_MS, 1);
    agreed(p);
    assert.ok(p.ha.logs.some((l) => /CHILD_SA net-a\{\d+\} rekeyed/.test(l)));
  });
});

describe('IKE lifetimes: rekey_time, rand_time, life_time; xfrm expire events', () => {
  const both = { connExtra: 'rekey_time = 600s', childExtra: 'rekey_time = 60s\n        rand_time = 6s' };

  it('a Child SA rekeys between rekey_time - rand_time and rekey_time; list-sas shows the timers', () => {
    const p = makePair(GCM, 'aes128gcm16', { both });
    const t0 = p.now;
    up(p);
    const c = child(p, 'a')[0]!;
    assert.ok(c.rekeyTime >= Math.floor((t0 + 54_000) / 1000) && c.rekeyTime <= (t0 + 60_000) / 1000, `rekeyTime ${c.rekeyTime - t0 / 1000}`);
    assert.equal(c.lifeTime, Math.floor((t0 + 66_000) / 1000), 'life_time = rekey_time + 10 %');
    assert.ok(p.a.list()[0]!.rekeyTime <= (t0 + 600_000) / 1000 && p.a.list()[0]!.rekeyTime >= (t0 + 540_000) / 1000);
    const st = p.ha.sad.get(`198.51.100.1/${parseInt(c.spiIn, 16)}`)!.spec;
    assert.equal(st.limits?.timeHard, 66, 'the xfrm states carry life_time as the hard limit');
    const soft = st.limits?.timeSoft ?? 0;
    assert.ok(soft >= 54 && soft <= 60 && Math.abs(soft - (c.rekeyTime - t0 / 1000)) <= 1, `and the rekey time as the soft one (${soft})`);
    advance(p, 53_000, 1);
    assert.deepEqual(spis(p, 'a')[0], [c.spiIn, c.spiOut], 'not before rekey_time - rand_time');
    advance(p, 7_500, 1);
    assert.ok(child(p, 'a').every((x) => x.spiIn !== c.spiIn || x.state === 'REKEYED'), 'rekeyed by rekey_time');
    advance(p, 3_600_000, 1); // an hour: about 60 child rekeys and an IKE rekey, each checked for gaps on the way
    const live = (side: 'a' | 'b'): [string, string][] => child(p, side).filter((x) => x.state === 'INSTALLED').map((x) => [x.spiIn, x.spiOut]);
    assert.deepEqual(live('a'), live('b').map(([i, o]) => [o, i]));
    assert.equal(live('a').length, 1);
    const rekeys = [...p.ha.logs, ...p.hb.logs].filter((l) => /CHILD_SA net-[ab]\{\d+\} rekeyed with/.test(l)).length;
    assert.ok(rekeys >= 60 && rekeys <= 68, `${rekeys} rekeys in 3660 s at 54..60 s each`);
    assert.ok(p.a.list()[0]!.spiI !== '' && p.ha.logs.filter((l) => /rekeying IKE_SA|rekeyed by the peer: now/.test(l)).length >= 1, 'the IKE SA rekeyed too');
    assert.deepEqual([...problems(p.ha), ...problems(p.hb)], []);
  });

  it('a soft expire event starts a rekey; a hard one deletes the Child SA on both ends', () => {
    const p = makePair(GCM, 'aes128gcm16');
    up(p);
    const c = child(p, 'a')[0]!;
    p.a.expire('198.51.100.1', parseInt(c.spiIn, 16), false, p.now);
    pumpChecked(p, 1);
    advance(p, LINGER_MS, 1);
    agreed(p);
    assert.notEqual(spis(p, 'a')[0]![0], c.spiIn);
    const d = child(p, 'b')[0]!;
    p.hb.sad.delete(`198.51.100.1/${parseInt(d.spiOut, 16)}`); // the data path removed the hard-expired state itself
    p.b.expire('198.51.100.1', parseInt(d.spiOut, 16), true, p.now);
    pumpChecked(p, null);
    assert.deepEqual([...problems(p.ha), ...problems(p.hb)], [], 'only what is still installed is removed');
    assert.deepEqual([child(p, 'a').length, child(p, 'b').length], [0, 0]);
    assert.deepEqual([p.ha.sad.size, p.hb.sad.size], [0, 0]);
  });
});

describe('IKE CREATE_CHILD_SA: a second Child SA', () => {
  it('initiate of another child of an established connection uses CREATE_CHILD_SA on the same IKE SA', () => {
    const p = makePair(GCM, 'aes128gcm16', { both: { hasSecondChild: true } });
    up(p);
    let err: string | null = 'pending';
    p.a.initiate('net-a-2', p.now, (e) => { err = e; });
    pumpChecked(p, null);
    assert.equal(err, null);
    assert.equal(p.a.list().length, 1, 'still one IKE SA');
    assert.deepEqual(child(p, 'a').map((c) => [c.name, c.localTs[0]]), [['net-a', '203.0.113.0/28'], ['net-a-2', '198.51.100.64/28']]);
    assert.deepEqual(child(p, 'b').map((c) => c.name), ['net-b', 'net-b-2']);
    assert.notEqual(child(p, 'a')[0]!.reqid, child(p, 'a')[1]!.reqid);
    checkNoGap(p, 2);
    assert.throws(() => p.a.initiate('net-a-2', p.now, () => undefined), /already installed/);
    rekeyChild2(p);
  });
});

describe('IKE CREATE_CHILD_SA: the Message ID window and deletes', () => {
  it('one request of ours out at a time (window 1, §2.3): two rekeys asked together go one after the other', () => {
    const p = makePair(GCM, 'aes128gcm16', { both: { hasSecondChild: true } });
    up(p);
    p.a.initiate('net-a-2', p.now, () => undefined);
    pumpChecked(p, null);
    assert.equal(p.a.rekey({ child: 'net-a' }, p.now), 1);
    assert.equal(p.a.rekey({ child: 'net-a-2' }, p.now), 1);
    assert.equal(p.ha.sent.length, 1, 'the second waits');
    const mids: number[] = [];
    for (let i = 0; i < 20 && (p.ha.sent.length > 0 || p.hb.sent.length > 0); i++) {
      for (const w of p.ha.sent) mids.push(new DataView(w.data.buffer, w.data.byteOffset + 20, 4).getUint32(0));
      pumpChecked(p, 2);
    }
    advance(p, LINGER_MS, 2);
    assert.deepEqual([...new Set(mids)], [...new Set(mids)].sort((x, y) => x - y), 'Message IDs in order');
    assert.equal(p.ha.sad.size, 4);
    assert.deepEqual([...problems(p.ha), ...problems(p.hb)], []);
  });

  it('terminate while a Child SA rekey is out: D(IKE) follows its answer; nothing is left on either end', () => {
    const p = makePair(GCM, 'aes128gcm16');
    up(p);
    p.a.rekey({ child: 'net-a' }, p.now);
    assert.equal(p.a.terminate('gw', p.now), 1);
    pumpChecked(p, null);
    assert.deepEqual([p.a.list().length, p.b.list().length, p.ha.sad.size, p.hb.sad.size], [0, 0, 0, 0]);
    for (const h of [p.ha, p.hb]) assert.equal(h.xfrm.filter((r) => r.op === 'xfrm.policy.del').length, 2);
  });

  it('terminate during an IKE rekey deletes the new IKE SA with the child', () => {
    const p = makePair(GCM, 'aes128gcm16');
    up(p);
    p.a.rekey({ ike: 'gw' }, p.now);
    p.a.terminate('gw', p.now);
    pumpChecked(p, null);
    assert.deepEqual([p.a.list().length, p.b.list().length, p.ha.sad.size, p.hb.sad.size], [0, 0, 0, 0]);
  });
});

function rekeyChild2(p: Pair): void {
  assert.equal(p.b.rekey({ child: 'net-b-2' }, p.now), 1);
  pumpChecked(p, 2);
  advance(p, LINGER_MS, 2);
  assert.equal(p.ha.sad.size, 4);
  assert.deepEqual([...problems(p.ha), ...problems(p.hb)], []);
}
