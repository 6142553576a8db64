// A synchronous, allocation-free harness around two Datapaths, for counting
// what the data path itself allocates per packet (alloc.test.ts): no
// setImmediate, no Promise, no subarray, so every byte the heap grows by
// while packets are pumped is the data path's.
//
//   pump(pkt, n) → PumpTun (left, parked readInto) → left Datapath out
//     → LoopConn.send → copies into right's receive batch → right Datapath in
//     → PumpTun.write (right, counts what arrives)
//
// Everything runs inside pump(): the left port's read is re-armed by the
// data path before pump() returns, so the next pump() finds it parked.

import { MsClocks } from '../../src/datapath/clock.js';
import { Datapath } from '../../src/datapath/datapath.js';
import type { DatapathClocks, DatapathEvents } from '../../src/datapath/datapath.js';
import { TunkitNode } from '../../src/daemon/node.js';
import type { PooledBatch } from '../../src/io/pool.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { FakeDevices } from '../daemon/fake-devices.js';
import { addPolicy, addState, GCM } from '../xfrm/esp-util.js';
import { allocBatch } from '../../src/io/pool.js';
import type { PacketBatch, PacketConn, ReadDone, ReceiveCallback, RecvMeta, TunDevice } from '../../src/io/types.js';
import { newRecvMeta } from '../../src/io/types.js';
import { packetStart } from '../../src/io/pool.js';
import { VIRTIO_NET_HDR_LEN as VNET_HDR_LEN } from '../../src/wire/virtio-net.js';

const NEVER: Promise<number> = new Promise(() => undefined);
const CLOSED: Promise<void> = Promise.resolve();

/** A TUN whose reads are fed by pump() and whose writes are counted, never copied. */
export class PumpTun implements TunDevice {
  readonly batchSize = 32;
  /** Packets and bytes the data path wrote into this device. */
  written = 0;
  writtenBytes = 0;
  private parked: PacketBatch | null = null;
  private done: ReadDone | null = null;

  /** vnetHdr: pump() frames start with their 10-byte virtio_net_hdr (types.ts TunDevice.vnetHdr). */
  constructor(readonly name: string, readonly mtu = 1500, readonly vnetHdr = false) {}

  get gso(): boolean { return this.vnetHdr; }

  read(): Promise<number> { return NEVER; } // the data path uses readInto

  readInto(b: PacketBatch, done: ReadDone): void {
    this.parked = b;
    this.done = done;
  }

  /** n copies of frame (with its vnet header first on a vnetHdr device) into the parked read batch, delivered before this returns. */
  pump(frame: Uint8Array, n: number): void {
    const b = this.parked as PooledBatch | null;
    const done = this.done;
    if (b === null || done === null) throw new Error(`${this.name}: no read parked`);
    this.parked = null;
    this.done = null;
    const hdr = this.vnetHdr ? VNET_HDR_LEN : 0;
    for (let i = 0; i < n; i++) {
      b.slab.set(frame, b.start(i) - hdr);
      b.sizes[i] = frame.length - hdr;
    }
    b.count = n;
    done(n, null);
  }

  write(b: PacketBatch, ok?: Uint8Array): number {
    for (let i = 0; i < b.count; i++) {
      this.writtenBytes += b.sizes[i]!;
      if (ok !== undefined) ok[i] = 1;
    }
    this.written += b.count;
    return b.count;
  }

  close(): Promise<void> { return CLOSED; }
}

/** One end of a raw-IPv4 conn pair: send() copies into the peer's receive batch and delivers it at once. */
export class LoopConn implements PacketConn {
  readonly batchSize = 32;
  peer: LoopConn | null = null;
  sent = 0;
  private cb: ReceiveCallback | null = null;
  /** The receive batch: the data path's connRx() (beside its GRO staging, as tunkitd's raw sockets have it). */
  rx: PooledBatch = allocBatch({ batchSize: 32, mtu: 1600 });
  private readonly ifx = new Int32Array(32).fill(2);
  private readonly src = new Uint32Array(32);
  private readonly meta: RecvMeta = newRecvMeta(32);

  constructor(readonly addr: number) {}

  send(b: PacketBatch, _dst: Uint32Array, ok?: Uint8Array): number {
    const p = this.peer!;
    const rx = p.rx;
    for (let i = 0; i < b.count; i++) {
      const from = b.bufs[i]!;
      const s = packetStart(b, i);
      const len = b.sizes[i]!;
      const at = rx.start(i);
      for (let k = 0; k < len; k++) rx.slab[at + k] = from[s + k]!; // no subarray: nothing allocated
      rx.sizes[i] = len;
      p.src[i] = this.addr;
      if (ok !== undefined) ok[i] = 1;
    }
    rx.count = b.count;
    this.sent += b.count;
    if (p.cb !== null && b.count > 0) p.cb(rx, p.ifx, p.src, p.meta);
    return b.count;
  }

