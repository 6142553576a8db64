// The IKE daemon's two UDP ports, bound as strongSwan's socket-default
// plugin binds them (strongswan.conf(5)):
//
//   charon.port        IKE (RFC 7296 §2), 500 by default
//   charon.port_nat_t  IKE after the NAT-T float and ESP-in-UDP (RFC 3948),
//                      4500 by default: the data path's NAT-T socket
//
// 0 binds a port the kernel picks; a port_nat_t equal to a non-zero port is
// taken as 0 (socket-default: "IKE ports can't be equal, will allocate NAT-T
// port randomly"). Ports from 1024 up need no capability, so a tunkitd with
// none at all can run IKE on them (README "Least privilege").

import type { CharonSettings } from '../ike/charon.js';
import { openUdp } from '../io/udp.js';
import type { UdpConn } from '../io/udp.js';
import { errText } from './log.js';
import type { Log } from './log.js';

/** The port to bind the NAT-T socket to: charon.port_nat_t, or 0 (random, warned) when it equals a non-zero charon.port. */
export function natTBindPort(c: CharonSettings, log: Log): number {
  if (c.port === 0 || c.port !== c.portNatT) return c.portNatT;
  log.warn('ike_ports_equal', { port: c.port, effect: 'charon.port_nat_t equals charon.port: the NAT-T port is allocated randomly (as strongSwan does)' });
  return 0;
}

/**
 * The IKE socket on charon.port; null, logged, when it cannot be bound
 * (taken by another IKE daemon; below 1024 without CAP_NET_BIND_SERVICE).
 * Port 0: never the NAT-T socket's port `avoid` (both sockets set
 * SO_REUSEADDR, so the kernel's pick may repeat a port they hold).
 */
export function openIkeSocket(log: Log, port: number, avoid: number | null = null): UdpConn | null {
  try {
    for (let tries = 1; ; tries++) {
      const c = openUdp(0, port, { batchSize: 16 });
      if (port !== 0 || c.port !== avoid || tries === 8) return c;
      c.close();
    }
  } catch (e) {
    log.warn('ike_port_taken', { port, err: errText(e), effect: 'IKE is not received on it' });
    return null;
  }
}

/**
 * charon.* with the ports the sockets are bound to (a random port learnt);
 * a socket that could not be opened keeps the configured value (nothing is
 * sent from it: the shell warns per message).
 */
export function boundCharon(c: CharonSettings, ike: UdpConn | null, natT: UdpConn | null, natTPort: number): CharonSettings {
  const port = ike?.port ?? c.port;
  const portNatT = natT?.port ?? natTPort;
  if (port !== c.port || portNatT !== c.portNatT) return { ...c, port, portNatT };
  return c;
}
