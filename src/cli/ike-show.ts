// Text of `tunkit ike list-conns` and `tunkit ike monitor`.
//
// list-conns follows strongSwan 5.9's `swanctl --list-conns` line for line
// (captured from charon for the same swanctl.conf): the proposals, remote
// port, encap and start/close actions it does not print are in -j only.
//
//   gw: IKEv2, no reauthentication, rekeying every 7200s, dpd delay 30s
//     local:  198.51.100.1
//     remote: 198.51.100.2
//     local pre-shared key authentication:
//       id: t.example
//     remote pre-shared key authentication:
//       id: s.example
//     net-t: TUNNEL, rekeying every 600s, dpd action is start
//       local:  203.0.113.1/32
//       remote: 203.0.113.2/32 192.0.2.0/24
//
// monitor prints one line per event, named after charon's vici events:
//
//   ike-updown: up gw #1 198.51.100.1[500] 't.example' <=> 198.51.100.2[500] 's.example' SPIs 0123456789abcdef_i* fedcba9876543210_r
//   child-updown: up gw #1 net-t{1} reqid 1 SPIs c1234567_i c7654321_o 203.0.113.1/32 === 203.0.113.2/32
//   ike-rekey: gw #1 -> #2 SPIs 0123…_i* fedc…_r -> 1111…_i* 2222…_r
//   child-rekey: gw #2 net-t{1} -> {2} reqid 1 SPIs c1234567_i c7654321_o -> c2222222_i c3333333_o
//   ike-failure: auth gw #1 198.51.100.2[500]: the peer is 'x.example', not the configured 's.example'

import type { ChildSaRef, IkeAuthConfRecord, IkeConnRecord, IkeEvent, IkeSaRef } from '../control/ike.js';
import type { MonitorEvent } from '../daemon/protocol.js';

/** The monitor stream's IKE events (`tunkit ike monitor`, `tunkit monitor ike`). */
export const isIkeEvent = (e: MonitorEvent): e is IkeEvent => e.type.startsWith('ike.');

const rekeying = (s: number): string => (s === 0 ? 'no rekeying' : `rekeying every ${s}s`);

function authLines(side: 'local' | 'remote', a: IkeAuthConfRecord): string[] {
  return [
    `  ${side} ${a.class} authentication:`,
    `    id: ${a.id}`,
    ...a.certs.map((c) => `    certs: ${c}`),
    ...a.cacerts.map((c) => `    cacerts: ${c}`),
  ];
}

/** swanctl --list-conns text for the connections. */
export function formatConns(conns: readonly IkeConnRecord[]): string {
  const out: string[] = [];
  for (const c of conns) {
    const reauth = c.reauthTime === 0 ? 'no reauthentication' : `reauthentication every ${c.reauthTime}s`;
    out.push(`${c.name}: IKEv${c.version}, ${reauth}, ${rekeying(c.rekeyTime)}${c.dpdDelay !== 0 ? `, dpd delay ${c.dpdDelay}s` : ''}`);
    out.push(`  local:  ${c.localAddrs.join(' ')}`, `  remote: ${c.remoteAddrs.join(' ')}`);
    out.push(...authLines('local', c.local), ...authLines('remote', c.remote));
    for (const ch of c.children) {
      // charon names the action it runs: restart (start) or trap; the dpd action only where DPD is on
      out.push(`  ${ch.name}: ${ch.mode}, ${rekeying(ch.rekeyTime)}${c.dpdDelay !== 0 ? `, dpd action is ${ch.dpdAction}` : ''}`);
      out.push(`    local:  ${ch.localTs.join(' ')}`, `    remote: ${ch.remoteTs.join(' ')}`);
    }
  }
  return out.join('\n');
}

/** "gw #3"; a failure before any IKE SA (unique id 0) names the connection only. */
const ike = (r: { readonly name: string; readonly uniqueId: number }): string => (r.uniqueId !== 0 ? `${r.name} #${r.uniqueId}` : r.name);
const ikeSpis = (r: IkeSaRef): string => `${r.spiI}_i${r.isInitiator ? '*' : ''} ${r.spiR}_r${r.isInitiator ? '' : '*'}`;
const childSpis = (c: ChildSaRef): string => `${c.spiIn}_i ${c.spiOut}_o`;

/** One line for an IKE monitor event. */
export function formatIkeEvent(e: IkeEvent): string {
  switch (e.type) {
    case 'ike.ike-updown': {
      const r = e.ike;
      return `ike-updown: ${e.up ? 'up' : 'down'} ${ike(r)} ${r.localAddr}[${r.localPort}] '${e.localId}' <=> ${r.remoteAddr}[${r.remotePort}] '${e.remoteId}' SPIs ${ikeSpis(r)}${e.reason !== undefined ? ` (${e.reason})` : ''}`;
    }
    case 'ike.child-updown': {
      const c = e.child;
      return `child-updown: ${e.up ? 'up' : 'down'} ${ike(e.ike)} ${c.name}{${c.uniqueId}} reqid ${c.reqid} SPIs ${childSpis(c)} ${c.localTs.join(' ')} === ${c.remoteTs.join(' ')}`;
    }
    case 'ike.ike-rekey':
      return `ike-rekey: ${ike(e.old)} -> #${e.new.uniqueId} SPIs ${ikeSpis(e.old)} -> ${ikeSpis(e.new)}`;
    case 'ike.child-rekey':
      return `child-rekey: ${ike(e.ike)} ${e.old.name}{${e.old.uniqueId}} -> {${e.new.uniqueId}} reqid ${e.new.reqid} SPIs ${childSpis(e.old)} -> ${childSpis(e.new)}`;
    case 'ike.failure':
      return `ike-failure: ${e.kind} ${e.name !== '' ? ike(e) : '-'} ${e.remoteAddr}[${e.remotePort}]: ${e.reason}`;
  }
}
