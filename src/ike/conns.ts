// The loaded configuration as `ike.list-conns` answers it (control/ike.ts
// IkeConnRecord): what swanctl --list-conns shows — addresses, lifetimes,
// DPD, each side's authentication with its certificates' subjects, each
// child's selectors and actions — plus the proposals. Never a secret:
// PSKs and private keys stay in the IkeConfig.

import type { IkeAuthConfRecord, IkeChildConfRecord, IkeConnRecord } from '../control/ike.js';
import { DH_NAMES, encrName, INTEGS, PRFS } from './algs.js';
import { certName } from './certs.js';
import type { ChildConfig, ConnConfig, IkeConfig, PeerAuth } from './config.js';
import type { ProposalSpec } from './proposal.js';

/** A proposal in strongSwan's transform names, "AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519". */
export function proposalText(p: ProposalSpec): string {
  return [
    ...p.encr.map((e) => encrName(e.id, e.keyLength)),
    ...p.integ.map((i) => INTEGS.get(i)?.name ?? `INTEG(${i})`),
    ...p.prf.map((f) => PRFS.get(f)?.name ?? `PRF(${f})`),
    ...p.dh.map((d) => DH_NAMES.get(d) ?? `DH(${d})`),
  ].join('/');
}

function authRecord(a: PeerAuth, isLocal: boolean): IkeAuthConfRecord {
  const cert = isLocal && a.cert != null ? [certName(a.cert)] : [];
  return {
    auth: a.auth, class: a.auth === 'psk' ? 'pre-shared key' : 'public key', id: a.id,
    certs: cert, cacerts: isLocal ? [] : (a.anchors ?? []).map(certName),
  };
}

function childRecord(ch: ChildConfig): IkeChildConfRecord {
  return {
    name: ch.name, mode: 'TUNNEL', rekeyTime: ch.life.rekeySec, lifeTime: ch.life.lifeSec, localTs: ch.localTs, remoteTs: ch.remoteTs,
    espProposals: ch.espProposals.map(proposalText), startAction: ch.startAction,
    dpdAction: ch.actions?.dpd ?? 'none', closeAction: ch.actions?.close ?? 'none',
  };
}

export function connRecord(c: ConnConfig): IkeConnRecord {
  return {
    name: c.name, version: 2, localAddrs: c.localAddrs, remoteAddrs: c.remoteAddrs, remotePort: c.remotePort,
    reauthTime: 0, rekeyTime: c.life.rekeySec, dpdDelay: c.dpd?.delaySec ?? 0, encap: c.encap,
    proposals: c.proposals.map(proposalText), local: authRecord(c.local, true), remote: authRecord(c.remote, false),
    children: c.children.map(childRecord),
  };
}

/** Every loaded connection, in the configuration's order. */
export const listConns = (cfg: IkeConfig): IkeConnRecord[] => cfg.connections.map(connRecord);
