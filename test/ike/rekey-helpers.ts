// Helpers for the CREATE_CHILD_SA tests: deliver one datagram at a time and
// check, after every one and every timer, that neither side has a gap — an
// outbound state for each reqid, and on the peer the inbound state of that
// SPI with the same keys; move the fake clock through every deadline.

import assert from 'node:assert/strict';
import type { StateSpec } from '../../src/control/xfrm.js';
import type { FakeHost, Pair } from './pair.js';

const key = (s: StateSpec): string => (s.aead ?? s.enc)!.keyHex + (s.auth?.keyHex ?? '');

/** Each side's reqids with an outbound state; throws unless every one has the peer's matching inbound state. */
export function checkNoGap(p: Pair, reqids: number): void {
  for (const [me, peer] of [[p.ha, p.hb], [p.hb, p.ha]] as const) {
    const ids = new Set([...me.sad.values()].filter((v) => v.spec.src === me.addr).map((v) => v.spec.reqid!));
    assert.equal(ids.size, reqids, `${me.addr}: outbound states for ${reqids} reqid(s), has ${[...ids].join(',')}`);
    for (const id of ids) {
      const out = me.outState(id)!;
      const inb = peer.sad.get(`${out.dst}/${out.spi}`);
      assert.ok(inb !== undefined, `${me.addr} sends on SPI ${out.spi.toString(16)}, which ${peer.addr} has no inbound state for`);
      assert.equal(key(inb.spec), key(out), `SPI ${out.spi.toString(16)}: the same keys on both ends`);
    }
  }
}

/** Delivers datagrams one by one (oldest first, either direction) until both are quiet, checking after each. */
export function pumpChecked(p: Pair, reqids: number | null, max = 200): number {
  let n = 0;
  for (; n < max; n++) {
    const w = p.ha.sent.length > 0 ? { w: p.ha.sent.shift()!, to: p.b } : p.hb.sent.length > 0 ? { w: p.hb.sent.shift()!, to: p.a } : null;
    if (w === null) return n;
    w.to.receive(w.w.data, w.w.from, { ...w.w.to }, p.now);
    if (reqids !== null) checkNoGap(p, reqids);
  }
  throw new Error('pumpChecked: the cores never went quiet');
}

/** Moves the clock to p.now + ms through every deadline on the way, ticking both cores and delivering what they send. */
export function advance(p: Pair, ms: number, reqids: number | null): void {
  const end = p.now + ms;
  for (let i = 0; i < 1000; i++) {
    const ds = [p.a.nextDeadline(), p.b.nextDeadline()].filter((d): d is number => d !== null && d <= end);
    if (ds.length === 0) { p.now = end; return; }
    p.now = Math.max(p.now, Math.min(...ds));
    p.a.tick(p.now);
    p.b.tick(p.now);
    if (reqids !== null) checkNoGap(p, reqids);
    pumpChecked(p, reqids);
  }
  throw new Error('advance: a deadline that never moves');
}

/** Warnings and errors a side logged (a clean run has none). */
export const problems = (h: FakeHost): string[] => h.logs.filter((l) => l.startsWith('warn') || l.startsWith('error'));

/** Up: a initiates net-a; returns the error (null when up). */
export function up(p: Pair): string | null {
  const res: { err: string | null } = { err: 'pending' };
  p.a.initiate('net-a', p.now, (err) => { res.err = err; });
  pumpChecked(p, null);
  return res.err;
}
