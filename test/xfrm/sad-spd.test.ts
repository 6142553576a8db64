// The SAD and SPD tables and the stack's policy checks: xfrm_state_add /
// xfrm_state_update / xfrm_state_delete, xfrm_state_find +
// xfrm_state_look_at (net/xfrm/xfrm_state.c), xfrm_policy_insert,
// xfrm_gen_index, XFRM_MSG_SETDEFAULT and __xfrm_policy_check with its
// template rules (net/xfrm/xfrm_policy.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, VpnError } from '../../src/wire/errors.js';
import { makeSaConfig, XFRM_MODE_TUNNEL } from '../../src/xfrm/config.js';
import { XfrmStat } from '../../src/xfrm/mib.js';
import { XDrop, XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import { Sad } from '../../src/xfrm/sad.js';
import { Flow, parseXAddr } from '../../src/xfrm/selector.js';
import type { PolicySpec, StateSpec, TmplSpec } from '../../src/xfrm/spec.js';
import { Spd, XFRM_POLICY_FWD, XFRM_POLICY_IN, XFRM_POLICY_OUT } from '../../src/xfrm/spd.js';
import { KmState } from '../../src/xfrm/state.js';
import { XFRM_ACQ_EXPIRES_S, XfrmStack } from '../../src/xfrm/xfrm.js';
import { addPolicy, addState, espPacket, GUEST, HOST, NOW, oneWay, recv, sa } from './esp-util.js';
import { icmp4Echo } from './helpers.js';

const ping = (): Uint8Array => icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 56, 0, 0);
const cfg = (s: StateSpec): ReturnType<typeof makeSaConfig> => makeSaConfig(s, () => null);
const flowOf = (p: Uint8Array): Flow => { const f = new Flow(); assert.ok(f.decode(p, 0, p.length, 0)); return f; };
const code = (c: string, field?: string) => (e: unknown): boolean => e instanceof VpnError && e.code === c && (field === undefined || e.field === field);
const TUN: TmplSpec = { src: HOST, dst: GUEST, proto: 'esp', mode: 'tunnel', reqid: 1 };

test('xfrm_state_add: EEXIST for a taken (dst, spi); the same SPI to another dst is a different SA; list is newest first', () => {
  const sad = new Sad();
  const a = sad.add(cfg(sa(HOST, GUEST, 0x10)), sa(HOST, GUEST, 0x10), NOW);
  assert.throws(() => sad.add(cfg(sa('192.0.2.9', GUEST, 0x10)), sa('192.0.2.9', GUEST, 0x10), NOW), code('EEXIST', 'spi'));
  const b = sad.add(cfg(sa(GUEST, HOST, 0x10)), sa(GUEST, HOST, 0x10), NOW);
  assert.deepEqual(sad.list(), [b, a]);
  assert.equal(sad.get(parseXAddr('d', HOST), 0x10), b);
  assert.equal(sad.get(parseXAddr('d', HOST), 0x11), null);
  const ip = Uint8Array.of(198, 51, 100, 2);
  assert.equal(sad.lookupIn(0x10, 4, ip, 0), a, 'xfrm_state_lookup: SPI, then daddr');
  assert.equal(sad.lookupIn(0x10, 6, ip, 0), null, 'and family');
  assert.equal(sad.lookupIn(0x99, 4, ip, 0), null);
  assert.equal(sad.flush(), 2);
  assert.equal(sad.count, 0);
});

