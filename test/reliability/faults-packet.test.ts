// A fault in one packet, one SA or one device never takes the rest down
// (issue 13, "Fail closed" last bullet, "Faults and load"): the whole data
// path over io/mem.ts (test/datapath/two-ns.ts), with faults injected where
// the kernel's would come from: a crypto call that throws (a destroyed
// OpenSSL context: the addon's real ERR_CRYPTO_DESTROYED; an OpenSSL refusal
// stood in by a throwing seal/open), a send socket that refuses (ENOBUFS,
// then a full buffer: EAGAIN), a device whose reads fail, a raw socket whose
// recvmmsg fails (a RawConn over a scripted socket, test/io/fake-socket.ts),
// an xfrm interface's device deleted behind tunkit's back (made anew). Each time: the
// packet is dropped and counted under a named counter, one log line per
// condition, the next packets and the other tunnels go on, and traffic flows
// again by itself once the condition ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemConn, MemTun } from '../../src/io/mem.js';
import { allocBatch } from '../../src/io/pool.js';
import type { PacketBatch, PacketConn, ReceiveCallback, TunDevice } from '../../src/io/types.js';
import { newIoStats } from '../../src/io/types.js';
import type { HasStats } from '../../src/io/types.js';
import { XFRM_STAT_NAMES, XfrmStat } from '../../src/xfrm/mib.js';
import type { XfrmStack } from '../../src/xfrm/xfrm.js';
import type { XfrmState } from '../../src/xfrm/state.js';
import { batchOf, cross, LEFT, RIGHT, settle, twoNs } from '../datapath/two-ns.js';
import type { Ns } from '../datapath/two-ns.js';
import type { FakeDevice } from '../daemon/fake-devices.js';
import { addPolicy, addState, GCM } from '../xfrm/esp-util.js';
import { icmp4Echo } from '../xfrm/helpers.js';
import { RawConn, RECV_RETRY_MS } from '../../src/io/raw.js';
import { SEND_CLEAR_HOLD_MS } from '../../src/datapath/datapath.js';
import { put16 } from '../../src/wire/bytes.js';
import { checksum16 } from '../../src/wire/checksum.js';
import { FakeSocketAddon } from '../io/fake-socket.js';
import { reopenGone } from '../../src/daemon/device-gone.js';
import type { GoneCtx } from '../../src/daemon/device-gone.js';
import { Log } from '../../src/daemon/log.js';
import type { XfrmRoutes } from '../../src/daemon/xfrm-routes.js';

const KEY_HEX = (GCM.aead as { keyHex: string }).keyHex;
const echo = (src: string, dst: string, seq: number): Uint8Array => icmp4Echo(src, dst, 0x77, seq, 56, 0x4000, 0);

/** ESP tunnel mode 203.0.113.1 ↔ 203.0.113.2 through both policy TUNs (SPI 0x1001 left→right, 0x2002 back). */
function esp(left: Ns, right: Ns): void {
  const base = { proto: 'esp', reqid: 1, replayWindow: 32, mode: 'tunnel', ...GCM } as const;
  for (const x of [left.xfrm, right.xfrm]) {
    addState(x, { ...base, src: LEFT, dst: RIGHT, spi: 0x1001 });
    addState(x, { ...base, src: RIGHT, dst: LEFT, spi: 0x2002 });
  }
  const pol = (x: XfrmStack, self: string, peer: string, a: string, b: string): void => {
    addPolicy(x, { sel: { src: `${a}/32`, dst: `${b}/32` }, dir: 'out', tmpls: [{ src: self, dst: peer, proto: 'esp', mode: 'tunnel', reqid: 1 }] });
    addPolicy(x, { sel: { src: `${b}/32`, dst: `${a}/32` }, dir: 'in', tmpls: [{ src: peer, dst: self, proto: 'esp', mode: 'tunnel', reqid: 1 }] });
  };
  pol(left.xfrm, LEFT, RIGHT, '203.0.113.1', '203.0.113.2');
  pol(right.xfrm, RIGHT, LEFT, '203.0.113.2', '203.0.113.1');
}

const sa = (x: XfrmStack, spi: number): XfrmState => x.sad.list().find((s) => s.cfg.spi === spi)!;
const mib = (x: XfrmStack, i: number): number => x.mib.snapshot()[XFRM_STAT_NAMES[i]!];

