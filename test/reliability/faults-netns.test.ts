// Faults of a running tunkitd pair (test/netns/pair.ts: two namespaces over
// veth, a daemon in each), each while a GRE tunnel and an ESP tunnel-mode
// policy carry pings: the daemon lives, says so once per condition in its
// log, counts the packets it lost, and traffic flows again by itself when
// the condition ends.
//   - the underlay veth going down and up (sends fail: ENETUNREACH);
//   - the TUN of a tunnel deleted behind tunkit's back (`ip link del`): the
//     daemon opens it again (same name, MTU, up, its addresses and routes);
//   - the policy TUN ipsec0 deleted the same way, under a ping: made anew
//     with tunkit's policy routes, the ping recovers by itself, and tcpdump
//     on the peer's veth sees no clear-text probe meanwhile (the fail-closed
//     blackholes stayed);
//   - an xfrm interface deleted: made anew with its if_id, MTU, up state,
//     address and route (with its src).
//   - a full send buffer (EAGAIN): a 1 Mbit/s tbf qdisc with a 64 MB queue
//     on the underlay veth holds what the raw socket sent until its 8 MiB
//     of send buffer is spent, under a burst of UDP through gre1 (a ping
//     flood was too slow to fill it). ENOBUFS cannot be provoked so: a
//     qdisc drop (NET_XMIT_DROP) reaches raw_send_hdrinc as ENOBUFS, which
//     it reports only with IP_RECVERR, and tunkit's sockets do not set it;
//     ENOBUFS is driven through the same data path in faults-packet.test.ts.
// Needs root; FAILS (never skips) without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capture, describe } from '../netns/esp-fixture.js';
import type { Seen } from '../netns/esp-fixture.js';
import { sleep, withPair } from '../netns/pair.js';
import type { Pair, PingResult } from '../netns/pair.js';

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
    assert.match(p.shOk('left', 'ip -4 addr show dev gre1'), /inet 192\.0\.2\.1\/30/, 'its address is back (link-memory.ts)');
    await bothFlow(p, 'after');
    const log = p.left.log;
    assert.equal(count(log, /datapath_fault[^\n]*read gre1/), 1, `the failing read logged once:\n${log}`);
    assert.equal(count(log, /event=device_recreated dev=gre1 mtu=\d+ up=true addresses=1 routes=0/), 1, log);
    assert.ok(p.isAlive('left'));
  });
});

/** ICMP data bytes of the probes through ipsec0: an IPv4 total length no other packet of the test has. */
const ESP_SIZE = 333;

test('the policy TUN ipsec0 deleted behind tunkit\'s back: made anew with its routes, the ping flows again by itself, no clear text meanwhile', { timeout: 120_000 }, async (t) => {
  await withPair('tkfp', async (p) => {
    setup(p);
    p.shOk('left', 'ip route add default via 198.51.100.2'); // without the fail-closed blackhole, clear text would leave by it
    await bothFlow(p, 'before');
    const cap = await Capture.start(p, 'right');
    let seen: Seen[];
    let r: PingResult;
    try {
      const ping = p.ping('left', '203.0.113.2', { iface: '203.0.113.1', count: 50, intervalS: 0.1, waitS: 1, size: ESP_SIZE });
      await sleep(1000);
      p.shOk('left', 'ip link del ipsec0');
      r = await ping;
    } finally {
      seen = await cap.stop();
    }
    t.diagnostic(`ping ${r.received}/${r.transmitted}; wire ${describe(seen)}`);
    assert.equal(seen.filter((x) => x.proto === 1 && x.totalLen === 28 + ESP_SIZE).length, 0, `clear-text probes on the right's veth: ${describe(seen)}`);
    assert.ok(seen.some((x) => x.proto === 50), 'ESP crossed');
    assert.ok(r.received >= r.transmitted - 10, `at most ~1 s of the ping lost: ${r.received}/${r.transmitted}`);
    assert.match(p.shOk('left', 'ip -d link show ipsec0'), /state UP|,UP[,>]/, 'up again');
    assert.match(p.shOk('left', 'ip -d link show ipsec0'), /alias tunkitd/, 'tunkit\'s again (persist.ts)');
    assert.match(p.shOk('left', 'ip route get 203.0.113.2 from 203.0.113.1'), /dev ipsec0/, 'the policy route is back');
    await bothFlow(p, 'after');
    const log = p.left.log;
    assert.equal(count(log, /datapath_fault[^\n]*read ipsec0/), 1, `the failing read logged once:\n${log}`);
    assert.equal(count(log, /event=device_recreated dev=ipsec0/), 1, log);
    assert.ok(p.isAlive('left'));
  });
});

