// Shared set-up for tunnel core tests: stacks, tunnels that are up, and
// transmit/receive calls returning copies of what the core produced.
import { makeTunnelParams } from '../../src/tunnel/params.js';
import type { TunnelConfig } from '../../src/tunnel/params.js';
import { PacketResult, TxOutcome, Verdict } from '../../src/tunnel/result.js';
import type { TunnelStack } from '../../src/tunnel/stack.js';
import type { Tunnel } from '../../src/tunnel/tunnel.js';
import { tunnelXmit, txDone } from '../../src/tunnel/xmit.js';
import { withHeadroom } from '../util/packets.js';

export const NOW = 1_000_000;

/** A tunnel added to `stack` and brought up. Local/remote default to 198.51.100.1 → .2. */
export function up(stack: TunnelStack, c: Partial<TunnelConfig> & { kind: string }): Tunnel {
  const t = stack.add(makeTunnelParams({ name: `${c.kind}1`, local: '198.51.100.1', remote: '198.51.100.2', ...c }));
  t.isUp = true;
  return t;
}

export interface TxOut {
  verdict: Verdict;
  drop: number;
  /** The outer packet (Xmit) — a copy. */
  pkt: Uint8Array;
  dst: number;
  /** The ICMP error queued for the sender, if any — a copy. */
  icmp: Uint8Array | null;
  r: PacketResult;
}

/** Runs tunnelXmit on a copy of `inner` with 64 bytes of headroom; an Xmit is then reported sent (txDone), as the data path does. */
export function tx(t: Tunnel, inner: Uint8Array, now = NOW): TxOut {
  const { buf, off, len } = withHeadroom(inner);
  const r = new PacketResult();
  const verdict = tunnelXmit(t, buf, off, len, now, r);
  if (verdict === Verdict.Xmit) txDone(t, r.innerLen, TxOutcome.Sent);
  return {
    verdict, drop: r.drop, dst: r.dst, r,
    pkt: verdict === Verdict.Xmit ? buf.slice(r.off, r.off + r.len) : new Uint8Array(0),
    icmp: r.icmpLen > 0 ? r.icmp.slice(0, r.icmpLen) : null,
  };
}

export interface RxOut { verdict: Verdict; drop: number; inner: Uint8Array; tunnel: Tunnel | null; r: PacketResult }

/** Runs TunnelStack.receive on a copy of `outer` (received on ifindex `link`). */
export function rx(stack: TunnelStack, outer: Uint8Array, link = 0): RxOut {
  const buf = new Uint8Array(outer);
  const r = new PacketResult();
  const verdict = stack.receive(buf, 0, buf.length, link, r);
  return {
    verdict, drop: r.drop, tunnel: r.tunnel, r,
    inner: verdict === Verdict.Deliver ? buf.slice(r.off, r.off + r.len) : new Uint8Array(0),
  };
}
