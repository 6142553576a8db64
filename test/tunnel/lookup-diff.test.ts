// Differential: the bucketed ip_tunnel_lookup / ipip6_tunnel_lookup
// (lookup.ts + buckets.ts) against the linear scans they replaced
// (ref-lookup.ts), over random tables — local/remote any, multicast remotes,
// keyed and keyless tunnels (and an i_key without the key flag), keys
// ≥ 2^31, links, up/down devices and fallback devices — with adds and
// deletes interleaved and random packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpTunnelTable, SitTable } from '../../src/tunnel/lookup.js';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import { Tunnel } from '../../src/tunnel/tunnel.js';
import { TNL_KEY, TunnelKind } from '../../src/tunnel/types.js';
import { a4 } from '../util/packets.js';
import { refIpLookup, refSitLookup } from './ref-lookup.js';

const ADDRS = ['any', '198.51.100.1', '198.51.100.2', '192.0.2.200', '224.0.0.5'];
const addrNum = (s: string): number => (s === 'any' ? 0 : a4(s) | 0);
const KEYS = [0, 1, 7, 0x80000001];

const tunnelArb = fc.record({
  local: fc.integer({ min: 0, max: 4 }), // the multicast one too: step 3 merges local-only and multicast-remote buckets
  remote: fc.integer({ min: 0, max: 4 }),
  keyed: fc.integer({ min: 0, max: 3 }), // 0: keyless, 1: keyless with a stray i_key, else keyed
  key: fc.constantFrom(...KEYS),
  link: fc.constantFrom(0, 0, 3, 5),
  isUp: fc.integer({ min: 0, max: 4 }),
});
type TunnelArb = typeof tunnelArb extends fc.Arbitrary<infer T> ? T : never;

const packetArb = fc.record({
  link: fc.constantFrom(0, 3, 5, 9),
  hasKey: fc.boolean(),
  noKey: fc.integer({ min: 0, max: 3 }),
  key: fc.constantFrom(...KEYS),
  remote: fc.integer({ min: 0, max: 3 }),
  local: fc.integer({ min: 0, max: 4 }),
});

const op = fc.oneof(
  { weight: 3, arbitrary: tunnelArb.map((t) => ({ kind: 'add' as const, t })) },
  { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: 'del' as const, i })) },
  { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: 'flip' as const, i })) },
);

let serial = 0;
function mk(kind: 'gre' | 'sit', a: TunnelArb): Tunnel {
  const mcast = a.remote === 4;
  // A multicast remote needs a local address (link_gre.c); sit has no multicast tunnels.
  const local = mcast && a.local === 0 ? 1 : a.local;
  const base = makeTunnelParams({ name: `t${++serial}`, kind, local: ADDRS[local]!, remote: kind === 'sit' && mcast ? 'any' : ADDRS[a.remote]!, ...(kind === 'gre' ? { key: 5 } : {}) });
  const keyed = kind === 'gre' && a.keyed >= 2;
  const p = { ...base, iflags: keyed ? base.iflags | TNL_KEY : base.iflags & ~TNL_KEY, ikey: kind === 'gre' && a.keyed !== 0 ? a.key >>> 0 : 0, link: a.link };
  const t = new Tunnel(p);
  t.isUp = a.isUp !== 0;
  return t;
}

function run(kind: 'gre' | 'sit', ops: (typeof op extends fc.Arbitrary<infer T> ? T : never)[], packets: (typeof packetArb extends fc.Arbitrary<infer T> ? T : never)[], fbUp: boolean): void {
  const tbl = kind === 'gre' ? new IpTunnelTable(TunnelKind.Gre) : new SitTable(TunnelKind.Sit);
  tbl.fallback.isUp = fbUp;
  const check = (): void => {
    for (const k of packets) {
      const remote = addrNum(ADDRS[k.remote]!);
      const local = addrNum(ADDRS[k.local]!);
      if (tbl instanceof IpTunnelTable) {
        const noKey = k.noKey === 0;
        const hasKey = !noKey && k.hasKey;
        const key = hasKey ? k.key | 0 : 0;
        assert.equal(tbl.lookup(k.link, hasKey, noKey, key, remote, local), refIpLookup(tbl.tunnels, tbl.fallback, k.link, hasKey, noKey, key, remote, local));
      } else {
        assert.equal(tbl.lookup(k.link, remote, local), refSitLookup(tbl.tunnels, tbl.fallback, k.link, remote, local));
      }
    }
  };
  for (const o of ops) {
    if (o.kind === 'add') {
      try {
        tbl.add(mk(kind, o.t));
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
      }
    } else {
      const l = tbl.tunnels;
      const t = l[o.i % Math.max(1, l.length)];
      if (t === undefined) continue;
      if (o.kind === 'del') assert.equal(tbl.remove(t), true);
      else t.isUp = !t.isUp;
    }
    check();
  }
  assert.deepEqual([...tbl.oldestFirst].reverse(), tbl.tunnels);
  for (const t of [...tbl.tunnels]) tbl.remove(t);
  check();
}

for (const kind of ['gre', 'sit'] as const) {
  test(`${kind}: the bucketed lookup equals the linear newest-first scan, adds, deletes and up/down interleaved`, () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), fc.array(packetArb, { minLength: 10, maxLength: 30 }), fc.boolean(), (ops, packets, fbUp) => {
      run(kind, ops, packets, fbUp);
    }), { numRuns: 300 });
  });
}

test('TunnelStack.withRemote equals a scan of all() for the remote (ipv4_update_pmtu\'s tunnels)', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('ipip', 'gre', 'gretap', 'sit'), tunnelArb), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), (adds, dels) => {
    const s = new TunnelStack();
    for (const [kind, a] of adds) {
      const mcast = a.remote === 4 && kind !== 'sit' && kind !== 'ipip';
      try {
        s.add(makeTunnelParams({
          name: `w${++serial}`, kind, local: ADDRS[mcast && a.local === 0 ? 1 : a.local]!, remote: ADDRS[a.remote === 4 && !mcast ? 0 : a.remote]!,
          ...(kind === 'gre' || kind === 'gretap' ? (a.keyed >= 2 ? { key: a.key >>> 0 } : {}) : {}),
        }));
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
      }
    }
    for (const d of dels) {
      const all = s.all().filter((t) => !t.name.endsWith('0'));
      const t = all[d % Math.max(1, all.length)];
      if (t !== undefined) s.remove(t);
    }
    for (const r of ADDRS) {
      const remote = addrNum(r) >>> 0;
      assert.deepEqual(s.withRemote(remote), s.all().filter((t) => t.p.remote === remote));
    }
  }), { numRuns: 200 });
});