test('xfrm_state_update: ESRCH when absent; keys, SPI and replay state stay; limits and same-type encap are taken; dying → valid', () => {
  const sad = new Sad();
  const spec = sa(HOST, GUEST, 0x20, { encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } });
  assert.throws(() => sad.update(cfg(spec), spec), code('ESRCH', 'spi'));
  const x = sad.add(cfg(spec), spec, NOW);
  const crypto = x.crypto;
  x.replay.restore({ seq: 77, oseq: 5 });
  x.km = KmState.Dying;
  const next: StateSpec = { ...spec, aead: { name: 'rfc4106(gcm(aes))', keyHex: 'ff'.repeat(20), bits: 128 }, replayWindow: 8,
    limits: { byteHard: 1000 }, encap: { type: 'espinudp', sport: 4600, dport: 4601, oa: '0.0.0.0' } };
  const y = sad.update(cfg(next), next);
  assert.equal(y, x, 'the same state object');
  assert.equal(x.crypto, crypto, 'keys are not changed by an update');
  assert.equal(x.spec.aead?.keyHex, spec.aead?.keyHex);
  assert.deepEqual([x.replay.record().seq, x.replay.oseq, x.cfg.replayWindow], [77, 5, 32]);
  assert.equal(x.cfg.limits.byteHard, 1000);
  assert.equal(x.spec.limits?.byteHard, 1000);
  assert.deepEqual([x.cfg.encap?.sport, x.cfg.encap?.dport], [4600, 4601]);
  assert.equal(x.km, KmState.Valid, 'km.dying cleared');
  const other: StateSpec = { ...spec, encap: { type: 'espinudp-nonike', sport: 1, dport: 2, oa: '0.0.0.0' } };
  sad.update(cfg(other), other);
  assert.deepEqual([x.cfg.encap?.type, x.cfg.encap?.sport], [2, 4600], 'an encap of another type is ignored');
});

test('xfrm_state_delete: ESRCH when absent; the state is gone from both tables', () => {
  const sad = new Sad();
  const x = sad.add(cfg(sa(HOST, GUEST, 0x30)), sa(HOST, GUEST, 0x30), NOW);
  assert.throws(() => sad.del(parseXAddr('d', HOST), 0x30), code('ESRCH'));
  assert.equal(sad.del(parseXAddr('d', GUEST), 0x30), x);
  assert.equal(sad.lookupIn(0x30, 4, Uint8Array.of(198, 51, 100, 2), 0), null);
  assert.throws(() => sad.del(parseXAddr('d', GUEST), 0x30), code('ESRCH'));
  sad.remove(x); // twice is harmless
});

test('xfrm_state_find / xfrm_state_look_at: valid before dying, then the newest; reqid, spi, if_id, mode and selector filter', () => {
  const sad = new Sad();
  const add = (spi: number, extra: Partial<StateSpec> = {}): ReturnType<Sad['add']> => sad.add(cfg(sa(HOST, GUEST, spi, extra)), sa(HOST, GUEST, spi, extra), NOW);
  const f = flowOf(ping());
  const t = { src: parseXAddr('s', HOST), dst: parseXAddr('d', GUEST), spi: 0, mode: XFRM_MODE_TUNNEL, reqid: 1 };
  const older = add(1);
  const newer = add(2);
  assert.equal(sad.findOut(t, f, 0), newer, 'the newest of equals');
  newer.km = KmState.Dying;
  assert.equal(sad.findOut(t, f, 0), older, 'a valid state beats a dying one');
  older.km = KmState.Expired;
  assert.equal(sad.findOut(t, f, 0), newer, 'expired states are never used');
  older.km = KmState.Valid;
  assert.equal(sad.findOut({ ...t, spi: 2 }, f, 0), newer, 'the template SPI');
  assert.equal(sad.findOut({ ...t, reqid: 9 }, f, 0), null, 'reqid');
  const r9 = add(3, { reqid: 9 });
  assert.equal(sad.findOut({ ...t, reqid: 9 }, f, 0), r9);
  assert.equal(sad.findOut({ ...t, reqid: 0 }, f, 0), r9, 'reqid 0 takes any (the newest valid)');
  const xi = add(4, { ifId: 7 });
  assert.equal(sad.findOut(t, f, 7), xi, 'if_id');
  assert.notEqual(sad.findOut(t, f, 0), xi);
  assert.equal(sad.findOut({ ...t, dst: parseXAddr('d', '192.0.2.1') }, f, 0), null, 'tunnel endpoints');
  assert.equal(sad.findOut({ ...t, mode: 0 }, f, 0), null, 'mode');
  const narrow = new Sad();
  const n = narrow.add(cfg(sa(HOST, GUEST, 5, { sel: { src: '192.0.2.0/24', dst: '0.0.0.0/0' } })), sa(HOST, GUEST, 5), NOW);
  assert.equal(narrow.findOut(t, f, 0), null, 'the state selector must match the flow');
  assert.equal(narrow.findOut(t, flowOf(icmp4Echo('192.0.2.10', '203.0.113.2', 1, 1, 8, 0, 0)), 0), n);
  // Transport mode: the flow's own addresses are the SA's.
  const tr = new Sad();
  const x = tr.add(cfg(sa(HOST, GUEST, 6, { mode: 'transport' })), sa(HOST, GUEST, 6), NOW);
  const tt = { src: null, dst: null, spi: 0, mode: 0, reqid: 0 };
  assert.equal(tr.findOut(tt, flowOf(icmp4Echo(HOST, GUEST, 1, 1, 8, 0, 0)), 0), x);
  assert.equal(tr.findOut(tt, flowOf(icmp4Echo(GUEST, HOST, 1, 1, 8, 0, 0)), 0), null);
});

