// Words that name Object.prototype's members (toString, constructor,
// __proto__, hasOwnProperty, valueOf) given where a table of known words is
// looked up: each is refused like any unknown word, with the error naming
// the field. The control-handler fuzz (test/reliability/fuzz-control.test.ts,
// 1M inputs) found `link add … kind toString` throwing a TypeError from the
// tunnel table; the others were found by reading for the same pattern.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TunkitNode } from '../../src/daemon/node.js';
import { parseSeconds } from '../../src/ike/actions.js';
import { parseProposal } from '../../src/ike/proposal.js';
import { parseSwanctl, SwanctlError } from '../../src/ike/swanctl.js';
import { ConfigError } from '../../src/wire/errors.js';
import { wordTable } from '../../src/wire/table.js';
import { FakeDevices } from '../daemon/fake-devices.js';
import { conf } from '../ike/pair.js';

const PROTO_WORDS = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];

test('wordTable: own entries only, frozen', () => {
  const t = wordTable<string, number>({ a: 1, b: 2 });
  assert.equal(t['a'], 1);
  for (const w of PROTO_WORDS) assert.equal(t[w], undefined, w);
  assert.ok(Object.isFrozen(t));
  assert.deepEqual(Object.keys(t), ['a', 'b']);
});

test('link add with kind or a parameter named after an Object.prototype member: a ConfigError naming the field, nothing added', () => {
  const node = new TunkitNode(new FakeDevices(), () => {}, () => 0);
  for (const w of PROTO_WORDS) {
    assert.throws(() => node.addLink({ name: 'sit1', kind: w, remote: '198.51.100.2' }), (e: unknown) => e instanceof ConfigError && e.field === 'type', `kind ${w}`);
    assert.throws(() => node.addLink(JSON.parse(`{"name":"gre1","kind":"gre","${w}":1}`) as Record<string, unknown>), (e: unknown) => e instanceof ConfigError && e.field === w, `parameter ${w}`);
  }
  assert.deepEqual(node.showLinks().filter((l) => l.name === 'sit1' || l.name === 'gre1'), []);
});

test('IKE proposals and swanctl.conf values named after Object.prototype members are refused with a message', () => {
  for (const w of PROTO_WORDS) {
    for (const p of [w, `aes128-sha256-${w}`, `aes128-${w}-x25519`, `${w}-sha256-x25519`]) {
      const r = parseProposal(p, 1);
      assert.equal(typeof r, 'string', `${p} gives an error string, not ${JSON.stringify(r)}`);
    }
    assert.equal(parseSeconds(`1${w}`), null, `1${w}`);
    const text = conf('a', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16').replace(/auth = psk/, `auth = ${w}`);
    assert.throws(() => parseSwanctl(text, 'a.conf'), (e: unknown) => e instanceof SwanctlError && /auth/.test(e.message), `auth = ${w}`);
  }
});
