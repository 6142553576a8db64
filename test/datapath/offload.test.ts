// TUN offload through the whole data path (datapath/offload.ts) over
// io/mem.ts vnet-header devices: a TSO super-packet written by the host on
// the left is split, tunnelled segment by segment, and written on the right
// as one GRO super-packet whose TCP payload and headers equal the original's;
// counters as the kernel counts them (iptunnel_xmit_stats per skb: a GSO skb
// once on devices with NETIF_F_GSO_SOFTWARE, per segment for GRE with seq).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocBatch } from '../../src/io/pool.js';
import type { MemTun } from '../../src/io/mem.js';
import type { LinkStatName } from '../../src/tunnel/stats.js';
import { Drop } from '../../src/wire/drop.js';
import { pattern, refChecksum, superPacket, tcpChecksumValid, tcpPacket, TS_OPTION, vnet, withVnet } from '../offload/tcp-packets.js';
import { addPolicy, addState, GCM } from '../xfrm/esp-util.js';
import { LEFT, RIGHT, settle, twoNs } from './two-ns.js';
import type { Ns } from './two-ns.js';

const MSS = 1400; // segments of 1452 bytes fit every tunnel MTU here (1464..1480), as TCP would size them
const PAYLOAD = 20000; // 15 segments: 14 × 1400 + 400
const SEGS = Math.ceil(PAYLOAD / MSS);
const VNET = 10;

const stat = (ns: Ns, name: string): Record<LinkStatName, number> => ns.node.showLinks(name)[0]!.stats;

/** Writes vnet header + packet (as one buffer) into a device from the host side. */
function hostWrite(dev: MemTun, withHdr: Uint8Array): void {
  const b = allocBatch({ batchSize: 1, mtu: 65535 });
  b.bufs[0]!.set(withHdr, b.offset - VNET);
  b.sizes[0] = withHdr.length - VNET;
  b.count = 1;
  assert.equal(dev.write(b), 1, 'the device took the packet');
}

