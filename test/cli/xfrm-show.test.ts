// `tunkit xfrm … list|get|count|monitor` output (src/cli/xfrm-show*.ts)
// against what iproute2 6.1 printed on a real Linux 6.1 kernel for the same
// commands (test/vectors/xfrm-cli.json). Each test builds the records tunkitd
// would answer — our parser's Spec for the golden command, plus the live
// state of a fresh SA and the indices/times the kernel reported — and
// demands ip's text byte for byte.
process.env['TZ'] = 'UTC'; // the guest's zone: strxf_time prints local time
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDefaults, formatSadCount, formatSpdCount, formatXfrmEvent } from '../../src/cli/xfrm-show-events.js';
import { formatPolicy, formatState, strxfTime } from '../../src/cli/xfrm-show.js';
import type { XfrmShowOptions } from '../../src/cli/xfrm-show.js';
import type { PolicyRecord, StateRecord, XfrmEvent } from '../../src/xfrm/spec.js';
import { formatXfrmStat } from '../../src/xfrm/mib.js';
import { GOLDEN, goldenCase, parsedPolicy, parsedState, policyRecord, shown, stateRecord } from './xfrm-golden.js';
import type { StateLive } from './xfrm-golden.js';

const T = 1700000000;
const KEYS: XfrmShowOptions = { statsLevel: 0, isKeysShown: true };
const KEYS_S: XfrmShowOptions = { statsLevel: 1, isKeysShown: true };

/** The SAs of a case, newest first (the kernel's dump order). */
function states(name: string, live: Partial<StateLive> = {}, isMasked = false): StateRecord[] {
  const c = goldenCase(name);
  return c.setup.filter((s) => s.startsWith('ip xfrm state add')).map((s) => stateRecord(parsedState(s), { addTime: c.addTime, ...live }, isMasked)).reverse();
}

/** The policies of a case, newest first, with the indices the kernel gave them. */
function policies(name: string, indices: readonly number[], useTime = 0): PolicyRecord[] {
  const c = goldenCase(name);
  return c.setup.filter((s) => s.startsWith('ip xfrm policy add'))
    .map((s, i) => policyRecord(parsedPolicy(s), indices[i] ?? 0, c.addTime, useTime)).reverse();
}

const allStates = (rs: readonly StateRecord[], o: XfrmShowOptions): string => rs.map((r) => formatState(r, o)).join('');
const allPolicies = (rs: readonly PolicyRecord[], o: XfrmShowOptions): string => rs.map((r) => formatPolicy(r, o)).join('');

const STATE_CASES = ['gcm-tunnel-sel', 'cbc-authtrunc-flags-mark', 'auth-plain-string-keys', 'esn-128', 'bmp-64-no-esn',
  'encap-limits-ifid-omark-tfc', 'encap-nonike-omark-only', 'ipv6-sel-tcp-dev'];

for (const name of STATE_CASES) {
  test(`state list, ${name}: ip xfrm state and ip -s xfrm state`, () => {
    const rs = states(name);
    assert.equal(allStates(rs, KEYS), shown(name, 'ip xfrm state'));
    const s = goldenCase(name).show.find((x) => x.cmd === 'ip -s xfrm state');
    if (s !== undefined) assert.equal(allStates(rs, KEYS_S), s.out);
  });
}

test('keys hidden (tunkit\'s default) print as ip\'s nokeys; get is one record', () => {
  const masked = states('gcm-tunnel-sel', {}, true);
  assert.equal(allStates(masked, { statsLevel: 0, isKeysShown: false }), shown('gcm-tunnel-sel', 'ip xfrm state list nokeys'));
  assert.equal(formatState(states('gcm-tunnel-sel')[0]!, KEYS), shown('gcm-tunnel-sel', 'ip xfrm state get src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x1000'));
  const empty = { ...masked[0]!, aead: { name: 'x', keyHex: '', bits: 8 } };
  assert.ok(formatState(empty, KEYS).includes('\taead x  8\n'), 'asked for keys: an empty key is empty');
});

test('state count', () => {
  assert.equal(formatSadCount(1), shown('gcm-tunnel-sel', 'ip xfrm state count'));
  assert.equal(formatSadCount(4), shown('ipv6-sel-tcp-dev', 'ip xfrm state count'));
});

test('an SA and a policy that carried traffic (oseq, lifetime current, use time)', () => {
  const rs = states('traffic', { oseq: 2, bytes: 128, packets: 2, useTime: T });
  assert.equal(allStates(rs, KEYS), shown('traffic', 'ip xfrm state'));
  assert.equal(allStates(rs, KEYS_S), shown('traffic', 'ip -s xfrm state'));
  const ps = policies('traffic', [17], T);
  assert.equal(allPolicies(ps, KEYS), shown('traffic', 'ip xfrm policy'));
  assert.equal(allPolicies(ps, KEYS_S), shown('traffic', 'ip -s xfrm policy'));
});

