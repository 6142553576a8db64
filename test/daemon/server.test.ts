import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer } from '../../src/daemon/server.js';
import { monitor, request } from '../../src/daemon/client.js';
import { ConfigError, VpnError } from '../../src/wire/errors.js';
import type { MonitorEvent } from '../../src/daemon/protocol.js';

function raw(path: string, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(path);
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => { got += d; });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    s.write(text, () => setTimeout(() => s.end(), 50));
  });
}

async function withServer(fn: (path: string, srv: ControlServer) => Promise<void>): Promise<void> {
  const path = join(mkdtempSync(join(tmpdir(), 'tk-ctl-')), 'ctl.sock');
  const srv = new ControlServer(path, (req) => {
    if (req.op === 'ping') return 'pong';
    if (req.op === 'link.show') return Array.from({ length: 2000 }, (_, i) => ({ name: `t${i}`, pad: 'x'.repeat(200) })); // ~450 KB: 2,000 links
    if (req.op === 'link.add') throw new ConfigError('ttl', '300 is not in 0..255');
    throw new Error('boom');
  }, () => {});
  await srv.listen();
  try {
    await fn(path, srv);
  } finally {
    await srv.close();
  }
}

test('request/response, errors keep code and field, the socket is 0600', async () => {
  await withServer(async (path) => {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(await request(path, 'ping'), 'pong');
    await assert.rejects(request(path, 'link.add', {}), (e: unknown) => e instanceof VpnError && e.code === 'EINVAL' && e.field === 'ttl');
    await assert.rejects(request(path, 'link.del', {}), (e: unknown) => e instanceof VpnError && e.code === 'EINTERNAL');
  });
});

test('a reply far over the request line limit (link show of 2,000 tunnels) reaches the client whole', async () => {
  await withServer(async (path) => {
    const r = await request(path, 'link.show', {}, 5000) as { name: string }[];
    assert.equal(r.length, 2000);
    assert.equal(r[1999]!.name, 't1999');
  });
});

test('garbage, wrong shapes and oversize lines get errors and the server keeps serving', async () => {
  await withServer(async (path) => {
    assert.match(await raw(path, 'not json\n'), /"EPROTO"/);
    assert.match(await raw(path, '[1,2]\n'), /"EPROTO"/);
    assert.match(await raw(path, '{"id":3,"op":"reboot"}\n'), /"id":3,"ok":false.*"EOPNOTSUPP"/);
    assert.match(await raw(path, '{"id":4,"op":"ping","args":7}\n'), /"EPROTO"/);
    assert.match(await raw(path, 'x'.repeat(70_000)), /"EMSGSIZE"/);
    assert.equal(await request(path, 'ping'), 'pong');
  });
});

test('a second server on a live socket is refused; a stale socket file is replaced', async () => {
  await withServer(async (path) => {
    const again = new ControlServer(path, () => null, () => {});
    await assert.rejects(again.listen(), (e: unknown) => e instanceof VpnError && e.code === 'EADDRINUSE');
  });
});

test('monitor streams published events; drop events only to subscribers that asked', async () => {
  await withServer(async (path, srv) => {
    const got: MonitorEvent[] = [];
    const done = monitor(path, false, (e) => got.push(e));
    await new Promise((r) => setTimeout(r, 100));
    srv.publish({ type: 'drop', dir: 'rx', dev: 'g', reason: 'NoTunnel', text: 'x' });
    srv.publish({ type: 'link.add', dev: 'gre1', kind: 'gre' });
    await new Promise((r) => setTimeout(r, 100));
    await srv.close();
    await done;
    assert.deepEqual(got, [{ type: 'link.add', dev: 'gre1', kind: 'gre' }]);
  });
});