test('an xfrm interface deleted behind tunkit\'s back: made anew (if_id, MTU, up, its address and route); ESP flows through it again by itself', { timeout: 120_000 }, async () => {
  await withPair('tkfx', async (p) => {
    const outer = ['198.51.100.1', '198.51.100.2'] as const;
    const inner = ['203.0.113.5', '203.0.113.6'] as const;
    for (const [i, s] of (['left', 'right'] as const).entries()) {
      const j = 1 - i;
      p.shOk(s, `ip addr add ${inner[i]!}/32 dev lo`);
      p.tunkitOk(s, 'link add xfrm1 type xfrm if_id 7');
      p.tunkitOk(s, 'link set xfrm1 mtu 1400 up');
      p.tunkitOk(s, `xfrm state add src ${outer[0]} dst ${outer[1]} proto esp spi 0x7001 reqid 7 mode tunnel if_id 7 aead rfc4106(gcm(aes)) ${KEY} 128`);
      p.tunkitOk(s, `xfrm state add src ${outer[1]} dst ${outer[0]} proto esp spi 0x7002 reqid 7 mode tunnel if_id 7 aead rfc4106(gcm(aes)) ${KEY} 128`);
      p.tunkitOk(s, `xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out if_id 7 tmpl src ${outer[i]!} dst ${outer[j]!} proto esp reqid 7 mode tunnel`);
      p.tunkitOk(s, `xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir in if_id 7 tmpl src ${outer[j]!} dst ${outer[i]!} proto esp reqid 7 mode tunnel`);
      p.shOk(s, `ip route add ${inner[j]!}/32 dev xfrm1 src ${inner[i]!}`);
    }
    p.shOk('left', 'ip addr add 192.0.2.9/32 dev xfrm1');
    await p.pingOk('left', inner[1], { count: 3, waitS: 2 });
    p.shOk('left', 'ip link del xfrm1');
    await sleep(800);
    const shown = JSON.parse(p.tunkitOk('left', '-j -d link show xfrm1')) as { ifname: string; mtu: number; flags: string[] }[];
    assert.equal(shown[0]?.ifname, 'xfrm1');
    assert.equal(shown[0]!.mtu, 1400, 'its MTU');
    assert.ok(shown[0]!.flags.includes('UP'), `up again: ${JSON.stringify(shown)}`);
    assert.match(JSON.stringify(shown), /"if_id":"0x7"/, 'its if_id');
    assert.match(p.shOk('left', 'ip -d link show xfrm1'), /alias tunkitd/);
    assert.match(p.shOk('left', 'ip -4 addr show dev xfrm1'), /inet 192\.0\.2\.9\/32/, 'its address is back');
    assert.match(p.shOk('left', `ip route get ${inner[1]}`), new RegExp(`dev xfrm1 src ${inner[0].replace(/\./g, '\\.')}`), 'its route is back, with its src');
    await p.pingOk('left', inner[1], { count: 3, waitS: 2 });
    const log = p.left.log;
    assert.equal(count(log, /datapath_fault[^\n]*read xfrm1/), 1, `the failing read logged once:\n${log}`);
    assert.equal(count(log, /event=device_recreated dev=xfrm1 mtu=1400 up=true addresses=1 routes=1/), 1, log);
    assert.ok(p.isAlive('left'));
  });
});

/**
 * Sends `n` UDP datagrams of 1400 bytes from 192.0.2.1 (gre1) to 192.0.2.2:9
 * as fast as the sender's socket takes them; prints {"n":N,"err":E}.
 */
const BLAST = `const d = require('dgram').createSocket('udp4'); const b = Buffer.alloc(1400); const N = Number(process.argv[1]); let n = 0, err = 0;
d.bind(0, '192.0.2.1', () => { const go = () => { for (let i = 0; i < 100 && n < N; i++, n++) d.send(b, 9, '192.0.2.2', (e) => { if (e) err++; });
  if (n < N) setImmediate(go); else setTimeout(() => { console.log(JSON.stringify({ n, err })); d.close(); }, 300); }; go(); });`;

test('a full socket send buffer (EAGAIN: a slow qdisc on the underlay holds what was sent): counted, logged once, recovered when it drains', { timeout: 120_000 }, async (t) => {
  await withPair('tkfb', async (p) => {
    setup(p);
    await bothFlow(p, 'before');
    const before = p.stats('left', 'gre1').tx;
    // 1 Mbit/s with room for 64 MB queued: the raw socket's 8 MiB of send buffer (4 MiB SO_SNDBUFFORCE, doubled) fills with
    // packets waiting in the qdisc, and sendmmsg stops with EAGAIN. (A short `limit` instead drops them in the qdisc with
    // NET_XMIT_DROP, which raw_send_hdrinc turns into ENOBUFS and then 0 for a socket without IP_RECVERR: no error to see.)
    p.shOk('left', `tc qdisc add dev ${p.left.veth} root tbf rate 1mbit burst 16kb limit 64mb`);
    let lost: number;
    try {
      const r = p.exec('left', process.execPath, ['-e', BLAST, '12000']);
      assert.equal(r.code, 0, r.stderr);
      t.diagnostic(`sender: ${r.stdout.trim()}`);
      await sleep(300);
      const mid = p.stats('left', 'gre1').tx;
      lost = mid['dropped']! - before['dropped']!;
      t.diagnostic(`gre1 tx while the qdisc holds the socket's buffer: ${JSON.stringify(mid)}`);
      assert.ok(lost > 0, `packets refused with EAGAIN are gre1's tx_dropped: ${JSON.stringify(before)} → ${JSON.stringify(mid)}`);
      assert.ok(p.isAlive('left'));
    } finally {
      p.shOk('left', `tc qdisc del dev ${p.left.veth} root`); // what it held is freed with it: the buffer empties
    }
    await bothFlow(p, 'after');
    const log = p.left.log;
    assert.equal(count(log, /datapath_fault[^\n]*send gre1 EAGAIN/), 1, `logged once:\n${log}`);
    const rec = /datapath_recovered[^\n]*send gre1 EAGAIN: recovered, (\d+) packets lost/.exec(log);
    assert.ok(rec !== null, `a recovery line:\n${log}`);
    assert.ok(Number(rec[1]) >= lost, `the recovery line counts what was lost: ${rec[1]} vs ${lost}`);
    assert.ok(p.isAlive('left'));
  });
});
