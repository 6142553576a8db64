// xfrm.state.migrate (XfrmControl → Sad.move): a state moves to new outer
// addresses and encap ports as XFRM_MSG_MIGRATE's xfrm_state_migrate does,
// and keeps its sequence numbers, replay window and counters (the IKE
// daemon follows a NATed peer with it). Refusals name the field and change
// nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XfrmControl } from '../../src/daemon/xfrm-control.js';
import type { StateRecord, XfrmEvent } from '../../src/control/xfrm.js';
import fc from 'fast-check';
import { ConfigError, VpnError } from '../../src/wire/errors.js';
import { be16, be32 } from '../../src/wire/bytes.js';
import { parseXAddr } from '../../src/xfrm/selector.js';
import type { XfrmStack } from '../../src/xfrm/xfrm.js';
import { icmp4Echo } from './helpers.js';
import { GUEST, HOST, NOW, oneWay, sa, send } from './esp-util.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';

const ENCAP = { encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } } as const;
const MOVED = '192.0.2.9';

function control(x: XfrmStack): { ctl: XfrmControl; events: XfrmEvent[] } {
  const events: XfrmEvent[] = [];
  const ctl = new XfrmControl(x, {
    ifindex: () => null, publish: (e) => events.push(e), now: () => 1_700_000_000_000, routeMtu: () => 1500, tablesChanged: () => undefined,
  });
  return { ctl, events };
}

const ping = (): Uint8Array => icmp4Echo('203.0.113.1', '203.0.113.17', 1, 1, 56, 0x4000, 0);
const GUEST_U32 = 0xc6336402;
const MOVED_U32 = 0xc0000209;

/** inputUdp of an outer ESP-in-UDP packet's payload as if from srcU32:sport. */
function recvUdp(x: XfrmStack, outer: Uint8Array, srcU32: number, sport: number): number {
  const p = outer.subarray(((outer[0]! & 0xf) << 2) + 8);
  const buf = new Uint8Array(128 + p.length);
  buf.set(p, 128);
  return x.inputUdp(buf, 128, p.length, srcU32, sport, GUEST_U32, 3, 0, NOW, new XfrmResult());
}

