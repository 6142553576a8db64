// What needs CAP_NET_RAW or ipsec0 (src/daemon/needs.ts), and XfrmControl's
// checkState/checkPolicy hooks refusing before anything changes
// (src/daemon/xfrm-control.ts; the daemon's Carriage wires them, raw-sockets.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkRawNeed, policyNeedsTun, stateRawNeed } from '../../src/daemon/needs.js';
import { XfrmControl } from '../../src/daemon/xfrm-control.js';
import type { PolicySpec, StateSpec } from '../../src/control/xfrm.js';
import { VpnError } from '../../src/wire/errors.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';

test('stateRawNeed: plain ESP and ESP-in-UDP on other ports need raw sockets; the NAT-T port either way does not', () => {
  const table: readonly [{ sport: number; dport: number } | null | undefined, number | null, RegExp | null][] = [
    [undefined, 4500, /proto esp without encap/],
    [null, 4500, /proto esp without encap/],
    [{ sport: 4500, dport: 4500 }, 4500, null],
    [{ sport: 4500, dport: 34567 }, 4500, null], // outbound to a NATed peer
    [{ sport: 34567, dport: 4500 }, 4500, null], // inbound from a NATed peer
    [{ sport: 5000, dport: 5001 }, 4500, /encap espinudp 5000 5001 \(tunkitd's ESP-in-UDP socket is UDP 4500\)/],
    [{ sport: 4500, dport: 4500 }, null, /holds no NAT-T UDP socket/],
  ];
  for (const [encap, port, want] of table) {
    const got = stateRawNeed(encap, port);
    if (want === null) assert.equal(got, null, JSON.stringify(encap));
    else assert.match(got ?? '', want, JSON.stringify(encap));
  }
});

test('linkRawNeed: tunnels need raw sockets, xfrm interfaces do not', () => {
  assert.match(linkRawNeed({ name: 'gre1', kind: 'gre' }) ?? '', /^type gre tunnels/);
  assert.match(linkRawNeed({ name: 's1', kind: 'sit' }) ?? '', /^type sit tunnels/);
  assert.equal(linkRawNeed({ name: 'xfrm1', kind: 'xfrm', ifId: 7 }), null);
});

test('policyNeedsTun: if_id 0, not block, a tunnel-mode template', () => {
  const sel = { src: '203.0.113.1/32', dst: '203.0.113.2/32' };
  const tunnel = { src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', mode: 'tunnel' } as const;
  const table: readonly [PolicySpec, boolean][] = [
    [{ sel, dir: 'out', tmpls: [tunnel] }, true],
    [{ sel, dir: 'in', tmpls: [tunnel] }, true],
    [{ sel, dir: 'out', tmpls: [tunnel], ifId: 7 }, false],
    [{ sel, dir: 'out', tmpls: [tunnel], action: 'block' }, false],
    [{ sel, dir: 'out', tmpls: [{ proto: 'esp', mode: 'transport' }] }, false],
    [{ sel, dir: 'out' }, false],
  ];
  for (const [p, want] of table) assert.equal(policyNeedsTun(p), want, JSON.stringify(p));
});

test('XfrmControl: a refused state or policy adds nothing and the error reaches the caller', () => {
  const stack = new XfrmStack();
  let published = 0;
  const refuse = (what: string): never => { throw new VpnError('EPERM', `CAP_NET_RAW needed for ${what}`); };
  const x = new XfrmControl(stack, {
    ifindex: () => 2, publish: () => { published++; }, now: () => 1_700_000_000_000, routeMtu: () => 1500, tablesChanged: () => {},
    checkState: (cfg) => { if (cfg.encap === null) refuse('proto esp without encap'); },
    checkPolicy: (p) => { if (policyNeedsTun(p)) throw new VpnError('ENODEV', 'needs ipsec0'); },
  });
  const state = (encap: boolean): StateSpec => ({
    src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', spi: encap ? 0x100 : 0x200, mode: 'tunnel', reqid: 1,
    aead: { name: 'rfc4106(gcm(aes))', keyHex: '0102030405060708090a0b0c0d0e0f1011121314', bits: 128 },
    ...(encap ? { encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } } : {}),
  });
  assert.throws(() => x.handle('xfrm.state.add', { state: state(false) }), /CAP_NET_RAW needed for proto esp without encap/);
  assert.equal(stack.sad.count, 0);
  x.handle('xfrm.state.add', { state: state(true) });
  assert.equal(stack.sad.count, 1);
  const sel = { src: '203.0.113.1/32', dst: '203.0.113.2/32' };
  assert.throws(() => x.handle('xfrm.policy.add', { policy: { sel, dir: 'out', tmpls: [{ src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', mode: 'tunnel' }] } }), /needs ipsec0/);
  assert.equal(stack.spd.count, 0);
  x.handle('xfrm.policy.add', { policy: { sel, dir: 'out', tmpls: [{ proto: 'esp', mode: 'transport' }] } });
  assert.equal(stack.spd.count, 1);
  assert.equal(published, 2, 'newsa and newpolicy of what was added only');
});
