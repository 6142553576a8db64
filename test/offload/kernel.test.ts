// The kernel accepts what the offload core produces and hands out what it
// expects: a real TCP connection through a TUN opened with IFF_VNET_HDR and
// TUNSETOFFLOAD(CSUM|TSO4|TSO6), in a throwaway network namespace.
//
//   ns: client (node) 192.0.2.1 ──tk0── this test: a hand-made TCP peer 192.0.2.2:5001
//       (and the same over IPv6: 2001:db8::1 ── 2001:db8::2, TSO6 / GSO TCPV6)
//
// The client sends SEND bytes; the kernel's TCP hands the TUN TSO
// super-packets, which TsoSplitter splits (every segment's checksum checked
// with the reference), and the stream must reassemble exactly. The peer
// answers with RECV bytes as MSS segments that GroCoalescer merges into one
// NEEDS_CSUM super-packet; the kernel must take the write and deliver the
// bytes (the client prints their SHA-256). A GSO write with a bad
// csum_offset must get EINVAL, so the acceptance above means something.
// What this cannot show: the value of the partial checksum. A locally
// delivered CHECKSUM_PARTIAL skb counts as verified (skb_csum_unnecessary),
// so the kernel never looks at it; gro.test.ts checks it against a
// reference completion (and that is why GRO verifies every member).
//
// The TUN is opened by a tiny C helper (fixtures/vnet-tun.c) compiled into
// a temp dir: the native addon cannot open IFF_VNET_HDR devices yet. Skipped
// (with the reason) without root, a C compiler or /dev/net/tun.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { GRO_MERGE_BUF_LEN, GroCoalescer, WriteList } from '../../src/offload/gro.js';
import { TsoSplitter } from '../../src/offload/tso.js';
import { Netns } from '../../src/demo/netns.js';
import { ACK, PSH, SYN, be16, be32, pattern, slots, tcpChecksumValid, tcpPacket } from './tcp-packets.js';
import { buildHelper, skipReason, startHelper } from './vnet-helper.js';
import type { Helper } from './vnet-helper.js';

const SEND = 300_000;
const RECV_SEGS = 40;
const MSS = 1400;
const RECV = RECV_SEGS * MSS;
const PEER_ISN = 0x10000000;
const TIMEOUT_MS = 30_000;

interface Family { readonly v6: boolean; readonly local: string; readonly peer: string; readonly cidr: string; readonly l3: number }
const V4: Family = { v6: false, local: '192.0.2.1', peer: '192.0.2.2', cidr: '192.0.2.1/24', l3: 20 };
const V6: Family = { v6: true, local: '2001:db8::1', peer: '2001:db8::2', cidr: '2001:db8::1/64', l3: 40 };

