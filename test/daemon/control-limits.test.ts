// The control socket's bounds (src/daemon/server.ts, socket-file.ts,
// protocol.ts): request size and nesting, connection cap, idle timeout,
// what may stand at the socket path, the mode it is created with, and a
// stopped monitor reader costing the daemon bounded memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer } from '../../src/daemon/server.js';
import type { ControlOptions } from '../../src/daemon/server.js';
import { LineSplitter, MAX_LINE_BYTES, parseRequest } from '../../src/daemon/protocol.js';
import { request } from '../../src/daemon/client.js';
import { VpnError } from '../../src/wire/errors.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tmpSock = (): string => join(mkdtempSync(join(tmpdir(), 'tk-ctl-')), 'ctl.sock');

async function withServer(opts: ControlOptions, fn: (path: string, srv: ControlServer, calls: string[]) => Promise<void>): Promise<void> {
  const path = tmpSock();
  const calls: string[] = [];
  const srv = new ControlServer(path, (req) => { calls.push(req.op); return 'pong'; }, () => {}, opts);
  await srv.listen();
  try {
    await fn(path, srv, calls);
  } finally {
    await srv.close();
  }
}

/** A raw connection that records what it reads and whether it closed. */
function client(path: string): Promise<{ sock: Socket; got: () => string; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let text = '';
    let isClosed = false;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => { text += d; });
    sock.on('close', () => { isClosed = true; });
    sock.once('error', reject);
    sock.once('connect', () => resolve({ sock, got: () => text, closed: () => isClosed }));
  });
}

test('LineSplitter: lines across chunks, a limit in UTF-8 bytes, refused for good once past it', () => {
  const l = new LineSplitter(10);
  assert.deepEqual(l.push('ab'), []);
  assert.deepEqual(l.push('c\n\nde\nf'), ['abc', 'de']);
  assert.deepEqual(l.push('123456789'), []); // "f" + 9 = 10 bytes: at the limit
  assert.equal(l.push('0'), null);
  assert.equal(l.push('\n{"ok":1}\n'), null, 'stays refused');
  const u = new LineSplitter(10);
  assert.equal(u.push('éééééé'), null, '6 characters are 12 bytes');
  const big = new LineSplitter();
  let out: string[] | null = [];
  let n = 0;
  while (out !== null) { out = big.push('x'.repeat(1000)); n += 1000; }
  assert.ok(n <= MAX_LINE_BYTES + 1000, `refused after ${String(n)} bytes, never twice the limit`);
});

test('malformed requests name the field; nesting is bounded', () => {
  const deep = `{"id":5,"op":"ping","args":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`;
  assert.deepEqual(parseRequest(deep), { id: 5, error: { code: 'EPROTO', message: 'args nest deeper than 16 levels', field: 'args' } });
  const op = parseRequest('{"id":2,"op":"reboot"}');
  assert.ok('error' in op && op.error.field === 'op');
  const id = parseRequest('{"id":"x","op":"ping"}');
  assert.ok('error' in id && id.error.field === 'id');
  const ok = parseRequest(`{"id":1,"op":"ping","args":${'{"a":'.repeat(10)}1${'}'.repeat(10)}}`);
  assert.ok(!('error' in ok));
});

test('an oversized request closes the connection; a request after it on the same connection is not run', async () => {
  await withServer({}, async (path, srv, calls) => {
    const c = await client(path);
    c.sock.write('x'.repeat(MAX_LINE_BYTES + 10));
    await sleep(50);
    c.sock.write('{"id":2,"op":"ping"}\n');
    await sleep(200);
    assert.match(c.got(), /"EMSGSIZE"/);
    assert.doesNotMatch(c.got(), /pong/);
    assert.ok(c.closed(), 'the connection is closed, not half-closed');
    assert.deepEqual(calls, []);
    assert.equal(srv.connections, 0);
    assert.equal(await request(path, 'ping'), 'pong', 'the next client is served');
  });
});

