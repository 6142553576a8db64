// Retransmission of our requests (RFC 7296 §2.1), as data: strongSwan's
// charon.retransmit_timeout = 4.0 s, retransmit_base = 1.8,
// retransmit_tries = 5. Try n (0 = the first send) waits
// timeoutMs * base^n; after `tries` retransmissions the last wait ends the
// exchange (4 + 7.2 + 13 + 23.3 + 42 + 75.6 ≈ 165 s in all).

export interface RetransmitPolicy { readonly timeoutMs: number; readonly base: number; readonly tries: number }

export const STRONGSWAN_RETRANSMIT: RetransmitPolicy = { timeoutMs: 4000, base: 1.8, tries: 5 };

/** Milliseconds to wait after send number n (0-based) before the next one, or the give-up. */
export const retransmitDelayMs = (p: RetransmitPolicy, n: number): number => Math.round(p.timeoutMs * p.base ** n);

/** True when, after send number n has timed out, the exchange is given up. */
export const isGiveUp = (p: RetransmitPolicy, n: number): boolean => n >= p.tries;