const client = (fam: Family): string => `
const net = require('net'), crypto = require('crypto');
const pat = (n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 255; return b; };
const s = net.connect({ host: '${fam.peer}', port: 5001 }, () => s.write(pat(${SEND}), () => s.end()));
const got = [];
let n = 0;
s.on('data', (d) => { got.push(d); n += d.length; if (n >= ${RECV}) { console.log(JSON.stringify({ n, sha: crypto.createHash('sha256').update(Buffer.concat(got)).digest('hex') })); } });
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

for (const fam of [V4, V6]) {
  test(`kernel ${fam.v6 ? 'IPv6' : 'IPv4'}: TSO super-packets split exactly; coalesced GSO writes are accepted and delivered`,
    { timeout: TIMEOUT_MS + 10_000 }, (t) => kernelRoundTrip(t, fam));
}

async function kernelRoundTrip(t: TestContext, fam: Family): Promise<void> {
  const why = skipReason();
  if (why !== null) { t.skip(why); return; }
  const { dir, bin } = buildHelper();
  const ns = Netns.create('tkvnet');
  const procs: ChildProcess[] = [];
  try {
    const h = await startHelper(ns, bin, 'tk0', false);
    procs.push(h.proc);
    ns.exec('ip', ['addr', 'add', fam.cidr, 'dev', 'tk0', ...(fam.v6 ? ['nodad'] : [])]);
    ns.exec('ip', ['link', 'set', 'tk0', 'up']);
    const app = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', client(fam)], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(app);
    let clientOut = '';
    app.stdout.on('data', (d: Buffer) => { clientOut += d.toString(); });
    const result = await peer(h, fam, () => clientOut.includes('}'));
    t.diagnostic(`${result.gsoReads} TSO reads, largest split into ${result.maxSegs} segments`);
    assert.ok(result.gsoReads > 0, 'the kernel handed out at least one TSO super-packet');
    assert.ok(result.maxSegs > 1, `largest super-packet split into ${result.maxSegs} segments`);
    assert.equal(result.badChecksums, 0, 'every split segment has a valid TCP checksum');
    assert.deepEqual(result.stream, pattern(SEND), 'the client stream reassembles exactly');
    assert.equal(result.badWrite, -22, 'a GSO write with csum_offset 6 is refused with EINVAL');
    assert.equal(result.goodWrite, 10 + fam.l3 + 20 + RECV, 'the coalesced super-packet is taken whole');
    const { n, sha } = JSON.parse(clientOut) as { n: number; sha: string };
    assert.equal(n, RECV);
    assert.equal(sha, createHash('sha256').update(peerData()).digest('hex'), 'the client got the coalesced bytes');
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    ns.delete();
    rmSync(dir, { recursive: true, force: true });
  }
}

const peerData = (): Uint8Array => pattern(RECV, 99);

interface PeerResult { gsoReads: number; maxSegs: number; badChecksums: number; stream: Uint8Array; badWrite: number; goodWrite: number }

/** A minimal TCP peer at <peer>:5001: handshake, ACK everything in order, send RECV bytes once through GRO. */
async function peer(h: Helper, fam: Family, clientDone: () => boolean): Promise<PeerResult> {
  const l3 = fam.l3;
  const split = new TsoSplitter();
  const seg = slots(64, 2048, 0);
  const res: PeerResult = { gsoReads: 0, maxSegs: 0, badChecksums: 0, stream: new Uint8Array(SEND), badWrite: 0, goodWrite: 0 };
  let cIsn = -1;
  let cPort = 0;
  let have = 0;
  let sent = false;
  let writes: [number, number] = [-1, -1];
  const deadline = Date.now() + TIMEOUT_MS;
  const reply: Reply = (flags, seq, payload = new Uint8Array(0), options = [], id = 0x4000) =>
    tcpPacket({ v6: fam.v6, src: fam.peer, dst: fam.local, sport: 5001, dport: cPort, seq, ack: (cIsn + 1 + have) >>> 0, flags, window: 65535, options, payload, id });
  while (!(clientDone() && have === SEND)) {
    assert.ok(Date.now() < deadline, `timed out: ${have}/${SEND} bytes received, client done: ${clientDone()}`);
    const f = await h.next();
    if (f.type === 'W') continue;
    const pkt = new Uint8Array(f.data);
    const isTcp = fam.v6 ? pkt[10]! >> 4 === 6 && pkt[16] === 6 : pkt[10]! >> 4 === 4 && pkt[19] === 6;
    if (pkt.length < 10 + l3 + 20 || !isTcp) continue; // the other family's chatter (RS, MLD), not TCP
    const n = split.split(pkt, 0, pkt.length, seg, 0);
    assert.ok(n > 0, `split refused a kernel packet: drop ${-n}`);
    if ((pkt[1]! & 0x7f) === (fam.v6 ? 4 : 1)) res.gsoReads++;
    res.maxSegs = Math.max(res.maxSegs, n);
    for (let i = 0; i < n; i++) {
      const s = seg.bufs[i]!.subarray(0, seg.sizes[i]!);
      if (!tcpChecksumValid(s)) res.badChecksums++;
      const flags = s[l3 + 13]!;
      if ((flags & SYN) !== 0) {
        cIsn = be32(s, l3 + 4);
        cPort = be16(s, l3);
        h.write(withZeroVnet(reply(SYN | ACK, PEER_ISN, undefined, [2, 4, MSS >> 8, MSS & 255])));
        continue;
      }
      const data = s.subarray(l3 + (s[l3 + 12]! >> 4) * 4);
      const off = (be32(s, l3 + 4) - (cIsn + 1)) >>> 0;
      if (data.length > 0 && off <= have && off + data.length > have && off + data.length <= SEND) {
        res.stream.set(data, off);
        have = off + data.length;
      }
      if (!sent) { writes = sendCoalesced(h, fam, reply); sent = true; }
    }
    h.write(withZeroVnet(reply(ACK, (PEER_ISN + 1 + (sent ? RECV : 0)) >>> 0)));
  }
  res.badWrite = h.results.get(writes[0]) ?? 0;
  res.goodWrite = h.results.get(writes[1]) ?? 0;
  return res;
}

type Reply = (flags: number, seq: number, payload?: Uint8Array, options?: number[], id?: number) => Uint8Array;

/** RECV bytes as MSS segments → GroCoalescer → one GSO write, after the same with a bad csum_offset; returns both write indices. */
function sendCoalesced(h: Helper, fam: Family, reply: Reply): [number, number] {
  const data = peerData();
  const batch = slots(RECV_SEGS, 2048, 16);
  for (let i = 0; i < RECV_SEGS; i++) {
    // IPv4 IDs increment per segment, as GRO requires.
    const p = reply(i === RECV_SEGS - 1 ? ACK | PSH : ACK, (PEER_ISN + 1 + i * MSS) >>> 0, data.subarray(i * MSS, (i + 1) * MSS), [], 0x4000 + i);
    batch.bufs[i]!.set(p, 16);
    batch.sizes[i] = p.length;
  }
  const out = new WriteList(RECV_SEGS);
  assert.equal(new GroCoalescer(RECV_SEGS, [new Uint8Array(GRO_MERGE_BUF_LEN)]).coalesce(batch, RECV_SEGS, out), 1);
  const w = out.bufs[0]!.slice(out.offs[0]!, out.offs[0]! + out.lens[0]!);
  assert.equal(w[1], fam.v6 ? 4 : 1, 'gso_type TCPV4 / TCPV6');
  const bad = w.slice();
  bad[8] = 6;
  return [h.write(bad), h.write(w)];
}

function withZeroVnet(p: Uint8Array): Uint8Array {
  const b = new Uint8Array(10 + p.length);
  b.set(p, 10);
  return b;
}
