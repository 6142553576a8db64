// The IKE control schema: what `tunkit ike …` sends to tunkitd and what it
// answers, plus the xfrm requests the IKE core hands the daemon (the same
// ops and Specs `tunkit xfrm` sends). A leaf: imports only control/.
//
//   ike.list-sas   {}                    → IkeSaRecord[]
//   ike.initiate   { child: string }     → IkeSaRecord   (once the Child SA is up; error otherwise)
//   ike.terminate  { ike: string }       → { deleted: number }   (IKE SAs of that connection)
//   ike.load       { file: string }      → { connections: number }  (swanctl.conf subset)
//   ike.rekey      { child: string } | { ike: string } → { rekeyed: number }  (SAs whose rekey started)

import type { PolicyId, PolicySpec, StateId, StateMigrateSpec, StateSpec } from './xfrm.js';

export const IKE_OPS = ['ike.list-sas', 'ike.initiate', 'ike.terminate', 'ike.load', 'ike.rekey'] as const;
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
