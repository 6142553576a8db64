// The value of the partial checksum, checked by the kernel: a super-packet
// from GroCoalescer, written into an IFF_VNET_HDR TUN (tk0), is FORWARDED to a
// plain TUN (tk1, no vnet header, no offloads). The kernel must then segment
// it (tcp_gso_segment) and complete every checksum (skb_checksum_help) from
// the pseudo-header sum we left, so what tk1 hands out must be the original
// segments byte for byte, TTL minus one and the IPv4 header checksum redone.
// (Local delivery, kernel.test.ts, never looks at a CHECKSUM_PARTIAL value.)
//
//   this test ─write→ tk0 [ns, ip_forward=1] tk1 ─read→ this test
//   198.51.100.2:5001 → 203.0.113.9:80 (203.0.113.0/24 routed via tk1)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { GRO_MERGE_BUF_LEN, GroCoalescer, WriteList } from '../../src/offload/gro.js';
import { Netns } from '../../src/demo/netns.js';
import { ACK, PSH, be16, pattern, refChecksum, slots, tcpChecksumValid, tcpPacket } from './tcp-packets.js';
import { buildHelper, skipReason, startHelper } from './vnet-helper.js';
import type { Helper } from './vnet-helper.js';

const SEGS = 30;
const MSS = 1400;
const TIMEOUT_MS = 20_000;

/** The segments as the sender would have sent them (IDs incrementing, PSH on the last). */
function segments(): Uint8Array[] {
  return Array.from({ length: SEGS }, (_, i) => tcpPacket({
    src: '198.51.100.2', dst: '203.0.113.9', sport: 5001, dport: 80, seq: 0xfffff000 + i * MSS, ack: 1,
    id: 0x7000 + i, flags: i === SEGS - 1 ? ACK | PSH : ACK, payload: pattern(MSS, i), ttl: 64,
  }));
}

/** What a router makes of segment s: TTL − 1, IPv4 header checksum recomputed. */
function forwarded(s: Uint8Array): Uint8Array {
  const f = s.slice();
  f[8] = f[8]! - 1;
  f[10] = 0; f[11] = 0;
  const c = refChecksum(f.subarray(0, 20));
  f[10] = c >> 8; f[11] = c & 255;
  return f;
}

async function readTcp(h: Helper, n: number): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  const deadline = Date.now() + TIMEOUT_MS;
  while (got.length < n) {
    const f = await Promise.race([h.next(), new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, deadline - Date.now())))]);
    assert.ok(f !== null, `timed out with ${got.length}/${n} forwarded segments`);
    if (f.type === 'R' && f.data[0]! >> 4 === 4 && f.data[9] === 6) got.push(new Uint8Array(f.data));
  }
  return got;
}

test('kernel forwarding: a coalesced super-packet is re-segmented into the original segments, checksums complete', { timeout: TIMEOUT_MS + 10_000 }, async (t) => {
  const why = skipReason();
  if (why !== null) { t.skip(why); return; }
  const { dir, bin } = buildHelper();
  const ns = Netns.create('tkfwd');
  const helpers: Helper[] = [];
  try {
    const tk0 = await startHelper(ns, bin, 'tk0', false);
    helpers.push(tk0);
    const tk1 = await startHelper(ns, bin, 'tk1', true);
    helpers.push(tk1);
    ns.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    for (const dev of ['tk0', 'tk1']) ns.exec('ip', ['link', 'set', dev, 'up']);
    ns.exec('ip', ['addr', 'add', '192.0.2.1/32', 'dev', 'tk0']);
    ns.exec('ip', ['route', 'add', '198.51.100.0/24', 'dev', 'tk0']);
    ns.exec('ip', ['route', 'add', '203.0.113.0/24', 'dev', 'tk1']);
    const segs = segments();
    const batch = slots(SEGS, 2048, 16);
    segs.forEach((s, i) => { batch.bufs[i]!.set(s, 16); batch.sizes[i] = s.length; });
    const out = new WriteList(SEGS);
    assert.equal(new GroCoalescer(SEGS, [new Uint8Array(GRO_MERGE_BUF_LEN)]).coalesce(batch, SEGS, out), 1);
    const w = out.bufs[0]!.slice(out.offs[0]!, out.offs[0]! + out.lens[0]!);
    assert.equal(w[1], 1, 'one GSO TCPV4 super-packet');
    const idx = tk0.write(w);
    const got = await readTcp(tk1, SEGS);
    while (!tk0.results.has(idx)) await tk0.next();
    assert.equal(tk0.results.get(idx), w.length, 'write taken whole');
    got.sort((a, b) => be16(a, 4) - be16(b, 4));
    for (let i = 0; i < SEGS; i++) {
      assert.ok(tcpChecksumValid(got[i]!), `segment ${i}: the kernel completed our partial sum into a valid checksum`);
      assert.deepEqual(got[i], forwarded(segs[i]!), `segment ${i} byte for byte`);
    }
  } finally {
    for (const h of helpers) h.proc.kill('SIGTERM');
    ns.delete();
    rmSync(dir, { recursive: true, force: true });
  }
});
