// tunkit's IKEv2 against strongSwan 5.9's charon on high ports: both sides'
// strongswan.conf set charon.port = 1500 and charon.port_nat_t = 14500, both
// swanctl.conf connections remote_port = 14500 (the peer's NAT-T port) and
// encap = yes. From either initiator, IKE_SA_INIT goes from 1500 to 14500
// with the non-ESP marker (neither port is 500), the initiator floats to
// 14500, the Child SA comes up with ESP in UDP 14500 ⇄ 14500 and a ping
// crosses; both ends list the same ports.
// Needs root (namespaces) and strongSwan; fails, never skips, without them.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Netns } from '../../src/demo/netns.js';
import { requireRoot } from '../netns/pair.js';
import { OUTER, requireStrongswan, swanctlConf, SwanPair, tunkitSas } from './strongswan.js';
import type { Algs } from './strongswan.js';

const PSK = 'interop test secret, documentation only';
const GCM: Algs = { ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' };
const PORTS = '  port = 1500\n  port_nat_t = 14500';

async function portsCase(initiator: 'tunkit' | 'strongswan'): Promise<void> {
  const p = new SwanPair();
  try {
    const conf = (me: 't' | 's'): string => swanctlConf(me, GCM, { psk: PSK, encap: true, connExtra: 'remote_port = 14500' });
    await p.start(conf('t'), conf('s'), '', PORTS);
    if (initiator === 'tunkit') p.tunkit(['ike', 'initiate', 'net-t']);
    else p.swanctl(['--initiate', '--child', 'net-s']);
    assert.equal(p.ping(3), 3, `ping through the tunnel\n${p.logs()}`);
    const t = tunkitSas(p)[0]!;
    assert.deepEqual([t.localPort, t.remotePort], [14500, 14500], `tunkit's IKE SA on the NAT-T ports\n${p.logs()}`);
    assert.equal(t.children[0]!.encap, true);
    const s = p.swanctl(['--list-sas']);
    assert.match(s, new RegExp(`local .*${OUTER.s.replace(/\./g, '\\.')}\\[14500\\]`), s);
    assert.match(s, new RegExp(`remote .*${OUTER.t.replace(/\./g, '\\.')}\\[14500\\]`), s);
    assert.match(s, /TUNNEL-in-UDP/, `the Child SA in UDP:\n${s}`);
  } finally {
    p.close();
  }
}

describe('IKEv2 interop on charon.port 1500 / port_nat_t 14500: tunkit ↔ strongSwan 5.9', () => {
  after(() => Netns.cleanupAll());

  it('prerequisites: root and strongSwan', () => {
    requireRoot();
    requireStrongswan();
  });

  it('tunkit initiates to strongSwan\'s 14500', () => portsCase('tunkit'));
  it('strongSwan initiates to tunkit\'s 14500', () => portsCase('strongswan'));
});
