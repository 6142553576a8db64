// The daemon's life cycle seen from outside (pair.ts):
//   `tunkit monitor` prints link add/up/mtu/down/del events as they happen
//   (also an `ip link set up` done behind the daemon's back), and exits when
//   the daemon goes away;
//   SIGTERM makes tunkitd remove its socket file and exit 0, leaving its
//   devices (persistent, fail closed: persist.ts) for the next start or for
//   `tunkitd --teardown`, which removes them.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { TUNKITD, sleep, step, within, withPair } from './pair.js';
import type { Pair, SideName } from './pair.js';

/** Collects a child's stdout lines. */
function lines(c: ChildProcess): string[] {
  const out: string[] = [];
  let buf = '';
  c.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    out.push(...parts.filter((l) => l !== ''));
  });
  return out;
}

/** Waits until `out` has `times` lines equal to `want`. */
async function expectLine(out: readonly string[], want: string, ms = 3000, times = 1): Promise<void> {
  const t0 = performance.now();
  while (out.filter((l) => l === want).length < times) {
    if (performance.now() - t0 > ms) assert.fail(`monitor did not print "${want}" (${times}×) within ${ms} ms; got ${JSON.stringify(out)}`);
    await sleep(50);
  }
}

/** Starts `tunkit [-j] monitor WHAT` and returns once it demonstrably receives events (a probe link add). */
async function startMonitor(p: Pair, s: SideName, what: string, json = false): Promise<{ proc: ChildProcess; out: string[] }> {
  const proc = p.monitor(s, what, json);
  const out = lines(proc);
  const want = json ? '"dev":"mprobe"' : 'link add mprobe type ipip';
  for (let i = 0; i < 30 && !out.some((l) => l.includes(want)); i++) {
    p.tunkitOk(s, 'link add mprobe type ipip remote 198.51.100.250');
    p.tunkitOk(s, 'link del mprobe');
    await sleep(100);
  }
  assert.ok(out.some((l) => l.includes(want)), `tunkit monitor ${what} never saw the probe: ${JSON.stringify(out)}`);
  await sleep(100);
  out.length = 0;
  return { proc, out };
}

test('tunkit monitor and SIGTERM', async (t) => {
  await withPair('tklc', async (p) => {
    await step(t, p, 'tunkit monitor shows link add, up, mtu, down and del as they happen', async () => {
      const { out } = await startMonitor(p, 'left', 'all');
      const { out: json } = await startMonitor(p, 'left', 'link', true);
      p.tunkitOk('left', 'link add mon1 type gre key 3 local 198.51.100.1 remote 198.51.100.2');
      await expectLine(out, 'link add mon1 type gre');
      p.tunkitOk('left', 'link set mon1 up');
      await expectLine(out, 'link up mon1');
      p.tunkitOk('left', 'link set mon1 mtu 1400');
      await expectLine(out, 'link mon1 mtu 1400');
      p.tunkitOk('left', 'link set mon1 down');
      await expectLine(out, 'link down mon1');
      // Behind the daemon's back: its once-a-second housekeeping notices IFF_UP.
      p.shOk('left', 'ip link set mon1 up');
      await expectLine(out, 'link up mon1', 3000, 2);
      p.tunkitOk('left', 'link del mon1');
      await expectLine(out, 'link del mon1');
      t.diagnostic(`tunkit monitor: ${out.join(' | ')}`);
      assert.deepEqual(out.filter((l) => l.includes('mon1')), [
        'link add mon1 type gre', 'link up mon1', 'link mon1 mtu 1400', 'link down mon1', 'link up mon1', 'link del mon1',
      ]);
      await sleep(100);
      const events = json.map((l) => JSON.parse(l) as { type: string; dev: string }).filter((e) => e.dev === 'mon1').map((e) => e.type);
      t.diagnostic(`tunkit -j monitor link: ${events.join(', ')}`);
      assert.deepEqual(events, ['link.add', 'link.up', 'link.mtu', 'link.down', 'link.up', 'link.del']);
    });

    await step(t, p, 'SIGTERM: tunkitd leaves its devices, removes its socket file, exits 0; monitors end; --teardown removes the devices', async () => {
      const devs = ['tipip', 'tgre', 'ttap', 'tsit'];
      for (const [name, kind] of [['tipip', 'ipip'], ['tgre', 'gre'], ['ttap', 'gretap'], ['tsit', 'sit']]) {
        p.tunkitOk('right', `link add ${name} type ${kind!} local 198.51.100.2 remote 198.51.100.1`);
        p.tunkitOk('right', `link set ${name} up`);
      }
      for (const dev of devs) p.shOk('right', `ip link show ${dev}`);
      const { proc: mon } = await startMonitor(p, 'right', 'all');
      const monExit = new Promise<number | null>((resolve) => mon.once('exit', (code) => resolve(code)));
      const sock = p.right.sock;
      assert.ok(existsSync(sock));

      const code = await p.stopDaemon('right', 'SIGTERM');
      t.diagnostic(`tunkitd exit: ${String(code)}; log tail: ${p.right.log.trim().split('\n').slice(-1)[0] ?? ''}`);
      assert.equal(code, 0, 'tunkitd exits 0 on SIGTERM');
      assert.match(p.right.log, /level=info event=shutdown signal=SIGTERM /);
      for (const dev of devs) assert.match(p.shOk('right', `ip -d link show ${dev}`), /persist on/, `${dev} stays after SIGTERM`);
      assert.equal(existsSync(sock), false, `${sock} must be removed`);
      const after = p.tunkit('right', 'link show');
      assert.equal(after.code, 1, `tunkit without a daemon exits 1: ${after.stderr}`);
      assert.match(after.stderr, /cannot reach tunkitd/);
      assert.equal(await within(monExit, 3000), 0, 'tunkit monitor ends (exit 0) when the daemon goes away');
      // The other daemon is unaffected.
      assert.ok(p.isAlive('left'));
      p.tunkitOk('left', 'link show');
      const td = p.exec('right', process.execPath, [TUNKITD, '--teardown', '--socket', sock]);
      assert.equal(td.code, 0, td.stderr);
      for (const dev of devs) {
        assert.match(td.stdout, new RegExp(`^removed link ${dev}$`, 'm'));
        const r = p.sh('right', `ip link show ${dev}`);
        assert.notEqual(r.code, 0, `${dev} must be gone after --teardown`);
        assert.match(r.stderr, /does not exist/);
      }
    });
  });
});
