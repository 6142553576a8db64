// The IKE configuration the core runs on: connections with their children
// and the pre-shared keys, already parsed and checked (swanctl.ts builds it
// from a swanctl.conf; creds.ts then loads the certificates and private
// keys it names). Secrets are bytes, wiped by wipeConfig().

import type { KeyObject, X509Certificate } from 'node:crypto';
import type { ChildAction, ChildActions, DpdConfig } from './actions.js';
import type { FragMode } from './frag.js';
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
  /** rekey_time / rand_time / life_time (seconds; rekey 0 = never): lifetime.ts. */
  readonly life: Lifetimes;
  /** rekey_bytes / life_bytes / rand_bytes and the *_packets trio: the states' xfrm byte and packet limits. */
  readonly bytes: Volume;
  readonly packets: Volume;
}

/**
 * A child's traffic volume limits (swanctl.conf rekey_bytes, life_bytes,
 * rand_bytes; the same for packets). Each of its states gets an xfrm soft
 * limit of rekey minus a random 0..rand, whose expire event starts the
 * rekey, and a hard limit of life, at which the SA goes. 0 = no limit.
 */
export interface Volume { readonly rekey: number; readonly life: number; readonly rand: number }

/**
 * swanctl.conf lifetimes in seconds. A rekey starts at rekeySec minus a
 * random 0..randSec (so two peers seldom start together); the SA is deleted
 * at lifeSec if no rekey replaced it. rekeySec 0 disables rekeying.
 */
export interface Lifetimes { readonly rekeySec: number; readonly randSec: number; readonly lifeSec: number }

/** Hash algorithms of RFC 7427 signatures. */
export type SigHash = 'sha256' | 'sha384' | 'sha512';

/** strongSwan's `auth = pubkey | rsa | ecdsa | rsa/pss`, each optionally `-sha256-sha384…`. */
export interface SigPolicy {
  /** The key type: ours signs with it, the peer's must be of it ('any': pubkey). */
  readonly keyType: 'any' | 'rsa' | 'ecdsa';
  /** RSASSA-PSS (rsa/pss): ours signs with it, the peer's RSA signature must use it. */
  readonly isPss: boolean;
  /** Hashes in order of preference (ours) or allowed (the peer's); empty = SHA-256/384/512, ECDSA's by curve first. */
  readonly hashes: readonly SigHash[];
}

/**
 * A file named in the configuration, where (for errors naming file, line and
 * key). `file`: the file that line is in when it is an `include`d one
 * (daemon/swanctl-files.ts sets it); absent: the file that was loaded.
 */
export interface FileRef { readonly path: string; readonly line: number; readonly key: string; readonly file?: string }

export interface PeerAuth {
  readonly auth: 'psk' | 'pubkey';
  /** Identity text as strongSwan writes it ("gw.example", "192.0.2.1", "user@example", "C=CH, CN=gw"); '%any' matches every peer. */
  readonly id: string;
  readonly sig: SigPolicy;
  /** local.certs (relative to x509/) or remote.cacerts (relative to x509ca/), as written. */
  readonly certFiles: readonly FileRef[];
  /** Filled in by creds.ts: our certificate and its private key (local). */
  readonly cert?: X509Certificate | null;
  readonly key?: KeyObject | null;
  /** Filled in by creds.ts (remote): the CAs the peer's certificate must chain to. */
  readonly anchors?: readonly X509Certificate[];
}

/** A private key file of a secrets private-/rsa-/ecdsa- section (relative to private/, rsa/ or ecdsa/). */
export interface KeyFileRef extends FileRef {
  readonly dir: 'private' | 'rsa' | 'ecdsa';
  /** The `secret` of the section: the file's passphrase (wiped once loaded), or null. */
  readonly passphrase: Uint8Array | null;
}

export interface ConnConfig {
  readonly name: string;
  /** Our addresses ("%any" or literals); the first literal is where we initiate from. */
  readonly localAddrs: readonly string[];
  /** Peer addresses; the first literal is where we initiate to. */
  readonly remoteAddrs: readonly string[];
  /**
   * swanctl `remote_port` (default 500): the peer's UDP port we initiate to.
   * Only 500 floats to 4500 on NAT detection (RFC 7296 §2.23, strongSwan's
   * float_ports); any other is kept, so it must be the peer's NAT-T port.
   */
  readonly remotePort: number;
  readonly proposals: readonly ProposalSpec[];
  /** strongSwan `encap = yes`: fake a NAT so ESP goes in UDP (RFC 3948) even without one. */
  readonly encap: boolean;
  /** swanctl `fragmentation` (RFC 7383; frag.ts): yes (default), accept, force or no. */
  readonly fragmentation: FragMode;
  readonly local: PeerAuth;
  readonly remote: PeerAuth;
  readonly children: readonly ChildConfig[];
  /** dpd_delay / dpd_timeout (actions.ts); absent = no DPD of ours. */
  readonly dpd?: DpdConfig;
  /** The IKE SA's rekey_time / rand_time and rekey_time + over_time (seconds). */
  readonly life: Lifetimes;
}

export interface PskSecret {
  /** Identities the key is for; empty = any. */
  readonly ids: readonly string[];
  readonly secret: Uint8Array;
}

export interface IkeConfig {
  readonly connections: readonly ConnConfig[];
  readonly secrets: readonly PskSecret[];
  /** Private keys named in secrets; creds.ts loads them. */
  readonly keyFiles?: readonly KeyFileRef[];
  /** CA and intermediate certificates chains are built from (x509ca/, every cacerts); creds.ts fills it. */
  readonly certPool?: readonly X509Certificate[];
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
  for (const k of cfg.keyFiles ?? []) k.passphrase?.fill(0);
}