/** Writes pkts as one batch into `from`; returns what `to` delivers within 300 ms (several reads). */
async function burst(from: MemTun, to: MemTun, pkts: Uint8Array[]): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  const inb = allocBatch({ batchSize: 32, mtu: 1600 });
  let done = false;
  const loop = (async (): Promise<void> => {
    while (!done) {
      const n = await to.read(inb);
      for (let i = 0; i < n; i++) got.push(inb.bufs[i]!.slice(inb.offset, inb.offset + inb.sizes[i]!));
    }
  })();
  assert.equal(from.write(batchOf(...pkts)), pkts.length);
  await new Promise((r) => setTimeout(r, 300));
  done = true;
  void to.close(); // ends the pending read
  await loop;
  return got;
}

test('a seal that throws for one packet drops and counts that packet (XfrmOutStateProtoError); the rest of the batch goes out', async () => {
  const { left, right } = twoNs();
  try {
    esp(left, right);
    const x = sa(left.xfrm, 0x1001);
    const seal = x.crypto.seal.bind(x.crypto);
    let calls = 0;
    // The addon's sealBatch refusing packet 2 of 3: it seals in order and stops at the failure, `sealed` = its index (native/crypto.c).
    x.crypto.sealBatch = (b, offs, pts, his, n): void => {
      for (let k = 0; k < n; k++) {
        if (calls++ === 1) throw Object.assign(new Error('OpenSSL failed to seal an ESP packet'), { sealed: k });
        seal(b, offs[k]!, pts[k]!, his[k]!);
      }
    };
    const pkts = [1, 2, 3].map((i) => echo('203.0.113.1', '203.0.113.2', i));
    const got = await burst(left.policyHost, right.policyHost, pkts);
    assert.deepEqual(got, [pkts[0], pkts[2]], 'packets 1 and 3 arrive unchanged');
    assert.equal(mib(left.xfrm, XfrmStat.OutStateProtoError), 1, 'XfrmOutStateProtoError');
    assert.equal(left.dp.stats.faults, 1);
    assert.equal(left.logs.length, 1, `one log line: ${left.logs.join(' | ')}`);
    assert.match(left.logs[0]!, /ipsec0: OpenSSL failed to seal/);
  } finally {
    left.close();
    right.close();
  }
});

test('an SA whose OpenSSL context is gone (ERR_CRYPTO_DESTROYED from the addon) drops its packets, logged once; a GRE tunnel beside it carries on', async () => {
  const { left, right, clock } = twoNs();
  try {
    esp(left, right);
    const lg = left.link({ name: 'g1', kind: 'gre', local: LEFT, remote: RIGHT, key: 9 });
    const rg = right.link({ name: 'g1', kind: 'gre', local: RIGHT, remote: LEFT, key: 9 });
    sa(left.xfrm, 0x1001).crypto.destroy(); // every seal now throws in C
    clock.nowMs += 1; // all within FAULT_LOG_INTERVAL_MS: more faults, no more lines
    const got = await burst(left.policyHost, right.policyHost, [1, 2, 3].map((i) => echo('203.0.113.1', '203.0.113.2', i)));
    assert.equal(got.length, 0, 'nothing leaves on a dead SA, nothing in clear either');
    const p = echo('192.0.2.1', '192.0.2.2', 1);
    assert.deepEqual(await cross(lg, rg, p), p, 'the GRE tunnel is untouched');
    assert.equal(mib(left.xfrm, XfrmStat.OutStateProtoError), 3);
    assert.equal(left.dp.stats.faults, 3);
    assert.equal(left.logs.length, 1);
    assert.match(left.logs[0]!, /destroy/);
    assert.ok(!left.logs.join('\n').includes(KEY_HEX.slice(0, 16)), 'no key material in the log');
  } finally {
    left.close();
    right.close();
  }
});

