// The IKE control schema: what `tunkit ike …` sends to tunkitd and what it
// answers, plus the xfrm requests the IKE core hands the daemon (the same
// ops and Specs `tunkit xfrm` sends). A leaf: imports only control/.
//
//   ike.list-sas   {}                    → IkeSaRecord[]
//   ike.initiate   { child: string }     → IkeSaRecord   (once the Child SA is up; error otherwise)
//   ike.terminate  { ike: string }       → { deleted: number }   (IKE SAs of that connection)
//   ike.load       { file: string }      → { connections: number }  (swanctl.conf subset)
//   ike.rekey      { child: string } | { ike: string } → { rekeyed: number }  (SAs whose rekey started)
//   ike.list-conns {}                    → IkeConnRecord[]  (the loaded connections, as swanctl --list-conns)
//
// IkeEvent: what the IKE daemon publishes on the monitor stream (`tunkit ike
// monitor`), after charon's vici events (ike-updown, child-updown, ike-rekey,
// child-rekey) plus failures with the logged reason. Never key material.

import type { PolicyId, PolicySpec, StateId, StateMigrateSpec, StateSpec } from './xfrm.js';

export const IKE_OPS = ['ike.list-sas', 'ike.initiate', 'ike.terminate', 'ike.load', 'ike.rekey', 'ike.list-conns'] as const;
export type IkeOp = (typeof IKE_OPS)[number];

/** ike.rekey's args: which SAs to rekey (swanctl --rekey --child NAME | --ike NAME), and its reply. */
export type IkeRekeyArgs = { readonly child: string } | { readonly ike: string };
export interface IkeRekeyReply { readonly rekeyed: number }

/** An xfrm control request as the daemon's XfrmControl.handle takes it. */
export type XfrmRequest =
  | { readonly op: 'xfrm.state.add'; readonly args: { readonly state: StateSpec } }
  | { readonly op: 'xfrm.state.update'; readonly args: { readonly state: StateSpec } }
  | { readonly op: 'xfrm.state.migrate'; readonly args: StateMigrateSpec }
  | { readonly op: 'xfrm.policy.update'; readonly args: { readonly policy: PolicySpec } }
  | { readonly op: 'xfrm.state.del'; readonly args: { readonly id: StateId } }
  | { readonly op: 'xfrm.policy.add'; readonly args: { readonly policy: PolicySpec } }
  | { readonly op: 'xfrm.policy.del'; readonly args: { readonly id: PolicyId } };

export interface ChildSaRecord {
  readonly name: string;
  readonly uniqueId: number;
  readonly reqid: number;
  /** INSTALLED once both SAs and the policies are in. */
  readonly state: 'INSTALLED' | 'REKEYING' | 'REKEYED' | 'DELETING';
  readonly mode: 'TUNNEL';
  readonly protocol: 'ESP';
  /** ESP in UDP (RFC 3948). */
  readonly encap: boolean;
  /** Our inbound SPI and the peer's, 8 hex digits. */
  readonly spiIn: string;
  readonly spiOut: string;
  /** "AES_GCM_16-128" or "AES_CBC-256/HMAC_SHA2_256_128" (swanctl's spelling). */
  readonly algorithms: string;
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  /** Unix seconds. */
  readonly installTime: number;
  /** Unix seconds of the next rekey (rekey_time less the jitter) and of the hard expiry (life_time); 0 = none. */
  readonly rekeyTime: number;
  readonly lifeTime: number;
  /** Filled in by the daemon from the xfrm states (absent when unknown). */
  bytesIn?: number; packetsIn?: number; bytesOut?: number; packetsOut?: number;
}

