// The flood test's sender (flood.test.ts), run as its own process inside
// the peer's namespace: builds `count` outer IPv4 packets for 198.51.100.1
// — a quarter each GRE, IPIP, ESP and ESP-in-UDP (UDP 4500) — then sends
// them all as fast as an IPPROTO_RAW socket takes them (sendmmsg through the
// project's native addon), and prints one JSON line:
//   {"sent": N, "retried": R, "ms": T, "bytes": B}
// Every packet is sent exactly once: a batch cut short (EAGAIN) or a message
// the stack refused (ENOBUFS: the veth's backlog is full) is sent again, so
// the receiver sees `count` packets minus what its own kernel drops.
//
//   node flood-sender.js bad  COUNT SEED [K]   malformed and random packets
//       (K: only kind K — 0 GRE, 1 IPIP, 2 ESP, 3 ESP-in-UDP — to debug one)
//   node flood-sender.js good COUNT SEED [K]   well-formed packets the daemon
//       delivers: GRE for gre1 and IPIP for ipip1 carrying ICMP echo
//       replies, ESP and ESP-in-UDP sealed with the flood SAs 0x3003 /
//       0x3013 (flood.test.ts adds them to the daemon) carrying the same.
//
// Packets are pre-built into one slab before the clock starts, so both
// kinds are sent at the rate of the socket, not of their construction.
// Deterministic (xorshift32 from SEED): a failure can be replayed.

import { put16, put32 } from '../../src/wire/bytes.js';
import { checksum16 } from '../../src/wire/checksum.js';
import { loadNative } from '../../src/io/native.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { addState, espPacket, sa } from '../xfrm/esp-util.js';

export const FLOOD_ADDR = { daemon: '198.51.100.1', peer: '198.51.100.2', stranger: '198.51.100.9' } as const;
/** The keys of the flood's own SAs (0x3003 raw ESP, 0x3013 ESP-in-UDP), peer → daemon: GCM-128 + 4-byte salt. */
export const FLOOD_KEY = '0x3a3b3c3d3e3f404142434445464748494a4b4c4d';
export const GRE_KEY = 1;
export const SPI = { espIn: 0x2002, udpIn: 0x2012, floodEsp: 0x3003, floodUdp: 0x3013 } as const;

const u32 = (a: string): number => a.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);