const pol = (spd: Spd, p: PolicySpec): ReturnType<Spd['make']> => spd.make(p, () => null, NOW, 0);

test('xfrm_policy_insert: add of an existing key is EEXIST; update replaces it keeping index and position (priority ties)', () => {
  const spd = new Spd();
  const a = spd.insert(pol(spd, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', action: 'block' }), false);
  const b = spd.insert(pol(spd, { sel: { src: '192.0.2.0/24', dst: '0.0.0.0/0' }, dir: 'out', tmpls: [TUN] }), false);
  assert.throws(() => spd.insert(pol(spd, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out' }), false), code('EEXIST', 'sel'));
  const f = flowOf(icmp4Echo('192.0.2.1', '192.0.2.2', 1, 1, 8, 0, 0));
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0), a, 'tie: the older (lower pos) wins');
  const a2 = spd.insert(pol(spd, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', tmpls: [TUN] }), true);
  assert.deepEqual([a2.index, a2.pos, a2.isBlock], [a.index, a.pos, false]);
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0), a2, 'still first among equals after the update');
  assert.equal(spd.list('out').length, 2);
  assert.equal(spd.find('out', null, b.index, 0), b);
  assert.equal(spd.find('out', b.sel, 0, 0), b);
  assert.throws(() => spd.find('in', null, b.index, 0), code('ENOENT', 'index'));
  assert.throws(() => spd.find('out', b.sel, 0, 3), code('ENOENT', 'sel'));
  assert.throws(() => spd.insert(spd.make({ sel: { src: '198.51.100.0/24', dst: '0.0.0.0/0' }, dir: 'out' }, () => null, NOW, b.index), false), code('EEXIST', 'index'));
  // Another mark or if_id is another key.
  spd.insert(pol(spd, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', ifId: 3 }), false);
  spd.insert(pol(spd, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', mark: { value: 1, mask: 1 } }), false);
  assert.equal(spd.count, 4);
  spd.remove(a2);
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0), b);
  assert.equal(spd.flush(), 3);
});

test('xfrm_gen_index: (generator | dir), the generator stepping by 8, so index & 7 is the direction; an explicit index is kept', () => {
  const spd = new Spd();
  const mk = (dir: PolicySpec['dir'], n: number, index?: number): number =>
    spd.insert(spd.make({ sel: { src: `192.0.2.${16 * n}/28`, dst: '0.0.0.0/0' }, dir }, () => null, NOW, index ?? 0), false).index;
  const got = [mk('out', 1), mk('in', 2), mk('fwd', 3), mk('out', 4), mk('in', 5)];
  assert.deepEqual(got, [1, 8, 18, 25, 32]);
  assert.deepEqual(got.map((i) => i & 7), [XFRM_POLICY_OUT, XFRM_POLICY_IN, XFRM_POLICY_FWD, XFRM_POLICY_OUT, XFRM_POLICY_IN]);
  assert.equal(mk('out', 6, 1000), 1000);
  assert.equal(spd.list().length, 6);
});

test('verify_newpolicy_info / validate_tmpl refusals name their field', () => {
  const spd = new Spd();
  const field = (p: unknown, name: string): void => {
    assert.throws(() => spd.make(p as PolicySpec, () => null, NOW, 0), (e: unknown) => e instanceof ConfigError && e.field === name, name);
  };
  const s = { src: '0.0.0.0/0', dst: '0.0.0.0/0' };
  field(null, 'policy');
  field({ sel: s, dir: 'sideways' }, 'dir');
  field({ sel: s, dir: 'out', action: 'drop' }, 'action');
  field({ sel: s, dir: 'out', tmpls: Array(7).fill(TUN) }, 'tmpl');
  field({ sel: s, dir: 'out', tmpls: [null] }, 'tmpl[0]');
  field({ sel: s, dir: 'out', tmpls: [{ ...TUN, proto: 'ah' }] }, 'tmpl[0].proto');
  field({ sel: s, dir: 'out', tmpls: [TUN, { ...TUN, mode: 'beet' }] }, 'tmpl[1].mode');
  field({ sel: s, dir: 'out', tmpls: [{ ...TUN, src: '0.0.0.0' }] }, 'tmpl[0]');
  field({ sel: s, dir: 'out', tmpls: [{ ...TUN, dst: 'x' }] }, 'tmpl[0].dst');
  field({ sel: s, dir: 'out', tmpls: [{ ...TUN, spi: -1 }] }, 'tmpl[0].spi');
  field({ sel: s, dir: 'out', tmpls: [{ ...TUN, reqid: 2 ** 32 }] }, 'tmpl[0].reqid');
  field({ sel: s, dir: 'out', tmpls: [{ ...TUN, level: 'maybe' }] }, 'tmpl[0].level');
  field({ sel: s, dir: 'out', priority: -1 }, 'priority');
  field({ sel: s, dir: 'out', mark: { value: 1, mask: -1 } }, 'mark mask');
  field({ sel: { ...s, proto: 300 }, dir: 'out' }, 'sel.proto');
  assert.throws(() => spd.setDefaults({ in: 'drop' as 'block' }), (e: unknown) => e instanceof ConfigError && e.field === 'in');
});

test('XFRM_MSG_SETDEFAULT: in block → unmatched clear traffic is XfrmInNoPols; out block → XfrmOutPolBlock', () => {
  const x = new XfrmStack();
  const p = ping();
  assert.equal(x.checkInClear(p, 0, p.length, 0), true, 'empty SPD, default accept');
  x.spd.setDefaults({ in: 'block' });
  assert.deepEqual(x.spd.defaults, { in: 'block', fwd: 'accept', out: 'accept' });
  assert.equal(x.checkInClear(p, 0, p.length, 0), false);
  assert.equal(x.mib.snapshot().XfrmInNoPols, 1);
  assert.equal(x.checkInClear(new Uint8Array(3), 0, 3, 0), true, 'malformed: left to the tunnel stack');
  const r = new XfrmResult();
  const buf = new Uint8Array(2048);
  buf.set(p, 512);
  assert.equal(x.output(buf, 512, p.length, 0, true, NOW, r), XVerdict.Bypass, 'out accept: a local tunnel packet goes in clear');
  assert.equal(x.output(buf, 512, p.length, 0, false, NOW, r), XVerdict.Drop);
  assert.equal(r.drop, XDrop.NoPolicy, 'from the policy TUN without a policy');
  x.spd.setDefaults({ out: 'block' });
  assert.equal(x.output(buf, 512, p.length, 0, true, NOW, r), XVerdict.Drop);
  assert.equal(r.mib, XfrmStat.OutPolBlock);
  assert.equal(x.output(buf, 512, 3, 0, true, NOW, r), XVerdict.Drop);
  assert.equal(r.drop, XDrop.BadInner);
});

test('optional templates (level use): skipped on output when no SA exists, and on input when not satisfied', () => {
  const { tx, rx, rxSa } = oneWay();
  for (const x of [tx, rx]) x.spd.flush();
  const opt: TmplSpec = { proto: 'esp', mode: 'transport', reqid: 42, level: 'use' };
  addPolicy(tx, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', tmpls: [opt, TUN] });
  addPolicy(rx, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'in', tmpls: [opt, TUN] });
  const r = new XfrmResult();
  const buf = new Uint8Array(2048);
  const p = ping();
  buf.set(p, 512);
  assert.equal(tx.output(buf, 512, p.length, 0, false, NOW, r), XVerdict.Xmit, 'the optional template is skipped');
  assert.equal(tx.events.length, 0, 'no acquire for it');
  assert.equal(recv(rx, buf.slice(r.off, r.off + r.len)).v, XVerdict.Deliver, 'in: the optional template may be absent');
  // Only optional templates and no SA: the packet goes in clear.
  const only = new XfrmStack();
  addPolicy(only, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', tmpls: [opt] });
  buf.set(p, 512);
  assert.equal(only.output(buf, 512, p.length, 0, false, NOW, r), XVerdict.Bypass);
  // A tunnel SA that no template asked for is refused (secpath_has_nontransport).
  rx.spd.flush();
  addPolicy(rx, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'in', tmpls: [opt] });
  assert.equal(recv(rx, espPacket(rxSa, 9, p, 4)).r.mib, XfrmStat.InTmplMismatch);
  rx.spd.flush();
  addPolicy(rx, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'in' });
  assert.equal(recv(rx, espPacket(rxSa, 10, p, 4)).r.mib, XfrmStat.InTmplMismatch, 'an allow policy without templates');
  assert.equal(rx.mib.snapshot().XfrmInTmplMismatch, 2);
});

test('__xfrm_policy_check: the SA selector (XfrmInStateMismatch), block policies (XfrmInPolBlock), required template mismatch', () => {
  const { rx, rxSa } = oneWay({}, { sel: { src: '192.0.2.0/24', dst: '0.0.0.0/0' } });
  assert.equal(recv(rx, espPacket(rxSa, 1, ping(), 4)).r.mib, XfrmStat.InStateMismatch, 'inner source outside the SA selector');
  const b = oneWay();
  b.rx.spd.flush();
  b.rx.spd.insert(b.rx.spd.make({ sel: { src: '203.0.113.0/24', dst: '0.0.0.0/0' }, dir: 'in', action: 'block' }, () => null, NOW, 0), false);
  assert.equal(recv(b.rx, espPacket(b.rxSa, 1, ping(), 4)).r.mib, XfrmStat.InPolBlock);
  const t = oneWay();
  t.rx.spd.flush();
  addPolicy(t.rx, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'in', tmpls: [{ ...TUN, reqid: 5 }] });
  assert.equal(recv(t.rx, espPacket(t.rxSa, 1, ping(), 4)).r.mib, XfrmStat.InTmplMismatch, 'reqid differs');
  t.rx.spd.flush();
  addPolicy(t.rx, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'in', tmpls: [{ ...TUN, src: '192.0.2.1' }] });
  assert.equal(recv(t.rx, espPacket(t.rxSa, 2, ping(), 4)).r.mib, XfrmStat.InTmplMismatch, 'tunnel source differs');
  // An expired-but-present SA: XfrmInStateInvalid before anything else.
  const e = oneWay();
  e.rxSa.km = KmState.Expired;
  assert.equal(recv(e.rx, espPacket(e.rxSa, 1, ping(), 4)).r.mib, XfrmStat.InStateInvalid);
});

test('acquire (km_query): one event per policy template while the larval state lives (xfrm_acq_expires), then again', () => {
  const x = new XfrmStack();
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', tmpls: [TUN] });
  const r = new XfrmResult();
  const p = ping();
  const out = (): void => {
    const buf = new Uint8Array(2048);
    buf.set(p, 512);
    assert.equal(x.output(buf, 512, p.length, 0, false, NOW, r), XVerdict.Drop);
  };
  out(); out();
  assert.equal(x.events.length, 1);
  x.tick(NOW + XFRM_ACQ_EXPIRES_S * 1000 - 1);
  out();
  assert.equal(x.events.length, 1);
  x.tick(NOW + XFRM_ACQ_EXPIRES_S * 1000);
  out();
  assert.equal(x.events.length, 2);
  addState(x, sa(HOST, GUEST, 0x1001));
  const buf = new Uint8Array(2048);
  buf.set(p, 512);
  assert.equal(x.output(buf, 512, p.length, 0, false, NOW, r), XVerdict.Xmit, 'once the SA exists');
});

test('a state leaving the SAD (delete, flush, hard expiry) loses its crypto context and key bytes; update wipes the ignored request keys', () => {
  const sad = new Sad();
  const spec = (spi: number): StateSpec => ({ ...sa(HOST, GUEST, spi), aead: { name: 'rfc4106(gcm(aes))', keyHex: '77'.repeat(20), bits: 128 } });
  const b = new Uint8Array(8 + 8 + 16 + 16);
  const states = [0x21, 0x22, 0x23].map((spi) => sad.add(cfg(spec(spi)), spec(spi), NOW));
  for (const x of states) {
    x.crypto.seal(b, 0, 16, 0);
    assert.equal(x.crypto.open(b, 0, b.length, 0), true);
  }
  const upd = cfg(spec(0x23));
  sad.update(upd, spec(0x23));
  assert.ok(upd.crypto.aead!.key.every((v) => v === 0), 'update ignores keys and wipes the request copy');
  assert.equal(states[2]!.crypto.open(Uint8Array.from(b), 0, b.length, 0), false, 'a different SPI in the AAD');
  sad.del(parseXAddr('d', GUEST), 0x21);
  sad.flush();
  const stack = new XfrmStack();
  stack.sad.add(cfg({ ...spec(0x24), limits: { timeHard: 1 } }), spec(0x24), NOW);
  const expiring = stack.sad.list()[0]!;
  stack.tick(NOW + 2000);
  assert.equal(stack.sad.count, 0);
  for (const x of [...states, expiring]) {
    assert.ok(x.cfg.crypto.aead!.key.every((v) => v === 0), 'key bytes zeroed');
    assert.equal(x.crypto.open(Uint8Array.from(b), 0, b.length, 0), false, 'open on a destroyed context is false');
    assert.throws(() => x.crypto.seal(b, 0, 16, 0), { code: 'ERR_CRYPTO_DESTROYED' });
  }
});

test('SPI 0 (__xfrm_state_insert keeps it out of byspi): added, even twice, but never found by (dst, spi); flush removes it', () => {
  const sad = new Sad();
  sad.add(cfg(sa(HOST, GUEST, 0)), sa(HOST, GUEST, 0), NOW);
  sad.add(cfg(sa(HOST, GUEST, 0)), sa(HOST, GUEST, 0), NOW); // the byspi lookup finds no clash
  const other = sad.add(cfg(sa(HOST, GUEST, 0x10)), sa(HOST, GUEST, 0x10), NOW);
  assert.equal(sad.count, 3);
  const dst = parseXAddr('dst', GUEST);
  assert.equal(sad.get(dst, 0), null);
  assert.throws(() => sad.del(dst, 0), code('ESRCH', 'spi'), 'xfrm_del_sa: xfrm_user_state_lookup answers ESRCH');
  assert.throws(() => sad.update(cfg(sa(HOST, GUEST, 0)), sa(HOST, GUEST, 0)), code('ESRCH', 'spi'));
  assert.equal(sad.count, 3, 'nothing deleted');
  assert.equal(sad.del(dst, 0x10), other);
  assert.equal(sad.flush(), 2);
  assert.equal(sad.count, 0);
});