  onReceive(cb: ReceiveCallback): void { this.cb = cb; }
  close(): void { this.cb = null; }
}

/** Two LoopConns joined: a (addrA) ↔ b (addrB), host-order u32s. */
export function loopPair(addrA: number, addrB: number): [LoopConn, LoopConn] {
  const a = new LoopConn(addrA);
  const b = new LoopConn(addrB);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

const LEFT_U32 = 0xc6336401; // 198.51.100.1
const RIGHT_U32 = 0xc6336402; // 198.51.100.2
export const PUMP_LEFT = '198.51.100.1';
export const PUMP_RIGHT = '198.51.100.2';

const quiet: DatapathEvents = {
  pmtu: () => undefined, xfrmPmtu: () => undefined, xfrmEvents: () => undefined, ike: () => undefined, log: () => undefined,
};

export interface PumpSide { readonly dp: Datapath; readonly node: TunkitNode; readonly xfrm: XfrmStack; readonly tun: PumpTun; readonly conn: LoopConn }

/** Clocks that never move: numbers made once, so reading them allocates nothing (alloc.test.ts). */
const MONO = 1_000_000.5;
const WALL = 1_700_000_000_000;
const fixedClocks: DatapathClocks = { now: () => MONO, wallNow: () => WALL };

function side(conn: LoopConn, fixed: boolean): Omit<PumpSide, 'tun'> {
  const clocks = fixed ? fixedClocks : new MsClocks(); // else the daemon's (main.ts)
  const node = new TunkitNode(new FakeDevices(), () => undefined, clocks.now);
  const xfrm = new XfrmStack();
  const dp = new Datapath(node.stack, xfrm, quiet, clocks);
  conn.rx = dp.connRx() ?? conn.rx;
  dp.setTx(conn);
  dp.addRaw(conn);
  return { dp, node, xfrm, conn };
}

/**
 * Two data paths joined by a LoopConn pair, each with one pumped device:
 * 'gre' a GRE tunnel gre1 (offload: a vnet-header TUN with TSO/GRO, as
 * tunkitd opens tunnel TUNs), 'esp' the policy TUN with one tunnel-mode
 * AES-GCM SA and policy each way for 203.0.113.1 ↔ 203.0.113.2.
 * fixedClock: clocks that never move, else MsClocks (as tunkitd).
 * oseq: the SAs' last sent sequence number to start from (`replay-oseq`).
 */
export function pumpPair(
  kind: 'gre' | 'esp', offload = false, fixedClock = false, oseq = 0,
): { left: PumpSide; right: PumpSide; close: () => void } {
  const [a, b] = loopPair(LEFT_U32, RIGHT_U32);
  const sides = [side(a, fixedClock), side(b, fixedClock)] as const;
  const made = sides.map((s, k) => {
    const [self, peer] = k === 0 ? [PUMP_LEFT, PUMP_RIGHT] : [PUMP_RIGHT, PUMP_LEFT];
    if (kind === 'gre') {
      s.node.addLink({ name: 'gre1', kind: 'gre', local: self, remote: peer });
      s.node.setLink('gre1', { up: true });
      const e = s.node.entry('gre1');
      const tun = new PumpTun('gre1', 1476, offload);
      s.dp.attachTunnel(e.tunnel, tun);
      return { ...s, tun };
    }
    const base = { proto: 'esp', reqid: 1, replayWindow: 128, mode: 'tunnel', ...GCM } as const;
    // SPIs of 2^31 and up, as IKE picks them half the time: a u32 that is not a V8 small integer.
    for (const [src, dst, spi] of [[PUMP_LEFT, PUMP_RIGHT, 0xc1001001], [PUMP_RIGHT, PUMP_LEFT, 0xc2002002]] as const) {
      addState(s.xfrm, { ...base, src, dst, spi }).replay.restore({ oseq });
    }
    const inner = k === 0 ? ['203.0.113.1/32', '203.0.113.2/32'] : ['203.0.113.2/32', '203.0.113.1/32'];
    const tmpl = (src: string, dst: string) => ({ src, dst, proto: 'esp', mode: 'tunnel', reqid: 1 }) as const;
    addPolicy(s.xfrm, { sel: { src: inner[0]!, dst: inner[1]! }, dir: 'out', tmpls: [tmpl(self, peer)] });
    addPolicy(s.xfrm, { sel: { src: inner[1]!, dst: inner[0]! }, dir: 'in', tmpls: [tmpl(peer, self)] });
    const tun = new PumpTun('ipsec0', 1438);
    s.dp.attachPolicy('ipsec0', tun);
    return { ...s, tun };
  });
  const close = (): void => { for (const s of made) { s.dp.stop(); s.node.close(); } };
  return { left: made[0]!, right: made[1]!, close };
}
