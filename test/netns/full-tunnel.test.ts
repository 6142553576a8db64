// A full-tunnel policy (src 0.0.0.0/0 dst 0.0.0.0/0, the template's peer
// inside its own selector), as a road-warrior client has it. It used to get
// no route at all, so protected traffic left by the default route in clear.
// Now its prefix goes in tunkit's own routing table (4220, looked up before
// main by an ip rule) into the policy TUN, with the fail-closed blackhole
// behind it and a `throw` hole for the peer's underlay address, which keeps
// leaving by the main table (xfrm-routes.ts).
//
//   left  inner 203.0.113.1 (lo), default via 198.51.100.2, full tunnel
//   right 192.0.2.77 on lo: reachable from the left only by the default route
//
// Clear text is counted on the right's side of the veth with tcpdump.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { Capture, describe, INNER, key, OUTER } from './esp-fixture.js';
import { sleep, step, TUNKITD, withPair } from './pair.js';
import type { Pair } from './pair.js';

/** Only reachable through the default route (documentation range, on the right's lo). */
const FAR = '192.0.2.77';
const SIZE = 271;
const PROBE_LEN = 20 + 8 + SIZE;

/** Tunnel-mode SAs both ways (spi 0x6100 L→R, 0x6101 R→L) on both daemons. */
function sas(p: Pair): void {
  const aead = ['aead', 'rfc4106(gcm(aes))', key(20), '128'];
  for (const [src, dst, spi] of [[OUTER[0], OUTER[1], 0x6100], [OUTER[1], OUTER[0], 0x6101]] as const) {
    const words = ['xfrm', 'state', 'add', 'src', src, 'dst', dst, 'proto', 'esp', 'spi', `0x${spi.toString(16)}`, 'reqid', String(spi), 'mode', 'tunnel', ...aead];
    for (const s of ['left', 'right'] as const) p.tunkitOk(s, words);
  }
}

const tmpl = (from: number, to: number, reqid: number): string =>
  `tmpl src ${OUTER[from]} dst ${OUTER[to]} proto esp reqid ${reqid} mode tunnel`;

/** `ip -o monitor route` in a side's namespace; stop() returns what it printed. */
function routeMonitor(p: Pair): { c: ChildProcess; stop: () => Promise<string> } {
  const c = p.side('left').ns.spawn('ip', ['-o', 'monitor', 'route']);
  let out = '';
  c.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  return { c, stop: async () => { await sleep(300); c.kill('SIGKILL'); return out; } };
}

test('full-tunnel policy: routed into the policy TUN by tunkit\'s table, the peer by the underlay; dropped, never clear, after kill -9', async (t) => {
  await withPair('tkft', async (p) => {
    await step(t, p, 'the 0.0.0.0/0 policy gets a route in table 4220, an ip rule, a blackhole and a throw for the peer', async () => {
      p.shOk('left', `ip addr add ${INNER[0]}/32 dev lo`);
      p.shOk('right', `ip addr add ${FAR}/32 dev lo`);
      p.shOk('left', `ip route add default via ${OUTER[1]}`);
      p.tunkitOk('left', `xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out ${tmpl(0, 1, 0x6100)}`);
      p.tunkitOk('left', `xfrm policy add src 0.0.0.0/0 dst ${INNER[0]}/32 dir in ${tmpl(1, 0, 0x6101)}`);
      p.tunkitOk('right', `xfrm policy add src 0.0.0.0/0 dst ${INNER[0]}/32 dir out ${tmpl(1, 0, 0x6101)}`);
      p.tunkitOk('right', `xfrm policy add src ${INNER[0]}/32 dst 0.0.0.0/0 dir in ${tmpl(0, 1, 0x6100)}`);
      const table = p.shOk('left', 'ip route show table 4220');
      assert.match(table, /^default dev ipsec0 /m, table);
      assert.match(table, /^blackhole default proto 116 metric 4294967295/m, table);
      assert.match(table, new RegExp(`^throw ${OUTER[1].replace(/\./g, '\\.')} `, 'm'), table);
      assert.match(p.shOk('left', 'ip rule show'), /^4220:\s+from all lookup 4220/m);
      assert.match(p.shOk('left', 'ip route show default'), new RegExp(`default via ${OUTER[1]}`), 'the main default route is untouched');
      assert.match(p.shOk('left', `ip route get ${FAR}`), /dev ipsec0 table 4220/);
      assert.match(p.shOk('left', `ip route get ${OUTER[1]}`), new RegExp(`dev ${p.side('left').veth}`), 'the peer: by the underlay');
    });
    await step(t, p, 'an SA gives the route its MTU in place: never deleted in between', async () => {
      const mon = routeMonitor(p);
      await sleep(200);
      sas(p);
      const seen = await mon.stop();
      assert.match(p.shOk('left', 'ip route show table 4220'), /^default dev ipsec0 .*mtu \d+/m);
      assert.doesNotMatch(seen, /^Deleted .*default dev ipsec0/m, seen);
    });
    await step(t, p, 'a ping to an address only the default route reaches goes protected: ESP on the veth, no clear text', async () => {
      const cap = await Capture.start(p, 'right');
      await p.pingOk('left', FAR, { iface: INNER[0], count: 5, intervalS: 0.1, size: SIZE });
      const seen = await cap.stop();
      assert.equal(seen.filter((x) => x.proto === 1 && x.totalLen === PROBE_LEN).length, 0, describe(seen));
      assert.ok(seen.filter((x) => x.proto === 50).length >= 10, `ESP both ways: ${describe(seen)}`);
    });
    await step(t, p, 'kill -9 of the left tunkitd during a ping: its packets are dropped, none crosses in clear', async () => {
      const cap = await Capture.start(p, 'right');
      const ping = p.ping('left', FAR, { iface: INNER[0], count: 30, intervalS: 0.1, waitS: 1, size: SIZE });
      await sleep(1000);
      assert.equal(await p.stopDaemon('left', 'SIGKILL'), 'SIGKILL');
      const r = await ping;
      const seen = await cap.stop();
      assert.equal(seen.filter((x) => x.proto === 1 && x.totalLen === PROBE_LEN).length, 0, `clear-text probes: ${describe(seen)}`);
      assert.ok(seen.some((x) => x.proto === 50), `ESP before the kill: ${describe(seen)}`);
      assert.ok(r.received > 0 && r.received < r.transmitted, `replies before the kill only: ${r.received}/${r.transmitted}`);
      assert.match(p.shOk('left', 'ip route show table 4220'), /^blackhole default proto 116 metric 4294967295/m);
      assert.match(p.shOk('left', `ip route get ${OUTER[1]}`), new RegExp(`dev ${p.side('left').veth}`), 'the peer is still reachable for IKE');
    });
    await step(t, p, 'tunkitd --teardown removes table 4220, its rule and the nft table', async () => {
      const td = p.exec('left', process.execPath, [TUNKITD, '--teardown', '--socket', p.left.sock]);
      assert.equal(td.code, 0, `teardown: ${td.stderr}`);
      assert.match(td.stdout + td.stderr, /table 4220/);
      assert.equal(p.shOk('left', 'ip route show table 4220').trim(), '');
      assert.doesNotMatch(p.shOk('left', 'ip rule show'), /lookup 4220/);
      assert.doesNotMatch(p.shOk('left', 'ip -6 rule show'), /lookup 4220/);
    });
  });
});
