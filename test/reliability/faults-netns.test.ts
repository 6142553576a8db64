// Faults of a running tunkitd pair (test/netns/pair.ts: two namespaces over
// veth, a daemon in each), each while a GRE tunnel and an ESP tunnel-mode
// policy carry pings: the daemon lives, says so once per condition in its
// log, counts the packets it lost, and traffic flows again by itself when
// the condition ends.
//   - the underlay veth going down and up (sends fail: ENETUNREACH);
//   - the TUN of a tunnel deleted behind tunkit's back (`ip link del`): the
//     daemon opens it again (same name, MTU, up); addresses went with it.
// ENOBUFS and a full send buffer (EAGAIN) are driven through the same data
// path in faults-packet.test.ts: the raw socket's 4 MiB buffer
// (SO_SNDBUFFORCE) did not fill behind a 1 Mbit/s tbf under a ping flood.
// Needs root; FAILS (never skips) without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, withPair } from '../netns/pair.js';
import type { Pair } from '../netns/pair.js';

const KEY = `0x${'42'.repeat(20)}`;

/** gre1 (192.0.2.1 ↔ .2) and an ESP tunnel-mode policy for 203.0.113.1 ↔ .2 (addresses on lo). */
function setup(p: Pair): void {
  p.tunnel('gre1', 'type gre key 5', ['198.51.100.1', '198.51.100.2'], ['192.0.2.1/30', '192.0.2.2/30']);
  const ends = [['198.51.100.1', '203.0.113.1'], ['198.51.100.2', '203.0.113.2']] as const;
  for (const [i, s] of (['left', 'right'] as const).entries()) {
    const [me, inner] = ends[i]!;
    const [peer, pInner] = ends[1 - i]!;
    p.shOk(s, `ip addr add ${inner}/32 dev lo`);
    for (const [src, dst, spi] of [[me, peer, i === 0 ? '0x100' : '0x200'], [peer, me, i === 0 ? '0x200' : '0x100']] as const) {
      p.tunkitOk(s, ['xfrm', 'state', 'add', 'src', src, 'dst', dst, 'proto', 'esp', 'spi', spi, 'reqid', '1', 'mode', 'tunnel', 'aead', 'rfc4106(gcm(aes))', KEY, '128']);
    }
    p.tunkitOk(s, `xfrm policy add src ${inner}/32 dst ${pInner}/32 dir out tmpl src ${me} dst ${peer} proto esp reqid 1 mode tunnel`);
    p.tunkitOk(s, `xfrm policy add src ${pInner}/32 dst ${inner}/32 dir in tmpl src ${peer} dst ${me} proto esp reqid 1 mode tunnel`);
  }
}

async function bothFlow(p: Pair, what: string): Promise<void> {
  await p.pingOk('left', '192.0.2.2', { count: 3, waitS: 2 }).catch((e: Error) => { throw new Error(`${what}: GRE: ${e.message}`); });
  await p.pingOk('left', '203.0.113.2', { count: 3, waitS: 2, iface: '203.0.113.1' }).catch((e: Error) => { throw new Error(`${what}: ESP: ${e.message}`); });
}

const count = (s: string, re: RegExp): number => (s.match(new RegExp(re.source, 'g')) ?? []).length;

test('the underlay link down and up: sends fail, logged once per condition, counted; both tunnels flow again by themselves', { timeout: 120_000 }, async () => {
  await withPair('tkfd', async (p) => {
    setup(p);
    await bothFlow(p, 'before');
    const before = p.stats('left', 'gre1').tx;
    p.shOk('left', `ip link set ${p.left.veth} down`);
    await p.ping('left', '192.0.2.2', { count: 10, intervalS: 0.1, waitS: 1 });
    await p.ping('left', '203.0.113.2', { count: 5, intervalS: 0.1, waitS: 1, iface: '203.0.113.1' });
    p.shOk('left', `ip link set ${p.left.veth} up`);
    await sleep(1500); // the once-a-second route refresh sees the route back
    await bothFlow(p, 'after');
    assert.ok(p.isAlive('left') && p.isAlive('right'));
    const after = p.stats('left', 'gre1').tx;
    assert.ok(after['dropped']! + after['errors']! + after['carrier_errors']! > before['dropped']! + before['errors']! + before['carrier_errors']!,
      `the lost packets are counted: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    const log = p.left.log;
    for (const m of log.match(/event=datapath_fault[^\n]*send gre1 \S+/g) ?? []) {
      const key = /send gre1 \S+/.exec(m)![0];
      assert.equal(count(log, new RegExp(`datapath_fault[^\\n]*${key}`)), 1, `"${key}" logged once:\n${log}`);
    }
  });
});

test('the TUN of a tunnel deleted behind tunkit\'s back: the daemon lives, logs it, opens it again; the ESP policy never stopped', { timeout: 120_000 }, async () => {
  await withPair('tkfd', async (p) => {
    setup(p);
    await bothFlow(p, 'before');
    p.shOk('left', 'ip link del gre1');
    await sleep(800);
    await p.pingOk('left', '203.0.113.2', { count: 3, waitS: 2, iface: '203.0.113.1' }); // the other tunnel is untouched
    const shown = JSON.parse(p.tunkitOk('left', '-j link show gre1')) as { ifname: string; mtu: number; flags: string[] }[];
    assert.equal(shown[0]?.ifname, 'gre1');
    assert.ok(shown[0]!.flags.includes('UP'), `up again: ${JSON.stringify(shown)}`);
    p.shOk('left', 'ip addr add 192.0.2.1/30 dev gre1'); // addresses went with the deleted device, as the kernel's do
    await bothFlow(p, 'after');
    const log = p.left.log;
    assert.equal(count(log, /datapath_fault[^\n]*read gre1/), 1, `the failing read logged once:\n${log}`);
    assert.equal(count(log, /event=device_recreated dev=gre1/), 1, log);
    assert.ok(p.isAlive('left'));
  });
});
