// Fail closed across the daemon's death and restart (README "Fail closed"),
// with a config file (pair.ts topology, a default route on the left toward
// the right's veth, so anything not held back would cross it in clear):
//
//   (a) ESP tunnel mode 203.0.113.1 → 203.0.113.2 (policy routes into ipsec0)
//   (b) a GRE tunnel gre1 and a route 192.0.2.128/26 through it, from
//       192.0.2.65 on the left's lo to 192.0.2.130 on the right's
//
// A ping every 0.1 s on each while the left tunkitd is (1) killed with
// SIGKILL, (2) crashed by the test hook TUNKIT_TEST_CRASH_AFTER_MS (exit 1,
// logged), (3) stopped with SIGTERM, each time started again with the same
// config: tcpdump on the right's veth counts 0 clear-text probe packets,
// and both pings pass again after each restart with no other step. The
// SAs are manually keyed, so a restart begins again at sequence number 1:
// they run without an anti-replay window (RFC 4303 §3.3.3: a manually keyed
// SA's counter cannot be kept across restarts). Then `tunkitd --teardown`
// leaves no device and no route of tunkit's; and a start that cannot open
// ipsec0 (someone else's) or its socket (a tunkitd already there) exits
// non-zero, leaving nothing running and the other's things untouched.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { Capture, describe, INNER, key, OUTER } from './esp-fixture.js';
import type { Seen } from './esp-fixture.js';
import { TUNKITD, sleep, step, within, withPair } from './pair.js';
import type { Pair, PingResult } from './pair.js';

const SPI = 0x6100;
const GRE = ['192.0.2.1', '192.0.2.2'] as const;
/**
 * On each side's lo, [left, right], each reached from the other through a
 * route via gre1 (not gre1's own addresses: a probe sent from one of those
 * would stop when gre1 vanished, as forwarded traffic would not).
 */
const BEHIND_GRE = ['192.0.2.65', '192.0.2.130'] as const;
const GRE_ROUTES = ['192.0.2.128/26', '192.0.2.64/26'] as const;
/** ICMP data bytes of each path's probes: IPv4 total lengths no other packet of the test has. */
const ESP_SIZE = 333;
const GRE_SIZE = 444;
const PROBE_LENS = new Set([20 + 8 + ESP_SIZE, 20 + 8 + GRE_SIZE]);
/** tunkit's fail-closed marks (persist.ts, wire/rtnetlink.ts RTPROT_TUNKIT). */
const ALIAS = 'tunkitd';
const PROTO = 116;

function configText(i: 0 | 1, keys: readonly [string, string]): string {
  const j = 1 - i;
  const sa = (a: number, b: number, spi: number, k: string): string => `[[xfrm.state]]
src = "${OUTER[a]!}"
dst = "${OUTER[b]!}"
spi = ${spi}
mode = "tunnel"
reqid = ${spi}
replay-window = 0
aead = { name = "rfc4106(gcm(aes))", key = "${k}", bits = 128 }
`;
  const tmpl = (a: number, b: number, spi: number): string => `tmpl = [{ src = "${OUTER[a]!}", dst = "${OUTER[b]!}", reqid = ${spi}, mode = "tunnel" }]`;
  const out = i === 0 ? SPI : SPI + 1;
  const inn = i === 0 ? SPI + 1 : SPI;
  return `[link.gre1]
type = "gre"
local = "${OUTER[i]!}"
remote = "${OUTER[j]!}"
addresses = ["${GRE[i]!}/30"]
routes = ["${GRE_ROUTES[i]!}"]
${sa(0, 1, SPI, keys[0])}
${sa(1, 0, SPI + 1, keys[1])}
[[xfrm.policy]]
src = "${INNER[i]!}/32"
dst = "${INNER[j]!}/32"
dir = "out"
${tmpl(i, j, out)}

[[xfrm.policy]]
src = "${INNER[j]!}/32"
dst = "${INNER[i]!}/32"
dir = "in"
${tmpl(j, i, inn)}
`;
}

/** Both paths pass a few pings. */
async function bothPass(p: Pair): Promise<void> {
  await p.pingOk('left', INNER[1], { iface: INNER[0], count: 3, intervalS: 0.1, size: ESP_SIZE });
  await p.pingOk('left', BEHIND_GRE[1], { iface: BEHIND_GRE[0], count: 3, intervalS: 0.1, size: GRE_SIZE });
}

