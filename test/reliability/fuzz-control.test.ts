// Fuzzing the control protocol (daemon/protocol.ts, server.ts) and the
// request handlers behind it (TunkitNode for link.*, XfrmControl for
// xfrm.*), with random lines, mutated valid requests and random argument
// objects:
//   - parseRequest never throws: a Request, or an error naming the field;
//   - LineSplitter gives the same lines however the stream is chunked, and
//     refuses (never buffers) a line past its limit;
//   - a handler answers a data value or throws a VpnError (code + message):
//     never a TypeError, and a refused request changes nothing (the link,
//     state and policy lists are the same before and after);
//   - over a real unix socket, a ControlServer answers every line once, in
//     order, and still answers `ping` after the garbage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { TunkitNode } from '../../src/daemon/node.js';
import { LineSplitter, MAX_LINE_BYTES, OPS, parseRequest } from '../../src/daemon/protocol.js';
import type { Request } from '../../src/daemon/protocol.js';
import { ControlServer } from '../../src/daemon/server.js';
import { XfrmControl } from '../../src/daemon/xfrm-control.js';
import { VpnError } from '../../src/wire/errors.js';
import type { XfrmOp } from '../../src/xfrm/spec.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { FakeDevices } from '../daemon/fake-devices.js';
import { fuzz, fuzzAsync, fuzzRuns } from './fuzz-harness.js';

const BOUNDED = 2500;