test('an open that throws on the way in drops and counts that packet (XfrmInStateProtoError); the next ones are delivered', async () => {
  const { left, right } = twoNs();
  try {
    esp(left, right);
    const x = sa(right.xfrm, 0x1001);
    const open = x.crypto.open.bind(x.crypto);
    let calls = 0;
    // The batch's openBatch throws (phase 1 of ReceivePath: every packet then opens one by one), and so does the first open.
    x.crypto.openBatch = (): number => { throw new Error('OpenSSL failed to open a batch'); };
    x.crypto.open = (b, o, n, hi): boolean => {
      if (calls++ === 0) throw new Error('OpenSSL failed to open');
      return open(b, o, n, hi);
    };
    const pkts = [1, 2, 3].map((i) => echo('203.0.113.1', '203.0.113.2', i));
    const got = await burst(left.policyHost, right.policyHost, pkts);
    assert.deepEqual(got, [pkts[1], pkts[2]]);
    assert.equal(mib(right.xfrm, XfrmStat.InStateProtoError), 1, 'XfrmInStateProtoError');
    assert.equal(right.dp.stats.faults, 1);
    assert.equal(right.logs.length, 1);
    assert.match(right.logs[0]!, /receive: OpenSSL failed to open/);
  } finally {
    left.close();
    right.close();
  }
});

/** A conn in front of a MemConn whose sends can be made to fail like a kernel socket's. */
class FlakyConn implements PacketConn, HasStats {
  readonly stats = newIoStats();
  /** '' = pass; 'ENOBUFS' = every packet refused with that errno; 'EAGAIN' = socket buffer full (nothing taken). */
  mode: '' | 'ENOBUFS' | 'EAGAIN' = '';
  constructor(private readonly inner: MemConn) {}
  get batchSize(): number { return this.inner.batchSize; }
  send(b: PacketBatch, dst: Uint32Array, ok?: Uint8Array): number {
    if (this.mode === '') return this.inner.send(b, dst, ok);
    ok?.fill(0, 0, b.count);
    if (this.mode === 'ENOBUFS') {
      this.stats.txErrors += b.count;
      this.stats.lastError = 'ENOBUFS';
    } else {
      this.stats.txDropped += b.count;
    }
    return 0;
  }
  onReceive(cb: ReceiveCallback): void { this.inner.onReceive(cb); }
  close(): void { this.inner.close(); }
}

test('ENOBUFS then a full socket buffer (EAGAIN) on sends: counted, one line per condition, a recovery line, traffic flows again by itself', async () => {
  const { left, right, clock } = twoNs();
  try {
    const flaky = new FlakyConn(left.conn);
    left.dp.setTx(flaky);
    const lg = left.link({ name: 'g1', kind: 'gre', local: LEFT, remote: RIGHT });
    const rg = right.link({ name: 'g1', kind: 'gre', local: RIGHT, remote: LEFT });
    const p = echo('192.0.2.1', '192.0.2.2', 1);
    assert.deepEqual(await cross(lg, rg, p), p);
    for (const mode of ['ENOBUFS', 'EAGAIN'] as const) {
      flaky.mode = mode;
      for (let i = 0; i < 4; i++) assert.equal(lg.write(batchOf(p, p)), 2);
      await settle();
    }
    const st = left.node.showLinks('g1')[0]!.stats;
    assert.equal(st.tx_dropped, 16, 'every refused packet is the device\'s tx_dropped');
    assert.equal(flaky.stats.txErrors, 8);
    assert.equal(flaky.stats.txDropped, 8);
    flaky.mode = '';
    assert.deepEqual(await cross(lg, rg, p), p, 'flows again with no one touching anything');
    assert.equal(left.logs.length, 2, `no recovery line before SEND_CLEAR_HOLD_MS without the condition: ${left.logs.join('\n')}`);
    clock.nowMs += SEND_CLEAR_HOLD_MS;
    assert.deepEqual(await cross(lg, rg, p), p);
    const lines = left.logs.join('\n');
    assert.equal(left.logs.length, 4, lines);
    assert.match(left.logs[0]!, /^datapath send g1 ENOBUFS: sendmmsg refused \d+ packets: ENOBUFS/);
    assert.match(left.logs[1]!, /^datapath send g1 EAGAIN: sendmmsg refused \d+ packets: EAGAIN \(socket send buffer full\)/);
    assert.match(left.logs[2]!, /^datapath send g1 ENOBUFS: recovered, 8 packets lost/);
    assert.match(left.logs[3]!, /^datapath send g1 EAGAIN: recovered, 8 packets lost/);
  } finally {
    left.close();
    right.close();
  }
});

