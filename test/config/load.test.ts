// The config file read and checked as a whole: the model it gives, and each
// refusal naming file, line, object and key (src/config/load.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigFileError, loadConfig } from '../../src/config/load.js';
import { KeyLines } from '../../src/config/lines.js';
import { REPO_ROOT } from '../util/paths.js';
import { EXAMPLE, KEY1, KEY2, opts } from './fixture.js';

const FILE = '/etc/tunkit.toml';

/** The line number (1-based) of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string, from = 0): number => {
  const lines = text.split('\n');
  for (let i = from; i < lines.length; i++) if (lines[i]!.includes(needle)) return i + 1;
  throw new Error(`${needle} not in text`);
};

/** EXAMPLE with the first occurrence of `from` (after line `after`) replaced. */
function edit(from: string, to: string, after = ''): string {
  const at = EXAMPLE.indexOf(after);
  const i = EXAMPLE.indexOf(from, at);
  assert.ok(at >= 0 && i >= 0, `${from} not in the example`);
  return EXAMPLE.substring(0, i) + to + EXAMPLE.substring(i + from.length);
}

function refuses(text: string, want: RegExp, line: number): void {
  assert.throws(() => loadConfig(text, FILE, opts), (e: unknown) => {
    assert.ok(e instanceof ConfigFileError, String(e));
    assert.match(e.message, want);
    assert.equal(e.line, line, e.message);
    assert.ok(e.message.startsWith(`${FILE}:${line}: `), e.message);
    return true;
  });
}