test('connections are capped; a freed slot is served again', async () => {
  await withServer({ maxConnections: 3 }, async (path, srv) => {
    const held = [await client(path), await client(path), await client(path)];
    await sleep(50);
    assert.equal(srv.connections, 3);
    const extra = await client(path);
    await sleep(100);
    assert.match(extra.got(), /"EMFILE"/);
    assert.ok(extra.closed());
    await assert.rejects(request(path, 'ping'), (e: unknown) => e instanceof VpnError && e.code === 'EMFILE', 'the CLI reports why');
    held[0]?.sock.destroy();
    await sleep(50);
    assert.equal(await request(path, 'ping'), 'pong');
    for (const h of held) h.sock.destroy();
  });
});

test('an idle connection is closed after idleMs; a monitor stream is not', async () => {
  await withServer({ idleMs: 150 }, async (path) => {
    const idle = await client(path);
    const mon = await client(path);
    mon.sock.write('{"id":1,"op":"monitor","args":{}}\n');
    await sleep(450);
    assert.ok(idle.closed(), 'idle connection closed');
    assert.ok(!mon.closed(), 'monitor stream kept');
    mon.sock.destroy();
  });
});

test('the socket is created 0600 whatever the umask', async () => {
  const old = process.umask(0);
  try {
    await withServer({}, async (path) => {
      assert.equal(statSync(path).mode & 0o777, 0o600);
    });
  } finally {
    process.umask(old);
  }
});

test('a non-socket at the socket path is refused and left alone; a live socket is refused', async () => {
  const path = tmpSock();
  writeFileSync(path, 'precious');
  const srv = new ControlServer(path, () => null, () => {});
  await assert.rejects(srv.listen(), (e: unknown) => e instanceof VpnError && e.code === 'EEXIST' && e.message.includes('not a socket'));
  assert.equal(readFileSync(path, 'utf8'), 'precious');
  await withServer({}, async (live) => {
    const again = new ControlServer(live, () => null, () => {});
    await assert.rejects(again.listen(), (e: unknown) => e instanceof VpnError && e.code === 'EADDRINUSE');
    assert.equal(await request(live, 'ping'), 'pong', 'the live daemon still serves');
  });
});

test('a stale socket (its daemon killed) is replaced', async () => {
  const path = tmpSock();
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(lstatSync(path).isSocket());
  const srv = new ControlServer(path, () => 'pong', () => {});
  await srv.listen();
  try {
    assert.equal(await request(path, 'ping'), 'pong');
  } finally {
    await srv.close();
  }
  assert.ok(!existsSync(path));
});

test('a stopped monitor reader: queued bytes stay under the cap, events are dropped and counted, then reported', async () => {
  const cap = 64 * 1024;
  await withServer({ maxQueueBytes: cap }, async (path, srv) => {
    const c = await client(path);
    c.sock.write('{"id":7,"op":"monitor","args":{"drops":true}}\n');
    await sleep(100);
    c.sock.pause();
    const total = 20_000;
    let maxQueued = 0;
    for (let i = 0; i < total; i++) {
      srv.publish({ type: 'drop', dir: 'rx', dev: 'gre1', reason: 'NoTunnel', text: `spoofed packet ${String(i)} from 192.0.2.1` });
      if (srv.queuedBytes > maxQueued) maxQueued = srv.queuedBytes;
    }
    assert.ok(maxQueued <= cap, `queued ${String(maxQueued)} bytes, cap ${String(cap)}`);
    assert.ok(srv.eventsLost > 0, 'some events were dropped');
    c.sock.resume();
    await sleep(300);
    srv.publish({ type: 'link.add', dev: 'gre2', kind: 'gre' });
    await sleep(100);
    const lines = c.got().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event?: unknown; lost?: number });
    const delivered = lines.filter((l) => l.event !== undefined).length;
    const lost = lines.reduce((n, l) => n + (l.lost ?? 0), 0);
    assert.ok(lost > 0, 'a lost marker reached the client');
    assert.equal(lost, srv.eventsLost);
    assert.equal(delivered + lost, total + 1, 'every event is either delivered or counted as lost');
    c.sock.destroy();
  });
});
