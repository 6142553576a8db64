// Tunnel MTU rules: tunnelHlen (gre_calc_hlen), defaultMtu (ip_tunnel_bind_dev,
// ipip6_tunnel_bind_dev), maxMtu/minMtu/checkMtu (__ip_tunnel_change_mtu,
// ipip6_tunnel_setup's min_mtu/max_mtu). Split from params.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkMtu, defaultMtu, hardHeaderLen, makeTunnelParams, maxMtu, minMtu, tunnelHlen } from '../../src/tunnel/params.js';
import type { TunnelConfig } from '../../src/tunnel/params.js';
import { Tunnel } from '../../src/tunnel/tunnel.js';
import type { TunnelParams } from '../../src/tunnel/types.js';
import { ConfigError } from '../../src/wire/errors.js';

type Cfg = Partial<TunnelConfig> & { kind: string };
const P = (c: Cfg): TunnelParams => makeTunnelParams({ name: 't0', local: '198.51.100.1', remote: '198.51.100.2', ...c });

const ipip = P({ kind: 'ipip' });
const sit = P({ kind: 'sit' });
const gre = P({ kind: 'gre' });
const gretap = P({ kind: 'gretap' });
const greKSC = P({ kind: 'gre', key: 1, seq: true, csum: true });

function rejectsMtu(p: TunnelParams, mtu: number): void {
  assert.throws(() => checkMtu(p, mtu), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.field, 'mtu');
    return true;
  }, `mtu ${mtu} must be refused`);
}

test('gre_calc_hlen: 4 + 4 for each of C, K, S in o_flags; ipip/sit 0; i_flags do not count', () => {
  assert.equal(tunnelHlen(ipip), 0);
  assert.equal(tunnelHlen(sit), 0);
  assert.equal(tunnelHlen(gre), 4);
  assert.equal(tunnelHlen(gretap), 4);
  for (const c of [{ key: 1 }, { seq: true }, { csum: true }, { okey: 2 }, { oseq: true }, { ocsum: true }]) {
    assert.equal(tunnelHlen(P({ kind: 'gre', ...c })), 8, JSON.stringify(c));
  }
  for (const c of [{ ikey: 1 }, { iseq: true }, { icsum: true }]) assert.equal(tunnelHlen(P({ kind: 'gre', ...c })), 4, JSON.stringify(c));
  assert.equal(tunnelHlen(P({ kind: 'gre', key: 1, seq: true })), 12);
  assert.equal(tunnelHlen(greKSC), 16);
  assert.equal(tunnelHlen(P({ kind: 'gretap', okey: 1, ocsum: true, oseq: true })), 16);
});

test('dev->hard_header_len: 14 for gretap (ether_setup), 0 for the L3 tunnels', () => {
  assert.deepEqual([ipip, gre, sit, gretap].map(hardHeaderLen), [0, 0, 0, 14]);
});

test('ip_tunnel_bind_dev / ipip6_tunnel_bind_dev: default MTU on a 1500 underlay — 1480 ipip/sit, 1476 gre, 1462 gretap', () => {
  assert.equal(defaultMtu(ipip), 1480);
  assert.equal(defaultMtu(sit), 1480);
  assert.equal(defaultMtu(gre), 1476);
  assert.equal(defaultMtu(gretap), 1462);
  assert.equal(defaultMtu(ipip, 1500), 1480, 'ETH_DATA_LEN is the default underlay');
});

test('ip_tunnel_bind_dev: each of C, K, S costs 4 more bytes of MTU (key+seq+csum → 1464)', () => {
  assert.equal(defaultMtu(P({ kind: 'gre', key: 1 })), 1472);
  assert.equal(defaultMtu(P({ kind: 'gre', seq: true })), 1472);
  assert.equal(defaultMtu(P({ kind: 'gre', csum: true })), 1472);
  assert.equal(defaultMtu(P({ kind: 'gre', key: 1, csum: true })), 1468);
  assert.equal(defaultMtu(greKSC), 1464);
  assert.equal(defaultMtu(P({ kind: 'gretap', key: 1, seq: true, csum: true })), 1450, '1500 − 20 − 16 − 14');
  assert.equal(defaultMtu(P({ kind: 'gre', ikey: 1, iseq: true, icsum: true })), 1476, 'receive-only flags cost nothing');
});

test('ip_tunnel_bind_dev: the MTU follows the underlay (9000 → 8980 ipip, 8976 gre, 8962 gretap, 8980 sit)', () => {
  assert.equal(defaultMtu(ipip, 9000), 8980);
  assert.equal(defaultMtu(gre, 9000), 8976);
  assert.equal(defaultMtu(gretap, 9000), 8962);
  assert.equal(defaultMtu(greKSC, 9000), 8964);
  assert.equal(defaultMtu(sit, 9000), 8980);
  assert.equal(defaultMtu(sit, 65536), 65516, 'ipip6_tunnel_bind_dev has no IP_MAX_MTU clamp');
});

