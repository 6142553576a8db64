// makeTunnelParams: the kernel's netlink validation plus iproute2's own
// argument checks, one rule per test, each naming the function it pins down.
// MTU rules (defaultMtu/maxMtu/minMtu/checkMtu/tunnelHlen) are in params-mtu.test.ts.
//
// Tests marked `todo` document a divergence of src/ from the kernel or
// iproute2: they fail today on purpose, without failing the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import type { ParamOptions, TunnelConfig } from '../../src/tunnel/params.js';
import { TNL_CSUM, TNL_KEY, TNL_SEQ, TunnelKind } from '../../src/tunnel/types.js';
import type { TunnelParams } from '../../src/tunnel/types.js';
import { ConfigError } from '../../src/wire/errors.js';
import { a4 } from '../util/packets.js';

type Cfg = Partial<TunnelConfig> & { kind: string };
const LOCAL = '198.51.100.1';
const REMOTE = '198.51.100.2';

/** A config with a name and (by default) both endpoints, so gretap is valid. */
const P = (c: Cfg, opts?: ParamOptions): TunnelParams =>
  makeTunnelParams({ name: 't0', local: LOCAL, remote: REMOTE, ...c }, opts);

/** Asserts `fn` throws a ConfigError with code EINVAL naming `field`. */
function rejects(fn: () => unknown, field: string, msg?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.field, field);
    if (msg !== undefined) assert.match(e.message, msg);
    return true;
  });
}

const ALL_KINDS = ['ipip', 'gre', 'gretap', 'sit'] as const;
const GRE_ONLY = ['key', 'ikey', 'okey', 'seq', 'iseq', 'oseq', 'csum', 'icsum', 'ocsum'] as const;

test('ip_tunnel_netlink_parms / ipgre_netlink_parms: pmtudisc defaults on (DF); nopmtudisc clears it', () => {
  for (const kind of ALL_KINDS) {
    assert.equal(P({ kind }).df, true, `${kind}: no IFLA_*_PMTUDISC → IP_DF`);
    assert.equal(P({ kind, pmtudisc: true }).df, true, kind);
    assert.equal(P({ kind, pmtudisc: false }).df, false, kind);
  }
});

test('ip_tunnel_netlink_parms / ipip6_netlink_parms: a non-zero ttl forces DF (raw netlink, iproute2 checks off)', () => {
  for (const kind of ['ipip', 'sit'] as const) {
    assert.equal(P({ kind, ttl: 64, pmtudisc: false }, { iproute2: false }).df, true, kind);
    assert.equal(P({ kind, ttl: 1, pmtudisc: false }, { iproute2: false }).df, true, `${kind} ttl 1`);
    assert.equal(P({ kind, ttl: 0, pmtudisc: false }, { iproute2: false }).df, false, `${kind} ttl 0`);
    assert.equal(P({ kind, ttl: 'inherit', pmtudisc: false }, { iproute2: false }).df, false, `${kind} ttl inherit`);
    assert.equal(P({ kind, ttl: 64 }).ttl, 64);
  }
});

test('iproute2 ip/link_iptnl.c: "ttl != 0 and nopmtudisc are incompatible" (ipip, sit)', () => {
  for (const kind of ['ipip', 'sit'] as const) {
    for (const ttl of [1, 64, 255]) {
      assert.throws(() => P({ kind, ttl, pmtudisc: false }), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, 'EINVAL');
        assert.match(e.message, /ttl != 0 and nopmtudisc are incompatible/);
        return true;
      });
    }
    assert.equal(P({ kind, ttl: 'inherit', pmtudisc: false }).df, false, 'ttl inherit is 0: allowed');
    assert.equal(P({ kind, ttl: 0, pmtudisc: false }).df, false);
  }
});