test('an outbound ESP-in-UDP state moves to a new address and port: the next packet goes there with the next sequence number', () => {
  const { tx, txSa } = oneWay(ENCAP);
  const { ctl, events } = control(tx);
  for (let i = 0; i < 3; i++) send(tx, ping());
  const rec = ctl.handle('xfrm.state.migrate', { id: { dst: GUEST, proto: 'esp', spi: 0x1001 }, src: HOST, dst: MOVED, encap: { sport: 4500, dport: 40000 } }) as StateRecord;
  assert.equal(rec.dst, MOVED);
  assert.deepEqual(rec.encap, { type: 'espinudp', sport: 4500, dport: 40000, oa: '0.0.0.0' });
  assert.deepEqual([rec.curlft.packets, rec.replay.oseq], [3, 3], 'counters and sequence numbers kept');
  assert.deepEqual(events.map((e) => e.type), ['xfrm.updsa']);
  assert.equal(tx.sad.get(parseXAddr('dst', MOVED), 0x1001), txSa, 'the same state, found by its new id');
  assert.equal(tx.sad.get(parseXAddr('dst', GUEST), 0x1001), null, 'not by the old one');
  ctl.handle('xfrm.policy.update', { policy: { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', tmpls: [{ src: HOST, dst: MOVED, proto: 'esp', mode: 'tunnel', reqid: 1 }] } });
  const out = send(tx, ping());
  assert.equal(be32(out, 16), 0xc0000209, 'outer destination 192.0.2.9');
  assert.deepEqual([be16(out, 20), be16(out, 22)], [4500, 40000], 'UDP ports');
  assert.deepEqual([be32(out, 28), be32(out, 32)], [0x1001, 4], 'same SPI, sequence number 4');
  assert.equal(txSa.curPackets, 4);
});

test('an inbound state moves its peer side (src, encap sport): no mapping event from there, its replay window stays, the in template must follow', () => {
  const { tx, rx, rxSa } = oneWay(ENCAP);
  const { ctl } = control(rx);
  const wires = [send(tx, ping()), send(tx, ping()), send(tx, ping()), send(tx, ping())];
  assert.equal(recvUdp(rx, wires[1]!, 0xc6336401, 4500), XVerdict.Deliver);
  ctl.handle('xfrm.state.migrate', { id: { dst: GUEST, proto: 'esp', spi: 0x1001 }, src: MOVED, dst: GUEST, encap: { sport: 40000, dport: 4500 } });
  assert.equal(rxSa.replay.record().seq, 2);
  assert.equal(recvUdp(rx, wires[1]!, MOVED_U32, 40000), XVerdict.Drop, 'a replay is still refused after the move');
  assert.equal(rxSa.statReplay, 1);
  assert.equal(recvUdp(rx, wires[2]!, MOVED_U32, 40000), XVerdict.Drop, 'the in policy\'s template still names the old peer');
  assert.equal(rx.mib.snapshot().XfrmInTmplMismatch, 1);
  ctl.handle('xfrm.policy.update', { policy: { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'in', tmpls: [{ src: MOVED, dst: GUEST, proto: 'esp', mode: 'tunnel', reqid: 1 }] } });
  assert.equal(recvUdp(rx, wires[3]!, MOVED_U32, 40000), XVerdict.Deliver, 'with the template moved too (seq 3 was taken before the policy check, as xfrm_input does)');
  assert.deepEqual(rx.events.filter((e) => e.kind === 'mapping'), [], 'the peer is where the SA now expects it');
  assert.equal(recvUdp(rx, wires[0]!, MOVED_U32, 40001), XVerdict.Deliver, 'inside the window');
  assert.equal(rx.events.filter((e) => e.kind === 'mapping').length, 1, 'a port other than the new one raises one');
});

test('xfrm.state.update of an inbound state\'s encap sport moves where it expects the peer, as the kernel\'s x->encap does', () => {
  const { tx, rx } = oneWay(ENCAP);
  const { ctl } = control(rx);
  ctl.handle('xfrm.state.update', { state: sa(HOST, GUEST, 0x1001, { encap: { ...ENCAP.encap, sport: 40000 } }) });
  assert.equal(recvUdp(rx, send(tx, ping()), 0xc6336401, 40000), XVerdict.Deliver);
  assert.deepEqual(rx.events.filter((e) => e.kind === 'mapping'), []);
  assert.equal(recvUdp(rx, send(tx, ping()), 0xc6336401, 4500), XVerdict.Deliver);
  assert.equal(rx.events.filter((e) => e.kind === 'mapping').length, 1, 'the old port is now the new one');
});

test('refusals name the field and change nothing', () => {
  const { tx, txSa } = oneWay(ENCAP);
  const { tx: plain } = oneWay();
  const { ctl, events } = control(tx);
  const id = { dst: GUEST, proto: 'esp', spi: 0x1001 };
  const bad: [Record<string, unknown>, string][] = [
    [{ id: { ...id, spi: 0x9999 }, src: HOST, dst: MOVED }, 'spi'],
    [{ id, src: HOST, dst: '2001:db8::1' }, 'dst'],
    [{ id, src: 'nowhere', dst: MOVED }, 'src'],
    [{ id, src: HOST, dst: MOVED, encap: { sport: 4500, dport: 0 } }, 'encap dport'],
    [{ id, src: HOST, dst: MOVED, encap: 'yes' }, 'encap'],
  ];
  for (const [args, field] of bad) {
    assert.throws(() => ctl.handle('xfrm.state.migrate', args), (e: unknown) => e instanceof Error && (e as ConfigError).field === field, `${JSON.stringify(args)} → ${field}`);
  }
  assert.throws(() => control(plain).ctl.handle('xfrm.state.migrate', { id, src: HOST, dst: MOVED, encap: { sport: 1, dport: 2 } }), (e: unknown) => e instanceof ConfigError && e.field === 'encap');
  ctl.handle('xfrm.state.add', { state: { src: HOST, dst: MOVED, proto: 'esp', spi: 0x1001, mode: 'tunnel', aead: { name: 'rfc4106(gcm(aes))', keyHex: '11'.repeat(20), bits: 128 } } });
  assert.throws(() => ctl.handle('xfrm.state.migrate', { id, src: HOST, dst: MOVED }), { code: 'EEXIST' });
  assert.equal(tx.sad.get(parseXAddr('dst', GUEST), 0x1001), txSa);
  assert.deepEqual(txSa.cfg.encap?.dport, 4500);
  assert.deepEqual(events.map((e) => e.type), ['xfrm.newsa'], 'only the add was published');
});

test('arbitrary arguments: a VpnError naming a field, or a valid move; never another exception', () => {
  const { tx } = oneWay(ENCAP);
  const { ctl } = control(tx);
  const id = fc.oneof(fc.constant({ dst: GUEST, proto: 'esp', spi: 0x1001 }), fc.anything());
  const addr = fc.oneof(fc.constantFrom(HOST, GUEST, MOVED, '2001:db8::1', ''), fc.anything());
  const encap = fc.option(fc.oneof(fc.record({ sport: fc.integer({ min: -1, max: 70000 }), dport: fc.integer({ min: -1, max: 70000 }) }), fc.anything()), { nil: undefined });
  fc.assert(fc.property(fc.record({ id, src: addr, dst: addr, encap }, { requiredKeys: [] }), (args) => {
    try {
      ctl.handle('xfrm.state.migrate', args as Record<string, unknown>);
    } catch (e) {
      assert.ok(e instanceof VpnError && typeof e.field === 'string' && e.field !== '', String(e));
    }
  }), { numRuns: 300 });
});
