// tunkitd --metrics-listen in the pair topology (pair.ts): after GRE and
// ESP traffic, a scrape of http://127.0.0.1:PORT/metrics inside each
// namespace (loopback only) must agree with `tunkit -s -j link show` per
// device, with `tunkit -j -s xfrm state list` per SA and with `tunkit xfrm
// stat`, and pass `promtool check metrics` (fetched by
// scripts/ensure-promtool.sh when missing: this test never skips).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../util/paths.js';
import { INNER, installSas, key, OUTER, settleStates, xfrmStat } from './esp-fixture.js';
import { step, withPair } from './pair.js';
import type { Pair, SideName, Snapshot } from './pair.js';

const PORT = 9464;

/** The promtool to use (on PATH, or fetched once into a cache). */
function promtool(): string {
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'ensure-promtool.sh')], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `scripts/ensure-promtool.sh: ${r.stderr}`);
  return r.stdout.trim();
}

/** GET /metrics from inside the side's namespace. */
function scrape(p: Pair, s: SideName): string {
  const js = `fetch('http://127.0.0.1:${PORT}/metrics').then(async (r) => { if (r.status !== 200) throw new Error('HTTP ' + r.status); process.stdout.write(await r.text()); })`;
  const r = p.exec(s, process.execPath, ['-e', js]);
  assert.equal(r.code, 0, `[${s}] scrape failed: ${r.stderr}`);
  return r.stdout;
}

/** name{labels} → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const DEV_FIELDS = [['packets', 'packets'], ['bytes', 'bytes'], ['errors', 'errors'], ['dropped', 'dropped']] as const;

/** Device samples of a scrape, as `metric{device,dir}` → value, for comparing two scrapes. */
const deviceKey = (m: Map<string, number>): string => JSON.stringify([...m].filter(([k]) => k.startsWith('tunkit_device_')));

/** Every device of `link show` against the scrape. */
function checkDevices(snap: Snapshot, m: Map<string, number>, s: SideName): number {
  let checked = 0;
  for (const [dev, st] of snap) {
    for (const dir of ['rx', 'tx'] as const) {
      for (const [metric, field] of DEV_FIELDS) {
        const got = m.get(`tunkit_device_${metric}_total{device="${dev}",dir="${dir}"}`);
        assert.equal(got, st[dir][field] ?? 0, `[${s}] ${dev} ${dir} ${field}`);
        checked++;
      }
    }
    for (const [reason, n] of Object.entries(st.drops)) {
      assert.equal(m.get(`tunkit_device_drops_total{device="${dev}",reason="${reason}"}`), n, `[${s}] ${dev} drops ${reason}`);
    }
  }
  const devs = new Set([...m.keys()].filter((k) => k.startsWith('tunkit_device_packets_total')).map((k) => /device="([^"]+)"/.exec(k)![1]));
  assert.deepEqual([...devs].sort(), [...snap.keys()].sort(), `[${s}] the same devices`);
  return checked;
}

test('Prometheus metrics match tunkit link show, xfrm state and xfrm stat; promtool accepts them', async (t) => {
  const tool = promtool();
  await withPair('tkmx', async (p) => {
    await step(t, p, 'GRE and ESP traffic', async () => {
      p.tunnel('mgre1', 'type gre key 7', [OUTER[0], OUTER[1]], ['192.0.2.1/30', '192.0.2.2/30']);
      await p.pingOk('left', '192.0.2.2', { count: 5 });
      p.shOk('left', `ip addr add ${INNER[0]}/32 dev lo`);
      p.shOk('right', `ip addr add ${INNER[1]}/32 dev lo`);
      installSas(p, 0x5100, { mode: 'tunnel', algo: () => ['aead', 'rfc4106(gcm(aes))', key(20), '128'] });
      await p.pingOk('left', INNER[1], { iface: INNER[0], count: 4 });
      await p.settle();
      await settleStates(p);
    });

    for (const s of ['left', 'right'] as const) {
      await step(t, p, `${s}: device counters = tunkit -s -j link show`, async () => {
        // Background IPv6 chatter may move a counter between two reads: retry
        // until a scrape, the CLI and a second scrape were taken with nothing moving.
        for (let i = 0; ; i++) {
          const a = samples(scrape(p, s));
          const snap = p.snapshot(s);
          const b = samples(scrape(p, s));
          if (deviceKey(a) !== deviceKey(b) && i < 10) continue;
          const n = checkDevices(snap, a, s);
          const gre = snap.get('mgre1');
          assert.ok(gre !== undefined && (gre.tx['packets'] ?? 0) >= 5 && (gre.rx['packets'] ?? 0) >= 5, `mgre1 carried the pings: ${JSON.stringify(gre)}`);
          t.diagnostic(`[${s}] ${snap.size} devices, ${n} counters equal; mgre1 rx ${a.get('tunkit_device_packets_total{device="mgre1",dir="rx"}')} packets`);
          break;
        }
      });

      await step(t, p, `${s}: SA counters = tunkit -j -s xfrm state list; MIB = tunkit xfrm stat`, async () => {
        const m = samples(scrape(p, s));
        const list = JSON.parse(p.tunkitOk(s, '-j -s xfrm state list')) as { spi: number; src: string; dst: string; stats: { replay_window: number; replay: number; integrity_failed: number }; curlft: { bytes: number; packets: number; add_time: number; use_time: number } }[];
        assert.equal(list.length, 2);
        assert.equal(m.get('tunkit_sas'), 2);
        for (const x of list) {
          const l = `spi="0x${x.spi.toString(16).padStart(8, '0')}",src="${x.src}",dst="${x.dst}"`;
          assert.ok(x.curlft.packets >= 4, `SA 0x${x.spi.toString(16)} carried the pings`);
          assert.equal(m.get(`tunkit_sa_packets_total{${l}}`), x.curlft.packets, l);
          assert.equal(m.get(`tunkit_sa_bytes_total{${l}}`), x.curlft.bytes, l);
          assert.equal(m.get(`tunkit_sa_replay_window_errors_total{${l}}`), x.stats.replay_window, l);
          assert.equal(m.get(`tunkit_sa_replay_errors_total{${l}}`), x.stats.replay, l);
          assert.equal(m.get(`tunkit_sa_auth_failures_total{${l}}`), x.stats.integrity_failed, l);
          assert.equal(Math.floor(m.get(`tunkit_sa_add_time_seconds{${l}}`) ?? -1), x.curlft.add_time, l);
          assert.equal(Math.floor(m.get(`tunkit_sa_use_time_seconds{${l}}`) ?? -1), x.curlft.use_time, l);
        }
        for (const [stat, v] of Object.entries(xfrmStat(p, s))) assert.equal(m.get(`tunkit_xfrm_stat_total{stat="${stat}"}`), v, stat);
      });

      await step(t, p, `${s}: promtool check metrics accepts the scrape; process metrics are there`, async () => {
        const text = scrape(p, s);
        assert.match(text, /^process_cpu_user_seconds_total /m);
        assert.match(text, /^nodejs_heap_size_used_bytes /m);
        const r = spawnSync(tool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 0, `promtool check metrics (exit ${String(r.status)}):\n${r.stdout}${r.stderr}`);
        assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no lint findings');
      });
    }

    await step(t, p, 'the listener is on loopback only', async () => {
      const r = p.exec('left', process.execPath, ['-e', `fetch('http://${OUTER[0]}:${PORT}/metrics').then(() => process.exit(0), () => process.exit(3))`]);
      assert.equal(r.code, 3, 'not reachable on the underlay address');
    });
  }, ['--metrics-listen', `127.0.0.1:${PORT}`]);
});