test('property (ipip, sit): df === (pmtudisc !== false || ttl !== 0); iproute2 rejects exactly ttl≠0 + nopmtudisc', () => {
  const ttlArb = fc.oneof(fc.constant(undefined), fc.constant('inherit' as const), fc.integer({ min: 0, max: 255 }));
  fc.assert(fc.property(
    fc.constantFrom('ipip', 'sit'), ttlArb, fc.constantFrom(undefined, true, false), fc.boolean(),
    (kind, ttl, pmtudisc, iproute2) => {
      const c: Cfg = { kind, ttl, pmtudisc };
      const ttlNum = ttl === undefined || ttl === 'inherit' ? 0 : ttl;
      if (iproute2 && ttlNum !== 0 && pmtudisc === false) {
        assert.throws(() => P(c, { iproute2 }), ConfigError);
        return;
      }
      const p = P(c, { iproute2 });
      assert.equal(p.ttl, ttlNum);
      assert.equal(p.df, pmtudisc !== false || ttlNum !== 0);
    },
  ));
});

test('ipgre_netlink_parms: ignore_df with DF set is EINVAL, naming ignore-df', () => {
  for (const kind of ['gre', 'gretap'] as const) {
    rejects(() => P({ kind, ignoreDf: true }), 'ignore-df', /nopmtudisc/);
    rejects(() => P({ kind, ignoreDf: true, pmtudisc: true }), 'ignore-df');
    const p = P({ kind, ignoreDf: true, pmtudisc: false });
    assert.equal(p.ignoreDf, true);
    assert.equal(p.df, false);
    assert.equal(P({ kind, ignoreDf: false }).ignoreDf, false, 'noignore-df');
    assert.equal(P({ kind }).ignoreDf, false, 'default');
  }
});

test('ignore-df exists only for gre/gretap (ip/link_iptnl.c has no such option)', () => {
  for (const kind of ['ipip', 'sit'] as const) {
    rejects(() => P({ kind, ignoreDf: true, pmtudisc: false }), 'ignore-df');
    assert.equal(P({ kind, ignoreDf: false }).ignoreDf, false);
  }
});

test('iproute2 ttl/tos "inherit": ttl 0, tos 1; not given: 0/0; bytes pass through', () => {
  const p = P({ kind: 'gre', ttl: 'inherit', tos: 'inherit' });
  assert.equal(p.ttl, 0);
  assert.equal(p.tos, 1);
  const d = P({ kind: 'gre' });
  assert.equal(d.ttl, 0);
  assert.equal(d.tos, 0);
  assert.equal(P({ kind: 'ipip', ttl: 255, tos: 0xb8 }).tos, 0xb8);
  assert.equal(P({ kind: 'ipip', ttl: 255 }).ttl, 255);
  assert.equal(P({ kind: 'ipip', tos: 0 }).tos, 0);
});

test('iproute2 get_u8 / rtnl_dsfield_a2n: out-of-range ttl and tos name their field', () => {
  for (const bad of [256, -1, 1.5, Number.NaN, 1e9]) {
    rejects(() => P({ kind: 'ipip', ttl: bad }), 'ttl');
    rejects(() => P({ kind: 'gre', tos: bad }), 'tos');
  }
});

test('iproute2 tnl_parse_key (link_gre.c): key sets TNL_KEY in both flags; number, decimal, hex, dotted quad', () => {
  const cases: [number | string, number][] = [
    [42, 42], ['42', 42], ['0x2a', 42], ['0x2A', 42], ['0.0.0.42', 42], ['192.0.2.3', 0xc0000203],
    [0, 0], ['0', 0], [0xffffffff, 0xffffffff], ['4294967295', 0xffffffff], ['0xffffffff', 0xffffffff],
    ['255.255.255.255', 0xffffffff],
  ];
  for (const [key, v] of cases) {
    const p = P({ kind: 'gre', key });
    assert.equal(p.ikey, v, String(key));
    assert.equal(p.okey, v, String(key));
    assert.equal(p.iflags, TNL_KEY, `${String(key)}: GRE_KEY even for key 0`);
    assert.equal(p.oflags, TNL_KEY);
  }
});