/** Clear-text probes among what the right's veth saw. */
const clearProbes = (seen: readonly Seen[]): Seen[] => seen.filter((x) => x.proto === 1 && PROBE_LENS.has(x.totalLen));

/**
 * One death of the left tunkitd under both pings: `kill` ends it (resolves
 * once it has exited), the left stays dead `deadMs`, then starts again with
 * `file`. Checks the wire and the state left behind while it was dead.
 */
async function dieAndRestart(t: TestContext, p: Pair, file: string, what: string, kill: () => Promise<void>): Promise<void> {
  const cap = await Capture.start(p, 'right');
  const pings = [
    p.ping('left', INNER[1], { iface: INNER[0], count: 80, intervalS: 0.1, waitS: 1, size: ESP_SIZE }),
    p.ping('left', BEHIND_GRE[1], { iface: BEHIND_GRE[0], count: 80, intervalS: 0.1, waitS: 1, size: GRE_SIZE }),
  ];
  let results: PingResult[];
  let seen: Seen[];
  try {
    await sleep(1000);
    await kill();
    assert.equal(p.isAlive('left'), false, `${what}: the left tunkitd is gone`);
    // What stays while nobody reads: the devices, up, with their routes; the kernel drops into them.
    for (const dev of ['gre1', 'ipsec0']) assert.match(p.shOk('left', `ip -d link show ${dev}`), new RegExp(`persist on|alias ${ALIAS}`), `${what}: ${dev} stays`);
    assert.match(p.shOk('left', `ip route get ${BEHIND_GRE[1]} from ${BEHIND_GRE[0]}`), /dev gre1/, `${what}: routed into gre1, not by the default route`);
    assert.match(p.shOk('left', `ip route get ${INNER[1]} from ${INNER[0]}`), /dev ipsec0/, `${what}: routed into ipsec0`);
    await sleep(1000);
    await p.restartDaemon('left', ['--config', file]);
    results = await Promise.all(pings);
  } finally {
    seen = await cap.stop();
  }
  const clear = clearProbes(seen);
  t.diagnostic(`${what}: wire ${describe(seen)}; pings ${results.map((r) => `${r.received}/${r.transmitted}`).join(', ')}`);
  assert.equal(clear.length, 0, `${what}: clear-text probes on the right's veth: ${describe(seen)}`);
  assert.ok(seen.some((x) => x.proto === 50) && seen.some((x) => x.proto === 47), `${what}: ESP and GRE crossed: ${describe(seen)}`);
  for (const r of results) assert.ok(r.received > 10 && r.received < r.transmitted, `${what}: replies before and after, none while dead: ${r.received}/${r.transmitted}`);
  await bothPass(p);
}