test('a device whose reads fail: logged once while it fails, retried, a deleted TUN (EBADFD) reported once, recovered when it reads again', async () => {
  const { left, right, clock } = twoNs();
  const gone: string[] = [];
  try {
    left.node.addLink({ name: 'g1', kind: 'gre', local: LEFT, remote: RIGHT });
    left.node.setLink('g1', { up: true });
    const e = left.node.entry('g1');
    const lg = (e.dev as FakeDevice).host;
    const rg = right.link({ name: 'g1', kind: 'gre', local: RIGHT, remote: LEFT });
    const dev = e.dev.tun;
    const read = dev.read.bind(dev);
    let failures = 3;
    (left.dp as unknown as { ev: { deviceGone: (n: string) => void } }).ev.deviceGone = (n) => gone.push(n);
    dev.readInto = undefined; // the Promise path: simplest to make fail
    dev.read = (b): Promise<number> => {
      if (failures-- > 0) return Promise.reject(Object.assign(new Error('read fd=9 (TUN): EBADFD (File descriptor in bad state)'), { code: 'EBADFD' }));
      return read(b);
    };
    left.dp.attachTunnel(e.tunnel, dev); // the first read fails at once
    await new Promise((r) => setTimeout(r, 2300)); // READ_RETRY_MS = 1000: three failures, then a good read pending
    clock.nowMs += 1;
    const p = echo('192.0.2.1', '192.0.2.2', 1);
    assert.deepEqual(await cross(lg, rg, p), p);
    assert.deepEqual(gone, ['g1'], 'deviceGone once');
    assert.equal(left.logs.length, 2, left.logs.join('\n'));
    assert.match(left.logs[0]!, /^datapath read g1: read fd=9 \(TUN\): EBADFD/);
    assert.match(left.logs[1]!, /^datapath read g1: recovered/);
  } finally {
    left.close();
    right.close();
  }
});

/** An outer IPv4 GRE packet (no key) from `src` to `dst` around `inner`, as a raw socket delivers it. */
function grePacket(src: string, dst: string, inner: Uint8Array): Uint8Array {
  const p = new Uint8Array(24 + inner.length);
  p[0] = 0x45;
  put16(p, 2, p.length);
  p[8] = 64;
  p[9] = 47;
  p.set(src.split('.').map(Number), 12);
  p.set(dst.split('.').map(Number), 16);
  put16(p, 10, checksum16(p, 0, 20));
  put16(p, 22, 0x0800); // GRE: no flags, protocol IPv4
  p.set(inner, 24);
  return p;
}

test('recvmmsg failing on a raw socket: counted, logged once, the loop goes on; the socket is retried and delivers again by itself', async () => {
  const { left, right } = twoNs();
  const fake = new FakeSocketAddon();
  const raw = new RawConn(fake.asAddon(), 7, 47, { batchSize: 4, mtu: 1600 });
  try {
    left.dp.addRaw(raw);
    const lg = left.link({ name: 'g1', kind: 'gre', local: LEFT, remote: RIGHT });
    const rg = right.link({ name: 'g1', kind: 'gre', local: RIGHT, remote: LEFT });
    fake.script.push('ENOMEM', 'ENOMEM', 'ENOMEM');
    fake.fire();
    const p = echo('192.0.2.2', '192.0.2.1', 1);
    assert.deepEqual(await cross(rg, lg, p), p, 'the other sockets and the devices carry on meanwhile');
    await new Promise((r) => setTimeout(r, 3 * RECV_RETRY_MS + 100));
    assert.equal(left.dp.stats.recvErrors, 3);
    assert.equal(raw.stats.rxErrors, 3);
    const q = echo('192.0.2.2', '192.0.2.1', 2);
    const inb = allocBatch({ batchSize: 4, mtu: 1600 });
    const got = lg.read(inb);
    fake.script.push([grePacket(RIGHT, LEFT, q)]);
    assert.equal(fake.fire(), 1, 'polled again');
    assert.equal(await got, 1);
    assert.deepEqual(inb.bufs[0]!.slice(inb.offset, inb.offset + inb.sizes[0]!), q, 'what the socket delivers reaches the device');
    assert.equal(left.logs.length, 2, left.logs.join('\n'));
    assert.match(left.logs[0]!, /^datapath receive raw proto 47: recvmmsg failed, retried: recvmmsg fd=7: ENOMEM \(logged once until it clears\)/);
    assert.match(left.logs[1]!, /^datapath receive raw proto 47: recovered/);
  } finally {
    left.close();
    right.close();
  }
});

