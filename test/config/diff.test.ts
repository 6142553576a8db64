// Reload as a difference (src/config/diff.ts) and `tunkit save` as its
// inverse (src/config/print.ts): unchanged objects get no request at all,
// changed ones are replaced or updated in place, removed ones deleted, new
// ones added; save → load → save is the identity, and loading what save
// printed changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffConfig, sameDevice } from '../../src/config/diff.js';
import type { Step } from '../../src/config/diff.js';
import { loadConfig } from '../../src/config/load.js';
import { modelOf } from '../../src/config/model.js';
import type { ConfigModel, RunningState } from '../../src/config/model.js';
import { printConfig } from '../../src/config/print.js';
import { EXAMPLE, KEY1, opts } from './fixture.js';

const load = (text: string): ConfigModel => loadConfig(text, 'test.toml', opts).model;

/** What the daemon would report after applying `m` (default MTUs as the kernel's: gre+key+seq 1468, ipip 1480, xfrm 1500). */
function running(m: ConfigModel): RunningState {
  const dflt: Record<string, number> = { gre: 1468, ipip: 1480, xfrm: 1500, sit: 1480 };
  return {
    links: m.links.map((l) => ({ ...l, mtu: l.mtu ?? dflt[String(l.args['kind'])]!, defaultMtu: dflt[String(l.args['kind'])]! })),
    states: m.states,
    policies: m.policies.map((spec, i) => ({ spec, index: 8 * i + (spec.dir === 'out' ? 1 : 0) })),
    defaults: m.defaults,
  };
}

const ops = (steps: readonly Step[]): string[] => steps.map((s) => s.text);

test('the same file again: every object unchanged, no request', () => {
  const m = load(EXAMPLE);
  const p = diffConfig(m, running(m));
  assert.deepEqual(p.steps, []);
  assert.deepEqual([p.added, p.removed, p.replaced, p.updated], [[], [], [], []]);
  assert.equal(p.unchanged.length, 3 + 2 + 2);
});

