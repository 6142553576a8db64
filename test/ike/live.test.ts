// Liveness, actions, traps and cookies in memory (liveness.ts, trap.ts,
// cookie.ts): two cores joined by pair.ts's pump, a fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { XfrmRequest } from '../../src/control/ike.js';
import type { PolicyRecord, StateId, StateMigrateSpec, StateRecord, StateSpec } from '../../src/control/xfrm.js';
import { CHARON_DEFAULTS } from '../../src/ike/charon.js';
import { IkeCore } from '../../src/ike/core.js';
import type { Endpoint } from '../../src/ike/core.js';
import { parseSwanctl } from '../../src/ike/swanctl.js';
import { PL } from '../../src/wire/ike/consts.js';
import { parseMessage } from '../../src/wire/ike/message.js';
import { IkeDecodeError } from '../../src/wire/ike/header.js';
import type { ChildSa, IkeSa } from '../../src/ike/sa.js';
import { ADDR, conf, FakeHost, pump } from './pair.js';
import type { Pair, Wire } from './pair.js';

/** A FakeHost that also sends keepalives and answers state queries from what was installed. */
class LiveHost extends FakeHost {
  readonly keepalives: Endpoint[] = [];
  bytes = new Map<number, number>();
  keepalive(to: Endpoint): void { this.keepalives.push({ ...to }); }
  getState(id: StateId): StateRecord | null {
    let s: StateSpec | undefined;
    for (const r of this.xfrm) {
      if ((r.op === 'xfrm.state.add' || r.op === 'xfrm.state.update') && r.args.state.spi === id.spi) s = r.args.state;
      if (r.op === 'xfrm.state.del' && r.args.id.spi === id.spi) s = undefined;
    }
    if (s === undefined) return null;
    return { ...s, stats: { replayWindow: 32, replay: 0, integrityFailed: 0 }, curlft: { bytes: this.bytes.get(id.spi) ?? 0, packets: 0, addTime: 0, useTime: 0 },
      replay: { seq: 0, seqHi: 0, oseq: 0, oseqHi: 0, bitmap: [0], isEsn: false }, state: 'valid' };
  }
}

const withKeys = (text: string, connKeys: string, childKeys: string): string =>
  text.replace('    encap = ', `    ${connKeys}\n    encap = `).replace(/( {8}esp_proposals = .*\n)/, `$1        ${childKeys}\n`);

interface LivePair extends Pair { readonly ha: LiveHost; readonly hb: LiveHost }

