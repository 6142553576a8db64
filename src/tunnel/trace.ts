// Per-packet decision tracing. The data path calls the hook only when one is
// installed (`if (t.trace !== null)`), with primitive arguments and constant
// strings, so an idle hook costs a null check and nothing is allocated.
// Each event names the kernel function whose decision it mirrors and the
// kernel counter it bumped (or "" when none), e.g.
//   rx gre1 drop SeqMissing: iseq set, packet has no S bit — ip_tunnel_rcv → rx_fifo_errors

import { Drop, dropName } from '../wire/drop.js';

export const TraceDir = { Rx: 0, Tx: 1 } as const;

/** A decision: dir, the device name ("" if none matched), Drop code (None = passed), kernel function, counter. */
export type TraceHook = (dir: number, dev: string, drop: number, fn: string, counter: string) => void;

/** Human explanation per drop code (the "why" after the code's name). */
const WHY: Partial<Record<number, string>> = {
  [Drop.Truncated]: 'packet shorter than its header',
  [Drop.BadVersion]: 'wrong IP version',
  [Drop.BadHeaderLen]: 'bad IPv4 header length',
  [Drop.BadTotalLen]: 'IP length field disagrees with the bytes received',
  [Drop.BadIpChecksum]: 'bad outer IPv4 header checksum',
  [Drop.Fragment]: 'outer packet is a fragment',
  [Drop.GreVersion]: 'GRE version is not 0',
  [Drop.GreRouting]: 'GRE routing bit set',
  [Drop.GreChecksum]: 'GRE checksum does not verify',
  [Drop.NoTunnel]: 'no tunnel matches and the fallback device is down',
  [Drop.CsumMismatch]: 'checksum presence differs from icsum',
  [Drop.SeqMissing]: 'iseq set, packet has no S bit',
  [Drop.SeqOutOfOrder]: 'sequence number behind the expected one',
  [Drop.InnerTruncated]: 'inner header shorter than its protocol needs',
  [Drop.EcnDrop]: 'outer CE over a not-ECT inner packet (RFC 6040)',
  [Drop.ProtoMismatch]: 'payload protocol not allowed by the tunnel mode',
  [Drop.UnsupportedPayload]: 'payload this device cannot carry',
  [Drop.Spoofed]: '6to4 address does not match the outer address',
  [Drop.DeviceDown]: 'device is down',
  [Drop.TxUnsupported]: 'tunnel type cannot carry this protocol',
  [Drop.TxTooBig]: 'packet larger than the path MTU: ICMP sent to the sender',
  [Drop.TxNoDest]: 'NBMA tunnel has no destination for this packet',
  [Drop.TxNoRoute]: 'no route to the remote',
  [Drop.TxLoop]: 'route to the remote leads back into the tunnel',
  [Drop.TxMalformed]: 'inner packet too short for its protocol',
};

/** One readable line for a trace event (used by shells; allocates, so only when tracing). */
export function formatTrace(dir: number, dev: string, drop: number, fn: string, counter: string): string {
  const d = dir === TraceDir.Rx ? 'rx' : 'tx';
  const where = counter === '' ? fn : `${fn} → ${counter}`;
  if (drop === Drop.None) return `${d} ${dev || '-'} pass — ${where}`;
  return `${d} ${dev || '-'} drop ${dropName(drop)}: ${WHY[drop] ?? 'dropped'} — ${where}`;
}
