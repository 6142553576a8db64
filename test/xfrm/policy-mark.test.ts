// A policy's mark as xfrm_policy_match reads it: (flow mark & mask) == value.
// The data path passes mark 0 (a packet read from a TUN or a raw socket
// carries no mark tunkit can see), so a mark-scoped policy — the issue's
// "mark-scoped bypass" — no longer applies to every flow: it is skipped and
// the policy behind it decides, as the kernel decides for an unmarked skb.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XfrmStat } from '../../src/xfrm/mib.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import { Flow } from '../../src/xfrm/selector.js';
import type { TmplSpec } from '../../src/xfrm/spec.js';
import { Spd, XFRM_POLICY_IN, XFRM_POLICY_OUT } from '../../src/xfrm/spd.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { addPolicy, GUEST, HOST, NOW } from './esp-util.js';
import { icmp4Echo } from './helpers.js';

const TUN: TmplSpec = { src: HOST, dst: GUEST, proto: 'esp', mode: 'tunnel', reqid: 1 };
const flowOf = (p: Uint8Array): Flow => { const f = new Flow(); assert.ok(f.decode(p, 0, p.length, 0)); return f; };
const ping = (): Uint8Array => icmp4Echo('192.0.2.1', '203.0.113.9', 1, 1, 8, 0, 0);

test('xfrm_policy_match: a mark-scoped policy matches only flows whose masked mark equals its value; the next policy decides for the rest', () => {
  const spd = new Spd();
  const mk = (priority: number, mark?: { value: number; mask: number }, block = false): ReturnType<Spd['insert']> =>
    spd.insert(spd.make({ sel: { src: '0.0.0.0/0', dst: '203.0.113.0/24' }, dir: 'out', priority, ...(mark !== undefined ? { mark } : {}), ...(block ? { action: 'block' } : { tmpls: [TUN] }) }, () => null, NOW, 0), false);
  const tunnel = mk(10);
  const bypass = mk(1, { value: 0x5, mask: 0xff }, true);
  const f = flowOf(ping());
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0), tunnel, 'mark 0: the mark-scoped policy is skipped');
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0, 0x5), bypass);
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0, 0x105), bypass, 'bits outside the mask do not matter');
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0, 0x6), tunnel);
  assert.equal(bypass.isMarkScoped, true);
  assert.equal(tunnel.isMarkScoped, false);
  // value 0 under a mask: matches exactly the flows whose masked bits are 0 (mark 0 among them).
  const zero = mk(0, { value: 0, mask: 0x1 });
  assert.equal(zero.isMarkScoped, false);
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0), zero);
  assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0, 0x5), bypass, 'mark 5 fails 0/0x1 and falls to the next best');
  // A value with bits outside its mask can never match (as the kernel's test).
  spd.remove(zero);
  spd.remove(bypass);
  const never = mk(0, { value: 0x3, mask: 0x1 });
  for (const m of [0, 1, 3, 0xffffffff]) assert.equal(spd.lookup(XFRM_POLICY_OUT, f, 0, m), tunnel, `mark ${m}`);
  assert.equal(never.isMarkScoped, true);
});

test('the data path (mark 0): a mark-scoped bypass or block no longer applies to every flow', () => {
  const x = new XfrmStack();
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '203.0.113.0/24' }, dir: 'out', priority: 10, tmpls: [TUN] });
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '203.0.113.0/24' }, dir: 'out', priority: 1, mark: { value: 7, mask: 0xffffffff } });
  const p = ping();
  const buf = new Uint8Array(2048);
  buf.set(p, 512);
  const r = new XfrmResult();
  // Before: the bypass matched everything and the packet went out in clear. Now the tunnel policy
  // applies: no SA yet, so it is held back (XfrmOutNoStates), never bypassed.
  assert.equal(x.output(buf, 512, p.length, 0, false, NOW, r), XVerdict.Drop);
  assert.equal(r.mib, XfrmStat.OutNoStates);
  // Inbound: a clear packet matching a required in policy is refused even with a mark-scoped bypass in front.
  addPolicy(x, { sel: { src: '203.0.113.0/24', dst: '0.0.0.0/0' }, dir: 'in', priority: 10, tmpls: [{ ...TUN, src: GUEST, dst: HOST }] });
  addPolicy(x, { sel: { src: '203.0.113.0/24', dst: '0.0.0.0/0' }, dir: 'in', priority: 1, mark: { value: 7, mask: 0xff } });
  const back = icmp4Echo('203.0.113.9', '192.0.2.1', 1, 1, 8, 0, 0);
  assert.equal(x.checkInClear(back, 0, back.length, 0), false);
  assert.equal(x.mib.snapshot().XfrmInTmplMismatch, 1);
  assert.equal(x.spd.lookup(XFRM_POLICY_IN, flowOf(back), 0, 7)?.priority, 1, 'the bypass still exists for mark 7');
});