test('ip_tunnel_bind_dev: never below IPV4_MIN_MTU 68', () => {
  assert.equal(defaultMtu(ipip, 89), 69);
  assert.equal(defaultMtu(ipip, 88), 68);
  assert.equal(defaultMtu(ipip, 87), 68);
  assert.equal(defaultMtu(ipip, 0), 68);
  assert.equal(defaultMtu(greKSC, 104), 68);
  assert.equal(defaultMtu(greKSC, 105), 69);
  assert.equal(defaultMtu(gretap, 100), 68);
});

test('ipip6_tunnel_bind_dev: sit never below IPV6_MIN_MTU 1280', () => {
  assert.equal(defaultMtu(sit, 1301), 1281);
  assert.equal(defaultMtu(sit, 1300), 1280);
  assert.equal(defaultMtu(sit, 1299), 1280);
  assert.equal(defaultMtu(sit, 576), 1280);
});

test('a new Tunnel takes the default MTU, or the explicit one', () => {
  assert.equal(new Tunnel(greKSC).mtu, 1464);
  assert.equal(new Tunnel(gretap).mtu, 1462);
  assert.equal(new Tunnel(P({ kind: 'ipip', mtu: 1400 })).mtu, 1400);
  assert.equal(P({ kind: 'ipip' }).mtu, 0, 'params keep 0 = default');
});

test('__ip_tunnel_change_mtu: max = IP_MAX_MTU 0xFFFF − hard_header_len − 20 − hlen (measured on Linux 6.1); sit IP6_MAX_MTU − 20', () => {
  assert.equal(maxMtu(ipip), 0xffff - 20);
  assert.equal(maxMtu(ipip), 65515);
  assert.equal(maxMtu(gre), 65511);
  assert.equal(maxMtu(greKSC), 65499);
  assert.equal(maxMtu(gretap), 0xffff - 14 - 20 - 4);
  assert.equal(maxMtu(P({ kind: 'gretap', key: 1, seq: true, csum: true })), 0xffff - 14 - 20 - 16);
  assert.equal(maxMtu(P({ kind: 'gre', key: 1, seq: true, csum: true })), 65499, 'Linux 6.1 accepts 65499 and refuses 65500');
  assert.equal(maxMtu(sit), 0xffff + 40 - 20);
  assert.equal(maxMtu(P({ kind: 'sit', mode: 'any' })), 65555);
});

test('min MTU: ETH_MIN_MTU 68 (__ip_tunnel_change_mtu), sit IPV6_MIN_MTU 1280 (ipip6_tunnel_setup)', () => {
  assert.deepEqual([ipip, gre, gretap, greKSC, sit].map(minMtu), [68, 68, 68, 68, 1280]);
});

test('checkMtu boundaries: min−1 and max+1 are EINVAL naming mtu; min and max pass (strict)', () => {
  for (const p of [ipip, gre, gretap, greKSC, sit]) {
    const lo = minMtu(p);
    const hi = maxMtu(p);
    rejectsMtu(p, lo - 1);
    checkMtu(p, lo);
    checkMtu(p, hi);
    rejectsMtu(p, hi + 1);
    rejectsMtu(p, 1400.5);
    rejectsMtu(p, Number.NaN);
    rejectsMtu(p, -1);
  }
});

test('makeTunnelParams applies checkMtu to an explicit mtu', () => {
  assert.equal(P({ kind: 'sit', mtu: 1280 }).mtu, 1280);
  assert.throws(() => P({ kind: 'sit', mtu: 1279 }), (e: unknown) => e instanceof ConfigError && e.field === 'mtu');
  assert.equal(P({ kind: 'gretap', mtu: 65497 }).mtu, 65497);
  assert.throws(() => P({ kind: 'gretap', mtu: 65498 }), (e: unknown) => e instanceof ConfigError && e.field === 'mtu');
  assert.equal(P({ kind: 'ipip', mtu: 68 }).mtu, 68);
  assert.throws(() => P({ kind: 'ipip', mtu: 67 }), (e: unknown) => e instanceof ConfigError && e.field === 'mtu');
});

test('property: the default MTU on any underlay up to IP_MAX_MTU lies in [minMtu, maxMtu] and equals underlay − overhead above the floor', () => {
  const configs = [ipip, gre, gretap, greKSC, sit];
  fc.assert(fc.property(fc.constantFrom(...configs), fc.integer({ min: 0, max: 0xffff }), (p, under) => {
    const m = defaultMtu(p, under);
    checkMtu(p, m);
    const overhead = 20 + tunnelHlen(p) + hardHeaderLen(p);
    if (under - overhead >= minMtu(p)) assert.equal(m, under - overhead);
    else assert.equal(m, minMtu(p));
  }));
});

test('ip_tunnel_bind_dev clamps the underlay MTU to IP_MAX_MTU: mtu = min(tdev->mtu, IP_MAX_MTU) − t_hlen', () => {
  assert.equal(defaultMtu(ipip, 65536), 65515);
  assert.equal(defaultMtu(ipip, 65535), 65515, 'Linux 6.1: ipip over a 65535-byte dummy device gets mtu 65515');
  assert.equal(defaultMtu(gre, 65536), 65511);
  assert.equal(defaultMtu(gretap, 65536), 65497);
});