test('iproute2 link_gre.c: ikey sets only i_flags, okey only o_flags; later arguments override key', () => {
  const i = P({ kind: 'gre', ikey: 7 });
  assert.deepEqual([i.iflags, i.ikey, i.oflags, i.okey], [TNL_KEY, 7, 0, 0]);
  const o = P({ kind: 'gretap', okey: '0x10' });
  assert.deepEqual([o.iflags, o.ikey, o.oflags, o.okey], [0, 0, TNL_KEY, 16]);
  const both = P({ kind: 'gre', key: 1, ikey: 2 });
  assert.deepEqual([both.ikey, both.okey], [2, 1]);
  const none = P({ kind: 'gre' });
  assert.deepEqual([none.iflags, none.oflags, none.ikey, none.okey], [0, 0, 0, 0]);
});

test('iproute2 get_unsigned / get_addr32: a bad key names key, ikey or okey', () => {
  for (const f of ['key', 'ikey', 'okey'] as const) {
    for (const bad of [-1, 1.5, 0x100000000, '4294967296', '0x100000000', 'abc', '', '1.2.3.256', '12ab', '-1']) {
      rejects(() => P({ kind: 'gre', [f]: bad }), f);
    }
  }
});

test('iproute2 link_gre.c: seq = iseq + oseq, csum = icsum + ocsum (GRE_SEQ / GRE_CSUM flag bits)', () => {
  const f = (c: Cfg): [number, number] => { const p = P(c); return [p.iflags, p.oflags]; };
  assert.deepEqual(f({ kind: 'gre', seq: true }), [TNL_SEQ, TNL_SEQ]);
  assert.deepEqual(f({ kind: 'gre', iseq: true }), [TNL_SEQ, 0]);
  assert.deepEqual(f({ kind: 'gre', oseq: true }), [0, TNL_SEQ]);
  assert.deepEqual(f({ kind: 'gre', iseq: true, oseq: true }), f({ kind: 'gre', seq: true }));
  assert.deepEqual(f({ kind: 'gre', csum: true }), [TNL_CSUM, TNL_CSUM]);
  assert.deepEqual(f({ kind: 'gre', icsum: true }), [TNL_CSUM, 0]);
  assert.deepEqual(f({ kind: 'gre', ocsum: true }), [0, TNL_CSUM]);
  assert.deepEqual(f({ kind: 'gre', icsum: true, ocsum: true }), f({ kind: 'gre', csum: true }));
  assert.deepEqual(f({ kind: 'gretap', key: 5, seq: true, csum: true }), [TNL_KEY | TNL_SEQ | TNL_CSUM, TNL_KEY | TNL_SEQ | TNL_CSUM]);
  assert.deepEqual(f({ kind: 'gre', seq: false, csum: false, iseq: false }), [0, 0]);
  assert.deepEqual(f({ kind: 'gre', iseq: true, ocsum: true, okey: 3 }), [TNL_SEQ, TNL_CSUM | TNL_KEY]);
});

test('GRE-only options on ipip/sit are rejected naming the option (link_iptnl.c has none of them)', () => {
  for (const kind of ['ipip', 'sit'] as const) {
    for (const f of GRE_ONLY) {
      const v = f.endsWith('key') ? 1 : true;
      rejects(() => P({ kind, [f]: v }), f);
    }
    const p = P({ kind, seq: false, csum: false });
    assert.deepEqual([p.iflags, p.oflags, p.ikey, p.okey], [0, 0, 0, 0], 'false = not given');
  }
});

test('ipgre_tap_validate refuses only an explicit zero remote, which iproute2 ≥ 4.19 never sends: remote any is NBMA', () => {
  assert.equal(makeTunnelParams({ name: 'gt0', kind: 'gretap', local: LOCAL }).remote, 0);
  assert.equal(makeTunnelParams({ name: 'gt0', kind: 'gretap', local: LOCAL, remote: 'any' }).remote, 0);
  assert.equal(makeTunnelParams({ name: 'g0', kind: 'gre', local: LOCAL }).remote, 0);
  assert.equal(makeTunnelParams({ name: 'i0', kind: 'ipip' }).remote, 0);
});

