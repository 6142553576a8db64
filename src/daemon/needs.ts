// What a request or a config file needs of what tunkitd may lack when it
// runs with fewer privileges (README "Least privilege"): the raw IPv4
// sockets (CAP_NET_RAW) and the policy TUN ipsec0. Pure predicates; the
// daemon (main.ts) asks them before anything changes and refuses with
// their text, so a request it cannot carry fails instead of going nowhere.

import type { LinkArgs } from '../config/model.js';
import type { PolicySpec } from '../control/xfrm.js';

/** The UDP encapsulation of an SA as a spec or a validated config has it. */
export interface EncapPorts { readonly sport: number; readonly dport: number }

/**
 * Why an SA with encapsulation `encap` (null/undefined: plain ESP) needs
 * the raw sockets, or null when the NAT-T socket on `natTPort` (null: none
 * held) carries it: ESP-in-UDP is sent on that socket when the SA's sport
 * is its port (outbound) and received on it when the dport is (inbound).
 */
export function stateRawNeed(encap: EncapPorts | null | undefined, natTPort: number | null): string | null {
  if (encap === null || encap === undefined) return 'proto esp without encap (ESP is IP protocol 50)';
  if (natTPort === null) return `encap espinudp ${encap.sport} ${encap.dport} (tunkitd holds no NAT-T UDP socket)`;
  if (encap.sport !== natTPort && encap.dport !== natTPort) {
    return `encap espinudp ${encap.sport} ${encap.dport} (tunkitd's ESP-in-UDP socket is UDP ${natTPort})`;
  }
  return null;
}

/** Why a `link.add` needs the raw sockets, or null (xfrm interfaces send through the xfrm path). */
export function linkRawNeed(args: LinkArgs | Readonly<Record<string, unknown>>): string | null {
  const kind = args['kind'];
  return kind === 'xfrm' ? null : `type ${String(kind)} tunnels (IP protocols 4, 41 and 47)`;
}

/**
 * Whether a policy is policy-based IPsec through ipsec0: if_id 0, not
 * block, with a tunnel-mode template (its traffic is routed into ipsec0 on
 * the way out, and decapsulated into it on the way in). Transport-mode
 * policies (over a tunnel's outer packets) and xfrm interfaces' (if_id N)
 * need no ipsec0.
 */
export function policyNeedsTun(p: PolicySpec): boolean {
  return (p.ifId ?? 0) === 0 && p.action !== 'block' && (p.tmpls ?? []).some((t) => t.mode === 'tunnel');
}
