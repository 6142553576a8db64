// Prometheus metrics (daemon/metrics.ts): values read from the daemon's own
// counters at scrape time, names and labels, vanished devices/SAs dropped,
// the HTTP endpoint, and --metrics-listen parsing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatapathStats } from '../../src/datapath/events.js';
import { MetricsServer, parseListen, TunkitMetrics } from '../../src/daemon/metrics.js';
import type { MetricsSource } from '../../src/daemon/metrics.js';
import { TunkitNode } from '../../src/daemon/node.js';
import { makeSaConfig } from '../../src/xfrm/config.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { FakeDevices } from './fake-devices.js';

const ADD_MS = 1_700_000_000_000;

/** name{labels} → value, from the exposition text (comments skipped). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function fixture(): { node: TunkitNode; xfrm: XfrmStack; dp: DatapathStats; m: TunkitMetrics } {
  const node = new TunkitNode(new FakeDevices(), () => undefined, () => 0);
  const xfrm = new XfrmStack();
  const dp = new DatapathStats();
  const src: MetricsSource = {
    links: () => node.showLinks(), stackDrops: () => node.stackDrops(), xfrmStat: () => xfrm.mib.snapshot(),
    states: () => xfrm.sad.list(), policyCount: () => xfrm.spd.count, datapath: dp,
  };
  return { node, xfrm, dp, m: new TunkitMetrics(src, false) };
}

test('device counters, per-reason drops and SA counters come from the live structures at scrape time', async () => {
  const { node, xfrm, dp, m } = fixture();
  node.addLink({ name: 'gre1', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2' });
  const st = node.entry('gre1').tunnel.stats;
  st.rx_packets = 7; st.rx_bytes = 700; st.tx_packets = 5; st.tx_bytes = 512; st.tx_errors = 2; st.rx_dropped = 1; st.tx_carrier_errors = 2;
  st.drops[3] = 4;
  const spec: StateSpec = { src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', spi: 0xc001, mode: 'tunnel', reqid: 1, replayWindow: 32,
    aead: { name: 'rfc4106(gcm(aes))', keyHex: '00112233445566778899aabbccddeeff01020304', bits: 128 } };
  const x = xfrm.sad.add(makeSaConfig(spec, () => null), spec, ADD_MS);
  x.curPackets = 9; x.curBytes = 900; x.statReplay = 1; x.statReplayWindow = 2; x.statIntegrityFailed = 3;
  xfrm.mib.inc(3);
  dp.faults = 6;
  let s = parse(await m.scrape());
  const rec = node.showLinks('gre1')[0]!;
  assert.equal(s.get('tunkit_device_packets_total{device="gre1",dir="rx"}'), rec.stats.rx_packets);
  assert.equal(s.get('tunkit_device_packets_total{device="gre1",dir="tx"}'), 5);
  assert.equal(s.get('tunkit_device_bytes_total{device="gre1",dir="rx"}'), 700);
  assert.equal(s.get('tunkit_device_bytes_total{device="gre1",dir="tx"}'), 512);
  assert.equal(s.get('tunkit_device_errors_total{device="gre1",dir="tx"}'), 2);
  assert.equal(s.get('tunkit_device_dropped_total{device="gre1",dir="rx"}'), 1);
  assert.equal(s.get('tunkit_device_error_details_total{device="gre1",dir="tx",kind="carrier"}'), 2);
  const [reason, n] = Object.entries(rec.drops)[0]!;
  assert.equal(n, 4);
  assert.equal(s.get(`tunkit_device_drops_total{device="gre1",reason="${reason}"}`), 4);
  assert.equal(s.get('tunkit_device_up{device="gre1",kind="gre"}'), 0);
  assert.equal(s.get('tunkit_device_mtu_bytes{device="gre1"}'), rec.mtu);
  const sa = 'spi="0x0000c001",src="198.51.100.1",dst="198.51.100.2"';
  assert.equal(s.get(`tunkit_sa_packets_total{${sa}}`), 9);
  assert.equal(s.get(`tunkit_sa_bytes_total{${sa}}`), 900);
  assert.equal(s.get(`tunkit_sa_replay_errors_total{${sa}}`), 1);
  assert.equal(s.get(`tunkit_sa_replay_window_errors_total{${sa}}`), 2);
  assert.equal(s.get(`tunkit_sa_auth_failures_total{${sa}}`), 3);
  assert.equal(s.get(`tunkit_sa_add_time_seconds{${sa}}`), ADD_MS / 1000);
  assert.equal(s.get(`tunkit_sa_use_time_seconds{${sa}}`), 0);
  assert.equal(s.get('tunkit_xfrm_stat_total{stat="XfrmInNoStates"}'), 1);
  assert.equal(s.get('tunkit_xfrm_stat_total{stat="XfrmInError"}'), 0);
  assert.equal(s.get('tunkit_datapath_faults_total'), 6);
  assert.equal(s.get('tunkit_sas'), 1);
  assert.ok((s.get('tunkit_tunnels') ?? 0) >= 1);

  // Counting goes on in the cores; the next scrape sees it. Gone devices and SAs vanish.
  st.rx_packets += 3;
  s = parse(await m.scrape());
  assert.equal(s.get('tunkit_device_packets_total{device="gre1",dir="rx"}'), 10);
  node.delLink('gre1');
  xfrm.sad.flush();
  s = parse(await m.scrape());
  assert.equal([...s.keys()].some((k) => k.includes('"gre1"')), false);
  assert.equal([...s.keys()].some((k) => k.startsWith('tunkit_sa_')), false);
  assert.equal(s.get('tunkit_sas'), 0);
});

test('names follow the conventions: tunkit_ prefix; counters end in _total; HELP and TYPE for each', async () => {
  const { node, m } = fixture();
  node.addLink({ name: 'ipip1', kind: 'ipip', remote: '198.51.100.2' });
  const text = await m.scrape();
  const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => [x[1]!, x[2]!] as const);
  assert.ok(types.length >= 20, `${types.length} metrics`);
  for (const [name, type] of types) {
    assert.match(name, /^tunkit_[a-z0-9_]+$/);
    assert.equal(name.endsWith('_total'), type === 'counter', `${name} is a ${type}`);
    assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'));
  }
});

test('process metrics are there when asked for', async () => {
  const node = new TunkitNode(new FakeDevices(), () => undefined, () => 0);
  const xfrm = new XfrmStack();
  const m = new TunkitMetrics({ links: () => [], stackDrops: () => ({}), xfrmStat: () => ({}), states: () => [], policyCount: () => 0, datapath: new DatapathStats() });
  const text = await m.scrape();
  assert.match(text, /^process_cpu_user_seconds_total \d/m);
  assert.match(text, /^process_resident_memory_bytes \d/m);
  assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
  assert.doesNotMatch(text, /^# TYPE \S+_total gauge$/m, 'no gauge named _total');
  node.close();
  assert.equal(xfrm.sad.count, 0);
});

test('MetricsServer: GET /metrics 200 in the exposition format, 404 elsewhere, 405 for POST', async () => {
  const { m } = fixture();
  const errs: unknown[] = [];
  const srv = new MetricsServer(m, (e) => errs.push(e));
  const a = await srv.listen({ host: '127.0.0.1', port: 0 });
  try {
    const base = `http://127.0.0.1:${a.port}`;
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await r.text(), /^# TYPE tunkit_sas gauge$/m);
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    await assert.rejects(new MetricsServer(m, () => undefined).listen({ host: '127.0.0.1', port: a.port }), { code: 'EADDRINUSE' });
    assert.deepEqual(errs, []);
  } finally {
    await srv.close();
  }
});

test('--metrics-listen: ADDR:PORT or [ADDR6]:PORT; anything else is a usage error naming the option', () => {
  assert.deepEqual(parseListen('127.0.0.1:9101'), { host: '127.0.0.1', port: 9101 });
  assert.deepEqual(parseListen('[::1]:9101'), { host: '::1', port: 9101 });
  assert.deepEqual(parseListen('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  for (const bad of ['', '9101', '127.0.0.1', '127.0.0.1:', 'localhost:9101', '::1:9101', '[127.0.0.1]:9101', '127.0.0.1:65536', '127.0.0.1:-1', '1.2.3:80', '[::1]']) {
    assert.throws(() => parseListen(bad), (e: Error & { code?: string; field?: string }) => {
      assert.equal(e.code, 'EUSAGE', bad);
      assert.match(e.message, /--metrics-listen/);
      return true;
    }, bad);
  }
});