test('ipgre_tunnel_init: a multicast remote needs a local address (gre); ipip has no such rule', () => {
  for (const remote of ['224.0.0.5', '239.255.255.255']) {
    rejects(() => makeTunnelParams({ name: 'g0', kind: 'gre', remote }), 'local');
    assert.equal(makeTunnelParams({ name: 'g0', kind: 'gre', remote, local: LOCAL }).remote, a4(remote));
  }
  assert.equal(makeTunnelParams({ name: 'g0', kind: 'gre', remote: '223.255.255.255' }).local, 0, 'not multicast');
  assert.equal(makeTunnelParams({ name: 'i0', kind: 'ipip', remote: '224.0.0.5' }).local, 0);
});

test('ipip6_netlink_parms / ipip6_valid_ip_proto: sit modes ip6ip (41), ipip (4), mplsip (137), any (0, iproute2\'s default)', () => {
  assert.equal(P({ kind: 'sit' }).proto, 0, 'Linux 6.1 + iproute2: `ip -d link` shows "sit any"');
  const m: [string, number][] = [['ip6ip', 41], ['ipip', 4], ['mplsip', 137], ['any', 0]];
  for (const [mode, proto] of m) assert.equal(P({ kind: 'sit', mode }).proto, proto, mode);
});

test('ipip_tunnel_ioctl_verify_protocol: ipip modes ipip (4), mplsip (137), any (0, iproute2\'s default)', () => {
  assert.equal(P({ kind: 'ipip' }).proto, 0, 'Linux 6.1 + iproute2: `ip -d link` shows "ipip any"');
  assert.equal(P({ kind: 'ipip', mode: 'ipip' }).proto, 4);
  assert.equal(P({ kind: 'ipip', mode: 'mplsip' }).proto, 137);
  assert.equal(P({ kind: 'ipip', mode: 'any' }).proto, 0);
  assert.equal(P({ kind: 'gre' }).proto, 47);
  assert.equal(P({ kind: 'gretap' }).proto, 47);
});

test('iproute2 "Cannot guess tunnel mode": a bad mode names mode (ip6ip is sit-only; gre has none)', () => {
  for (const mode of ['gre', 'IPIP', '', 'ip6ip6', 'isatap']) {
    rejects(() => P({ kind: 'sit', mode }), 'mode');
    rejects(() => P({ kind: 'ipip', mode }), 'mode');
  }
  rejects(() => P({ kind: 'ipip', mode: 'ip6ip' }), 'mode');
  rejects(() => P({ kind: 'gre', mode: 'ipip' }), 'mode');
  rejects(() => P({ kind: 'gretap', mode: 'any' }), 'mode');
});

test('dev_valid_name: 1..15 bytes, not "." or "..", no "/", ":" or whitespace', () => {
  const ok = ['a', 't0', 'x'.repeat(15), 'tun.1', '...', 'a-b_c', 'é'.repeat(7) + 'a', '.a', 'a..'];
  for (const name of ok) assert.equal(makeTunnelParams({ name, kind: 'ipip' }).name, name, name);
  const bad = ['', 'x'.repeat(16), 'é'.repeat(8), '.', '..', 'a/b', '/', 'a:b', 'eth0:1', 'a b', 'a\tb', 'a\nb', 'a\rb', 'a\vb', 'a\fb', ' '];
  for (const name of bad) rejects(() => makeTunnelParams({ name, kind: 'ipip' }), 'name');
});

test('addresses: dotted quad or "any"; a bad one names local or remote', () => {
  const p = P({ kind: 'ipip' });
  assert.equal(p.local, a4(LOCAL));
  assert.equal(p.remote, a4(REMOTE));
  assert.equal(P({ kind: 'ipip', local: 'any', remote: 'any' }).local, 0);
  for (const bad of ['1.2.3.4.5', '256.1.1.1', '::1', '2001:db8::1', 'host', '', '1.2.3.-4']) {
    rejects(() => P({ kind: 'ipip', local: bad }), 'local');
    rejects(() => P({ kind: 'gre', remote: bad }), 'remote');
  }
});

