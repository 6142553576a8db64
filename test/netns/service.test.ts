// tunkitd under a stand-in for systemd (Type=notify, WatchdogSec=): a
// NOTIFY_SOCKET listener (test/fixtures/notify-listener.py) must see
//   READY=1 only once the control socket answers (checked on receipt),
//   sent by the daemon's own pid (what NotifyAccess=main checks);
//   WATCHDOG=1 again and again at half WATCHDOG_USEC;
//   STATUS= following a link add;
//   RELOADING=1 (with MONOTONIC_USEC) then READY=1 again around a SIGHUP
//   reload of --config, which applies the file's new link;
//   STOPPING=1 on SIGTERM, before the daemon exits 0.
// In a throwaway network namespace, removed even on failure.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Netns } from '../../src/demo/netns.js';
import { REPO_ROOT } from '../util/paths.js';
import { requireRoot, sleep, TUNKIT, TUNKITD, within } from './pair.js';

const LISTENER = join(REPO_ROOT, 'test', 'fixtures', 'notify-listener.py');
const WATCHDOG_USEC = 400_000;

/** `tunkit --socket SOCK ARGS` inside ns; never throws. */
function tunkitIn(ns: Netns, sock: string, args: readonly string[]): { status: number; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, TUNKIT, '--socket', sock, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status ?? -1, stderr: r.stderr };
}

interface Msg { readonly t: number; readonly pid: number; readonly msg: string }

/** Resolves once `cond` holds, or fails after ms with `what`. */
async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) assert.fail(what());
    await sleep(10);
  }
}

/** A --config file with one GRE link per name, the i-th to 198.51.100.(10+i) (documentation addresses). */
function greConfig(path: string, names: readonly string[]): void {
  const link = (n: string, i: number): string => `[link.${n}]\ntype = "gre"\nlocal = "198.51.100.1"\nremote = "198.51.100.${10 + i}"\n`;
  writeFileSync(path, names.map(link).join('\n'), { mode: 0o600 });
}

test('systemd notify: READY after the control socket answers, WATCHDOG pings, STATUS, RELOADING on SIGHUP, STOPPING on SIGTERM', async () => {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), 'tk-sd-'));
  const notifyPath = join(dir, 'notify');
  const sock = join(dir, 'ctl.sock');
  const procs: ChildProcess[] = [];
  let log = '';
  try {
    const ns = Netns.create('tksd');
    const listener = spawn('python3', [LISTENER, notifyPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(listener);
    const msgs: Msg[] = [];
    let answeredAtReady: number | null = null;
    let buf = '';
    let bound = false;
    listener.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        if (l === 'bound') { bound = true; continue; }
        const m = JSON.parse(l) as Msg;
        msgs.push(m);
        // The moment READY=1 arrives, the control socket must already answer.
        if (m.msg.split('\n').includes('READY=1') && answeredAtReady === null) {
          answeredAtReady = tunkitIn(ns, sock, ['link', 'show']).status;
        }
      }
    });
    await until(() => bound, 5000, () => 'notify listener did not bind');

    const cfg = join(dir, 'tunkit.toml');
    greConfig(cfg, ['sdc1']);
    const daemon = ns.spawn(process.execPath, [TUNKITD, '--socket', sock, '--config', cfg], { NOTIFY_SOCKET: notifyPath, WATCHDOG_USEC: String(WATCHDOG_USEC) });
    procs.push(daemon);
    daemon.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
    const exited = new Promise<number | string>((resolve) => daemon.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
    const has = (text: string): Msg | undefined => msgs.find((m) => m.msg.split('\n').includes(text));

    await until(() => has('READY=1') !== undefined, 10_000, () => `no READY=1; got ${JSON.stringify(msgs)}\n${log}`);
    assert.equal(answeredAtReady, 0, 'tunkit link show answered when READY=1 arrived');
    assert.equal(has('READY=1')!.pid, daemon.pid, 'sent by the main pid (NotifyAccess=main)');
    assert.match(log, /level=info event=watchdog interval_ms=200\b/);

    const t0 = has('READY=1')!.t;
    await sleep(1200);
    const pings = msgs.filter((m) => m.msg === 'WATCHDOG=1' && m.t >= t0);
    assert.ok(pings.length >= 4, `WATCHDOG=1 every ~200 ms: ${pings.length} in 1.2 s`);
    const gaps = pings.slice(1).map((m, i) => m.t - pings[i]!.t);
    assert.ok(Math.max(...gaps) < WATCHDOG_USEC / 1e6, `no gap reaches WATCHDOG_USEC: ${gaps.map((g) => g.toFixed(3)).join(' ')}`);

    assert.ok(has('STATUS=1 tunnel, 0 SAs, 0 policies') !== undefined, JSON.stringify(msgs.filter((m) => m.msg.startsWith('STATUS'))));
    const add = tunkitIn(ns, sock, ['link', 'add', 'sdg1', 'type', 'gre', 'local', '198.51.100.1', 'remote', '198.51.100.3']);
    assert.equal(add.status, 0, add.stderr);
    await until(() => has('STATUS=2 tunnels, 0 SAs, 0 policies') !== undefined, 4000,
      () => `STATUS did not follow the link add: ${JSON.stringify(msgs.filter((m) => m.msg.startsWith('STATUS')))}`);

    // SIGHUP: RELOADING=1 + MONOTONIC_USEC, the file applied, then READY=1 again.
    // (The reload also removes sdg1, which the file does not declare: wg syncconf's rule.)
    greConfig(cfg, ['sdc1', 'sdc2']);
    const before = msgs.length;
    daemon.kill('SIGHUP');
    const after = (): Msg[] => msgs.slice(before);
    await until(() => after().some((m) => m.msg.split('\n').includes('READY=1')), 8000, () => `no READY=1 after SIGHUP: ${JSON.stringify(after())}\n${log}`);
    const iReload = after().findIndex((m) => /^RELOADING=1\nMONOTONIC_USEC=\d+$/.test(m.msg));
    const iReady = after().findIndex((m) => m.msg.split('\n').includes('READY=1'));
    assert.ok(iReload >= 0 && iReload < iReady, `RELOADING=1 with MONOTONIC_USEC before READY=1: ${JSON.stringify(after())}`);
    const shown = tunkitIn(ns, sock, ['link', 'show', 'sdc2']);
    assert.equal(shown.status, 0, `the reloaded file's new link exists: ${shown.stderr}\n${log}`);
    assert.equal(daemon.exitCode, null, 'SIGHUP did not end the daemon');

    daemon.kill('SIGTERM');
    const code = await within(exited, 8000);
    assert.equal(code, 0, `tunkitd exits 0 on SIGTERM\n${log}`);
    await until(() => has('STOPPING=1') !== undefined, 2000, () => `no STOPPING=1: ${JSON.stringify(msgs.slice(-5))}`);
    assert.equal(existsSync(sock), false, 'control socket removed');
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    Netns.cleanupAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad --metrics-listen or --log-level: a clear error naming the option, exit 1, nothing left running', () => {
  requireRoot();
  for (const [args, re] of [
    [['--metrics-listen', 'localhost:9101'], /level=error event=startup_failed err=".*--metrics-listen \\"localhost:9101\\": expected ADDR:PORT/],
    [['--metrics-listen', '127.0.0.1:99999'], /--metrics-listen \\"127\.0\.0\.1:99999\\"/],
    [['--log-level', 'loud'], /bad argument \\"--log-level\\" \(error, warn, info or debug\)/],
  ] as const) {
    const r = spawnSync(process.execPath, [TUNKITD, '--socket', '/nonexistent-dir/x.sock', ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});
