// Two whole data paths ("namespaces" of cores) joined by an in-memory raw
// conn pair, each with a TunkitNode over fake devices whose packets go
// through memTunPair (style.md §7: two peers over memConnPair and a
// FakeClock; wireguard-go's device_test.go over tuntest/bindtest).
//
//   left  198.51.100.1  conn ─── conn  198.51.100.2  right
//   host ↔ device (MemTun) ↔ Datapath ↔ cores          (same on the right)

import assert from 'node:assert/strict';
import { Datapath, DATAPATH_BATCH } from '../../src/datapath/datapath.js';
import type { DatapathEvents } from '../../src/datapath/datapath.js';
import { TunkitNode } from '../../src/daemon/node.js';
import { memConnPair, memTunPair } from '../../src/io/mem.js';
import type { MemConn, MemTun } from '../../src/io/mem.js';
import { allocBatch } from '../../src/io/pool.js';
import type { PooledBatch } from '../../src/io/pool.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { FakeDevices } from '../daemon/fake-devices.js';
import type { FakeDevice } from '../daemon/fake-devices.js';

export const LEFT = '198.51.100.1';
export const RIGHT = '198.51.100.2';
const LEFT_U32 = 0xc6336401;
const RIGHT_U32 = 0xc6336402;

/** Time stands still unless a test moves it. */
export class FakeClock {
  nowMs = 1_000_000;
  wallMs = 1_700_000_000_000;
  now(): number { return this.nowMs; }
  wallNow(): number { return this.wallMs; }
}

export class Ns {
  readonly devices = new FakeDevices();
  readonly node: TunkitNode;
  readonly xfrm = new XfrmStack();
  readonly dp: Datapath;
  /** The policy TUN: the daemon's end is attached, `policyHost` is the host stack's. */
  readonly policyHost: MemTun;
  readonly logs: string[] = [];
  readonly ike: number[] = [];

  constructor(readonly name: string, readonly conn: MemConn, clock: FakeClock, offload = false) {
    this.devices.offload = offload;
    this.node = new TunkitNode(this.devices, () => undefined, () => clock.now());
    const ev: DatapathEvents = {
      pmtu: () => undefined,
      xfrmPmtu: () => undefined,
      xfrmEvents: () => undefined,
      ike: (_b, _off, len) => { this.ike.push(len); },
      log: (m) => { this.logs.push(m); },
    };
    this.dp = new Datapath(this.node.stack, this.xfrm, ev, clock);
    this.dp.setTx(conn);
    this.dp.addRaw(conn);
    const [daemonEnd, hostEnd] = memTunPair({ mtu: 1500, batchSize: 32 });
    this.dp.attachPolicy('ipsec0', daemonEnd);
    this.policyHost = hostEnd;
  }

  /** `tunkit link add …` + `link set up`, attached to the data path as main.ts does; returns the host's end. */
  link(args: Record<string, unknown>): MemTun {
    const rec = this.node.addLink(args);
    const xl = this.node.xfrmLinks.get(rec.name);
    if (xl !== undefined) {
      this.dp.attachXfrmi(xl.name, xl.ifId, xl.stats, xl.dev.tun);
      this.node.setLink(rec.name, { up: true });
      return (xl.dev as FakeDevice).host;
    }
    const e = this.node.entry(rec.name);
    this.node.setLink(rec.name, { up: true });
    this.dp.attachTunnel(e.tunnel, e.dev.tun);
    return (e.dev as FakeDevice).host;
  }

  close(): void {
    this.dp.stop();
    this.node.close();
    void this.policyHost.close();
  }
}

/** offload: tunnel devices are vnet-header TUNs with TSO/GRO (datapath/offload.ts). */
export function twoNs(offload = false): { left: Ns; right: Ns; clock: FakeClock } {
  const clock = new FakeClock();
  const [a, b] = memConnPair({ addrA: LEFT_U32, addrB: RIGHT_U32, batchSize: DATAPATH_BATCH }); // as the daemon opens its conns (daemon/raw-sockets.ts)
  return { left: new Ns('left', a, clock, offload), right: new Ns('right', b, clock, offload), clock };
}

/** A host-side batch of the given packets. */
export function batchOf(...pkts: Uint8Array[]): PooledBatch {
  const out = allocBatch({ batchSize: Math.max(1, pkts.length), mtu: 1500 });
  pkts.forEach((p, i) => {
    out.bufs[i]!.set(p, out.offset);
    out.sizes[i] = p.length;
  });
  out.count = pkts.length;
  return out;
}

/** Writes `pkt` into a device from the host side and returns what the other host reads (or fails after 2 s). */
export async function cross(from: MemTun, to: MemTun, pkt: Uint8Array): Promise<Uint8Array> {
  const out = batchOf(pkt);
  const inb = allocBatch({ batchSize: 32, mtu: 1600 });
  const got = to.read(inb);
  assert.equal(from.write(out), 1, 'the device took the packet');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((_, reject) => { timer = setTimeout(() => reject(new Error('nothing arrived in 2 s')), 2000); });
  try {
    const n = await Promise.race([got, timeout]);
    assert.equal(n, 1, 'one packet arrived');
  } finally {
    clearTimeout(timer);
  }
  return inb.bufs[0]!.slice(inb.offset, inb.offset + inb.sizes[0]!);
}

/** Lets queued setImmediate deliveries run (nothing else should arrive). */
export const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
