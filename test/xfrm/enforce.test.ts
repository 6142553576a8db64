// The SPD as nf_tables rules (xfrm/enforce.ts): which chains exist, the
// order of their rules (exemptions, then policies best first, then the
// default) and each policy's verdict and counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NftExpr } from '../../src/wire/nftables.js';
import { NF_ACCEPT, NF_DROP, NFT_META_MARK } from '../../src/wire/nftables.js';
import { buildRuleset, selectorMatches } from '../../src/xfrm/enforce.js';
import { anySelector } from '../../src/xfrm/selector.js';
import type { PolicySpec, TmplSpec } from '../../src/xfrm/spec.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { addPolicy, addState, GUEST, HOST, sa } from './esp-util.js';

const TUN: TmplSpec = { src: HOST, dst: GUEST, proto: 'esp', mode: 'tunnel', reqid: 1 };
const EXEMPT = ['ipsec0', 'xfrm1'];

/** A rule's outcome: "accept", or "drop COUNTER". */
function outcome(r: readonly NftExpr[]): string {
  const v = r.at(-1);
  assert.ok(v?.kind === 'verdict', 'every rule ends in a verdict');
  if (v.code === NF_ACCEPT) return 'accept';
  assert.equal(v.code, NF_DROP);
  const c = r.at(-2);
  return c?.kind === 'counter' ? `drop ${c.name}` : 'drop';
}

/** The outcomes of the rules after the exemptions (lo + EXEMPT devices + ESP per peer + IKE/NAT-T ports). */
const tail = (rules: readonly NftExpr[][], peers: number): string[] => rules.slice(1 + EXEMPT.length + peers + 2).map(outcome);

test('nothing to enforce: no chain has rules (the daemon removes the table)', () => {
  const x = new XfrmStack();
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', ifId: 7, tmpls: [{ ...TUN }] });
  const rs = buildRuleset(x.spd, x.sad, EXEMPT);
  assert.deepEqual([rs.output.length, rs.input.length, rs.forward.length], [0, 0, 0], 'if_id policies are for xfrm interfaces only');
});

test('setdefault out block: output exempts lo and tunkit\'s devices, then drops the rest into out_pol_block; input and forward stay empty', () => {
  const x = new XfrmStack();
  x.spd.setDefaults({ out: 'block' });
  const rs = buildRuleset(x.spd, x.sad, EXEMPT);
  assert.equal(rs.input.length + rs.forward.length, 0);
  assert.deepEqual(rs.output.map(outcome), ['accept', 'accept', 'accept', 'accept', 'accept', 'drop out_pol_block'], 'lo, ipsec0, xfrm1, udp sport 500, 4500, default');
  x.spd.setDefaults({ in: 'block', fwd: 'block' });
  const rs2 = buildRuleset(x.spd, x.sad, EXEMPT);
  assert.deepEqual(rs2.input.at(-1)?.map((e) => e.kind), ['counter', 'verdict']);
  assert.equal(outcome(rs2.forward.at(-1)!), 'drop in_no_pols');
});

test('policies best first (priority, then age); block, bypass and required templates; peers of SAs and templates exempted', () => {
  const x = new XfrmStack();
  addState(x, sa(HOST, GUEST, 0x10));
  const out = (p: Partial<PolicySpec>): void => addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '203.0.113.0/24' }, dir: 'out', ...p } as PolicySpec);
  out({ tmpls: [TUN], priority: 10 });
  out({ sel: { src: '0.0.0.0/0', dst: '203.0.113.0/25' }, action: 'block', priority: 5 });
  out({ sel: { src: '0.0.0.0/0', dst: '203.0.113.128/25' }, priority: 5 });
  out({ sel: { src: '192.0.2.0/24', dst: '203.0.113.0/24' }, tmpls: [{ ...TUN, level: 'use' }], priority: 20 });
  addPolicy(x, { sel: { src: '203.0.113.0/24', dst: '0.0.0.0/0' }, dir: 'in', tmpls: [{ ...TUN, src: GUEST, dst: HOST }] });
  addPolicy(x, { sel: { src: '198.51.100.0/24', dst: '0.0.0.0/0' }, dir: 'in', action: 'block', priority: 3 });
  const rs = buildRuleset(x.spd, x.sad, EXEMPT);
  // Peers: HOST and GUEST (the SA's and the templates' ends), one ESP rule each.
  assert.deepEqual(tail(rs.output, 2), ['drop out_pol_block', 'accept', 'drop out_pol_block', 'accept']);
  assert.deepEqual(tail(rs.input, 2), ['drop in_tmpl_mismatch', 'drop in_pol_block'], 'priority 0 before priority 3');
  assert.equal(rs.forward.length, 0);
  assert.equal(rs.output.length, 1 + EXEMPT.length + 2 + 2 + 4);
});

