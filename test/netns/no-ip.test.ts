// tunkitd runs no other program: both daemons of the pair (pair.ts) are
// restarted with PATH=/nonexistent (node by absolute path), so any attempt
// to run `ip` fails. A GRE tunnel still finds its underlay route (rtnetlink
// RTM_GETROUTE) and an ESP tunnel-mode policy still gets its route into the
// policy TUN (RTM_NEWROUTE): both pass a ping. When the policy route's MTU
// changes (its SA goes away), `ip monitor route` — the oracle, run by the
// test — sees it replaced, never deleted. `ip link set ipsec0 down` (which
// flushes the TUN's routes) leaves protected traffic blackholed, not routed in
// clear by a default route; `ip link set ipsec0 up` brings the routes back by
// themselves (the daemon's rtnetlink subscription).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { INNER, OUTER, flushXfrm, installSas, key } from './esp-fixture.js';
import { SIDES, TUNKITD, sleep, step, withPair } from './pair.js';
import type { Pair, SideName } from './pair.js';

/** The absolute path of `ip` on the test's own PATH (the test may run ip; the daemon may not). */
function ipPath(): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'ip'))) return join(dir, 'ip');
  }
  throw new Error('ip not found on PATH');
}

/** Stops a side's daemon and starts it again with PATH=/nonexistent. */
async function restartWithoutPath(p: Pair, s: SideName): Promise<void> {
  const sd = p.side(s);
  await p.stopDaemon(s);
  if (existsSync(sd.sock)) unlinkSync(sd.sock);
  const env = { ...process.env, PATH: '/nonexistent' };
  sd.log = '';
  sd.daemon = spawn(ipPath(), ['netns', 'exec', sd.ns.name, process.execPath, TUNKITD, '--socket', sd.sock], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  sd.daemon.stderr?.on('data', (d: Buffer) => { sd.log += d.toString(); });
  sd.daemon.stdout?.on('data', (d: Buffer) => { sd.log += d.toString(); });
  for (let i = 0; i < 200 && !existsSync(sd.sock); i++) {
    assert.equal(sd.daemon.exitCode, null, `tunkitd (${s}) exited: ${sd.log}`);
    await sleep(25);
  }
  assert.ok(existsSync(sd.sock), `tunkitd (${s}) did not create ${sd.sock}: ${sd.log}`);
}

/** The daemon's environment as the kernel sees it (/proc/PID/environ, read from the test). */
function daemonPath(p: Pair, s: SideName): string {
  const r = p.sh(s, `cat /proc/${p.side(s).daemon.pid!}/environ`);
  return r.stdout.split('\0').find((e) => e.startsWith('PATH=')) ?? '';
}

test('tunkitd with no ip on its PATH: GRE and ESP tunnel mode pass pings; policy route MTU changes in place', async (t) => {
  await withPair('tkni', async (p) => {
    for (const s of SIDES) await restartWithoutPath(p, s);
    await step(t, p, 'both daemons run with PATH=/nonexistent', async () => {
      for (const s of SIDES) assert.equal(daemonPath(p, s), 'PATH=/nonexistent');
    });
    await step(t, p, 'GRE: the underlay route is found over rtnetlink; ping passes', async () => {
      p.tunnel('gre1', 'type gre key 7', OUTER, ['192.0.2.5/30', '192.0.2.6/30']);
      await p.pingOk('left', '192.0.2.6', { count: 3 });
      assert.equal(p.stats('left', 'gre1').tx['carrier_errors'] ?? 0, 0, 'no tx_carrier_errors: the route was found');
    });
    await step(t, p, 'ESP tunnel mode: the policy route goes into ipsec0 with the SA MTU; ping passes', async () => {
      p.shOk('left', `ip addr add ${INNER[0]}/32 dev lo`);
      p.shOk('right', `ip addr add ${INNER[1]}/32 dev lo`);
      installSas(p, 0x4100, { mode: 'tunnel', algo: () => ['aead', 'rfc4106(gcm(aes))', key(20), '128'] });
      const r = p.shOk('left', 'ip -j route show dev ipsec0');
      const routes = JSON.parse(r) as { dst: string; metrics?: { mtu?: number }[] }[];
      assert.equal(routes.length, 1, r);
      assert.equal(routes[0]!.dst, INNER[1]);
      assert.ok((routes[0]!.metrics?.[0]?.mtu ?? 0) > 1300, `an SA MTU on the route: ${r}`);
      await p.pingOk('left', INNER[1], { iface: INNER[0], count: 3 });
    });
    await step(t, p, 'ipsec0 down: protected traffic fails closed (blackhole, not the default route); up: the route returns by itself', async () => {
      const veth = p.side('left').veth;
      p.shOk('left', 'ip route add default via 198.51.100.2');
      try {
        p.shOk('left', 'ip link set ipsec0 down');
        assert.equal(p.shOk('left', 'ip route show dev ipsec0').trim(), '', 'the kernel flushed the TUN route');
        const got = p.sh('left', `ip route get ${INNER[1]}`);
        assert.doesNotMatch(got.stdout, new RegExp(`dev ${veth}`), 'not routed in clear over the underlay');
        assert.match(p.shOk('left', `ip route show ${INNER[1]}/32`), /^blackhole 203\.0\.113\.2 .*metric 4294967295/m);
        // Each SAD change re-syncs the routes; while ipsec0 is down each attempt fails, and is logged once.
        const extra = 'xfrm state add src 198.51.100.1 dst 198.51.100.9 proto esp spi 0x9999 mode tunnel aead rfc4106(gcm(aes)) ';
        p.tunkitOk('left', `${extra}${key(20)} 128`);
        p.tunkitOk('left', 'xfrm state delete src 198.51.100.1 dst 198.51.100.9 proto esp spi 0x9999');
        await sleep(200);
        const downs = p.side('left').log.match(/event=route_install dev=ipsec0 op="route replace 203\.0\.113\.2\/32 dev ipsec0 mtu \d+" err="RTM_NEWROUTE: ENETDOWN: Device for nexthop is not up"/g) ?? [];
        assert.equal(downs.length, 1, `one warning for three failed attempts:\n${p.side('left').log}`);
        p.shOk('left', 'ip link set ipsec0 up');
        let r = '';
        for (let i = 0; i < 40 && !/mtu/.test(r); i++) {
          await sleep(50);
          r = p.shOk('left', 'ip route show dev ipsec0');
        }
        assert.match(r, /^203\.0\.113\.2 scope link mtu \d+/m, 'the route into ipsec0 is back, with its MTU');
        await p.pingOk('left', INNER[1], { iface: INNER[0], count: 3 });
      } finally {
        p.sh('left', 'ip link set ipsec0 up');
        p.shOk('left', 'ip route del default via 198.51.100.2');
      }
    });
    await step(t, p, 'the SA goes: its route loses the MTU in place (ip monitor sees no delete); the policy goes: the route is deleted', async () => {
      const mon = p.side('left').ns.spawn('ip', ['monitor', 'route']);
      let seen = '';
      mon.stdout?.on('data', (d: Buffer) => { seen += d.toString(); });
      try {
        await sleep(300);
        p.tunkitOk('left', 'xfrm state flush');
        await sleep(300);
        const left = p.shOk('left', 'ip route show dev ipsec0').trim();
        assert.equal(left, `${INNER[1]} scope link`, 'still routed into ipsec0, now without an mtu');
        assert.doesNotMatch(seen, /Deleted/, `ip monitor route:\n${seen}`);
        assert.match(seen, new RegExp(`^${INNER[1].replace(/\./g, '\\.')} dev ipsec0`, 'm'), `the replace is seen:\n${seen}`);
        p.tunkitOk('left', 'xfrm policy flush');
        await sleep(300);
        assert.match(seen, /^Deleted 203\.0\.113\.2 dev ipsec0/m, `the monitor does see deletes:\n${seen}`);
        assert.equal(p.shOk('left', 'ip route show dev ipsec0').trim(), '');
        assert.doesNotMatch(p.shOk('left', 'ip route show'), /blackhole/, 'the fail-closed route goes with its policy');
      } finally {
        mon.kill('SIGTERM');
      }
    });
    await step(t, p, 'SIGTERM with policies installed keeps their routes and blackholes (fail closed); tunkitd --teardown removes them', async () => {
      flushXfrm(p);
      installSas(p, 0x4200, { mode: 'tunnel', algo: () => ['aead', 'rfc4106(gcm(aes))', key(20), '128'] });
      assert.match(p.shOk('left', 'ip route show'), /^blackhole 203\.0\.113\.2 /m);
      assert.equal(await p.stopDaemon('left'), 0);
      assert.match(p.shOk('left', 'ip route show'), /^blackhole 203\.0\.113\.2 /m);
      assert.match(p.shOk('left', 'ip route show'), /^203\.0\.113\.2 dev ipsec0 /m);
      const td = p.exec('left', process.execPath, [TUNKITD, '--teardown', '--socket', p.left.sock]);
      assert.equal(td.code, 0, td.stderr);
      assert.doesNotMatch(p.shOk('left', 'ip route show'), /203\.0\.113\.2/);
    });
    await step(t, p, 'nothing in the daemon logs about running a program', async () => {
      for (const s of SIDES) assert.doesNotMatch(p.side(s).log, /ENOENT|spawn|ip route/, p.side(s).log);
    });
  });
});