class Rng {
  constructor(private x: number) { this.x = (x | 0) || 1; }
  next(): number {
    this.x ^= this.x << 13; this.x ^= this.x >>> 17; this.x ^= this.x << 5;
    return this.x >>> 0;
  }
  below(n: number): number { return this.next() % n; }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

/** An outer IPv4 packet (20-byte header; raw(7) rewrites total length and checksum anyway). */
function ip4(proto: number, src: string, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(20 + payload.length);
  b[0] = 0x45;
  put16(b, 2, b.length);
  b[8] = 64;
  b[9] = proto;
  put32(b, 12, u32(src));
  put32(b, 16, u32(FLOOD_ADDR.daemon));
  put16(b, 10, checksum16(b, 0, 20));
  b.set(payload, 20);
  return b;
}

/** A UDP header to port 4500 (length right, checksum 0: the kernel takes it) in front of payload. */
function udp4500(payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  put16(b, 0, 4500);
  put16(b, 2, 4500);
  put16(b, 4, b.length);
  b.set(payload, 8);
  return b;
}

/** An ICMP echo reply src → dst: what the daemon delivers for the good flood (the host ignores it). */
function echoReply(src: string, dst: string, seq: number): Uint8Array {
  const icmp = new Uint8Array(8 + 32);
  put16(icmp, 4, 0x666c);
  put16(icmp, 6, seq & 0xffff);
  put16(icmp, 2, checksum16(icmp, 0, icmp.length));
  const b = new Uint8Array(20 + icmp.length);
  b[0] = 0x45;
  put16(b, 2, b.length);
  b[8] = 64;
  b[9] = 1;
  put32(b, 12, u32(src));
  put32(b, 16, u32(dst));
  put16(b, 10, checksum16(b, 0, 20));
  b.set(icmp, 20);
  return b;
}

/** GRE with key GRE_KEY and a checksum over header + payload (RFC 2784/2890), protocol IPv4. */
function gre(payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(12 + payload.length);
  put16(b, 0, 0xa000);
  put16(b, 2, 0x0800);
  put32(b, 8, GRE_KEY);
  b.set(payload, 12);
  put16(b, 4, checksum16(b, 0, b.length));
  return b;
}

/**
 * A random payload that, when it is delivered as an inner IPv4 packet, never
 * claims UDP: the host's UDP MIB then counts only the flood's outer UDP.
 */
function noUdp(b: Uint8Array): Uint8Array {
  if (b.length > 9 && b[9] === 17) b[9] = 253;
  return b;
}

/** One malformed or random packet of the kind i % 4 (GRE, IPIP, ESP, ESP-in-UDP). */
function bad(i: number, r: Rng): Uint8Array {
  const src = r.below(4) === 0 ? FLOOD_ADDR.stranger : FLOOD_ADDR.peer; // a quarter match no tunnel / no SA address
  const len = r.below(4) === 0 ? r.below(9) : r.below(240);
  switch (i & 3) {
    case 0: {
      const k = r.below(4);
      if (k === 0) return ip4(47, src, r.bytes(len)); // random bytes
      const g = gre(noUdp(r.bytes(len)));
      if (k === 1) g[4]! ^= 1 + r.below(255); // checksum wrong
      else if (k === 2) g[r.below(4)] = r.next() & 0xff; // flags, version or protocol mangled
      return ip4(47, src, k === 3 ? g.subarray(0, r.below(g.length + 1)) : g); // cut anywhere
    }
    case 1: return ip4(4, src, noUdp(r.bytes(len)));
    case 2: {
      const e = r.bytes(Math.max(len, 0));
      if (e.length >= 4 && r.below(2) === 0) put32(e, 0, SPI.espIn); // our SA's SPI: replay window and ICV refuse it
      return ip4(50, src, e);
    }
    default: {
      const k = r.below(8);
      if (k === 0) return ip4(17, src, udp4500(Uint8Array.of(0xff))); // NAT keepalive
      const e = r.bytes(len);
      if (k === 1 && e.length >= 4) put32(e, 0, 0); // non-ESP marker: IKE's
      if (k >= 4 && e.length >= 4) put32(e, 0, SPI.udpIn);
      return ip4(17, src, udp4500(e));
    }
  }
}

/** Builds the good flood's packets: SAs for the sealing side of 0x3003 / 0x3013. */
function goodMaker(): (i: number) => Uint8Array {
  const x = new XfrmStack();
  const aead = { name: 'rfc4106(gcm(aes))', keyHex: FLOOD_KEY.substring(2), bits: 128 };
  const esp = addState(x, sa(FLOOD_ADDR.peer, FLOOD_ADDR.daemon, SPI.floodEsp, { aead }));
  const udp = addState(x, sa(FLOOD_ADDR.peer, FLOOD_ADDR.daemon, SPI.floodUdp, { aead }));
  const seq = [0, 0];
  return (i) => {
    switch (i & 3) {
      case 0: return ip4(47, FLOOD_ADDR.peer, gre(echoReply('192.0.2.2', '192.0.2.1', i)));
      case 1: return ip4(4, FLOOD_ADDR.peer, echoReply('192.0.2.6', '192.0.2.5', i));
      case 2: return espPacket(esp, ++seq[0]!, echoReply('203.0.113.2', '203.0.113.1', i), 4, { src: FLOOD_ADDR.peer, dst: FLOOD_ADDR.daemon });
      default: return espPacket(udp, ++seq[1]!, echoReply('203.0.113.12', '203.0.113.11', i), 4, { src: FLOOD_ADDR.peer, dst: FLOOD_ADDR.daemon, udpSport: 4500 });
    }
  };
}

interface Slab { readonly slab: Uint8Array; readonly offs: Int32Array; readonly sizes: Int32Array; readonly bytes: number }

function build(kind: 'bad' | 'good', count: number, seed: number, only: number | null): Slab {
  const r = new Rng(seed);
  const pick = (i: number): number => (only === null ? i : (i & ~3) | only);
  const good = kind === 'good' ? goodMaker() : null;
  const make = (i: number): Uint8Array => (good !== null ? good(pick(i)) : bad(pick(i), r));
  const pkts: Uint8Array[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const p = make(i);
    pkts.push(p);
    bytes += p.length;
  }
  const slab = new Uint8Array(bytes);
  const offs = new Int32Array(count);
  const sizes = new Int32Array(count);
  let o = 0;
  pkts.forEach((p, i) => { slab.set(p, o); offs[i] = o; sizes[i] = p.length; o += p.length; });
  return { slab, offs, sizes, bytes };
}

const BATCH = 512;

/** Sends every packet once (retrying what the socket did not take); returns the retry count. */
async function send(s: Slab): Promise<number> {
  const n = loadNative();
  const fd = n.rawOpen(255);
  const count = s.offs.length;
  const dst = new Uint32Array(BATCH).fill(u32(FLOOD_ADDR.daemon));
  const status = new Uint8Array(BATCH);
  const offs = new Int32Array(BATCH);
  const sizes = new Int32Array(BATCH);
  let retried = 0;
  try {
    for (let i = 0; i < count;) {
      const m = Math.min(BATCH, count - i);
      offs.set(s.offs.subarray(i, i + m));
      sizes.set(s.sizes.subarray(i, i + m));
      status.fill(0);
      const sent = n.sendBatch(fd, s.slab, offs, sizes, dst, m, undefined, status);
      // Not taken (EAGAIN, ENOBUFS): compact them to the front and try again after the receiver drained.
      let k = 0;
      for (let j = 0; j < m; j++) {
        if (status[j] === 1) continue;
        offs[k] = offs[j]!; sizes[k] = sizes[j]!; k++;
      }
      if (sent === m) { i += m; continue; }
      retried += k;
      await new Promise((res) => setImmediate(res));
      s.offs.set(offs.subarray(0, k), i + m - k);
      s.sizes.set(sizes.subarray(0, k), i + m - k);
      i += m - k;
    }
  } finally {
    n.closeFd(fd);
  }
  return retried;
}

async function main(): Promise<void> {
  const [kind, countS, seedS, onlyS] = process.argv.slice(2);
  if (kind !== 'bad' && kind !== 'good') throw new Error(`usage: flood-sender.js bad|good COUNT SEED (got ${String(kind)})`);
  const count = Number(countS);
  if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`COUNT: ${String(countS)} is not a positive integer`);
  const s = build(kind, count, Number(seedS ?? 1), onlyS === undefined ? null : Number(onlyS) & 3);
  process.stdout.write('built\n');
  await new Promise<void>((res) => process.stdin.once('data', () => res())); // the test starts its pings, then says go
  const t0 = performance.now();
  const retried = await send(s);
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ sent: count, retried, ms, bytes: s.bytes })}\n`);
}

if (process.argv[1]?.endsWith('flood-sender.js') === true) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  });
}