test('an xfrm interface\'s TUN deleted behind tunkit\'s back: reported once, made anew (name, if_id, MTU, up), read again; ESP flows through it', async () => {
  const { left, right } = twoNs();
  const lines: string[] = [];
  try {
    for (const x of [left.xfrm, right.xfrm]) {
      const base = { proto: 'esp', reqid: 7, replayWindow: 32, mode: 'tunnel', ifId: 7, ...GCM } as const;
      addState(x, { ...base, src: LEFT, dst: RIGHT, spi: 0x7001 });
      addState(x, { ...base, src: RIGHT, dst: LEFT, spi: 0x7002 });
    }
    for (const [x, me, peer, a, b] of [[left.xfrm, LEFT, RIGHT, '203.0.113.1', '203.0.113.2'], [right.xfrm, RIGHT, LEFT, '203.0.113.2', '203.0.113.1']] as const) {
      addPolicy(x, { sel: { src: `${a}/32`, dst: `${b}/32` }, dir: 'out', tmpls: [{ src: me, dst: peer, proto: 'esp', mode: 'tunnel', reqid: 7 }], ifId: 7 });
      addPolicy(x, { sel: { src: `${b}/32`, dst: `${a}/32` }, dir: 'in', tmpls: [{ src: peer, dst: me, proto: 'esp', mode: 'tunnel', reqid: 7 }], ifId: 7 });
    }
    left.node.addLink({ name: 'xfrm1', kind: 'xfrm', ifId: 7, mtu: 1400 });
    left.node.setLink('xfrm1', { up: true });
    const rh = right.link({ name: 'xfrm1', kind: 'xfrm', ifId: 7 });
    const xl = left.node.xfrmLinks.get('xfrm1')!;
    const old = xl.dev as FakeDevice;
    // as the TUN of a deleted device: its read fails with EBADFD (the Promise path: simplest to make fail)
    (old.tun as TunDevice).readInto = undefined;
    old.tun.read = (): Promise<number> => Promise.reject(Object.assign(new Error('read fd=9 (TUN): EBADFD (File descriptor in bad state)'), { code: 'EBADFD' }));
    const log = new Log({ out: (l) => lines.push(l), journal: true });
    const gone: GoneCtx = { node: left.node, dp: left.dp, log, routes: null as unknown as XfrmRoutes, memory: null, policyTun: null }; // routes: the policy TUN's only
    (left.dp as unknown as { ev: { deviceGone: (n: string) => void } }).ev.deviceGone = (n) => setImmediate(() => reopenGone(gone, n));
    left.dp.attachXfrmi(xl.name, xl.ifId, xl.stats, xl.dev.tun);
    await settle();
    const fresh = left.devices.made.get('xfrm1')!;
    assert.notEqual(fresh, old, 'a new device');
    assert.ok(old.closed, 'the old one let go');
    assert.equal(fresh.mtu, 1400);
    assert.ok(fresh.up, 'up, as it was');
    assert.equal(left.node.xfrmLinks.get('xfrm1')!.ifId, 7);
    assert.equal(left.dp.stats.devicesGone, 1);
    const p = echo('203.0.113.1', '203.0.113.2', 1);
    assert.deepEqual(await cross(fresh.host, rh, p), p, 'ESP out through the new device');
    const q = echo('203.0.113.2', '203.0.113.1', 2);
    assert.deepEqual(await cross(rh, fresh.host, q), q, 'and in');
    assert.equal(left.logs.filter((m) => m.startsWith('datapath read xfrm1: read fd=9')).length, 1, left.logs.join('\n'));
    assert.match(left.logs.join('\n'), /datapath read xfrm1: recovered/);
    assert.equal(lines.filter((l) => /device_recreated dev=xfrm1 mtu=1400 up=true/.test(l)).length, 1, lines.join(''));
  } finally {
    left.close();
    right.close();
  }
});