test('selector matches: family-0 selectors get one rule per family; marks, ports and ICMP type/code; GRE keys cannot be expressed', () => {
  const x = new XfrmStack();
  x.spd.insert(x.spd.make({ sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'in', action: 'block' }, () => null, 0, 0), false);
  const p = x.spd.list()[0]!;
  x.spd.remove(p);
  const any = { ...p, sel: anySelector(0) };
  x.spd.insert(Object.assign(Object.create(Object.getPrototypeOf(p) as object) as typeof p, any), false);
  assert.equal(tail(buildRuleset(x.spd, x.sad, EXEMPT).input, 0).length, 2, 'IPv4 and IPv6');
  const m = selectorMatches({ ...anySelector(4), proto: 6, dport: 22, dportMask: 0xffff }, { value: 5, mask: 0xff }, 4, false);
  assert.ok(Array.isArray(m));
  assert.ok(m.some((e) => e.kind === 'meta' && e.key === NFT_META_MARK), 'the mark is matched');
  assert.ok(m.some((e) => e.kind === 'payload' && e.base === 2 && e.offset === 2 && e.len === 2), 'dport at offset 2');
  const icmp = selectorMatches({ ...anySelector(4), proto: 1, sport: 8, sportMask: 0xff }, { value: 0, mask: 0 }, 4, true);
  assert.ok(Array.isArray(icmp) && icmp.some((e) => e.kind === 'payload' && e.offset === 0 && e.len === 1), 'ICMP type: one byte at 0');
  assert.equal(selectorMatches({ ...anySelector(4), proto: 47, sport: 1, sportMask: 0xffff }, { value: 0, mask: 0 }, 4, true), 'GRE key selectors');
  assert.equal(selectorMatches({ ...anySelector(4), dport: 1, dportMask: 0xffff }, { value: 0, mask: 0 }, 4, true), 'ports without a protocol');
  const gre = new XfrmStack();
  addPolicy(gre, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 47, sport: 1 }, dir: 'in', action: 'block' });
  const rs = buildRuleset(gre.spd, gre.sad, EXEMPT);
  assert.equal(rs.skipped.length, 1);
  assert.equal(rs.skipped[0]?.reason, 'GRE key selectors');
});

test('IKE and NAT-T bypass the policies on the ports given (charon.port, port_nat_t), not 500/4500 fixed', () => {
  const x = new XfrmStack();
  x.spd.setDefaults({ out: 'block', in: 'block' });
  const ports = (rules: readonly NftExpr[][], offset: number): number[] => rules.flatMap((r) => {
    const at = r.findIndex((e) => e.kind === 'payload' && e.offset === offset && e.len === 2);
    const cmp = at >= 0 ? r[at + 1] : undefined;
    return cmp?.kind === 'cmp' && outcome(r) === 'accept' ? [(cmp.data[0]! << 8) | cmp.data[1]!] : [];
  });
  const def = buildRuleset(x.spd, x.sad, EXEMPT);
  assert.deepEqual(ports(def.output, 0), [500, 4500], 'defaults: from our 500 and 4500');
  const rs = buildRuleset(x.spd, x.sad, EXEMPT, [1500, 14500]);
  assert.deepEqual(ports(rs.output, 0), [1500, 14500], 'output: from our ports (UDP sport)');
  assert.deepEqual(ports(rs.input, 2), [1500, 14500], 'input: to our ports (UDP dport)');
  assert.equal(rs.output.length, def.output.length, 'the same rules, other ports');
});
