// The IKE daemon's ports as tunkitd binds them (daemon/ike-sockets.ts),
// strongSwan's socket-default rules: 0 is a port the kernel picks (learnt
// with getsockname), a port_nat_t equal to a non-zero port is taken as 0.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHARON_DEFAULTS } from '../../src/ike/charon.js';
import { boundCharon, natTBindPort, openIkeSocket } from '../../src/daemon/ike-sockets.js';
import { Log } from '../../src/daemon/log.js';

const logged = (): { log: Log; out: string[] } => {
  const out: string[] = [];
  return { log: new Log({ out: (l) => out.push(l), journal: false }), out };
};

test('natTBindPort: port_nat_t as set, 0 (warned) when it equals a non-zero charon.port', () => {
  const { log, out } = logged();
  assert.equal(natTBindPort(CHARON_DEFAULTS, log), 4500);
  assert.equal(natTBindPort({ ...CHARON_DEFAULTS, port: 0, portNatT: 0 }, log), 0, 'both random: nothing to warn of');
  assert.equal(out.length, 0);
  assert.equal(natTBindPort({ ...CHARON_DEFAULTS, port: 1500, portNatT: 1500 }, log), 0);
  assert.equal(out.length, 1);
  assert.match(out[0]!, /event=ike_ports_equal port=1500/);
});

test('port 0: two random ports, distinct, reported in the charon settings the core gets', () => {
  const { log } = logged();
  const natT = openIkeSocket(log, 0);
  const ike = openIkeSocket(log, 0, natT?.port ?? null);
  try {
    assert.ok(ike !== null && natT !== null);
    assert.ok(ike.port >= 1024 && natT.port >= 1024 && ike.port !== natT.port, `${ike.port} ${natT.port}`);
    const c = boundCharon({ ...CHARON_DEFAULTS, port: 0, portNatT: 0 }, ike, natT, 0);
    assert.deepEqual([c.port, c.portNatT], [ike.port, natT.port]);
    assert.equal(boundCharon(CHARON_DEFAULTS, null, null, 4500), CHARON_DEFAULTS, 'no socket: as configured');
  } finally {
    ike?.close();
    natT?.close();
  }
});
