// Exit statuses and first words of ip(8)'s failures (iproute2 6.1), through
// main() against a fake tunkitd on a unix socket: ip/ip.c do_cmd negates a
// command's `return -1` (exit 1), exit(-1) is 255, and a kernel refusal is
// rtnl_talk's "RTNETLINK answers: <strerror>" with exit 2. tunkit keeps those
// words first and adds its own reason after them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusError, UsageError } from '../../src/cli/args.js';
import { parseLinkArgs } from '../../src/cli/link-args.js';
import { main, remoteMessage } from '../../src/cli/main.js';
import { deleteAll } from '../../src/cli/xfrm.js';
import { RemoteError, VpnError } from '../../src/wire/errors.js';

type Answer = { ok: true; data: unknown } | { ok: false; error: { code: string; message: string; field?: string } };

/** A daemon answering each op with `answers[op]` (default: ok, null); records the ops it saw. */
async function fakeDaemon(answers: Record<string, Answer>): Promise<{ path: string; ops: string[]; close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-exit-'));
  const path = join(dir, 'd.sock');
  const ops: string[] = [];
  const srv: Server = createServer((s) => {
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const req = JSON.parse(buf.substring(0, i)) as { id: number; op: string };
        buf = buf.substring(i + 1);
        ops.push(req.op);
        s.write(`${JSON.stringify({ id: req.id, ...(answers[req.op] ?? { ok: true, data: null }) })}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  return { path, ops, close: () => { srv.close(); rmSync(dir, { recursive: true, force: true }); } };
}

async function run(path: string, argv: string): Promise<{ status: number; err: string; out: string }> {
  let err = '';
  let out = '';
  const status = await main(['--socket', path, ...argv.split(' ')], { out: (s) => { out += s; }, err: (s) => { err += `${s}\n`; } });
  return { status, err, out };
}

const fail = (code: string, message: string, field?: string): Answer => ({ ok: false, error: { code, message, ...(field !== undefined ? { field } : {}) } });

test('link del / set of a missing device: `Cannot find device "x"`, exit 1 (iplink_modify nodev)', async () => {
  const d = await fakeDaemon({ 'link.del': fail('ENODEV', 'Cannot find device "nope"', 'dev'), 'link.set': fail('ENODEV', 'Cannot find device "nope"', 'dev') });
  try {
    assert.deepEqual(await run(d.path, 'link del nope'), { status: 1, err: 'Cannot find device "nope"\n', out: '' });
    assert.deepEqual(await run(d.path, 'link set nope up'), { status: 1, err: 'Cannot find device "nope"\n', out: '' });
  } finally { d.close(); }
});

test('link show of a missing device: `Device "x" does not exist.`, exit 1 (ipaddr_list_flush_or_save)', async () => {
  const d = await fakeDaemon({ 'link.show': fail('ENODEV', 'Cannot find device "nope"', 'dev') });
  try {
    assert.deepEqual(await run(d.path, 'link show dev nope'), { status: 1, err: 'Device "nope" does not exist.\n', out: '' });
  } finally { d.close(); }
});

test('a daemon refusal of link add: "RTNETLINK answers: File exists", then tunkit\'s reason; exit 2', async () => {
  const d = await fakeDaemon({ 'link.add': fail('EEXIST', 'device t1 exists', 'name') });
  try {
    const r = await run(d.path, 'link add t1 type ipip remote 192.0.2.1');
    assert.equal(r.status, 2);
    assert.equal(r.err, 'RTNETLINK answers: File exists (tunkit: device t1 exists)\n');
    assert.match(r.err, /^RTNETLINK answers: File exists/);
  } finally { d.close(); }
});

test('deleting a missing xfrm policy: ENOENT from the daemon is exit 2 (not 1, "unreachable"), "RTNETLINK answers: No such file or directory"', async () => {
  const d = await fakeDaemon({ 'xfrm.policy.del': fail('ENOENT', 'No such file or directory: no policy matches', 'sel') });
  try {
    const r = await run(d.path, 'xfrm policy delete src 192.0.2.0/24 dst 198.51.100.0/24 dir out');
    assert.deepEqual(r, { status: 2, err: 'RTNETLINK answers: No such file or directory (tunkit: no policy matches)\n', out: '' });
    assert.deepEqual(d.ops, ['xfrm.policy.del']);
  } finally { d.close(); }
});

test('a daemon that cannot be reached is still exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-exit-'));
  try {
    const r = await run(join(dir, 'none.sock'), 'link show');
    assert.equal(r.status, 1);
    assert.match(r.err, /cannot reach tunkitd/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a keyword the kind does not take: the kind\'s help first line (iptunnel_print_help / gre_print_help), exit 1', async () => {
  const cases: [string, string][] = [
    ['add t1 type ipip remote 192.0.2.1 ikey 5', 'Usage: ... ipip  \t[ remote ADDR ]\ntunkit: only gre and gretap tunnels have "ikey", not ipip'],
    ['add t1 type gre remote 192.0.2.1 mode ipip', 'Usage: ... gre      \t[ remote ADDR ]\ntunkit: only ipip and sit tunnels have "mode", not gre'],
    ['add t1 type sit bogus', 'Usage: ... sit   \t[ remote ADDR ]\ntunkit: "bogus" is not a keyword of sit'],
  ];
  for (const [argv, first] of cases) {
    assert.throws(() => parseLinkArgs(argv.split(' ')), (e: unknown) => {
      assert.ok(e instanceof StatusError, argv);
      assert.equal(e.status, 1, argv);
      assert.ok(e.message.startsWith(first), `${argv}: ${e.message}`);
      return true;
    });
  }
  const d = await fakeDaemon({});
  try {
    const r = await run(d.path, 'link add t1 type ipip remote 192.0.2.1 okey 5');
    assert.equal(r.status, 1);
    assert.match(r.err, /^Usage: \.\.\. ipip {2}\t\[ remote ADDR \]\n/);
    assert.deepEqual(d.ops, [], 'nothing sent');
  } finally { d.close(); }
});

test('ttl with nopmtudisc on ipip/sit: link_iptnl.c\'s exact message and exit(-1) = 255; gre takes it', async () => {
  const d = await fakeDaemon({ 'link.add': { ok: true, data: { name: 't1' } } });
  try {
    assert.deepEqual(await run(d.path, 'link add t1 type ipip remote 192.0.2.1 ttl 64 nopmtudisc'),
      { status: 255, err: 'ttl != 0 and nopmtudisc are incompatible\n', out: '' });
    assert.equal((await run(d.path, 'link add t1 type sit remote 192.0.2.1 nopmtudisc ttl 9')).status, 255);
    assert.deepEqual(d.ops, []);
    assert.equal((await run(d.path, 'link add t1 type gre remote 192.0.2.1 ttl 64 nopmtudisc')).status, 0);
  } finally { d.close(); }
  assert.throws(() => parseLinkArgs('add t1 type ipip ttl 64 nopmtudisc'.split(' ')), (e: unknown) => e instanceof UsageError && !(e instanceof StatusError));
});

test('a check standing for the kernel\'s EINVAL: "RTNETLINK answers: Invalid argument (tunkit: FIELD: why)", exit 2', async () => {
  const d = await fakeDaemon({});
  try {
    const r = await run(d.path, 'link add t1 type gre remote 192.0.2.1 ignore-df');
    assert.equal(r.status, 2);
    assert.match(r.err, /^RTNETLINK answers: Invalid argument \(tunkit: ignore-df: /);
    assert.deepEqual(d.ops, []);
  } finally { d.close(); }
});

test('remoteMessage: RTNETLINK words only for link/xfrm errno codes; others keep "Error: "', () => {
  assert.equal(remoteMessage(new RemoteError('ESRCH', 'No such process: no state with this dst, proto and spi'), 'xfrm'),
    'RTNETLINK answers: No such process (tunkit: no state with this dst, proto and spi)');
  assert.equal(remoteMessage(new RemoteError('ENOENT', 'no IKE SA of connection "c"'), 'ike'), 'Error: no IKE SA of connection "c"');
  assert.equal(remoteMessage(new RemoteError('EIKE', 'bad proposal'), 'xfrm'), 'Error: bad proposal');
});

test('deleteAll: every delete is tried; a refused one fails the round as ip does (perror, exit 1)', async () => {
  const done: number[] = [];
  const del = (i: number, isRefused = false) => (): Promise<unknown> => {
    if (isRefused) return Promise.reject(new RemoteError('ESRCH', 'No such process: no state with this dst, proto and spi', 'spi'));
    done.push(i);
    return Promise.resolve(null);
  };
  await assert.rejects(deleteAll([del(1), del(2, true), del(3)]), (e: unknown) => {
    assert.ok(e instanceof StatusError);
    assert.equal(e.status, 1);
    assert.equal(e.message, 'Failed to send delete-all request: No such process (tunkit: 1 of 3 not deleted: no state with this dst, proto and spi)');
    return true;
  });
  assert.deepEqual(done, [1, 3], 'the others are deleted');
  await deleteAll([del(4), del(5)]);
  assert.deepEqual(done, [1, 3, 4, 5]);
  await assert.rejects(deleteAll([() => Promise.reject(new VpnError('ECONNRESET', 'gone'))]), (e: unknown) => e instanceof VpnError && !(e instanceof StatusError));
});