export interface IkeSaRecord {
  readonly name: string;
  readonly uniqueId: number;
  readonly state: 'CONNECTING' | 'ESTABLISHED' | 'REKEYING' | 'REKEYED' | 'DELETING';
  readonly version: 2;
  readonly isInitiator: boolean;
  /** 16 hex digits each. */
  readonly spiI: string;
  readonly spiR: string;
  readonly localAddr: string;
  readonly localPort: number;
  readonly localId: string;
  readonly remoteAddr: string;
  readonly remotePort: number;
  readonly remoteId: string;
  /** "AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519"; empty until negotiated. */
  readonly algorithms: string;
  readonly isNatDetected: boolean;
  /** Unix seconds; 0 until established. */
  readonly establishTime: number;
  /** Unix seconds of the next IKE rekey; 0 = none. */
  readonly rekeyTime: number;
  readonly children: readonly ChildSaRecord[];
}

/** One side's authentication round of a loaded connection (swanctl --list-conns' "local pre-shared key authentication:"). */
export interface IkeAuthConfRecord {
  /** swanctl.conf `auth`, and swanctl's words for its class. */
  readonly auth: 'psk' | 'pubkey';
  readonly class: 'pre-shared key' | 'public key';
  readonly id: string;
  /** Subjects of local.certs (ours) and of remote.cacerts (the trust anchors), as loaded. */
  readonly certs: readonly string[];
  readonly cacerts: readonly string[];
}

/** A child of a loaded connection. */
export interface IkeChildConfRecord {
  readonly name: string;
  readonly mode: 'TUNNEL';
  /** Seconds; rekeyTime 0 = no rekeying. */
  readonly rekeyTime: number;
  readonly lifeTime: number;
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  /** "AES_GCM_16_128" style, one string per configured proposal. */
  readonly espProposals: readonly string[];
  readonly startAction: 'none' | 'trap' | 'start';
  readonly dpdAction: 'none' | 'trap' | 'start';
  readonly closeAction: 'none' | 'trap' | 'start';
}

/** A loaded connection (swanctl --list-conns). */
export interface IkeConnRecord {
  readonly name: string;
  readonly version: 2;
  readonly localAddrs: readonly string[];
  readonly remoteAddrs: readonly string[];
  readonly remotePort: number;
  /** Seconds; tunkit never reauthenticates (reauthTime 0), rekeyTime 0 = no rekeying. */
  readonly reauthTime: number;
  readonly rekeyTime: number;
  /** Seconds between liveness checks; 0 = no DPD. */
  readonly dpdDelay: number;
  readonly encap: boolean;
  readonly proposals: readonly string[];
  readonly local: IkeAuthConfRecord;
  readonly remote: IkeAuthConfRecord;
  readonly children: readonly IkeChildConfRecord[];
}

/** Identifies an IKE SA in events: connection name, unique id, endpoints and SPIs (16 hex digits). */
export interface IkeSaRef {
  readonly name: string;
  readonly uniqueId: number;
  readonly localAddr: string;
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
  readonly spiI: string;
  readonly spiR: string;
  readonly isInitiator: boolean;
}

/** Identifies a Child SA in events: SPIs 8 hex digits (ours inbound, the peer's). */
export interface ChildSaRef {
  readonly name: string;
  readonly uniqueId: number;
  readonly reqid: number;
  readonly spiIn: string;
  readonly spiOut: string;
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
}

/** IKE monitor events (vici's names after the `ike.` prefix). */
export type IkeEvent =
  | { readonly type: 'ike.ike-updown'; readonly up: boolean; readonly ike: IkeSaRef; readonly localId: string; readonly remoteId: string; readonly reason?: string }
  | { readonly type: 'ike.child-updown'; readonly up: boolean; readonly ike: IkeSaRef; readonly child: ChildSaRef }
  | { readonly type: 'ike.ike-rekey'; readonly old: IkeSaRef; readonly new: IkeSaRef }
  | { readonly type: 'ike.child-rekey'; readonly ike: IkeSaRef; readonly old: ChildSaRef; readonly new: ChildSaRef }
  /** kind auth: an authentication failed (ours or the peer's); negotiation: an IKE SA or Child SA could not be made. */
  | { readonly type: 'ike.failure'; readonly kind: 'auth' | 'negotiation'; readonly name: string; readonly uniqueId: number; readonly remoteAddr: string; readonly remotePort: number; readonly reason: string };