test('the example loads: links with their request args, states with keys (also from @FILE), policies, defaults', () => {
  const { model, hasLiteralKeys } = loadConfig(EXAMPLE, FILE, opts);
  assert.equal(hasLiteralKeys, true, 'state #1 has its key in the file');
  assert.deepEqual(model.links.map((l) => l.name), ['gre1', 'ipip1', 'xfrm1']);
  const gre = model.links[0]!;
  assert.deepEqual(gre.args, { name: 'gre1', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', key: 42, seq: true, ttl: 64 });
  assert.deepEqual([gre.mtu, gre.isUp, gre.addresses, gre.routes], [null, true, ['192.0.2.1/30'], ['203.0.113.0/26']]);
  assert.deepEqual([model.links[1]!.mtu, model.links[1]!.isUp], [1400, false]);
  assert.deepEqual(model.links[2]!.args, { name: 'xfrm1', kind: 'xfrm', ifId: 7 });
  assert.equal(model.states[0]!.aead?.keyHex, KEY1.substring(2));
  assert.equal(model.states[1]!.aead?.keyHex, KEY2.substring(2), 'read from the key file');
  assert.equal(model.states[1]!.proto, 'esp');
  assert.deepEqual(model.policies[1]!.sel, { src: '203.0.113.2/32', dst: '203.0.113.1/32' }, 'a bare address is a /32');
  assert.equal(model.policies[0]!.tmpls?.[0]?.proto, 'esp');
  assert.deepEqual(model.defaults, { in: 'accept', fwd: 'block', out: 'accept' });
});

test('a file with keys only in @FILEs has no literal keys', () => {
  const t = edit(`key = "${KEY1}"`, 'key = "@/etc/tunkit/sa2.key"');
  assert.equal(loadConfig(t, FILE, opts).hasLiteralKeys, false);
});

test('link refusals name line, link and key (the validators of link add)', () => {
  refuses(edit('ttl = 64', 'ttl = 300'), /^\/etc\/tunkit\.toml:\d+: link "gre1": key "ttl": 300 is not in 0\.\.255$/, lineOf(EXAMPLE, 'ttl = 64'));
  refuses(edit('ttl = 64', 'ttl = "high"'), /link "gre1": key "ttl": "high" is not a number or inherit|link "gre1": key "ttl"/, lineOf(EXAMPLE, 'ttl = 64'));
  refuses(edit('seq = true', 'seq = "yes"'), /link "gre1": key "seq": must be true or false/, lineOf(EXAMPLE, 'seq = true'));
  refuses(edit('seq = true', 'sequence = true'), /link "gre1": key "sequence": unknown key/, lineOf(EXAMPLE, 'seq = true'));
  refuses(edit('mtu = 1400', 'mtu = 40'), /link "ipip1": key "mtu": 40 is outside 68\.\./, lineOf(EXAMPLE, 'mtu = 1400'));
  refuses(edit('remote = "198.51.100.3"', 'remote = "198.51.100.300"'), /link "ipip1": key "remote": "198\.51\.100\.300" is not an IPv4 address/, lineOf(EXAMPLE, 'remote = "198.51.100.3"'));
  refuses(edit('mtu = 1400', 'key = 5', 'ipip1'), /link "ipip1": key "key": only gre and gretap tunnels have key/, lineOf(EXAMPLE, 'mtu = 1400'));
  refuses(edit('if_id = 7', 'if_id = 0'), /link "xfrm1": key "if_id": if_id must be non zero/, lineOf(EXAMPLE, 'if_id = 7'));
  refuses(edit('routes = ["203.0.113.0/26"]', 'routes = ["203.0.113.1/26"]'), /link "gre1": key "routes\[0\]": "203\.0\.113\.1\/26" has host bits set/, lineOf(EXAMPLE, 'routes ='));
  refuses(edit('addresses = ["192.0.2.1/30"]', 'addresses = ["192.0.2.1/33"]'), /key "addresses\[0\]": .* is not ADDR\/PLEN/, lineOf(EXAMPLE, 'addresses ='));
  refuses(edit('up = false', 'up = false\nroutes = ["203.0.113.64/26"]'), /link "ipip1": key "routes": routes need up = true/, lineOf(EXAMPLE, 'up = false') + 1);
  refuses(edit('type = "xfrm"', 'type = "xfrm"\ndev = "nosuch0"'), /link "xfrm1": key "dev": Cannot find device "nosuch0"/, lineOf(EXAMPLE, 'type = "xfrm"') + 1);
  refuses(edit('up = false', 'routes = ["203.0.113.0/26"]'), /link "ipip1": key "routes\[0\]": 203\.0\.113\.0\/26 is routed through link "gre1" too/, lineOf(EXAMPLE, 'up = false'));
  refuses(edit('type = "gre"', 'type = "vxlan"'), /link "gre1": key "type": unknown tunnel type "vxlan"/, lineOf(EXAMPLE, 'type = "gre"'));
  refuses(edit('[link.xfrm1]', '[link.toolongname12345]'), /link "toolongname12345": "toolongname12345" must be 1 to 15 bytes/, lineOf(EXAMPLE, '[link.xfrm1]'));
});

test('state and policy refusals name line, object and key (makeSaConfig, makeEspCrypto, Spd.make)', () => {
  const st2 = lineOf(EXAMPLE, '[[xfrm.state]]', lineOf(EXAMPLE, 'spi = 0x1001'));
  refuses(edit(`key = "${KEY1}"`, 'key = "0x1122"'), /xfrm state #1: key "aead": rfc4106\(gcm\(aes\)\) key of 16 bits refused/, lineOf(EXAMPLE, 'aead ='));
  refuses(edit(`key = "${KEY1}"`, 'key = "0xzz"'), /xfrm state #1: key "aead\.key": must be hex/, lineOf(EXAMPLE, 'aead ='));
  refuses(edit('@/etc/tunkit/sa2.key', '@/etc/tunkit/none.key'), /xfrm state #2: key "aead\.key": key file \/etc\/tunkit\/none\.key: no such file/, lineOf(EXAMPLE, 'sa2.key'));
  refuses(edit('mode = "tunnel"', 'mode = "beet"'), /xfrm state #1: key "mode": "beet": tunkit implements mode transport and tunnel/, lineOf(EXAMPLE, 'mode = "tunnel"'));
  refuses(edit('spi = 0x2002', 'spi = 0x1001\ndst = "198.51.100.2"').replace(/dst = "198.51.100.1"\nspi/, 'spi'), /xfrm state #2: key "spi": state #1 has the same dst and spi/, st2 + 2);
  refuses(edit('replay-window = 32', 'replay-window = 99999'), /xfrm state #1: key "replay-window": ESN bitmap length/, lineOf(EXAMPLE, 'replay-window'));
  refuses(edit('dir = "out"', 'dir = "sideways"'), /xfrm policy #1: key "dir": "sideways" is not in, out or fwd/, lineOf(EXAMPLE, 'dir = "out"'));
  refuses(edit('reqid = 1, mode = "tunnel"', 'reqid = 1, mode = "beet"'), /xfrm policy #1: key "tmpl\[0\]\.mode": must be transport or tunnel/, lineOf(EXAMPLE, 'tmpl ='));
  refuses(edit('src = "203.0.113.2"', 'src = "2001:db8::2"'), /xfrm policy #2: key "dst": src and dst must be of one family/, lineOf(EXAMPLE, 'dst = "203.0.113.1"'));
  refuses(edit('dir = "in"', 'dir = "out"').replace('src = "203.0.113.2"\ndst = "203.0.113.1"', 'src = "203.0.113.1"\ndst = "203.0.113.2"'),
    /xfrm policy #2: key "dir": policy #1 has the same dir, selector/, lineOf(EXAMPLE, 'dir = "in"'));
  refuses(edit('fwd = "block"', 'fwd = "drop"'), /xfrm defaults: key "fwd": "drop" is not accept or block/, lineOf(EXAMPLE, 'fwd = "block"'));
});

test('syntax errors and unknown tables: the line of the error', () => {
  refuses(edit('key = 42', 'key = = 42'), /^\/etc\/tunkit\.toml:\d+: TOML syntax: /, lineOf(EXAMPLE, 'key = 42'));
  refuses(`${EXAMPLE}\n[tunnels]\nx = 1\n`, /tunnels: unknown table \(link, xfrm\)/, EXAMPLE.split('\n').length + 1);
  refuses(`${EXAMPLE}\n[xfrm.sa]\nx = 1\n`, /xfrm\.sa: unknown key \(state, policy, defaults\)/, EXAMPLE.split('\n').length + 1);
});

test('KeyLines: headers, array-of-tables numbering, inline table keys, quoted names', () => {
  const k = new KeyLines('[link."gre.1"]\nttl = 1\n[[xfrm.state]]\nspi = 1\n[[xfrm.state]]\nspi = 2\naead = { name = "x", key = "y" }\n[xfrm.state.sel]\nsrc = "a"\n');
  assert.equal(k.lineOf(['link', 'gre.1', 'ttl']), 2);
  assert.equal(k.lineOf(['xfrm', 'state', 0, 'spi']), 4);
  assert.equal(k.lineOf(['xfrm', 'state', 1, 'spi']), 6);
  assert.equal(k.lineOf(['xfrm', 'state', 1, 'aead', 'key']), 7);
  assert.equal(k.lineOf(['xfrm', 'state', 1, 'sel', 'src']), 9);
  assert.equal(k.lineOf(['xfrm', 'state', 1, 'mode']), 5, 'absent: the object\'s header');
  assert.equal(k.lineOf(['nowhere']), 0);
});

test('the README\'s example config loads as written', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const m = /### Configuration file[^]*?```toml\n([^]*?)```/.exec(readme);
  assert.ok(m !== null, 'README has a toml block under "Configuration file"');
  const read: string[] = [];
  const { model } = loadConfig(m[1]!, 'README.md', { readKey: (p) => { read.push(p); return KEY1; }, hasDevice: () => false });
  assert.deepEqual(read, ['/etc/tunkit/keys/sa1001', '/etc/tunkit/keys/sa2002']);
  assert.deepEqual(model.links.map((l) => l.name), ['gre1', 'xfrm1']);
  assert.equal(model.states.length, 2);
  assert.equal(model.policies.length, 1);
  for (const a of [...m[1]!.matchAll(/\b(\d+\.\d+\.\d+\.\d+)/g)].map((x) => x[1]!)) {
    assert.match(a, /^(192\.0\.2|198\.51\.100|203\.0\.113)\./, `documentation addresses only: ${a}`);
  }
});
