// Known faults of issue 13 ("Faults and load"), each pinned:
//   - a pending drain of a closed TUN never reads the fd number a new device
//     reuses (TunLinux over a fake addon: fds are numbers the kernel reuses);
//   - an SA with IPv6 outer addresses is refused with an error naming the
//     field, and nothing changes (the data path sends ESP over IPv4 only);
//   - a refused state add wipes the request's key bytes;
//   - a key written on the tunkit command line is gone from
//     /proc/PID/cmdline while the request runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XfrmControl } from '../../src/daemon/xfrm-control.js';
import type { NativeAddon, PollHandle } from '../../src/io/native.js';
import { allocBatch } from '../../src/io/pool.js';
import { TunLinux } from '../../src/io/tun-linux.js';
import { ConfigError } from '../../src/wire/errors.js';
import { makeSaConfig } from '../../src/xfrm/config.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { GCM, sa } from '../xfrm/esp-util.js';
import { REPO_ROOT } from '../util/paths.js';

/** The addon's fd calls over per-fd packet queues; fd numbers are reused after closeFd, as the kernel's are. */
class FakeFds {
  readonly queues = new Map<number, number[]>();
  readonly reads: number[] = [];
  readonly polls: { fd: number; cb: () => void; paused: boolean; stopped: boolean }[] = [];
  addon(): NativeAddon {
    const a: Partial<NativeAddon> = {
      ifGetMtu: () => 1500,
      closeFd: (fd) => { this.queues.delete(fd); },
      pollStart: (fd, cb) => { this.polls.push({ fd, cb, paused: false, stopped: false }); return this.polls.length - 1 as unknown as PollHandle; },
      pollPause: (h, paused) => { this.polls[h as unknown as number]!.paused = paused; },
      pollStop: (h) => { this.polls[h as unknown as number]!.stopped = true; },
      readBatch: (fd, _slab, _off, _stride, max, sizes) => {
        this.reads.push(fd);
        const q = this.queues.get(fd) ?? [];
        const n = Math.min(max, q.length);
        for (let i = 0; i < n; i++) sizes[i] = q.shift()!;
        return n;
      },
    };
    return a as NativeAddon;
  }
}

test('a TUN closed while a drain is scheduled (a full batch: setImmediate) never reads the fd number the next device reuses', async () => {
  const f = new FakeFds();
  const n = f.addon();
  f.queues.set(7, new Array<number>(40).fill(100)); // more than a batch: the next read drains without waiting for poll
  const old = new TunLinux(n, 7, 'tk-old', false, 32);
  const b = allocBatch({ batchSize: 32, mtu: 1500 });
  const pending = old.read(b);
  f.polls[0]!.cb(); // fd 7 readable
  const first = await pending;
  assert.equal(first, 32, 'a full batch');
  let late: number | null = null;
  old.readInto(b, (k) => { late = k; }); // schedules the drain on setImmediate
  await old.close(); // `link del`: settles the pending read with 0
  assert.equal(late, 0, 'the pending read ended with 0 (closed)');
  f.queues.set(7, [60, 61, 62]); // a new device got fd 7
  const fresh = new TunLinux(n, 7, 'tk-new', false, 32);
  const readsBefore = f.reads.length;
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(f.reads.length, readsBefore, 'the old device\'s scheduled drain did not run');
  assert.deepEqual(f.queues.get(7), [60, 61, 62], 'the new device\'s packets are still queued for it');
  const p = fresh.read(b);
  f.polls.filter((x) => x.fd === 7 && !x.stopped).forEach((x) => x.cb()); // readable
  assert.equal(await p, 3);
  assert.deepEqual([...b.sizes.subarray(0, 3)], [60, 61, 62]);
  await fresh.close();
});

function control(x: XfrmStack): { ctl: XfrmControl; events: unknown[] } {
  const events: unknown[] = [];
  const ctl = new XfrmControl(x, {
    ifindex: () => null, publish: (e) => events.push(e), now: () => 1_700_000_000_000, routeMtu: () => 1500, tablesChanged: () => undefined,
  });
  return { ctl, events };
}

test('an SA with IPv6 outer addresses is refused naming src (not sent as IPv4 to the first four bytes); nothing changes', () => {
  const x = new XfrmStack();
  const { ctl, events } = control(x);
  const spec = sa('2001:db8::1', '2001:db8::2', 0x100, { mode: 'tunnel', ...GCM });
  assert.throws(() => ctl.handle('xfrm.state.add', { state: spec }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.field, 'src');
    assert.match(e.message, /2001:db8::1: IPv6 outer addresses are not implemented/);
    assert.ok(!e.message.includes((GCM.aead as { keyHex: string }).keyHex), 'no key in the error');
    return true;
  });
  assert.equal(x.sad.count, 0);
  assert.deepEqual(events, []);
  // IPv6 inside an IPv4 SA is what works, and stays accepted.
  ctl.handle('xfrm.state.add', { state: sa('198.51.100.1', '198.51.100.2', 0x101, { mode: 'tunnel', ...GCM, sel: { src: '2001:db8:1::/64', dst: '2001:db8:2::/64' } }) });
  assert.equal(x.sad.count, 1);
});

test('a refused state add (EEXIST) wipes the key bytes of the request it refused', () => {
  const x = new XfrmStack();
  const spec: StateSpec = sa('198.51.100.1', '198.51.100.2', 0x200, GCM);
  x.sad.add(makeSaConfig(spec, () => null), spec, 0);
  const again = makeSaConfig(spec, () => null);
  assert.throws(() => x.sad.add(again, spec, 0), { code: 'EEXIST' });
  assert.ok(again.crypto.aead!.key.every((v) => v === 0), 'the refused request\'s key is zeroed');
  const bad = makeSaConfig({ ...spec, spi: 0x201, aead: { name: 'rfc4106(gcm(aes))', keyHex: '11'.repeat(19), bits: 128 } }, () => null);
  assert.throws(() => x.sad.add(bad, spec, 0), ConfigError);
  assert.ok(bad.crypto.aead!.key.every((v) => v === 0), 'a key of a refused length is zeroed too');
});

test('a key given on the tunkit command line is gone from /proc/PID/cmdline while the request runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-argv-'));
  const sock = join(dir, 'ctl.sock');
  const key = `0x${'5a'.repeat(20)}`;
  let pid = 0;
  const seen = new Promise<string>((resolve) => {
    const srv = createServer((c) => {
      c.once('data', () => { // the request arrived: the CLI has parsed its arguments
        resolve(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
        c.destroy();
        srv.close();
      });
    });
    srv.listen(sock);
  });
  try {
    const cli = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tunkit'), '--socket', sock, 'xfrm', 'state', 'add',
      'src', '198.51.100.1', 'dst', '198.51.100.2', 'proto', 'esp', 'spi', '0x300', 'mode', 'tunnel', 'aead', 'rfc4106(gcm(aes))', key, '128'], { stdio: 'pipe' });
    pid = cli.pid!;
    const stderr: string[] = [];
    cli.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
    const cmdline = await seen;
    cli.kill();
    assert.ok(!cmdline.includes(key.slice(2)), `cmdline still holds the key: ${JSON.stringify(cmdline.replace(/\0+/g, ' '))}`);
    assert.match(cmdline, /^tunkit/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