test('fail closed across kill -9, a crash and SIGTERM; a restart with the same config brings traffic back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tkfr-'));
  const file = (i: 0 | 1): string => join(dir, `side${i}.conf`);
  try {
    await withPair('tkfr', async (p) => {
      await step(t, p, 'both sides from a config file: ESP and GRE pass', async () => {
        p.shOk('left', `ip addr add ${INNER[0]}/32 dev lo`);
        p.shOk('right', `ip addr add ${INNER[1]}/32 dev lo`);
        p.shOk('left', `ip addr add ${BEHIND_GRE[0]}/32 dev lo`);
        p.shOk('right', `ip addr add ${BEHIND_GRE[1]}/32 dev lo`);
        p.shOk('left', `ip route add default via ${OUTER[1]}`);
        const keys = [key(20), key(20)] as const;
        for (const i of [0, 1] as const) writeFileSync(file(i), configText(i, keys), { mode: 0o600 });
        await p.restartDaemon('left', ['--config', file(0)]);
        await p.restartDaemon('right', ['--config', file(1)]);
        await bothPass(p);
        assert.match(p.shOk('left', 'ip -d link show gre1'), /persist on/);
      });
      await step(t, p, 'kill -9', () => dieAndRestart(t, p, file(0), 'kill -9', async () => {
        assert.equal(await p.stopDaemon('left', 'SIGKILL'), 'SIGKILL');
      }));
      await step(t, p, 'an uncaught exception (test hook): logged, exit 1', async () => {
        await p.restartDaemon('left', ['--config', file(0)], { TUNKIT_TEST_CRASH_AFTER_MS: '2500' });
        await dieAndRestart(t, p, file(0), 'crash', async () => {
          const d = p.left.daemon;
          const code = d.exitCode ?? await within(new Promise<number | null>((r) => d.once('exit', (c) => r(c))), 5000);
          assert.equal(code, 1, `exit status after the injected crash: ${String(code)}`);
          assert.match(p.left.log, /level=error event=crash err="Error: injected crash/);
        });
      });
      await step(t, p, 'SIGTERM', () => dieAndRestart(t, p, file(0), 'SIGTERM', async () => {
        assert.equal(await p.stopDaemon('left', 'SIGTERM'), 0);
        assert.match(p.left.log, /event=shutdown signal=SIGTERM action="leaving devices and routes in place/);
      }));
      await step(t, p, 'a start refused half way exits non-zero and leaves the running one alone', async () => {
        const r = await startAndWait(p, 'right', ['--config', file(1)]);
        assert.notEqual(r.code, 0, `a second tunkitd on the same socket: ${r.log}`);
        assert.match(r.log, /another tunkitd is listening/);
        assert.ok(p.isAlive('right'));
        await bothPass(p);
      });
      await step(t, p, 'tunkitd --teardown removes every device and route tunkit left, and nothing else', async () => {
        assert.equal(await p.stopDaemon('left', 'SIGTERM'), 0);
        p.shOk('left', 'ip tuntap add dev other0 mode tun');
        const td = p.exec('left', process.execPath, [TUNKITD, '--teardown', '--socket', p.left.sock]);
        assert.equal(td.code, 0, `teardown: ${td.stderr}`);
        assert.match(td.stdout, /^removed link gre1$/m);
        assert.match(td.stdout, /^removed link ipsec0$/m);
        assert.match(td.stdout, /^removed route blackhole 203\.0\.113\.2\/32 metric 4294967295 proto 116$/m);
        assert.doesNotMatch(p.shOk('left', 'ip -d link show'), new RegExp(`alias ${ALIAS}`));
        assert.equal(p.shOk('left', `ip route show proto ${PROTO}`).trim(), '');
        assert.doesNotMatch(p.shOk('left', 'ip route show'), /blackhole|gre1|ipsec0/);
        p.shOk('left', 'ip link show other0'); // not ours: untouched
        const again = p.exec('left', process.execPath, [TUNKITD, '--teardown', '--socket', p.left.sock]);
        assert.equal(again.code, 0);
        assert.equal(again.stdout, '', 'nothing left to remove');
      });
      await step(t, p, 'an ipsec0 that is not tunkit\'s: the start exits non-zero, makes nothing, touches nothing', async () => {
        p.shOk('left', 'ip tuntap add dev ipsec0 mode tun');
        const r = await startAndWait(p, 'left', ['--config', file(0)]);
        assert.notEqual(r.code, 0, r.log);
        assert.match(r.log, /event=startup_failed err=.*device \\"ipsec0\\" exists and was not made by tunkitd/);
        assert.notEqual(p.sh('left', 'ip link show gre1').code, 0, 'the config was not applied');
        assert.doesNotMatch(p.shOk('left', 'ip -d link show ipsec0'), new RegExp(`alias ${ALIAS}`));
        assert.equal(existsSync(p.left.sock), false, 'no control socket left behind');
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts one more tunkitd in a side's namespace on its socket and waits (≤ 15 s) for it to exit. */
async function startAndWait(p: Pair, s: 'left' | 'right', args: readonly string[]): Promise<{ code: number | null | 'timeout'; log: string }> {
  const sd = p.side(s);
  const c = sd.ns.spawn(process.execPath, [TUNKITD, '--socket', sd.sock, ...args]);
  let log = '';
  c.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
  c.stdout?.on('data', (d: Buffer) => { log += d.toString(); });
  const code = await within(new Promise<number | null>((r) => c.once('exit', (x) => r(x))), 15_000);
  if (code === 'timeout') c.kill('SIGKILL');
  return { code, log };
}