const POLICY_CASES: readonly (readonly [string, readonly number[]])[] = [
  ['policy-tmpl-priority', [25]], ['policy-icmp-block', [32]], ['policy-mark-ifid-level-use', [41]], ['policy-ipv6-limits-spi', [50]],
];
for (const [name, idx] of POLICY_CASES) {
  test(`policy list, ${name}: ip xfrm policy and ip -s xfrm policy`, () => {
    const ps = policies(name, idx);
    assert.equal(allPolicies(ps, KEYS), shown(name, 'ip xfrm policy'));
    assert.equal(allPolicies(ps, KEYS_S), shown(name, 'ip -s xfrm policy'));
  });
}

test('policy get and count; two policies; defaults', () => {
  const p = policies('policy-tmpl-priority', [25]);
  assert.equal(formatPolicy(p[0]!, KEYS), shown('policy-tmpl-priority', 'ip xfrm policy get src 192.0.2.0/24 dst 203.0.113.0/24 dir out'));
  assert.equal(formatSpdCount(p, KEYS), shown('policy-tmpl-priority', 'ip xfrm policy count'));
  const two = policies('policy-any-dev-gre', [57, 66]);
  assert.equal(allPolicies(two, KEYS), shown('policy-any-dev-gre', 'ip xfrm policy'));
  assert.equal(formatSpdCount(two, KEYS), shown('policy-any-dev-gre', 'ip xfrm policy count'));
  assert.equal(formatSpdCount(two, KEYS_S), shown('policy-any-dev-gre', 'ip -s xfrm policy count'));
  assert.equal(formatDefaults({ in: 'block', fwd: 'block', out: 'accept' }), shown('setdefault', 'ip xfrm policy getdefault'));
});

test('monitor: SA and policy add/update/delete, soft and hard expire, acquire, flushes', () => {
  const sa1 = stateRecord(parsedState("ip xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x1000 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128"), { addTime: T });
  const sa2 = stateRecord(parsedState("ip xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x2000 mode transport enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff limit time-soft 1 limit time-hard 2"), { addTime: T });
  const tmpl = 'tmpl src 198.51.100.1 dst 198.51.100.2 proto esp reqid 1 mode tunnel';
  const p1 = policyRecord(parsedPolicy(`ip xfrm policy add src 192.0.2.0/24 dst 203.0.113.0/24 dir out priority 100 ${tmpl}`), 1, T);
  const p2 = policyRecord(parsedPolicy('ip xfrm policy add src 0.0.0.0/0 dst 192.0.2.77/32 dir out tmpl src 203.0.113.194 dst 203.0.113.193 proto esp reqid 3 mode tunnel'), 9, T);
  const events: XfrmEvent[] = [
    { type: 'xfrm.newsa', state: sa1 }, { type: 'xfrm.updsa', state: sa1 }, { type: 'xfrm.delsa', state: sa1 },
    { type: 'xfrm.newsa', state: sa2 },
    { type: 'xfrm.newpolicy', policy: p1 }, { type: 'xfrm.updpolicy', policy: p1 }, { type: 'xfrm.delpolicy', policy: p1 },
    { type: 'xfrm.expire', hard: false, state: sa2 }, { type: 'xfrm.expire', hard: true, state: sa2 },
    { type: 'xfrm.newpolicy', policy: p2 },
    { type: 'xfrm.acquire', policy: p2, src: '203.0.113.194', dst: '192.0.2.77', proto: 1 },
    { type: 'xfrm.flushpolicy' }, { type: 'xfrm.flushsa' },
  ];
  // The acquire event has no flow ports or interface (spec.ts), so its sel line lacks the kernel's "type 8 code 0 dev eth0".
  const want = GOLDEN.monitor.out.replace('proto icmp type 8 code 0 dev eth0 \n', 'proto icmp \n');
  assert.equal(events.map((e) => formatXfrmEvent(e, KEYS)).join(''), want);
});

test('monitor: mapping change (xfrm_mapping_print)', () => {
  const e: XfrmEvent = { type: 'xfrm.mapping', dst: '198.51.100.2', spi: 0x1000, oldSrc: '198.51.100.1', oldSport: 4500, newSrc: '203.0.113.7', newSport: 61000 };
  assert.equal(formatXfrmEvent(e, KEYS), 'Mapping change 198.51.100.1:4500 -> 203.0.113.7:61000\n\tdst 198.51.100.2  reqid 0x0 protocol esp  SPI 0x1000\n');
});

test('strxf_time and xfrm stat text', () => {
  assert.equal(strxfTime(0), '-');
  assert.equal(strxfTime(T), '2023-11-14 22:13:20');
  const text = formatXfrmStat({ XfrmInError: 3 });
  assert.match(text, /^XfrmInError {13}\t3\n/);
});
