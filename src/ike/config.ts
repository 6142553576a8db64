// The IKE configuration the core runs on: connections with their children
// and the pre-shared keys, already parsed and checked (swanctl.ts builds it
// from a swanctl.conf). Secrets are bytes, wiped by wipeConfig().

import type { ChildAction, ChildActions, DpdConfig } from './actions.js';
import type { ProposalSpec } from './proposal.js';

export interface ChildConfig {
  readonly name: string;
  /** Selector texts as configured ("203.0.113.0/24", "dynamic"); resolved against the IKE addresses per SA. */
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  readonly espProposals: readonly ProposalSpec[];
  readonly mode: 'tunnel';
  /** none: wait for `tunkit ike initiate`; start: initiate when the config is loaded; trap: policies without SA (trap.ts). */
  readonly startAction: ChildAction;
  /** dpd_action / close_action (actions.ts); absent = none. */
  readonly actions?: ChildActions;
}

export interface PeerAuth {
  readonly auth: 'psk';
  /** Identity text as strongSwan writes it ("gw.example", "192.0.2.1", "user@example"); '%any' matches every peer. */
  readonly id: string;
}

export interface ConnConfig {
  readonly name: string;
  /** Our addresses ("%any" or literals); the first literal is where we initiate from. */
  readonly localAddrs: readonly string[];
  /** Peer addresses; the first literal is where we initiate to. */
  readonly remoteAddrs: readonly string[];
  readonly proposals: readonly ProposalSpec[];
  /** strongSwan `encap = yes`: fake a NAT so ESP goes in UDP (RFC 3948) even without one. */
  readonly encap: boolean;
  readonly local: PeerAuth;
  readonly remote: PeerAuth;
  readonly children: readonly ChildConfig[];
  /** dpd_delay / dpd_timeout (actions.ts); absent = no DPD of ours. */
  readonly dpd?: DpdConfig;
}

export interface PskSecret {
  /** Identities the key is for; empty = any. */
  readonly ids: readonly string[];
  readonly secret: Uint8Array;
}

export interface IkeConfig {
  readonly connections: readonly ConnConfig[];
  readonly secrets: readonly PskSecret[];
}

/**
 * The PSK for a pair of identities, as charon's shared-key lookup ranks
 * them: a secret naming both ids beats one naming one, which beats one
 * naming none; a secret naming another id never matches.
 */
export function findPsk(cfg: IkeConfig, localId: string, remoteId: string): Uint8Array | null {
  let best: Uint8Array | null = null;
  let bestScore = -1;
  for (const s of cfg.secrets) {
    const hasLocal = s.ids.includes(localId);
    const hasRemote = s.ids.includes(remoteId);
    if (s.ids.length > 0 && !hasLocal && !hasRemote) continue;
    const score = (hasLocal ? 1 : 0) + (hasRemote ? 2 : 0);
    if (score > bestScore) { best = s.secret; bestScore = score; }
  }
  return best;
}

/** Zeroes every secret (when a config is replaced or the daemon stops). */
export function wipeConfig(cfg: IkeConfig): void {
  for (const s of cfg.secrets) s.secret.fill(0);
}
