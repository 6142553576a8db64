// sd_notify (daemon/notify.ts, native/notify.c): the messages, STATUS= rate
// limit, WATCHDOG_USEC/WATCHDOG_PID, and real datagrams to a listener
// (test/fixtures/notify-listener.py) on a path and on an abstract name.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { monotonicUsec, Notifier, STATUS_MIN_INTERVAL_MS, watchdogIntervalMs } from '../../src/daemon/notify.js';
import { loadNative } from '../../src/io/native.js';
import { REPO_ROOT } from '../util/paths.js';

const LISTENER = join(REPO_ROOT, 'test', 'fixtures', 'notify-listener.py');

function recorder(): { sent: [string, string][]; send: (p: string, s: string) => void } {
  const sent: [string, string][] = [];
  return { sent, send: (p, s) => { sent.push([p, s]); } };
}

test('ready, stopping, watchdog, reloading: one datagram each, to NOTIFY_SOCKET', () => {
  const r = recorder();
  const n = new Notifier('/run/systemd/notify', r.send);
  assert.equal(n.isEnabled, true);
  n.ready();
  n.stopping();
  n.watchdog();
  const before = monotonicUsec();
  n.reloading();
  const after = monotonicUsec();
  assert.deepEqual(r.sent.slice(0, 3), [['/run/systemd/notify', 'READY=1'], ['/run/systemd/notify', 'STOPPING=1'], ['/run/systemd/notify', 'WATCHDOG=1']]);
  const m = /^RELOADING=1\nMONOTONIC_USEC=(\d+)$/.exec(r.sent[3]![1]);
  assert.ok(m !== null, r.sent[3]![1]);
  const usec = BigInt(m[1]!);
  assert.ok(usec >= before && usec <= after, 'MONOTONIC_USEC is CLOCK_MONOTONIC in µs, taken at the call');
});

test('without NOTIFY_SOCKET nothing is sent', () => {
  const r = recorder();
  for (const path of [null, '']) {
    const n = new Notifier(path, r.send);
    assert.equal(n.isEnabled, false);
    n.ready();
    assert.equal(n.status('x'), false);
    assert.equal(n.notify('READY=1'), false);
  }
  assert.deepEqual(r.sent, []);
});

test('STATUS= only on change, at most once per STATUS_MIN_INTERVAL_MS; newlines flattened', () => {
  const r = recorder();
  let now = 0;
  const n = new Notifier('@sd', r.send, () => now);
  assert.equal(n.status('1 tunnel'), true);
  assert.equal(n.status('1 tunnel'), false, 'unchanged');
  now += STATUS_MIN_INTERVAL_MS - 1;
  assert.equal(n.status('2 tunnels'), false, 'too soon');
  now += 1;
  assert.equal(n.status('2 tunnels'), true, 'repeated later: goes through');
  now += 5000;
  assert.equal(n.status('2 tunnels\nbad'), true);
  assert.deepEqual(r.sent.map(([, s]) => s), ['STATUS=1 tunnel', 'STATUS=2 tunnels', 'STATUS=2 tunnels bad']);
});

test('a failed send goes to onError, never throws', () => {
  const errs: unknown[] = [];
  const n = new Notifier('/nowhere', () => { throw Object.assign(new Error('sendto /nowhere: ENOENT'), { code: 'ENOENT' }); });
  n.onError = (e) => errs.push(e);
  n.ready();
  assert.equal(n.notify('WATCHDOG=1'), false);
  assert.equal(errs.length, 2);
});

test('watchdogIntervalMs: half WATCHDOG_USEC; off for another WATCHDOG_PID or a bad value', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000' }, 42), 10_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '42' }, 42), 10_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '43' }, 42), null);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '1000' }, 42), 1, 'never 0');
  for (const bad of [undefined, '', '0', '-5', '1e6', 'abc', '10 ']) {
    assert.equal(watchdogIntervalMs(bad === undefined ? {} : { WATCHDOG_USEC: bad }, 42), null, String(bad));
  }
});

/** Starts the listener on `addr`; resolves once bound, with the lines it prints. */
async function listen(addr: string): Promise<{ proc: ChildProcess; msgs: { pid: number; msg: string }[] }> {
  const proc = spawn('python3', [LISTENER, addr], { stdio: ['ignore', 'pipe', 'pipe'] });
  const msgs: { pid: number; msg: string }[] = [];
  let buf = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        if (l === 'bound') resolve();
        else msgs.push(JSON.parse(l) as { pid: number; msg: string });
      }
    });
    proc.once('exit', (code) => reject(new Error(`notify-listener exited ${String(code)}: ${err}`)));
  });
  return { proc, msgs };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const t0 = performance.now();
  while (!cond() && performance.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10));
}

test('native sdNotify reaches a listener on a path and on an abstract name, with our pid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-notify-'));
  const abstract = `@tunkit-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const procs: ChildProcess[] = [];
  try {
    for (const addr of [join(dir, 'notify'), abstract]) {
      const l = await listen(addr);
      procs.push(l.proc);
      loadNative().sdNotify(addr, 'READY=1\nSTATUS=up');
      await until(() => l.msgs.length > 0, 3000);
      assert.deepEqual(l.msgs.map(({ pid, msg }) => ({ pid, msg })), [{ pid: process.pid, msg: 'READY=1\nSTATUS=up' }], addr);
    }
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('native sdNotify errors: errno for no listener, RangeError for bad arguments', () => {
  const n = loadNative();
  assert.throws(() => n.sdNotify('/nonexistent-tunkit-dir/notify', 'READY=1'), { code: 'ENOENT', syscall: 'sendto' });
  assert.throws(() => n.sdNotify(`@tunkit-nobody-${process.pid}`, 'READY=1'), { code: 'ECONNREFUSED' });
  assert.throws(() => n.sdNotify('', 'READY=1'), { name: 'RangeError' });
  assert.throws(() => n.sdNotify('@', 'READY=1'), { name: 'RangeError' });
  assert.throws(() => n.sdNotify(`/${'x'.repeat(120)}`, 'READY=1'), { name: 'RangeError' });
  assert.throws(() => n.sdNotify('/tmp/x', ''), { name: 'RangeError' });
  assert.throws(() => n.sdNotify(5 as unknown as string, 'READY=1'), { name: 'TypeError' });
});
