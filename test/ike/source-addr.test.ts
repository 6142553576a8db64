// local_addrs = %any on the initiator (ike/initiator.ts localFor): the IKE
// SA, its traffic and its Child SAs take the source the host routes from
// toward the peer (IkeHost.sourceFor, charon's get_source_addr); no route
// or no way to ask is an error naming local_addrs. And the daemon's
// RouteSource asks the kernel (RTM_GETROUTE's RTA_PREFSRC) for it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouteSource } from '../../src/daemon/route-source.js';
import { IkeCore } from '../../src/ike/core.js';
import { parseSwanctl } from '../../src/ike/swanctl.js';
import { gwConf } from '../util/swanctl-conf.js';
import { ADDR, FakeHost, pump } from './pair.js';
import type { Pair } from './pair.js';

class RoutedHost extends FakeHost {
  readonly asked: string[] = [];
  constructor(addr: string, private readonly route: string | null) { super(addr); }
  sourceFor(remote: string): string | null {
    this.asked.push(remote);
    return this.route;
  }
}

const IKE = 'aes128gcm16-prfsha256-x25519';
const ESP = 'aes128gcm16';

/** a initiates with local_addrs = %any (its host: `ha`; childA: lines for its child); b answers as in pair.ts. */
function anyPair(ha: FakeHost, childA = ''): Pair {
  const conf = (me: 'a' | 'b', local: string): string => gwConf({
    me, peer: me === 'a' ? 'b' : 'a', localAddrs: local, remoteAddrs: me === 'a' ? ADDR.b : '%any', ike: IKE, esp: ESP,
    localTs: me === 'a' ? '203.0.113.0/28' : '203.0.113.16/28', remoteTs: me === 'a' ? '203.0.113.16/28' : '203.0.113.0/28',
    ...(me === 'a' ? { childExtra: childA } : {}),
  });
  const hb = new FakeHost(ADDR.b);
  return { a: new IkeCore(parseSwanctl(conf('a', '%any'), 'a.conf'), ha), b: new IkeCore(parseSwanctl(conf('b', ADDR.b), 'b.conf'), hb), ha, hb, now: 1_000_000 };
}

describe('initiating with local_addrs = %any', () => {
  it('takes the routed source toward remote_addrs for the IKE SA and the Child SAs', () => {
    const ha = new RoutedHost(ADDR.a, ADDR.a);
    const p = anyPair(ha);
    let err: string | null = 'pending';
    p.a.initiate('net-a', p.now, (e) => { err = e; });
    assert.deepEqual(ha.asked, [ADDR.b], 'asked once, for remote_addrs');
    pump(p);
    assert.equal(err, null);
    const sa = p.a.list()[0]!;
    assert.equal(sa.state, 'ESTABLISHED');
    assert.equal(sa.localAddr, ADDR.a);
    assert.equal(p.b.list()[0]!.remoteAddr, ADDR.a, 'the responder sees the same address');
    const states = ha.states();
    assert.equal(states.length, 2);
    for (const s of states) assert.ok([s.src, s.dst].includes(ADDR.a) && [s.src, s.dst].includes(ADDR.b), `SA ${s.src} → ${s.dst}`);
  });

  it('no route to the peer: ENETUNREACH naming local_addrs, nothing sent, no SA', () => {
    const ha = new RoutedHost(ADDR.a, null);
    const p = anyPair(ha);
    assert.throws(() => p.a.initiate('net-a', p.now, () => undefined), (e: Error & { code?: string; field?: string }) =>
      e.code === 'ENETUNREACH' && e.field === 'local_addrs' && /no route to 198\.51\.100\.2/.test(e.message));
    assert.equal(ha.sent.length, 0);
    assert.equal(p.a.list().length, 0);
  });

  it('start_action = trap: the trap policies\' templates take the routed source too (charon\'s trap_manager); no route: no trap, a warning', () => {
    const ha = new RoutedHost(ADDR.a, ADDR.a);
    const p = anyPair(ha, 'start_action = trap');
    p.a.traps.sync(p.a.cfg);
    const tmpls = ha.xfrm.flatMap((r) => (r.op === 'xfrm.policy.add' ? r.args.policy.tmpls ?? [] : []));
    assert.equal(tmpls.length, 2, ha.logs.join('\n'));
    assert.deepEqual(tmpls.map((t) => `${t.src}>${t.dst}`).sort(), [`${ADDR.a}>${ADDR.b}`, `${ADDR.b}>${ADDR.a}`]);
    const none = new RoutedHost(ADDR.a, null);
    const q = anyPair(none, 'start_action = trap');
    q.a.traps.sync(q.a.cfg);
    assert.equal(none.xfrm.length, 0);
    assert.ok(none.logs.some((l) => /net-a: start_action = trap: .*local_addrs or a route to the peer/.test(l)), none.logs.join('\n'));
  });

  it('a host that cannot look routes up: EINVAL, local_addrs needs an address', () => {
    const ha = new FakeHost(ADDR.a);
    const p = anyPair(ha);
    assert.throws(() => p.a.initiate('net-a', p.now, () => undefined), (e: Error & { code?: string; field?: string }) =>
      e.code === 'EINVAL' && e.field === 'local_addrs' && /needs an address to initiate from/.test(e.message));
    assert.equal(ha.sent.length, 0);
  });
});

describe('RouteSource (the daemon\'s sourceFor)', () => {
  it('answers the kernel\'s preferred source: loopback toward loopback; null for what is not an address', () => {
    const r = new RouteSource();
    try {
      assert.equal(r.sourceFor('127.0.0.1'), '127.0.0.1');
      assert.equal(r.sourceFor('127.0.0.2'), '127.0.0.1', 'the local table\'s 127/8 route has src 127.0.0.1');
      assert.equal(r.sourceFor('not an address'), null);
      assert.equal(r.sourceFor('192.0.2.300'), null);
    } finally {
      r.close();
    }
  });
});