test('unknown tunnel types name "type" (ipip, gre, gretap, sit only; case-sensitive)', () => {
  for (const kind of ['vti', 'ip6gre', 'erspan', 'IPIP', 'Gre', '', 'ip6tnl']) rejects(() => P({ kind }), 'type');
  const kinds: [string, TunnelKind][] = [['ipip', TunnelKind.Ipip], ['gre', TunnelKind.Gre], ['gretap', TunnelKind.Gretap], ['sit', TunnelKind.Sit]];
  for (const [kind, k] of kinds) assert.equal(P({ kind }).kind, k);
});

test('IFLA_IPTUN_LINK / IFLA_GRE_LINK (dev PHYS): a u32 ifindex; anything else names dev', () => {
  assert.equal(P({ kind: 'ipip' }).link, 0);
  assert.equal(P({ kind: 'ipip', link: 3 }).link, 3);
  for (const bad of [-1, 1.5, Number.NaN]) rejects(() => P({ kind: 'gre', link: bad }), 'dev');
});

// ---- rules first found diverging, fixed in params.ts/tunnel.ts ----

test('iproute2 link_gre.c has no ttl/nopmtudisc check and ipgre_netlink_parms does not force DF from ttl', () => {
  const p = P({ kind: 'gre', ttl: 64, pmtudisc: false });
  assert.equal(p.df, false);
  assert.equal(P({ kind: 'gretap', ttl: 64, pmtudisc: false }, { iproute2: false }).df, false);
});

test('iproute2 link_gre.c: a multicast remote with no key gets ikey = okey = remote (GRE_KEY set)', () => {
  const p = P({ kind: 'gre', remote: '239.1.2.3' });
  assert.deepEqual([p.iflags & TNL_KEY, p.oflags & TNL_KEY, p.ikey, p.okey], [TNL_KEY, TNL_KEY, 0xef010203, 0xef010203]);
  assert.equal(P({ kind: 'gre', remote: '239.1.2.3', key: 9 }).ikey, 9, 'an explicit non-zero key is kept');
});

test('iproute2 tnl_parse_key: strtoul base 0 (octal "010" = 8, "0X1F") and get_addr_ipv4 short forms ("203.0.113" = 203.0.113.0, "198.51" = 198.51.0.0)', () => {
  assert.equal(P({ kind: 'gre', key: '010' }).ikey, 8);
  assert.equal(P({ kind: 'gre', key: '0X1F' }).ikey, 31);
  assert.equal(P({ kind: 'gre', key: '203.0.113' }).ikey, 0xcb007100);
  // Two parts fill two bytes with 0; no 2-part form lands in a documentation
  // range. A parse of the key string only: no packet carries 198.51.0.0.
  assert.equal(P({ kind: 'gre', key: '198.51' }).ikey, 0xc6330000);
  rejects(() => P({ kind: 'gre', key: '08' }), 'key');
});

test('dev_valid_name uses the kernel isspace(): byte 0xA0 is a space, Unicode spaces are not', () => {
  rejects(() => makeTunnelParams({ name: 'tun\u00e0', kind: 'ipip' }), 'name'); // UTF-8 c3 a0
  assert.equal(makeTunnelParams({ name: 'a\u3000b', kind: 'ipip' }).name, 'a\u3000b'); // e3 80 80
});

test('bare `ip link add NAME type K` (no IFLA_INFO_DATA): nopmtudisc, ipip mode ipip, sit ip6ip ttl 64', () => {
  const i = makeTunnelParams({ name: 'b0', kind: 'ipip', bare: true });
  assert.deepEqual([i.df, i.proto, i.ttl], [false, 4, 0]);
  const s = makeTunnelParams({ name: 'b1', kind: 'sit', bare: true });
  assert.deepEqual([s.df, s.proto, s.ttl], [false, 41, 64]);
  const g = makeTunnelParams({ name: 'b2', kind: 'gre', bare: true });
  assert.deepEqual([g.df, g.proto], [false, 47]);
  assert.equal(makeTunnelParams({ name: 'b3', kind: 'gre' }).df, true, 'with any argument iproute2 sends PMTUDISC=1');
});
