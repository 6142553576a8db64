// Our tunnels are the kernel's tunnels on the wire. The linux-peer captures
// (test/vectors/pcap) hold packets a real Linux 6.1 kernel encapsulated with
//   ipip1  type ipip remote 198.51.100.1 local 198.51.100.2
//   gre1   type gre  … key 5
//   gre2   type gre  … ikey 5 okey 5 iseq oseq icsum ocsum
//   sit1   type sit  remote 198.51.100.1 local 198.51.100.2
// (shared/linux-peer/proof/tunnel_proof.py). Configured the same way, our
// transmit path must produce the kernel's outer packet byte for byte (given
// the kernel's IP ID and GRE sequence number, which are per-host state), and
// our receive path, configured as the other end, must deliver exactly the
// inner packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPcap } from '../../src/wire/pcap.js';
import type { PcapFile } from '../../src/wire/pcap.js';
import { be16, be32 } from '../../src/wire/bytes.js';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { Verdict } from '../../src/tunnel/result.js';
import type { TunnelConfig } from '../../src/tunnel/params.js';
import { a4 } from '../util/packets.js';
import { loadBytes } from '../util/paths.js';
import { rx, tx, up } from './harness.js';

interface Case { file: string; cfg: Partial<TunnelConfig> & { kind: string }; }
const CASES: Case[] = [
  { file: 'ipip.pcap', cfg: { kind: 'ipip' } },
  { file: 'gre.pcap', cfg: { kind: 'gre', key: 5 } },
  { file: 'gre-seq-csum.pcap', cfg: { kind: 'gre', ikey: 5, okey: 5, iseq: true, oseq: true, icsum: true, ocsum: true } },
  { file: 'sit.pcap', cfg: { kind: 'sit' } },
];
const GUEST = a4('198.51.100.2');

/** IP packets (Ethernet stripped) the guest kernel sent, in capture order. */
function kernelSent(file: string): Uint8Array[] {
  const f = readPcap(loadBytes(`pcap/${file}`));
  assert.ok(!('error' in f));
  return (f as PcapFile).records.map((r) => r.data.subarray(14)).filter((ip) => be32(ip, 12) === GUEST);
}

/** Offset of the inner packet: after the outer IPv4 header and, for GRE, its header. */
function innerOffset(ip: Uint8Array): number {
  if (ip[9] !== 47) return 20;
  const flags = be16(ip, 20);
  return 24 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
}

for (const c of CASES) {
  test(`encapsulation equals the kernel's: ${c.file}`, () => {
    const pkts = kernelSent(c.file);
    assert.ok(pkts.length >= 3, 'the guest sent echo requests and replies');
    const t = up(new TunnelStack(), { ...c.cfg, local: '198.51.100.2', remote: '198.51.100.1' });
    for (const k of pkts) {
      t.ident = (be16(k, 4) - 1) & 0xffff; // the kernel's __ip_select_ident value for this packet
      if (c.cfg.oseq === true) t.oSeqno = be32(k, innerOffset(k) - 4);
      const ours = tx(t, k.subarray(innerOffset(k)));
      assert.equal(ours.verdict, Verdict.Xmit);
      assert.deepEqual(ours.pkt, k, 'byte-identical outer packet');
    }
  });

  test(`decapsulation of the kernel's packets: ${c.file}`, () => {
    const pkts = kernelSent(c.file);
    const s = new TunnelStack();
    const t = up(s, { ...c.cfg, local: '198.51.100.1', remote: '198.51.100.2' });
    let bytes = 0;
    for (const k of pkts) {
      const r = rx(s, k);
      assert.equal(r.verdict, Verdict.Deliver, `drop ${r.drop}`);
      assert.deepEqual(r.inner, k.subarray(innerOffset(k)));
      bytes += k.length - innerOffset(k);
    }
    assert.equal(t.stats.rx_packets, pkts.length);
    assert.equal(t.stats.rx_bytes, bytes);
    assert.equal(t.stats.rx_errors, 0);
  });
}