/** Reads whatever arrives on the host side within 2 s: [vnet header + packet] per packet. */
async function hostRead(dev: MemTun): Promise<Uint8Array[]> {
  const b = allocBatch({ batchSize: 32, mtu: 65535 });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((_, reject) => { timer = setTimeout(() => reject(new Error('nothing arrived in 2 s')), 2000); });
  try {
    const n = await Promise.race([dev.read(b), timeout]);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(b.bufs[i]!.slice(b.offset - VNET, b.offset + b.sizes[i]!));
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** Completes a NEEDS_CSUM packet's TCP checksum with the reference sum (not src/ code). */
function completed(pkt: Uint8Array, csumStart: number): Uint8Array {
  const p = pkt.slice();
  const c = refChecksum(p.subarray(csumStart));
  p[csumStart + 16] = c >> 8;
  p[csumStart + 17] = c & 255;
  return p;
}

/** Both ends' host sides of device t1: a tunnel of `kind`, or an xfrm interface (with its SAs and policies). */
function t1(left: Ns, right: Ns, kind: Record<string, unknown>): [MemTun, MemTun] {
  if (kind['kind'] !== 'xfrm') {
    return [left.link({ name: 't1', local: LEFT, remote: RIGHT, ...kind }), right.link({ name: 't1', local: RIGHT, remote: LEFT, ...kind })];
  }
  const base = { proto: 'esp', reqid: 1, replayWindow: 32, mode: 'tunnel', ifId: 7, ...GCM } as const;
  for (const [ns, self, peer, src, dst] of [[left, LEFT, RIGHT, '192.0.2.1', '192.0.2.2'], [right, RIGHT, LEFT, '192.0.2.2', '192.0.2.1']] as const) {
    addState(ns.xfrm, { ...base, src: LEFT, dst: RIGHT, spi: 0x1001 });
    addState(ns.xfrm, { ...base, src: RIGHT, dst: LEFT, spi: 0x2002 });
    addPolicy(ns.xfrm, { sel: { src: `${src}/32`, dst: `${dst}/32` }, dir: 'out', tmpls: [{ src: self, dst: peer, proto: 'esp', mode: 'tunnel', reqid: 1 }], ifId: 7 });
    addPolicy(ns.xfrm, { sel: { src: `${dst}/32`, dst: `${src}/32` }, dir: 'in', tmpls: [{ src: peer, dst: self, proto: 'esp', mode: 'tunnel', reqid: 1 }], ifId: 7 });
  }
  return [left.link({ name: 't1', kind: 'xfrm', ifId: 7 }), right.link({ name: 't1', kind: 'xfrm', ifId: 7 })];
}

async function superCrosses(kind: Record<string, unknown>, expectTx: number, mss = MSS): Promise<void> {
  const segs = Math.ceil(PAYLOAD / mss);
  const { left, right } = twoNs(true);
  try {
    const [lh, rh] = t1(left, right, kind);
    const o = { src: '192.0.2.1', dst: '192.0.2.2', seq: 0xfffff000, options: TS_OPTION, payload: pattern(PAYLOAD) };
    const original = tcpPacket(o);
    const got = hostRead(rh);
    hostWrite(lh, superPacket(o, mss));
    const pkts = await got;
    assert.equal(pkts.length, 1, 'the segments arrive coalesced into one write');
    const w = pkts[0]!;
    assert.equal(w[0], 1, 'NEEDS_CSUM');
    assert.equal(w[1], 1, 'gso_type TCPV4');
    assert.equal(w[4]! | (w[5]! << 8), mss, 'gso_size = the MSS');
    const pkt = w.subarray(VNET);
    assert.equal(w[6]! | (w[7]! << 8), 20, 'csum_start');
    const full = completed(pkt, 20);
    assert.ok(tcpChecksumValid(full));
    assert.deepEqual(full, original, 'headers and payload byte-identical to what the host sent');
    const tx = stat(left, 't1');
    const rx = stat(right, 't1');
    assert.equal(tx.tx_packets, expectTx);
    assert.equal(tx.tx_bytes, expectTx === 1 ? original.length : original.length + (segs - 1) * 52, 'inner bytes');
    assert.equal(left.conn.stats.txPackets, segs, 'one outer packet per segment on the wire');
    assert.equal(rx.rx_packets, segs, 'ip_tunnel_rcv counts each received packet (no underlay GRO here)');
    assert.equal(tx.tx_dropped + tx.tx_errors + rx.rx_dropped + rx.rx_errors, 0);
  } finally {
    left.close();
    right.close();
  }
}

test('offload ipip: a 20 000-byte super-packet is split, tunnelled, coalesced back; one tx_packet (GSO skb)', async () => {
  await superCrosses({ kind: 'ipip' }, 1);
});

test('offload gre key (no seq): counted once per super-packet, as the kernel GSO device does', async () => {
  await superCrosses({ kind: 'gre', key: 7 }, 1);
});

test('offload gre seq + csum: segmented before the device, so tx_packets per segment', async () => {
  await superCrosses({ kind: 'gre', key: 7, seq: true, csum: true }, SEGS);
});

test('offload xfrm interface: split, sealed per segment, coalesced back; one tx_packet of the whole length (xfrmi_xmit2)', async () => {
  await superCrosses({ kind: 'xfrm' }, 1, 1300); // 1352-byte segments + ESP tunnel overhead fit the 1500-byte underlay
});

test('offload: a GSO_NONE packet with NEEDS_CSUM leaves with its checksum completed', async () => {
  const { left, right } = twoNs(true);
  try {
    const lh = left.link({ name: 'ipip1', kind: 'ipip', local: LEFT, remote: RIGHT });
    const rh = right.link({ name: 'ipip1', kind: 'ipip', local: RIGHT, remote: LEFT });
    const o = { src: '192.0.2.1', dst: '192.0.2.2', payload: pattern(100) };
    const got = hostRead(rh);
    hostWrite(lh, withVnet(vnet(1, 0, 0, 0, 20, 16), tcpPacket({ ...o, csum: 'partial' })));
    const pkts = await got;
    assert.equal(pkts.length, 1);
    assert.deepEqual(pkts[0]!.subarray(0, VNET), new Uint8Array(VNET), 'written alone: a zero vnet header');
    assert.deepEqual(pkts[0]!.subarray(VNET), tcpPacket(o));
    assert.equal(stat(left, 'ipip1').tx_packets, 1);
  } finally {
    left.close();
    right.close();
  }
});

test('offload: a super-packet the split refuses is tx_dropped (validate_xmit_skb), nothing sent', async () => {
  const { left, right } = twoNs(true);
  try {
    const lh = left.link({ name: 'ipip1', kind: 'ipip', local: LEFT, remote: RIGHT });
    right.link({ name: 'ipip1', kind: 'ipip', local: RIGHT, remote: LEFT });
    const pkt = tcpPacket({ payload: pattern(3000), csum: 'partial' });
    hostWrite(lh, withVnet(vnet(1, 1, 40, 0, 20, 16), pkt)); // gso_size 0
    await settle();
    const tx = stat(left, 'ipip1');
    assert.equal(tx.tx_dropped, 1);
    assert.equal(tx.tx_packets, 0);
    assert.equal(left.dp.stats.offloadDrops, 1);
    assert.equal(left.dp.stats.lastOffloadDrop, Drop.VnetBadHeader);
    assert.equal(left.conn.stats.txPackets, 0);
  } finally {
    left.close();
    right.close();
  }
});

test('offload: three 60 000-byte super-packets in one read (129 segments) arrive whole and in order', async () => {
  const { left, right } = twoNs(true);
  try {
    const lh = left.link({ name: 'ipip1', kind: 'ipip', local: LEFT, remote: RIGHT });
    const rh = right.link({ name: 'ipip1', kind: 'ipip', local: RIGHT, remote: LEFT });
    const total = 3 * 60000;
    const stream = pattern(total, 3);
    const b = allocBatch({ batchSize: 3, mtu: 65535 });
    for (let k = 0; k < 3; k++) {
      const sp = superPacket({ src: '192.0.2.1', dst: '192.0.2.2', seq: 1000 + k * 60000, id: k * 43, payload: stream.subarray(k * 60000, (k + 1) * 60000) }, MSS);
      b.bufs[k]!.set(sp, b.offset - VNET);
      b.sizes[k] = sp.length - VNET;
    }
    b.count = 3;
    assert.equal(lh.write(b), 3);
    const got = new Uint8Array(total);
    let bytes = 0;
    while (bytes < total) {
      for (const w of await hostRead(rh)) {
        const pkt = w[0] === 1 ? completed(w.subarray(VNET), 20) : w.slice(VNET); // NEEDS_CSUM: a merge
        assert.ok(tcpChecksumValid(pkt));
        const seq = ((pkt[24]! << 24) | (pkt[25]! << 16) | (pkt[26]! << 8) | pkt[27]!) >>> 0;
        assert.equal(seq - 1000, bytes, 'in order, nothing missing or repeated');
        got.set(pkt.subarray(40), bytes);
        bytes += pkt.length - 40;
      }
    }
    assert.deepEqual(got, stream);
    assert.equal(stat(left, 'ipip1').tx_packets, 3, 'one per super-packet');
    assert.equal(left.conn.stats.txPackets, 3 * Math.ceil(60000 / MSS));
  } finally {
    left.close();
    right.close();
  }
});