function makeLive(a: { conn?: string; child?: string; encap?: boolean }, b: { conn?: string; child?: string } = {}): LivePair {
  const ha = new LiveHost(ADDR.a);
  const hb = new LiveHost(ADDR.b);
  const ca = withKeys(conf('a', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16', { encap: a.encap === true }), a.conn ?? '', a.child ?? '');
  const cb = withKeys(conf('b', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16'), b.conn ?? '', b.child ?? '');
  return { a: new IkeCore(parseSwanctl(ca, 'a.conf'), ha), b: new IkeCore(parseSwanctl(cb, 'b.conf'), hb), ha, hb, now: 1_000_000 };
}

function up(p: Pair): void {
  let err: string | null | undefined;
  p.a.initiate('net-a', p.now, (e) => { err = e; });
  pump(p);
  assert.equal(err, null, p.ha.logs.join('\n'));
}

/** Advances the clock to each of a's deadlines up to `ms` later, ticking a (and b), delivering when asked. */
function run(p: Pair, ms: number, deliver: boolean): void {
  const end = p.now + ms;
  for (;;) {
    const t = Math.min(p.a.nextDeadline() ?? Infinity, p.b.nextDeadline() ?? Infinity);
    if (t > end) break;
    p.now = Math.max(p.now, t);
    p.a.tick(p.now);
    p.b.tick(p.now);
    if (deliver) pump(p);
    else { p.ha.sent.length = 0; p.hb.sent.length = 0; }
  }
  p.now = end;
}

/** The PolicyRecord an acquire would carry for an added policy. */
function record(r: XfrmRequest | undefined): PolicyRecord {
  assert.ok(r !== undefined && r.op === 'xfrm.policy.add');
  return { ...r.args.policy, index: 8, priority: 0, action: 'allow', curlft: { bytes: 0, packets: 0, addTime: 0, useTime: 0 } };
}

const exchanges = (h: FakeHost): number[] => h.sent.map((w) => w.data[18]!);

describe('IKE liveness (dpd_delay, dpd_action, close_action)', () => {
  it('an idle peer gets a liveness check every dpd_delay, and answers it', () => {
    const p = makeLive({ conn: 'dpd_delay = 10s' });
    up(p);
    run(p, 35_000, true);
    assert.equal(p.a.live.dpdSent, 3, 'one check per 10 s of silence');
    assert.equal(p.b.live.dpdSent, 0, 'b has no dpd_delay');
    assert.equal(p.a.sas.size, 1);
  });

  it('inbound ESP (the child\'s byte counter moves) postpones the check', () => {
    const p = makeLive({ conn: 'dpd_delay = 10s' });
    up(p);
    const spiIn = [...p.a.sas.values()][0]!.children[0]!.spiIn;
    for (let i = 1; i <= 6; i++) { p.ha.bytes.set(spiIn, i * 100); run(p, 5_000, true); }
    assert.equal(p.a.live.dpdSent, 0);
  });

  it('a dead peer: retransmissions give up, the SA goes, dpd_action = restart initiates again', () => {
    const p = makeLive({ conn: 'dpd_delay = 5s', child: 'dpd_action = restart' });
    up(p);
    run(p, 5_000, true);
    assert.equal(p.a.live.dpdSent, 1);
    const t0 = p.now;
    run(p, 200_000, false); // the next check, then 4 + 7.2 + 13 + 23.3 + 42 + 75.6 s
    assert.ok(p.ha.logs.some((l) => /did not answer a liveness check/.test(l)), p.ha.logs.join('\n'));
    assert.ok(p.ha.logs.some((l) => /IKE_SA deleted \(dead peer \(DPD\)\)/.test(l)));
    assert.ok(p.ha.logs.some((l) => /net-a: dead peer: initiating it again/.test(l)));
    assert.ok(p.now - t0 >= 165_000);
    assert.ok([...p.a.sas.values()].some((s) => s.state === 'CONNECTING'), 'a new IKE SA is coming up');
  });

  it('dpd_action = clear (default): the SA goes and nothing comes back', () => {
    const p = makeLive({ conn: 'dpd_delay = 5s' });
    up(p);
    run(p, 200_000, false);
    assert.equal(p.a.sas.size, 0);
    assert.equal(p.ha.xfrm.filter((r) => r.op === 'xfrm.policy.add').length, 2, 'only the child\'s policies were ever added');
  });

  it('close_action = trap: the peer deletes the IKE SA, our trap policies go in (no state)', () => {
    const p = makeLive({ child: 'close_action = trap' });
    up(p);
    p.b.terminate('gw', p.now);
    pump(p);
    run(p, 1, true);
    assert.equal(p.a.sas.size, 0);
    assert.equal(p.a.traps.size, 1);
    const last = p.ha.xfrm.slice(-2);
    assert.deepEqual(last.map((r) => r.op), ['xfrm.policy.add', 'xfrm.policy.add']);
  });

  it('dpd_timeout is read (IKEv1\'s; no effect on IKEv2) and bad actions are refused with file:line', () => {
    const ok = withKeys(conf('a', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16'), 'dpd_delay = 30s\n    dpd_timeout = 150s', 'dpd_action = trap\n        close_action = start');
    const c = parseSwanctl(ok, 'a.conf').connections[0]!;
    assert.deepEqual(c.dpd, { delaySec: 30, timeoutSec: 150 });
    assert.deepEqual(c.children[0]!.actions, { dpd: 'trap', close: 'start' });
    const bad = withKeys(conf('a', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16'), '', 'dpd_action = hold');
    assert.throws(() => parseSwanctl(bad, 'a.conf'), /^SwanctlError: a\.conf:\d+: connections\.gw\.children\.net-a\.dpd_action: "hold" is not one of/);
    assert.throws(() => parseSwanctl(withKeys(conf('a', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16'), 'dpd_delay = soon', ''), 'a.conf'), /dpd_delay: "soon" is not a time/);
  });
});

describe('NAT keepalives and following the peer', () => {
  it('the NATed side (encap = yes) sends 0xFF every keep_alive while idle, none while IKE flows', () => {
    const p = makeLive({ encap: true });
    up(p);
    run(p, 61_000, true);
    assert.equal(p.ha.keepalives.length, 3, 'every 20 s');
    assert.ok(p.ha.keepalives.every((k) => k.port === 4500));
    assert.equal(p.hb.keepalives.length, 0, 'b is not behind a NAT');
  });

  it('outbound ESP keeps keepalives away', () => {
    const p = makeLive({ encap: true });
    up(p);
    const spiOut = [...p.a.sas.values()][0]!.children[0]!.spiOut;
    for (let i = 1; i <= 8; i++) { p.ha.bytes.set(spiOut, i * 100); run(p, 10_000, true); }
    assert.equal(p.ha.keepalives.length, 0);
  });

  it('the NATed peer\'s port changes: the responder follows on an authenticated message and migrates the states', () => {
    const { p, sb, ch, w } = dpdFrom({ addr: ADDR.a, port: 31337 });
    assert.deepEqual(sb.remote, { addr: ADDR.a, port: 31337 });
    const mig = migrations(p.hb);
    assert.deepEqual(mig, [
      { id: { dst: ADDR.a, proto: 'esp', spi: ch.spiOut }, src: ADDR.b, dst: ADDR.a, encap: { sport: 4500, dport: 31337 } },
      { id: { dst: ADDR.b, proto: 'esp', spi: ch.spiIn }, src: ADDR.a, dst: ADDR.b, encap: { sport: 31337, dport: 4500 } },
    ], 'both states of the child, to the new port');
    assert.equal(p.hb.xfrm.filter((r) => r.op === 'xfrm.policy.update').length, 0, 'same address: the templates stay');
    assert.equal(p.hb.sad.get(`${ADDR.a}/${ch.spiOut}`)?.spec.encap?.dport, 31337);
    assert.deepEqual(p.hb.sent.map((x) => x.to.port), [31337], 'the answer goes to the new port');
    assert.equal(w.length, 1);
  });

  it('the NATed peer\'s address changes: states migrate (same SPIs, no rekey), the templates follow, and a later delete finds them', () => {
    const moved = { addr: '192.0.2.77', port: 40001 };
    const { p, sb, ch } = dpdFrom(moved);
    assert.deepEqual(sb.remote, moved);
    assert.deepEqual(ch.remote, moved, 'the Child SA follows');
    assert.equal(sb.children.length, 1);
    assert.equal(sb.children[0], ch, 'the same Child SA: no rekey');
    assert.deepEqual(migrations(p.hb).map((m) => [m.id.dst, m.src, m.dst, m.encap?.sport, m.encap?.dport]), [
      [ADDR.a, ADDR.b, moved.addr, 4500, moved.port],
      [ADDR.b, moved.addr, ADDR.b, moved.port, 4500],
    ]);
    const pols = p.hb.xfrm.flatMap((r) => (r.op === 'xfrm.policy.update' ? [r.args.policy] : []));
    assert.deepEqual(pols.map((x) => [x.dir, x.tmpls?.[0]?.src, x.tmpls?.[0]?.dst]), [['out', ADDR.b, moved.addr], ['in', moved.addr, ADDR.b]]);
    assert.deepEqual([...p.hb.sad.keys()].sort(), [`${ADDR.b}/${ch.spiIn}`, `${moved.addr}/${ch.spiOut}`].sort(), 'the SAD holds them at their new addresses');
    assert.ok(p.hb.logs.some((l) => /CHILD_SA net-b\{\d+\} now ESP in UDP to 192\.0\.2\.77\[40001\]/.test(l)), p.hb.logs.join('\n'));
    p.b.terminate('gw', p.now);
    pump(p);
    assert.equal(p.b.sas.size, 0);
    assert.deepEqual([...p.hb.sad.keys()], [], 'both states deleted by their new ids');
    assert.ok(!p.hb.logs.some((l) => l.startsWith('warn')), p.hb.logs.join('\n'));
  });

  it('an ESP mapping event moves the child as an IKE message does', () => {
    const p = makeLive({ encap: true });
    up(p);
    const sb = [...p.b.sas.values()][0]!;
    const ch = sb.children[0]!;
    p.b.live.mapping(ADDR.b, ch.spiIn, { addr: '192.0.2.78', port: 40002 });
    assert.deepEqual(sb.remote, { addr: '192.0.2.78', port: 40002 });
    assert.equal(migrations(p.hb).length, 2);
    p.b.live.mapping(ADDR.b, 0x1234, { addr: '192.0.2.79', port: 40003 });
    assert.equal(migrations(p.hb).length, 2, 'an unknown SPI moves nothing');
  });

  it('an unauthenticated message from a new address moves nothing (RFC 7296 §2.23)', () => {
    const { p, sb } = dpdFrom({ addr: '192.0.2.77', port: 40001 }, (d) => { d[d.length - 1]! ^= 1; });
    assert.deepEqual(sb.remote, { addr: ADDR.a, port: 4500 });
    assert.deepEqual(migrations(p.hb), []);
    assert.deepEqual(p.hb.sent, [], 'not answered either');
  });

  it('a peer not behind a NAT: its Child SAs stay', () => {
    const p = makeLive({ conn: 'dpd_delay = 5s' });
    up(p);
    p.now += 5_000;
    p.a.tick(p.now);
    const w = p.ha.sent.splice(0);
    p.b.receive(w[0]!.data, { addr: '192.0.2.77', port: w[0]!.from.port }, w[0]!.to, p.now);
    assert.deepEqual(migrations(p.hb), []);
    assert.equal(p.hb.xfrm.filter((r) => r.op === 'xfrm.policy.update').length, 0);
  });
});

/** a (encap = yes, dpd_delay 5 s) sends its liveness check; b receives it from `from`, after `tamper`. */
function dpdFrom(from: Endpoint, tamper?: (d: Uint8Array) => void): { p: LivePair; sb: IkeSa; ch: ChildSa; w: Wire[] } {
  const p = makeLive({ encap: true, conn: 'dpd_delay = 5s' });
  up(p);
  const sb = [...p.b.sas.values()][0]!;
  assert.deepEqual(sb.remote, { addr: ADDR.a, port: 4500 });
  p.hb.xfrm.length = 0;
  p.now += 5_000;
  p.a.tick(p.now);
  const w = p.ha.sent.splice(0);
  assert.equal(w.length, 1);
  tamper?.(w[0]!.data);
  p.b.receive(w[0]!.data, from, w[0]!.to, p.now);
  return { p, sb, ch: sb.children[0]!, w };
}

const migrations = (h: FakeHost): StateMigrateSpec[] => h.xfrm.flatMap((r) => (r.op === 'xfrm.state.migrate' ? [r.args] : []));

describe('trap policies and acquires', () => {
  it('start_action = trap installs policies without states; the child\'s own policies update them', () => {
    const p = makeLive({ child: 'start_action = trap' });
    p.a.traps.sync(p.a.cfg);
    assert.deepEqual(p.ha.xfrm.map((r) => r.op), ['xfrm.policy.add', 'xfrm.policy.add']);
    const trapPol = p.ha.xfrm[0]!;
    assert.equal(trapPol.op, 'xfrm.policy.add');
    const reqid = trapPol.op === 'xfrm.policy.add' ? trapPol.args.policy.tmpls![0]!.reqid! : 0;
    p.a.traps.acquire(record(trapPol), p.now);
    pump(p);
    assert.equal([...p.a.sas.values()][0]?.children.length, 1, p.ha.logs.join('\n'));
    const ops = p.ha.xfrm.slice(2).map((r) => r.op);
    assert.deepEqual(ops, ['xfrm.state.add', 'xfrm.state.add', 'xfrm.policy.update', 'xfrm.policy.update'], 'the SA takes over the trap\'s selectors');
    assert.ok(reqid > 0);
    p.a.terminate('gw', p.now);
    pump(p);
    const back = p.ha.xfrm.slice(6).filter((r) => r.op.startsWith('xfrm.policy'));
    assert.deepEqual(back.map((r) => r.op), ['xfrm.policy.update', 'xfrm.policy.update'], 'the trap comes back instead of a delete');
    assert.ok(back.every((r) => r.op === 'xfrm.policy.update' && r.args.policy.tmpls![0]!.reqid === reqid));
  });

  it('an acquire while the child is coming up starts nothing more', () => {
    const p = makeLive({ child: 'start_action = trap' });
    p.a.traps.sync(p.a.cfg);
    const rec = record(p.ha.xfrm[0]);
    p.a.traps.acquire(rec, p.now);
    p.a.traps.acquire(rec, p.now);
    assert.equal(p.a.sas.size, 1);
  });
});

describe('responder COOKIEs (RFC 7296 §2.6)', () => {
  it('past cookie_threshold_ip half-open SAs a new IKE_SA_INIT gets N(COOKIE); the initiator retries and gets through', () => {
    const p = makeLive({});
    p.b.charon = { ...CHARON_DEFAULTS, cookieThresholdIp: 2 };
    const hold = (): void => {
      p.a.initiate('net-a', p.now, () => undefined);
      const init = p.ha.sent.splice(0);
      for (const w of init) p.b.receive(w.data, w.from, w.to, p.now);
      p.hb.sent.length = 0;
    };
    hold();
    hold();
    assert.equal(p.b.halfOpen.size, 2);
    let err: string | null | undefined;
    p.a.initiate('net-a', p.now, (e) => { err = e; });
    const first = p.ha.sent.splice(0);
    for (const w of first) p.b.receive(w.data, w.from, w.to, p.now);
    const answer = parseMessage(p.hb.sent[0]!.data);
    assert.ok(!(answer instanceof IkeDecodeError));
    assert.deepEqual(answer.payloads.map((x) => x.type === PL.N ? x.notifyType : x.type), [16390], 'only N(COOKIE)');
    assert.equal(p.b.halfOpen.size, 2, 'no state kept');
    pump(p);
    assert.equal(err, null, p.ha.logs.join('\n'));
    assert.equal(p.b.cookies.sent, 1);
    assert.deepEqual(exchanges(p.ha), [], 'nothing left unanswered');
  });
});