test('a changed file: unchanged, replaced, updated, added and removed, in a safe order', () => {
  const have = running(load(EXAMPLE));
  const text = EXAMPLE
    .replace('ttl = 64', 'ttl = 32') // gre1's parameters: a new device
    .replace('mtu = 1400\nup = false', 'mtu = 1300\naddresses = ["192.0.2.9/32"]') // ipip1: in place
    .replace('[link.xfrm1]\ntype = "xfrm"\nif_id = 7\n', '[link.sit1]\ntype = "sit"\nremote = "198.51.100.4"\n') // xfrm1 gone, sit1 new
    .replace('key = "@/etc/tunkit/sa2.key"', `key = "${KEY1}"`) // state 2 rekeyed
    .replace('[[xfrm.policy]]', `[[xfrm.state]]\nsrc = "198.51.100.1"\ndst = "198.51.100.3"\nspi = 0x3003\nmode = "transport"\naead = { name = "rfc4106(gcm(aes))", key = "${KEY1}", bits = 128 }\n\n[[xfrm.policy]]`)
    .replace('dir = "in"', 'dir = "in"\npriority = 5') // the in policy: updated in place
    .replace('fwd = "block"', 'fwd = "accept"');
  const p = diffConfig(load(text), have);
  assert.deepEqual([...p.unchanged].sort(), ['xfrm policy out 203.0.113.1/32 → 203.0.113.2/32', 'xfrm state 198.51.100.2 spi 0x00001001']);
  assert.deepEqual([...p.replaced].sort(), ['link gre1', 'xfrm state 198.51.100.1 spi 0x00002002']);
  assert.deepEqual([...p.added].sort(), ['link sit1', 'xfrm state 198.51.100.3 spi 0x00003003']);
  assert.deepEqual([...p.removed].sort(), ['link xfrm1']);
  assert.deepEqual([...p.updated].sort(), ['link ipip1', 'xfrm defaults', 'xfrm policy in 203.0.113.2/32 → 203.0.113.1/32']);
  assert.deepEqual(ops(p.steps), [
    'xfrm state del 198.51.100.1 spi 0x00002002',
    'link del xfrm1',
    'link del gre1 (replaced)',
    'link add gre1 type gre', 'addr add 192.0.2.1/30 dev gre1', 'link set gre1 up', 'route add 203.0.113.0/26 dev gre1',
    'link set ipip1 mtu 1300', 'addr add 192.0.2.9/32 dev ipip1', 'link set ipip1 up',
    'link add sit1 type sit', 'link set sit1 up',
    'xfrm state add 198.51.100.1 spi 0x00002002', 'xfrm state add 198.51.100.3 spi 0x00003003',
    'xfrm policy update in 203.0.113.2/32 → 203.0.113.1/32',
    'xfrm policy setdefault in accept fwd accept out accept',
  ]);
  const gre = p.steps.find((s) => s.text === 'link add gre1 type gre')!;
  assert.deepEqual(gre.args, { name: 'gre1', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', key: 42, seq: true, ttl: 32 });
  for (const s of p.steps) assert.ok(!s.text.includes('11111111'), `no key in ${s.text}`);
});

test('a removed policy is deleted by dir and index; removing everything empties the daemon', () => {
  const have = running(load(EXAMPLE));
  const p = diffConfig(load(''), have);
  assert.deepEqual(ops(p.steps).slice(0, 2), ['xfrm policy del out 203.0.113.1/32 → 203.0.113.2/32', 'xfrm policy del in 203.0.113.2/32 → 203.0.113.1/32']);
  assert.deepEqual(p.steps[0]!.args, { id: { dir: 'out', index: 1 } });
  assert.deepEqual(p.steps[1]!.args, { id: { dir: 'in', index: 8 } });
  assert.equal(p.removed.length, 7);
  assert.equal(p.steps.at(-1)!.op, 'xfrm.policy.setdefault');
});

test('mtu back to the default and a link taken down: in place, its routes deleted first', () => {
  const have = running(load(EXAMPLE.replace('ttl = 64', 'ttl = 64\nmtu = 1400')));
  const p = diffConfig(load(EXAMPLE.replace('routes = ["203.0.113.0/26"]', 'up = false')), have);
  assert.deepEqual(ops(p.steps), ['route del 203.0.113.0/26 dev gre1', 'link set gre1 mtu 1468', 'link set gre1 down']);
});

test('save → load → save is the identity, and loading what save printed changes nothing', () => {
  const m = load(EXAMPLE);
  const text1 = printConfig(modelOf(running(m)));
  const m2 = load(text1);
  assert.equal(printConfig(modelOf(running(m2))), text1);
  assert.deepEqual(diffConfig(m2, running(m)).steps, []);
  assert.match(text1, /\[link\.gre1\]\ntype = "gre"\nlocal = "198\.51\.100\.1"/);
  assert.match(text1, /spi = 0x1001\n/);
  assert.match(text1, /aead = \{ name = "rfc4106\(gcm\(aes\)\)", key = "0x2{40}", bits = 128 \}/, 'the @FILE key is saved as hex');
  assert.ok(!text1.includes('mtu = 1468'), 'a default MTU is not saved');
});

test('save of state the CLI made (its spelling: 0x upper-case keys, port masks, bare links): identity and no change on load', () => {
  const have: RunningState = {
    links: [
      { name: 'g', args: { name: 'g', kind: 'gre', local: 'any', remote: '198.51.100.2', ttl: 0, tos: 'inherit', pmtudisc: true, ikey: 1, okey: 2, iseq: false, oseq: true, icsum: false, ocsum: false }, mtu: 1400, defaultMtu: 1472, isUp: false, addresses: ['2001:db8::1/64'], routes: [] },
      { name: 's', args: { name: 's', kind: 'sit', local: 'any', remote: 'any', bare: true }, mtu: 1480, defaultMtu: 1480, isUp: true, addresses: [], routes: ['2001:db8:1::/48'] },
    ],
    states: [{
      src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', spi: 7, mode: 'transport', flags: ['esn'], replayWindow: 64,
      enc: { name: 'cbc(aes)', keyHex: '0xAABBCCDDEEFF00112233445566778899' }, auth: { name: 'hmac(sha256)', keyHex: '0x' + '0F'.repeat(32), bits: 128 }, authTrunc: true,
      sel: { src: '198.51.100.1/32', dst: '198.51.100.2', proto: 17, sport: 500, sportMask: 0xffff }, limits: { byteHard: 1000000 }, mark: { value: 1, mask: 0xff },
    }],
    policies: [{ spec: { sel: { src: '192.0.2.0/24', dst: '198.51.100.0/24', proto: 6, dport: 80, dportMask: 0xffff }, dir: 'fwd', action: 'block', priority: 9 }, index: 2 }],
    defaults: { in: 'block', fwd: 'accept', out: 'accept' },
  };
  const text1 = printConfig(modelOf(have));
  const m = load(text1);
  assert.deepEqual(diffConfig(m, have).steps, [], text1);
  assert.equal(printConfig(modelOf(running(m))).replace(/mtu = \d+\n/g, ''), text1.replace(/mtu = \d+\n/g, ''));
  assert.match(text1, /auth-trunc = \{ name = "hmac\(sha256\)", key = "0x(0f){32}", bits = 128 \}/);
  assert.match(text1, /\[link\.s\]\ntype = "sit"\nlocal = "any"\nremote = "any"\nbare = true\nroutes = \["2001:db8:1::\/48"\]/);
  assert.match(text1, /\[xfrm\.defaults\]\nin = "block"/);
});

test('a link is replaced only when the device differs: the same kernel parameters spelled another way are unchanged', () => {
  const cli = { name: 'g', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', ttl: 0, tos: 0, pmtudisc: true, ikey: 42, okey: 42, iseq: false, oseq: false, icsum: false, ocsum: false };
  assert.ok(sameDevice({ name: 'g', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', key: 42 }, cli));
  assert.ok(!sameDevice({ name: 'g', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', key: 43 }, cli));
  assert.ok(!sameDevice({ ...cli, dev: 'eth0' }, cli), 'another underlay');
  assert.ok(!sameDevice({ ...cli, kind: 'gretap' }, cli));
  assert.ok(sameDevice({ name: 'x', kind: 'xfrm', ifId: 7 }, { name: 'x', kind: 'xfrm', ifId: 7 }));
  assert.ok(!sameDevice({ name: 'x', kind: 'xfrm', ifId: 7 }, { name: 'x', kind: 'xfrm', ifId: 8 }));
  const have: RunningState = {
    links: [{ name: 'g', args: cli, mtu: 1472, defaultMtu: 1472, isUp: true, addresses: [], routes: [] }], states: [], policies: [], defaults: { in: 'accept', fwd: 'accept', out: 'accept' },
  };
  const p = diffConfig(load('[link.g]\ntype = "gre"\nlocal = "198.51.100.1"\nremote = "198.51.100.2"\nkey = 42\n'), have);
  assert.deepEqual([p.steps, p.unchanged], [[], ['link g']]);
});
