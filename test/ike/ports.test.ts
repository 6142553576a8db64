// IKE on configurable ports: strongswan.conf charon.port / charon.port_nat_t
// and swanctl.conf remote_port as parsed (bad values name file, line and
// key), and the ports the core then uses: where IKE_SA_INIT goes, the
// non-ESP marker rule, the NAT-T float (strongSwan's float_ports) and the
// encap ports of the ESP-in-UDP SAs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StateSpec } from '../../src/control/xfrm.js';
import { CHARON_DEFAULTS, parseCharonConf } from '../../src/ike/charon.js';
import type { CharonSettings } from '../../src/ike/charon.js';
import { hasNonEspMarker } from '../../src/ike/core.js';
import { parseSwanctl } from '../../src/ike/swanctl.js';
import { ADDR, conf, makePair, pump } from './pair.js';
import type { Pair } from './pair.js';

const charon = (body: string): CharonSettings => parseCharonConf(`# test\ncharon {\n${body}\n}\n`, 'ss.conf');
const HIGH: CharonSettings = { ...CHARON_DEFAULTS, port: 1500, portNatT: 14500 };
const IKE = 'aes128gcm16-prfsha256-x25519';
const ESP = 'aes128gcm16';

describe('strongswan.conf charon.port and charon.port_nat_t', () => {
  it('default to 500 and 4500; any port from 1 to 65535 is taken', () => {
    assert.deepEqual([charon('').port, charon('').portNatT], [500, 4500]);
    const s = charon('  port = 1500\n  port_nat_t = 14500');
    assert.deepEqual([s.port, s.portNatT], [1500, 14500]);
    assert.deepEqual([charon('  port = 65535').port, charon('  port_nat_t = 1').portNatT], [65535, 1]);
  });

  it('keeps 0 (a random port) and equal ports as written: the daemon binds them as strongSwan does', () => {
    const s = charon('  port = 0\n  port_nat_t = 0');
    assert.deepEqual([s.port, s.portNatT], [0, 0]);
    const eq = charon('  port = 1500\n  port_nat_t = 1500');
    assert.deepEqual([eq.port, eq.portNatT], [1500, 1500]);
  });

  for (const [key, value] of [['port', '65536'], ['port', '-1'], ['port_nat_t', 'ike'], ['port_nat_t', '4500.5'], ['port', '0x1f4'], ['port_nat_t', '123456']] as const) {
    it(`${key} = ${value}: refused naming file, line and key`, () => {
      assert.throws(() => charon(`  keep_alive = 10s\n  ${key} = ${value}`), (e: Error) => {
        assert.equal(e.message, `ss.conf:4: charon.${key}: "${value}" is not a port from 0 (random) to 65535`);
        return true;
      });
    });
  }
});

describe('swanctl.conf remote_port', () => {
  const withPort = (line: string): string => conf('a', IKE, ESP, { connExtra: line });
  it('defaults to 500 (the peer\'s IKE port); a set one is kept', () => {
    assert.equal(parseSwanctl(withPort(''), 'a.conf').connections[0]!.remotePort, 500);
    assert.equal(parseSwanctl(withPort('remote_port = 14500'), 'a.conf').connections[0]!.remotePort, 14500);
  });

  for (const value of ['0', '65536', 'ike', '-500', '500x']) {
    it(`remote_port = ${value}: refused naming file, line and key`, () => {
      const text = withPort(`remote_port = ${value}`);
      const line = text.split('\n').findIndex((l) => l.includes('remote_port')) + 1;
      assert.throws(() => parseSwanctl(text, 'a.conf'), (e: Error) => {
        assert.equal(e.message, `a.conf:${line}: connections.gw.remote_port: "${value}" is not a port from 1 to 65535`);
        return true;
      });
    });
  }
});

describe('the non-ESP marker (RFC 3948 §2.2, as charon\'s sender and receiver)', () => {
  it('is used between two ports neither of which is 500', () => {
    assert.equal(hasNonEspMarker(500, 500), false);
    assert.equal(hasNonEspMarker(500, 14500), false);
    assert.equal(hasNonEspMarker(1500, 500), false);
    assert.equal(hasNonEspMarker(4500, 4500), true);
    assert.equal(hasNonEspMarker(1500, 14500), true);
  });
});

/** A pair with a's and b's charon settings and a's connection lines; a initiates. */
function pair(ca: CharonSettings, cb: CharonSettings, connExtra: string, encap: boolean): Pair {
  const p = makePair(IKE, ESP, { encap, both: { connExtra } });
  p.a.charon = ca;
  p.b.charon = cb;
  return p;
}

function up(p: Pair): { err: string | null; first: { from: number; to: number } } {
  const res: { err: string | null; first: { from: number; to: number } } = { err: 'pending', first: { from: 0, to: 0 } };
  p.a.initiate('net-a', p.now, (err) => { res.err = err; });
  const w = p.ha.sent[0]!;
  res.first = { from: w.from.port, to: w.to.port };
  pump(p);
  return res;
}

const encapOf = (s: readonly StateSpec[], dst: string): string => {
  const e = s.find((x) => x.dst === dst)?.encap;
  return e === undefined ? 'none' : `${e.sport}->${e.dport}`;
};

describe('the core on configured ports', () => {
  it('initiates from charon.port to remote_port; no NAT: the ports stay, ESP is not encapsulated', () => {
    const p = pair(HIGH, HIGH, 'remote_port = 14500', false);
    const r = up(p);
    assert.equal(r.err, null);
    assert.deepEqual(r.first, { from: 1500, to: 14500 }, 'IKE_SA_INIT from charon.port to remote_port');
    const [a, b] = [p.a.list()[0]!, p.b.list()[0]!];
    assert.deepEqual([a.localPort, a.remotePort, b.localPort, b.remotePort], [1500, 14500, 14500, 1500]);
    assert.equal(a.isNatDetected, false);
    assert.equal(encapOf(p.ha.states(), ADDR.b), 'none');
  });

  it('encap = yes: our charon.port floats to port_nat_t, a remote_port other than 500 is kept; the SAs encapsulate on those ports', () => {
    const p = pair(HIGH, HIGH, 'remote_port = 14500', true);
    assert.equal(up(p).err, null);
    const [a, b] = [p.a.list()[0]!, p.b.list()[0]!];
    assert.deepEqual([a.localPort, a.remotePort], [14500, 14500], 'float_ports: 1500 → 14500; 14500 is not 500, kept');
    assert.deepEqual([b.localPort, b.remotePort], [14500, 14500], 'the responder follows the request (RFC 7296 §2.23)');
    assert.equal(encapOf(p.ha.states(), ADDR.b), '14500->14500', 'a → b');
    assert.equal(encapOf(p.ha.states(), ADDR.a), '14500->14500', 'b → a');
    assert.equal(encapOf(p.hb.states(), ADDR.a), '14500->14500');
  });

  it('remote_port 500 floats to 4500 (the peer on defaults) while ours floats to our port_nat_t', () => {
    const p = pair(HIGH, CHARON_DEFAULTS, '', true);
    const r = up(p);
    assert.equal(r.err, null);
    assert.deepEqual(r.first, { from: 1500, to: 500 });
    const [a, b] = [p.a.list()[0]!, p.b.list()[0]!];
    assert.deepEqual([a.localPort, a.remotePort, b.localPort, b.remotePort], [14500, 4500, 4500, 14500]);
    assert.equal(encapOf(p.ha.states(), ADDR.b), '14500->4500');
    assert.equal(encapOf(p.hb.states(), ADDR.a), '4500->14500');
  });
});
