// The I/O compliance suites on real Linux devices, as root, each run in a
// fresh network namespace with a unique name that is always deleted:
//   1. fixtures/suite-linux: TunLinux pair via kernel forwarding; RawConn pair
//      via lo (see that file);
//   2. GRE over a veth pair between two namespaces: 64 proto-47 datagrams
//      sent with one sendBatch in ns1 arrive through recvBatch in ns2 with
//      vb's ifindex and 192.0.2.1 as source (fixtures/gre-veth).
//   3. ICMP_FILTER: a raw ICMP socket opened with icmpTypes receives only
//      those types (fixtures/icmp-filter).
// Not root → these tests FAIL with a message saying so (CI runs as root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, deleteNetns, ip, nodeInNetns, requireRoot, runSuiteInNetns } from './fixtures/netns.js';

test('linux I/O compliance in a network namespace', async (t) => {
  requireRoot('test/io/linux.test');
  const ns = createNetns('suite');
  try {
    await runSuiteInNetns(t, ns, 'suite-linux');
  } finally {
    deleteNetns(ns);
  }
});

interface GreResult { readonly count: number; readonly ifindexes: number[]; readonly srcs: number[]; readonly mismatches: number[]; readonly expectIfindex: number }

test('raw GRE over veth: a 64-datagram sendBatch in one namespace arrives by recvBatch in the other', async () => {
  requireRoot('test/io/linux.test');
  const ns1 = createNetns('gre1');
  const ns2 = createNetns('gre2');
  try {
    ip('-n', ns1, 'link', 'add', 'va', 'address', '02:00:00:00:00:0a', 'type', 'veth', 'peer', 'name', 'vb', 'address', '02:00:00:00:00:0b', 'netns', ns2);
    ip('-n', ns1, 'addr', 'add', '192.0.2.1/24', 'dev', 'va');
    ip('-n', ns2, 'addr', 'add', '192.0.2.2/24', 'dev', 'vb');
    ip('-n', ns1, 'link', 'set', 'va', 'up');
    ip('-n', ns2, 'link', 'set', 'vb', 'up');
    // Static neighbours: no ARP round trip holding the first datagrams.
    ip('-n', ns1, 'neigh', 'replace', '192.0.2.2', 'lladdr', '02:00:00:00:00:0b', 'dev', 'va', 'nud', 'permanent');
    ip('-n', ns2, 'neigh', 'replace', '192.0.2.1', 'lladdr', '02:00:00:00:00:0a', 'dev', 'vb', 'nud', 'permanent');
    const recv = nodeInNetns(ns2, 'gre-veth', ['recv']);
    await recv.waitLine('READY');
    const send = await nodeInNetns(ns1, 'gre-veth', ['send']).done;
    assert.equal(send.code, 0, `sender failed:\n${send.stderr}`);
    assert.match(send.stdout, /^SENT 64$/m);
    const run = await recv.done;
    assert.equal(run.code, 0, `receiver failed:\n${run.stderr}`);
    const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
    assert.ok(line !== undefined, `receiver printed no result:\n${run.stdout}\n${run.stderr}`);
    const r = JSON.parse(line) as GreResult;
    assert.equal(r.count, 64, 'all 64 datagrams received');
    assert.deepEqual(r.mismatches, [], 'datagrams byte-identical and in order');
    assert.ok(r.expectIfindex > 1, 'vb has an ifindex');
    assert.ok(r.ifindexes.every((x) => x === r.expectIfindex), `ifindex of vb (${r.expectIfindex}): ${r.ifindexes.join()}`);
    assert.ok(r.srcs.every((x) => x === 0xc0000201), 'source 192.0.2.1');
  } finally {
    deleteNetns(ns1);
    deleteNetns(ns2);
  }
});

test('raw ICMP socket with icmpTypes: the kernel queues only those types (ICMP_FILTER)', async () => {
  requireRoot('test/io/linux.test');
  const ns = createNetns('icmpf');
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const run = await nodeInNetns(ns, 'icmp-filter').done;
    assert.equal(run.code, 0, `fixture failed:\n${run.stderr}`);
    const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
    assert.ok(line !== undefined, `fixture printed no result:\n${run.stdout}\n${run.stderr}`);
    const r = JSON.parse(line) as { sent: number; filtered: number[]; all: number[] };
    assert.equal(r.sent, 5);
    assert.deepEqual(r.all, [8, 0, 3, 4, 11], 'the unfiltered socket sees every type');
    assert.deepEqual(r.filtered, [3, 11], 'the filtered socket sees only 3 and 11');
  } finally {
    deleteNetns(ns);
  }
});