/** Requests the CLI sends (valid ones), the start of mutation. */
const VALID: readonly Request[] = [
  { id: 1, op: 'link.add', args: { name: 'gre1', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', key: 5, ttl: 64 } },
  { id: 2, op: 'link.add', args: { name: 'sit1', kind: 'sit', remote: '198.51.100.2', mode: 'any' } },
  { id: 3, op: 'link.set', args: { name: 'gre1', up: true, mtu: 1400 } },
  { id: 4, op: 'link.change', args: { name: 'gre1', kind: 'gre', ttl: 10 } },
  { id: 5, op: 'link.del', args: { name: 'gre1' } },
  { id: 6, op: 'link.show', args: {} },
  { id: 7, op: 'xfrm.state.add', args: { state: { src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', spi: 4096, mode: 'tunnel', reqid: 1, replayWindow: 32, aead: { name: 'rfc4106(gcm(aes))', keyHex: '0102030405060708090a0b0c0d0e0f1011121314', bits: 128 }, sel: { src: '192.0.2.0/24', dst: '203.0.113.0/24' } } } },
  { id: 8, op: 'xfrm.state.add', args: { state: { src: '198.51.100.2', dst: '198.51.100.1', proto: 'esp', spi: 8192, mode: 'transport', enc: { name: 'cbc(aes)', keyHex: '00112233445566778899aabbccddeeff' }, auth: { name: 'hmac(sha256)', keyHex: '22'.repeat(32), bits: 128 }, authTrunc: true, encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' }, limits: { timeHardSec: 60 } } } },
  { id: 9, op: 'xfrm.policy.add', args: { policy: { sel: { src: '192.0.2.0/24', dst: '203.0.113.0/24', proto: 6, dport: 80 }, dir: 'out', priority: 5, tmpls: [{ src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', mode: 'tunnel', reqid: 1 }] } } },
  { id: 10, op: 'xfrm.state.del', args: { id: { dst: '198.51.100.2', proto: 'esp', spi: 4096 } } },
  { id: 11, op: 'xfrm.policy.del', args: { id: { dir: 'out', sel: { src: '192.0.2.0/24', dst: '203.0.113.0/24' } } } },
  { id: 12, op: 'xfrm.policy.setdefault', args: { defaults: { in: 'block', out: 'accept' } } },
  { id: 13, op: 'xfrm.state.get', args: { id: { dst: '198.51.100.2', proto: 'esp', spi: 8192 }, keys: true } },
];

/** JSON values of every shape, with the keys the handlers read mixed in. */
const KEYS = ['name', 'kind', 'local', 'remote', 'key', 'ikey', 'okey', 'ttl', 'tos', 'mtu', 'up', 'dev', 'mode', 'state', 'policy', 'id', 'src', 'dst', 'spi', 'proto', 'sel', 'tmpls', 'dir', 'aead', 'enc', 'auth', 'keyHex', 'bits', 'encap', 'limits', 'flags', 'mark', 'ifId', 'defaults', 'keys', 'type', 'reqid', 'replayWindow', 'priority', '__proto__', 'constructor'];
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, -1, 1, 7, 4096, 'toString', 'constructor', 0xffffffff, 2 ** 53, 1.5, NaN, '', 'gre', 'esp', 'tunnel', '198.51.100.2', '192.0.2.0/24', '::/0', 'x'.repeat(300)),
    fc.string({ maxLength: 16 }), fc.integer(), fc.double(),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie('v'), { maxKeys: 5 })),
})).v;

/** Replaces one path of a JSON object (chosen by `path`) with `v`. */
function mutate(obj: unknown, path: readonly number[], v: unknown): unknown {
  if (path.length === 0 || obj === null || typeof obj !== 'object') return v;
  const keys = Object.keys(obj);
  if (keys.length === 0) return v;
  const k = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(obj) ? ([...obj] as unknown as Record<string, unknown>) : { ...(obj as Record<string, unknown>) };
  copy[k] = mutate((obj as Record<string, unknown>)[k], path.slice(1), v);
  return copy;
}

/** A valid request with one value somewhere inside its args replaced (sometimes the id or op instead). */
const mutatedRequest = fc.tuple(fc.constantFrom(...VALID), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), value, fc.nat(7))
  .map(([r, path, v, where]) => (where === 0 ? mutate(r, path, v) : { ...r, args: mutate(r.args, path, v) }));
const requestObject = fc.oneof(
  { arbitrary: mutatedRequest, weight: 6 },
  { arbitrary: fc.record({ id: fc.oneof(fc.nat(), value), op: fc.oneof(fc.constantFrom(...OPS), fc.string()), args: value }), weight: 2 },
  { arbitrary: value, weight: 1 },
);

test('fuzz parseRequest: any line gives a request or an error naming the field, never a throw', (t) => {
  const line = fc.oneof({ arbitrary: requestObject.map((o) => JSON.stringify(o) ?? 'undefined'), weight: 5 }, { arbitrary: fc.string({ maxLength: 80 }), weight: 1 }, { arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')), weight: 1 });
  fuzz(t, 'control/parse', line, (l) => {
    const r = parseRequest(l);
    if ('error' in r) {
      assert.ok(r.error.code.length > 0 && r.error.message.length > 0);
      return `error:${r.error.code}:${r.error.field ?? '-'}`;
    }
    assert.ok((OPS as readonly string[]).includes(r.op) && Number.isSafeInteger(r.id));
    return 'request';
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 4 });
});

test('fuzz LineSplitter: the same lines however the stream is cut; a line past the limit is refused', (t) => {
  const text = fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('\n', '\n\n', ' \n', 'é\n', '{"id":1}\n')), { maxLength: 12 }).map((a) => a.join(''));
  fuzz(t, 'control/lines', fc.tuple(text, fc.array(fc.nat(40), { maxLength: 8 }), fc.integer({ min: 8, max: 64 })), ([s, cuts, max]) => {
    const sp = new LineSplitter(max);
    const got: string[] = [];
    let from = 0;
    let isRefused = false;
    for (const c of [...cuts, s.length]) {
      const to = Math.min(s.length, from + c);
      const out = sp.push(s.substring(from, to));
      from = to;
      if (out === null) { isRefused = true; break; }
      got.push(...out);
    }
    // Reference: whole lines (non-blank), refused once any line (or the unfinished tail) exceeds max UTF-8 bytes.
    const parts = s.split('\n');
    const whole = parts.slice(0, -1);
    const tooLong = parts.some((p) => Buffer.byteLength(p) > max);
    if (tooLong) {
      assert.ok(isRefused, `a line over ${max} bytes must be refused`);
      return 'refused';
    }
    assert.ok(!isRefused);
    assert.deepEqual(got, whole.filter((l) => l.trim() !== ''));
    return got.length === 0 ? 'no-lines' : 'lines';
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 3 });
  assert.equal(MAX_LINE_BYTES, 65536, 'the daemon\'s limit');
});

/** The daemon's dispatch for link.* and xfrm.* (daemon/dispatch.ts handle() without the data path). */
function handler(): { handle: (req: Request) => unknown; snapshot: () => string } {
  const node = new TunkitNode(new FakeDevices(), () => {}, () => 0);
  const x = new XfrmControl(new XfrmStack(), { ifindex: () => 2, publish: () => {}, now: () => 1_700_000_000_000, routeMtu: () => 1500, tablesChanged: () => {} });
  const handle = (req: Request): unknown => {
    const a = req.args;
    if (req.op.startsWith('xfrm.')) return x.handle(req.op as XfrmOp, a);
    switch (req.op) {
      case 'link.add': return node.addLink(a);
      case 'link.change': return node.changeLink(a).rec;
      case 'link.del': node.delLink(a['name']); return null;
      case 'link.set': return node.setLink(a['name'], a);
      case 'link.show': return node.showLinks(a['name'], a['type']);
      case 'stats': return node.stackDrops();
      default: return 'not-handled';
    }
  };
  const snapshot = (): string => JSON.stringify([node.showLinks(), x.handle('xfrm.state.list', { keys: true }), x.handle('xfrm.policy.list', {}), x.handle('xfrm.policy.getdefault', {})]);
  return { handle, snapshot };
}

test('fuzz request handlers: a value or a VpnError naming the problem; a refused request changes nothing', (t) => {
  const h = handler();
  fuzz(t, 'control/handlers', requestObject, (o) => {
    const r = parseRequest(JSON.stringify(o) ?? '');
    if ('error' in r) return 'undecodable';
    const before = h.snapshot();
    try {
      const v = h.handle(r);
      JSON.stringify(v); // the answer must be sendable
      return `ok:${r.op}`;
    } catch (e) {
      if (!(e instanceof VpnError)) throw new Error(`${r.op} ${JSON.stringify(r.args).substring(0, 300)} threw ${String(e)}`, { cause: e });
      assert.ok(e.message.length > 0);
      assert.equal(h.snapshot(), before, `${r.op} refused (${e.message}) but changed the tables`);
      return `${e.code}:${r.op}`;
    }
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 10 });
});

test('fuzz ControlServer: every garbage line over the socket is answered once, then ping still works', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-fuzz-'));
  const path = join(dir, 'ctl.sock');
  const h = handler();
  const srv = new ControlServer(path, (req) => (req.op === 'ping' ? 'pong' : h.handle(req)), () => {}, { maxQueueBytes: 1 << 24 });
  await srv.listen();
  const sock = connect(path);
  sock.setEncoding('utf8');
  let buf = '';
  const waiters: (() => void)[] = [];
  const answers: string[] = [];
  sock.on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    answers.push(...lines);
    for (const w of waiters.splice(0)) w();
  });
  const until = async (n: number): Promise<void> => { while (answers.length < n) await new Promise<void>((r) => waiters.push(r)); };
  try {
    const line = fc.oneof({ arbitrary: requestObject.map((o) => (JSON.stringify(o) ?? '').replace(/\n/g, ' ')), weight: 4 }, { arbitrary: fc.string({ maxLength: 60 }).map((s) => s.replace(/\n/g, ' ')), weight: 1 });
    await fuzzAsync(t, 'control/socket', line, async (l) => {
      if (l.trim() === '') return 'blank';
      const n = answers.length;
      sock.write(`${l}\n`);
      await until(n + 1);
      const a = JSON.parse(answers[n]!) as { ok: boolean; error?: { code: string } };
      assert.notEqual(a.error?.code, 'EINTERNAL', `an internal error for ${l.substring(0, 200)}`);
      return a.ok ? 'ok' : `error:${a.error?.code ?? '?'}`;
    }, { runs: fuzzRuns(Math.floor(BOUNDED / 2)), minOutcomes: 3 });
    const n = answers.length;
    sock.write('{"id":99,"op":"ping"}\n');
    await until(n + 1);
    assert.deepEqual(JSON.parse(answers[n]!), { id: 99, ok: true, data: 'pong' });
  } finally {
    sock.destroy();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});



test('xfrm.policy.setdefault with one bad direction changes no direction (found by the handler fuzz)', () => {
  const h = handler();
  const before = h.snapshot();
  assert.throws(() => h.handle({ id: 1, op: 'xfrm.policy.setdefault', args: { defaults: { in: 'block', out: 'sideways' } } }), (e: unknown) => e instanceof VpnError && e.field === 'out');
  assert.equal(h.snapshot(), before, 'in stays accept');
});

test('xfrm.state.add with an auth truncation under 8 bits: a ConfigError naming auth, nothing added (found by the 1M socket fuzz)', () => {
  const h = handler();
  const before = h.snapshot();
  const st = VALID[7]!.args['state'] as Record<string, unknown>;
  for (const bits of [1, 7]) {
    assert.throws(() => h.handle({ id: 1, op: 'xfrm.state.add', args: { state: { ...st, auth: { name: 'hmac(sha256)', keyHex: '22'.repeat(32), bits } } } }),
      (e: unknown) => e instanceof VpnError && e.field === 'auth' && /8 <= bits <= 256/.test(e.message), `bits ${bits}`);
  }
  assert.equal(h.snapshot(), before);
});

test('link.add with kind "toString": a ConfigError naming type (found by the 1M handler fuzz)', () => {
  const h = handler();
  assert.throws(() => h.handle({ id: 2, op: 'link.add', args: { name: 'sit1', kind: 'toString', remote: '198.51.100.2', mode: 'any' } }), (e: unknown) => e instanceof VpnError && e.field === 'type');
});

