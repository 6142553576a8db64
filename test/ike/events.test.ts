// src/ike/events.ts through the core (two IkeCores over pair.ts): the
// monitor events an SA's life publishes, in order, with the SPIs list()
// shows — up, child rekey, IKE rekey, terminate — and the failures: a
// wrong PSK (auth) and a proposal mismatch (negotiation). No key material
// in any event.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IkeEvent } from '../../src/control/ike.js';
import { makePair, pump } from './pair.js';
import type { Pair } from './pair.js';
import { pumpChecked, up } from './rekey-helpers.js';

const GCM = 'aes128gcm16-prfsha256-x25519';

/** Collects both cores' events (the host's optional event hook). */
function listen(p: Pair): { a: IkeEvent[]; b: IkeEvent[] } {
  const ev = { a: [] as IkeEvent[], b: [] as IkeEvent[] };
  Object.assign(p.ha, { event: (e: IkeEvent) => ev.a.push(e) });
  Object.assign(p.hb, { event: (e: IkeEvent) => ev.b.push(e) });
  return ev;
}

const kinds = (es: readonly IkeEvent[]): string[] => es.map((e) => ('up' in e ? `${e.type.slice(4)} ${e.up ? 'up' : 'down'}` : e.type.slice(4)));

describe('IKE monitor events from the core', () => {
  it('up, child rekey, IKE rekey, terminate: in order on both sides, SPIs as list() shows them', () => {
    const p = makePair(GCM, 'aes128gcm16');
    const ev = listen(p);
    up(p);
    const sa0 = p.a.list()[0]!;
    const ch0 = sa0.children[0]!;
    assert.deepEqual(kinds(ev.a), ['ike-updown up', 'child-updown up']);
    assert.deepEqual(kinds(ev.b), ['ike-updown up', 'child-updown up']);
    const [ikeUp, childUp] = ev.a;
    assert.ok(ikeUp?.type === 'ike.ike-updown' && childUp?.type === 'ike.child-updown');
    assert.deepEqual([ikeUp.ike.spiI, ikeUp.ike.spiR, ikeUp.ike.uniqueId, ikeUp.ike.name], [sa0.spiI, sa0.spiR, sa0.uniqueId, 'gw']);
    assert.deepEqual([ikeUp.localId, ikeUp.remoteId, ikeUp.ike.remoteAddr], [sa0.localId, sa0.remoteId, sa0.remoteAddr]);
    assert.deepEqual([childUp.child.spiIn, childUp.child.spiOut, childUp.child.reqid, childUp.child.localTs], [ch0.spiIn, ch0.spiOut, ch0.reqid, ch0.localTs]);

    assert.equal(p.a.rekey({ child: 'net-a' }, p.now), 1);
    pumpChecked(p, 1);
    const ch1 = p.a.list()[0]!.children.find((c) => c.state === 'INSTALLED')!;
    const cr = ev.a[2];
    assert.ok(cr?.type === 'ike.child-rekey', kinds(ev.a).join());
    assert.deepEqual([cr.old.spiIn, cr.old.spiOut, cr.new.spiIn, cr.new.spiOut], [ch0.spiIn, ch0.spiOut, ch1.spiIn, ch1.spiOut]);
    assert.equal(kinds(ev.b)[2], 'child-rekey');

    assert.equal(p.b.rekey({ ike: 'gw' }, p.now), 1);
    pumpChecked(p, 1);
    const sa1 = p.a.list()[0]!;
    const ir = ev.a[3];
    assert.ok(ir?.type === 'ike.ike-rekey', kinds(ev.a).join());
    assert.deepEqual([ir.old.spiI, ir.old.spiR, ir.new.spiI, ir.new.spiR, ir.new.uniqueId], [sa0.spiI, sa0.spiR, sa1.spiI, sa1.spiR, sa1.uniqueId]);

    assert.equal(p.a.terminate('gw', p.now), 1);
    pump(p);
    assert.deepEqual(kinds(ev.a), ['ike-updown up', 'child-updown up', 'child-rekey', 'ike-rekey', 'child-updown down', 'ike-updown down'],
      'the replaced IKE SA and Child SA go without a down event');
    assert.deepEqual(kinds(ev.b), kinds(ev.a));
    const down = ev.a[5];
    assert.ok(down?.type === 'ike.ike-updown');
    assert.equal(down.ike.spiI, sa1.spiI);
    const text = JSON.stringify([...ev.a, ...ev.b]);
    assert.doesNotMatch(text, /secret|key":|sk_|nonce/i, 'no key material');
  });

  it('a wrong PSK: an auth failure on both sides, no up event', () => {
    const p = makePair(GCM, 'aes128gcm16', { pskB: 'another secret entirely, for the test' });
    const ev = listen(p);
    p.a.initiate('net-a', p.now, () => undefined);
    pump(p);
    assert.deepEqual(kinds(ev.b), ['failure']);
    assert.deepEqual(kinds(ev.a), ['failure']);
    for (const e of [...ev.a, ...ev.b]) assert.ok(e.type === 'ike.failure' && e.kind === 'auth' && e.name === 'gw' && e.reason !== '', JSON.stringify(e));
  });

  it('no common IKE proposal: a negotiation failure naming NO_PROPOSAL_CHOSEN', () => {
    const p = makePair(GCM, 'aes128gcm16');
    const ev = listen(p);
    p.b.cfg = makePair('aes256-sha256-modp2048', 'aes128gcm16').b.cfg;
    p.a.initiate('net-a', p.now, () => undefined);
    pump(p);
    const [fa] = ev.a;
    const [fb] = ev.b;
    assert.ok(fa?.type === 'ike.failure' && fa.kind === 'negotiation' && /NO_PROPOSAL_CHOSEN/.test(fa.reason), JSON.stringify(ev.a));
    assert.ok(fb?.type === 'ike.failure' && fb.kind === 'negotiation' && /NO_PROPOSAL_CHOSEN/.test(fb.reason) && fb.uniqueId === 0, JSON.stringify(ev.b));
  });
});
