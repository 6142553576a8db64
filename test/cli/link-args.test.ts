// `tunkit link …` parsing (src/cli/link-args.ts) against iproute2's
// ip/iplink.c (do_iplink, iplink_parse), ip/link_iptnl.c (iptunnel_parse_opt),
// ip/link_gre.c (gre_parse_opt) and ip/ipaddress.c (ipaddr_list_flush_or_save).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UsageError } from '../../src/cli/args.js';
import { parseLinkArgs } from '../../src/cli/link-args.js';
import type { LinkAdd, LinkCommand } from '../../src/cli/link-args.js';
import type { TunnelConfig } from '../../src/tunnel/params.js';
import { RemoteError } from '../../src/wire/errors.js';

const R = '198.51.100.1';
const L = '198.51.100.2';

const add = (...args: string[]): LinkAdd => {
  const c = parseLinkArgs(['add', ...args]);
  assert.equal(c.cmd, 'add');
  return c as LinkAdd;
};
const cfg = (...args: string[]): TunnelConfig => add(...args).config;

/** Asserts a UsageError (EUSAGE) naming `field`, with a message matching `msg`. */
function usage(args: string[], field: string, msg: RegExp | string): void {
  assert.throws(() => parseLinkArgs(args), (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
    assert.equal(e.code, 'EUSAGE');
    assert.equal(e.field, field, e.message);
    if (typeof msg === 'string') assert.equal(e.message, msg);
    else assert.match(e.message, msg);
    return true;
  });
}
/** Asserts makeTunnelParams' EINVAL naming `field`, reported as the kernel's answer (RemoteError: "RTNETLINK answers: …", exit 2). */
function config(args: string[], field: string, msg?: RegExp): void {
  assert.throws(() => parseLinkArgs(args), (e: unknown) => {
    assert.ok(e instanceof RemoteError, `expected RemoteError, got ${String(e)}`);
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.field, field);
    if (msg !== undefined) assert.match(e.message, msg);
    return true;
  });
}

// ---- link add: names and generic arguments (iplink_parse) ----

test('link add (reference tunnel): iproute2 sends proto 0, so ipip mode is "any"', () => {
  assert.deepEqual(add('ipip1', 'type', 'ipip', 'remote', R, 'local', L), {
    cmd: 'add',
    config: { name: 'ipip1', kind: 'ipip', local: L, remote: R, ttl: 0, tos: 0, pmtudisc: true, mode: 'any' },
  });
});

test('link add without type arguments: parse_opt is not called, the kernel defaults apply', () => {
  for (const kind of ['ipip', 'gre', 'sit']) {
    assert.deepEqual(cfg('t0', 'type', kind), { name: 't0', kind, local: 'any', remote: 'any', bare: true }, kind);
  }
  assert.deepEqual(cfg('t0', 'mtu', '1400', 'type', 'ipip'), { name: 't0', kind: 'ipip', local: 'any', remote: 'any', mtu: 1400, bare: true });
  assert.equal(cfg('t0', 'type', 'sit', 'mtu', '1400').mode, undefined, 'tunkit mtu alone keeps kernel defaults');
  // No IFLA_INFO_DATA at all: makeTunnelParams applies the kernel's bare defaults (TunnelConfig.bare).
});

test('link add: NAME, name NAME, dev NAME and "add dev NAME" all name the device', () => {
  for (const form of [['t1'], ['name', 't1'], ['dev', 't1'], ['name', 't1', 'dev', 't1'], ['name', 't1', 't1']]) {
    assert.equal(cfg(...form, 'type', 'ipip').name, 't1', form.join(' '));
  }
});

test('link add: duplicate or conflicting names', () => {
  usage(['add', 'name', 'x0', 'name', 'x1', 'type', 'ipip'], 'name', 'Error: duplicate "name": "x1" is the second value.');
  usage(['add', 'x0', 'x1', 'type', 'ipip'], 'x1', 'Error: either "dev" is duplicate, or "x1" is garbage.');
  usage(['add', 'dev', 'x0', 'dev', 'x1', 'type', 'ipip'], 'x1', /either "dev" is duplicate/);
  usage(['add', 'name', 'x0', 'dev', 'x1', 'type', 'ipip'], 'name', 'both "name" and "dev" cannot be used when creating devices.');
  usage(['add', 'x0', 'name', 'x1', 'type', 'ipip'], 'name', /both "name" and "dev"/);
  // As in ip: a bare name that abbreviates a keyword is that keyword ("a" is address).
  usage(['add', 'a', 'type', 'ipip'], 'address', /argument "a" is wrong: "address" is not supported/);
});

test('link add: missing pieces', () => {
  usage(['add', 't0'], 'type', 'Not enough information: "type" argument is required');
  usage(['add', 'type', 'ipip'], 'name', /"name" argument is required/);
  usage(['add', 't0', 'type'], 'type', /not complete: "type" needs a value/);
  usage(['add', 'name'], 'name', /"name" needs a value/);
  usage(['add', 'dev'], 'dev', /"dev" needs a value/);
  usage(['add', 't0', 'mtu'], 'mtu', /"mtu" needs a value/);
});

test('link add: device names (check_ifname, then the kernel dev_valid_name)', () => {
  usage(['add', 'name', 'a/b', 'type', 'ipip'], 'name', 'Error: argument "a/b" is wrong: "name" not a valid ifname');
  usage(['add', 'name', 'x'.repeat(16), 'type', 'ipip'], 'name', /not a valid ifname/);
  usage(['add', 'name', '', 'type', 'ipip'], 'name', /not a valid ifname/);
  usage(['add', 'a b', 'type', 'ipip'], 'dev', /"dev" not a valid ifname/);
  usage(['add', 'dev', 'x/y', 'type', 'ipip'], 'dev', /"dev" not a valid ifname/);
  config(['add', 'a:b', 'type', 'ipip'], 'name', /not a valid device name/);
  config(['add', 'x'.repeat(16), 'type', 'ipip'], 'name', /1 to 15 bytes/);
  assert.equal(cfg('x'.repeat(15), 'type', 'ipip').name, 'x'.repeat(15));
});

test('link add: up/down before type', () => {
  assert.equal(add('t0', 'up', 'type', 'ipip').isUp, true);
  assert.equal(add('t0', 'down', 'type', 'ipip').isUp, false);
  assert.equal(add('t0', 'type', 'ipip').isUp, undefined);
});

test('link add: mtu before type (iproute2) or among the type arguments (tunkit), once', () => {
  assert.equal(cfg('t0', 'mtu', '1400', 'type', 'ipip', 'remote', R).mtu, 1400);
  assert.equal(cfg('t0', 'type', 'ipip', 'remote', R, 'mtu', '1400').mtu, 1400);
  assert.equal(cfg('t0', 'mtu', '0x578', 'type', 'ipip').mtu, 1400, 'get_integer base 0');
  usage(['add', 't0', 'mtu', '1400', 'mtu', '1300', 'type', 'ipip'], 'mtu', 'Error: duplicate "mtu": "1300" is the second value.');
  usage(['add', 't0', 'type', 'ipip', 'mtu', '1', 'mtu', '2'], 'mtu', /duplicate "mtu"/);
  usage(['add', 't0', 'mtu', '1400', 'type', 'ipip', 'mtu', '1300'], 'mtu', /duplicate "mtu": "1300"/);
  usage(['add', 't0', 'mtu', 'big', 'type', 'ipip'], 'mtu', 'Error: argument "big" is wrong: Invalid "mtu" value');
  config(['add', 't0', 'mtu', '67', 'type', 'ipip'], 'mtu', /67 is outside 68\.\./);
  config(['add', 't0', 'type', 'sit', 'mtu', '1279'], 'mtu', /outside 1280/);
  config(['add', 't0', 'mtu', '-1', 'type', 'gre'], 'mtu');
});

test('link add: iproute2 generic keywords tunkit does not implement are refused by name', () => {
  usage(['add', 't0', 'txqlen', '5', 'type', 'ipip'], 'txqlen', 'Error: argument "txqlen" is wrong: "txqlen" is not supported by tunkit');
  usage(['add', 't0', 'address', '1', 'type', 'ipip'], 'address', /not supported/);
  usage(['add', 'l', 'type', 'ipip'], 'link', /argument "l" is wrong: "link" is not supported/);
  usage(['add', 't0', 'netns', 'x', 'type', 'ipip'], 'netns', /not supported/);
  // As in ip: a bare name that abbreviates a keyword is that keyword ("t" is txqueuelen).
  usage(['add', 't', 'type', 'ipip'], 'txqueuelen', /argument "t" is wrong: "txqueuelen"/);
  assert.equal(cfg('name', 't', 'type', 'ipip').name, 't');
  assert.deepEqual(parseLinkArgs(['add', 'help']), { cmd: 'help' });
});

test('link add: unknown or unsupported type', () => {
  usage(['add', 't0', 'type', 'vxlan'], 'type', 'Error: argument "vxlan" is wrong: tunkit supports the types ipip, gre, gretap, sit and xfrm');
  usage(['add', 't0', 'type', 'GRE'], 'type', /supports the types/);
});

// ---- the type's arguments ----

test('remote/local: get_addr (any, all, default, lenient dotted forms) and errors', () => {
  assert.equal(cfg('t0', 'type', 'ipip', 'remote', 'any').remote, 'any');
  assert.equal(cfg('t0', 'type', 'ipip', 'local', 'all').local, 'any');
  assert.equal(cfg('t0', 'type', 'ipip', 'local', 'default').local, 'any');
  assert.equal(cfg('t0', 'type', 'ipip', 'remote', '203.0.113').remote, '203.0.113.0', 'get_addr_ipv4 fills missing bytes with 0');
  assert.equal(cfg('t0', 'type', 'ipip', 'remote', '0xc0.0.02.010').remote, '192.0.2.8', 'strtoul base 0 per part');
  usage(['add', 't0', 'type', 'ipip', 'remote', '1.2.3.256'], 'remote', 'Error: inet address is expected rather than "1.2.3.256".');
  usage(['add', 't0', 'type', 'ipip', 'remote', '1.2.3.4.5'], 'remote', /inet address/);
  usage(['add', 't0', 'type', 'ipip', 'remote', '1..2'], 'remote', /inet address/);
  usage(['add', 't0', 'type', 'gre', 'local', '2001:db8::1'], 'local', /inet address/);
  usage(['add', 't0', 'type', 'gre', 'local', 'host.example'], 'local', /inet address/);
  usage(['add', 't0', 'type', 'gre', 'remote'], 'remote', /"remote" needs a value/);
});

test('ttl/hoplimit/hlim: get_u8 base 0, "inherit" and 0 are inherit; errors', () => {
  for (const kw of ['ttl', 'hoplimit', 'hlim']) assert.equal(cfg('t0', 'type', 'ipip', kw, '64').ttl, 64, kw);
  assert.equal(cfg('t0', 'type', 'gre', 'ttl', '0x40').ttl, 64);
  assert.equal(cfg('t0', 'type', 'gre', 'ttl', 'inherit').ttl, 0);
  assert.equal(cfg('t0', 'type', 'gre', 'ttl', '0').ttl, 0);
  assert.equal(cfg('t0', 'type', 'gre', 't', '9').ttl, 9, 'gre: matches("t", "ttl")');
  usage(['add', 't0', 'type', 'ipip', 'ttl', '256'], 'ttl', 'Error: argument "256" is wrong: invalid TTL');
  usage(['add', 't0', 'type', 'ipip', 'ttl', 'x'], 'ttl', /invalid TTL/);
  usage(['add', 't0', 'type', 'ipip', 'ttl'], 'ttl', /"ttl" needs a value/);
  usage(['add', 't0', 'type', 'ipip', 'hlim'], 'hlim', /"hlim" needs a value/);
});

test('tos/tclass/tc/dsfield: rtnl_dsfield_a2n — names, HEX numbers, inherit = 1', () => {
  assert.equal(cfg('t0', 'type', 'ipip', 'tos', '10').tos, 0x10, 'tos is hexadecimal even without 0x');
  assert.equal(cfg('t0', 'type', 'ipip', 'tos', '0x10').tos, 0x10);
  assert.equal(cfg('t0', 'type', 'ipip', 'tos', 'inherit').tos, 1);
  assert.equal(cfg('t0', 'type', 'ipip', 'tclass', 'EF').tos, 0xb8);
  assert.equal(cfg('t0', 'type', 'ipip', 'tc', 'CS1').tos, 0x20);
  assert.equal(cfg('t0', 'type', 'ipip', 'ds', 'AF41').tos, 0x88, 'ipip: matches(dsfield)');
  assert.equal(cfg('t0', 'type', 'gre', 'tos', 'default').tos, 0);
  usage(['add', 't0', 'type', 'ipip', 'tos', '100'], 'tos', 'Error: argument "100" is wrong: bad TOS value');
  usage(['add', 't0', 'type', 'gre', 'tos', 'af11'], 'tos', /bad TOS value/);
  usage(['add', 't0', 'type', 'gre', 'tos', 'toString'], 'tos', /bad TOS value/);
});

test('pmtudisc/nopmtudisc; "ttl != 0 and nopmtudisc are incompatible" is link_iptnl.c\'s exit(-1) (UsageError, 255)', () => {
  assert.equal(cfg('t0', 'type', 'ipip', 'nopmtudisc').pmtudisc, false);
  assert.equal(cfg('t0', 'type', 'ipip', 'nopmtudisc', 'pmtudisc').pmtudisc, true);
  assert.equal(cfg('t0', 'type', 'gre', 'nopm').pmtudisc, false, 'gre keywords are prefixes');
  usage(['add', 't0', 'type', 'ipip', 'ttl', '64', 'nopmtudisc'], 'nopmtudisc', 'ttl != 0 and nopmtudisc are incompatible');
  usage(['add', 't0', 'type', 'sit', 'nopmtudisc', 'ttl', '1'], 'nopmtudisc', 'ttl != 0 and nopmtudisc are incompatible');
  // link_gre.c has no such check: gre takes DF from pmtudisc alone.
  assert.equal(cfg('t0', 'type', 'gre', 'nopmtudisc', 'ttl', '1').ttl, 1);
});

test('mode (ipip, sit): short and long names; default any; errors', () => {
  const mode = (kind: string, m: string): string | undefined => cfg('t0', 'type', kind, 'mode', m).mode;
  for (const m of ['ipip', 'ipv4/ipv4', 'ip4ip4']) assert.equal(mode('ipip', m), 'ipip', m);
  for (const m of ['mplsip', 'mpls/ipv4']) assert.equal(mode('sit', m), 'mplsip', m);
  for (const m of ['any', 'any/ipv4']) assert.equal(mode('ipip', m), 'any', m);
  for (const m of ['ip6ip', 'ipv6/ipv4']) assert.equal(mode('sit', m), 'ip6ip', m);
  assert.equal(cfg('t0', 'type', 'sit', 'remote', R).mode, 'any');
  usage(['add', 't0', 'type', 'ipip', 'mode', 'ip6ip'], 'mode', 'Error: argument "ip6ip" is wrong: Cannot guess tunnel mode.');
  usage(['add', 't0', 'type', 'sit', 'mode', 'gre'], 'mode', /Cannot guess/);
  usage(['add', 't0', 'type', 'gre', 'mode', 'ipip'], 'mode', 'Usage: ... gre      \t[ remote ADDR ]\ntunkit: only ipip and sit tunnels have "mode", not gre; try "tunkit link help".');
});

test('dev PHYS: carried as the underlay NAME (the daemon resolves it)', () => {
  const a = add('t0', 'type', 'ipip', 'remote', R, 'dev', 'eth0');
  assert.equal(a.linkDev, 'eth0');
  assert.equal((a.config as { link?: number }).link, undefined);
  assert.equal(add('t0', 'type', 'gre', 'd', 'eth1').linkDev, 'eth1', 'matches("d", "dev")');
  assert.equal(add('t0', 'type', 'sit', 'de', 'eth2').linkDev, 'eth2');
  assert.equal(add('t0', 'type', 'ipip').linkDev, undefined);
  usage(['add', 't0', 'type', 'gre', 'dev'], 'dev', /"dev" needs a value/);
});

test('gre keys: key/ikey/okey as u32 (base 0) or dotted quad; nokey clears', () => {
  assert.deepEqual(pick(cfg('t0', 'type', 'gre', 'key', '42')), { ikey: 42, okey: 42 });
  assert.deepEqual(pick(cfg('t0', 'type', 'gre', 'ikey', '1', 'okey', '0x10')), { ikey: 1, okey: 16 });
  assert.deepEqual(pick(cfg('t0', 'type', 'gre', 'key', '1.2.3.4')), { ikey: 0x01020304, okey: 0x01020304 });
  assert.deepEqual(pick(cfg('t0', 'type', 'gre', 'key', '5', 'nookey')), { ikey: 5 });
  assert.deepEqual(pick(cfg('t0', 'type', 'gre', 'key', '5', 'nokey')), {});
  assert.deepEqual(pick(cfg('t0', 'type', 'gre', 'k', '7', 'noik')), { okey: 7 }, 'prefix forms');
  assert.deepEqual(pick(cfg('t0', 'type', 'gre', 'key', '0')), { ikey: 0, okey: 0 }, 'key 0 still sets K');
  usage(['add', 't0', 'type', 'gre', 'key', 'x'], 'key', 'invalid value for "key": "x"; it should be an unsigned integer');
  usage(['add', 't0', 'type', 'gre', 'okey', '4294967296'], 'okey', /"okey"/);
  usage(['add', 't0', 'type', 'gre', 'ikey', '1.2.3.x'], 'ikey', 'Error: an IP address is expected rather than "1.2.3.x"');
  usage(['add', 't0', 'type', 'gre', 'i'], 'ikey', /"ikey" needs a value/);
});
function pick(c: TunnelConfig): { ikey?: number | string; okey?: number | string } {
  return { ...(c.ikey !== undefined ? { ikey: c.ikey } : {}), ...(c.okey !== undefined ? { okey: c.okey } : {}) };
}

test('gre flags: seq/csum in both, either direction, negations, prefixes', () => {
  const flags = (...a: string[]): string => {
    const c = cfg('t0', 'type', 'gretap', 'remote', R, ...a);
    return (['iseq', 'oseq', 'icsum', 'ocsum'] as const).filter((f) => c[f] === true).join(',');
  };
  assert.equal(flags(), '');
  assert.equal(flags('seq'), 'iseq,oseq');
  assert.equal(flags('csum'), 'icsum,ocsum');
  assert.equal(flags('iseq', 'ocsum'), 'iseq,ocsum');
  assert.equal(flags('seq', 'nooseq'), 'iseq');
  assert.equal(flags('csum', 'noicsum'), 'ocsum');
  assert.equal(flags('seq', 'csum', 'noseq', 'nocsum'), '');
  assert.equal(flags('s', 'c'), 'iseq,oseq,icsum,ocsum', 'matches("s", "seq"), matches("c", "csum")');
  assert.equal(flags('os', 'ic'), 'oseq,icsum');
  assert.equal(flags('oseq', 'noos'), '');
});

test('gre ignore-df needs nopmtudisc (EINVAL); noignore-df; not on ipip', () => {
  assert.equal(cfg('t0', 'type', 'gre', 'nopmtudisc', 'ignore-df').ignoreDf, true);
  assert.equal(cfg('t0', 'type', 'gre', 'noignore-df').ignoreDf, false);
  assert.equal(cfg('t0', 'type', 'gre', 'remote', R).ignoreDf, undefined);
  config(['add', 't0', 'type', 'gre', 'ignore-df'], 'ignore-df', /requires nopmtudisc/);
  usage(['add', 't0', 'type', 'ipip', 'ignore-df'], 'ignore-df', /only gre and gretap tunnels have "ignore-df", not ipip/);
});

test('gre multicast remote: keys default to the group; a local is required (gre_parse_opt)', () => {
  const c = cfg('t0', 'type', 'gre', 'remote', '239.1.1.1', 'local', L);
  assert.deepEqual(pick(c), { ikey: 0xef010101, okey: 0xef010101 });
  assert.deepEqual(pick(cfg('t0', 'type', 'gre', 'remote', '239.1.1.1', 'local', L, 'ikey', '5')), { ikey: 5, okey: 0xef010101 });
  usage(['add', 't0', 'type', 'gre', 'remote', '239.1.1.1'], 'local', 'A broadcast tunnel requires a source address.');
});

test('keyword for the wrong type: GRE keywords on ipip/sit, ipip keywords on gre', () => {
  for (const kw of ['key', 'ikey', 'okey', 'seq', 'iseq', 'oseq', 'csum', 'icsum', 'ocsum', 'nokey', 'noseq']) {
    usage(['add', 't0', 'type', 'ipip', kw, '1'], kw, `Usage: ... ipip  \t[ remote ADDR ]\ntunkit: only gre and gretap tunnels have "${kw}", not ipip; try "tunkit link help".`);
  }
  usage(['add', 't0', 'type', 'sit', 'key', '1'], 'key', /not sit/);
  usage(['add', 't0', 'type', 'gretap', 'remote', R, 'mode', 'any'], 'mode', /only ipip and sit/);
});

test('iproute2 tunnel keywords tunkit does not implement; unknown keywords', () => {
  for (const kw of ['encap', 'noencap', 'external', 'fwmark', 'encap-csum']) {
    usage(['add', 't0', 'type', 'gre', kw], kw, `Error: argument "${kw}" is wrong: not supported by tunkit`);
    usage(['add', 't0', 'type', 'ipip', kw], kw, /not supported by tunkit/);
  }
  for (const kw of ['isatap', '6rd-prefix', '6rd-reset']) usage(['add', 't0', 'type', 'sit', kw], kw, /not supported/);
  usage(['add', 't0', 'type', 'ipip', 'mtuu', '1400'], 'mtuu', 'Usage: ... ipip  \t[ remote ADDR ]\ntunkit: "mtuu" is not a keyword of ipip; try "tunkit link help".');
  usage(['add', 't0', 'type', 'gre', 'bogus'], 'bogus', /is not a keyword of gre/);
  usage(['add', 't0', 'type', 'ipip', 'pmtu'], 'pmtu', /is not a keyword of ipip/);
  usage(['add', 't0', 'type', 'ipip', 'REMOTE', R], 'REMOTE', /is not a keyword of ipip/);
});

test('link add: a full gre configuration validates through makeTunnelParams', () => {
  assert.deepEqual(add('gre1', 'up', 'mtu', '1400', 'type', 'gre', 'remote', R, 'local', L, 'ttl', '64', 'tos', 'inherit',
    'key', '9', 'seq', 'icsum', 'dev', 'eth0'), {
    cmd: 'add', linkDev: 'eth0', isUp: true,
    config: {
      name: 'gre1', kind: 'gre', local: L, remote: R, ttl: 64, tos: 1, pmtudisc: true, ikey: 9, okey: 9,
      iseq: true, oseq: true, icsum: true, ocsum: false, mtu: 1400,
    },
  });
});

// ---- set, delete, show, dispatch ----

test('link set [dev] NAME up|down|mtu N', () => {
  assert.deepEqual(parseLinkArgs(['set', 'dev', 't0', 'up']), { cmd: 'set', name: 't0', isUp: true });
  assert.deepEqual(parseLinkArgs(['set', 't0', 'down', 'mtu', '1400']), { cmd: 'set', name: 't0', isUp: false, mtu: 1400 });
  assert.deepEqual(parseLinkArgs(['set', 'mtu', '9000', 't0']), { cmd: 'set', name: 't0', mtu: 9000 });
  assert.deepEqual(parseLinkArgs(['set', 'name', 't0', 'up']), { cmd: 'set', name: 't0', isUp: true });
  assert.deepEqual(parseLinkArgs(['change', 't0', 'up']), { cmd: 'set', name: 't0', isUp: true });
  assert.deepEqual(parseLinkArgs(['s', 't0']), { cmd: 'set', name: 't0' });
  assert.deepEqual(parseLinkArgs(['set', 'help']), { cmd: 'help' });
  usage(['set', 'up'], 'dev', 'Not enough information: "dev" argument is required.');
  usage(['set', 't0', 'name', 't1'], 'name', /renaming is not supported/);
  usage(['set', 't0', 'type', 'gre', 'key', '1'], 'type', /changing tunnel parameters/);
  usage(['set', 't0', 'mtu', 'x'], 'mtu', /Invalid "mtu" value/);
  usage(['set', 't0', 'mtu', '1', 'mtu', '2'], 'mtu', /duplicate "mtu"/);
  usage(['set', 't0', 't1'], 't1', /either "dev" is duplicate/);
  usage(['set', 't0', 'txqlen', '1'], 'txqlen', /not supported/);
});

test('link delete [dev] NAME', () => {
  for (const w of ['del', 'delete', 'd', 'de']) assert.deepEqual(parseLinkArgs([w, 't0']), { cmd: 'del', name: 't0' }, w);
  assert.deepEqual(parseLinkArgs(['del', 'dev', 't0']), { cmd: 'del', name: 't0' });
  assert.deepEqual(parseLinkArgs(['del', 'help']), { cmd: 'help' });
  usage(['del'], 'dev', /"dev" argument is required/);
  usage(['del', 't0', 'up'], 'up', 'Error: argument "up" is wrong: not valid with "link delete"');
  usage(['del', 't0', 'mtu', '1400'], 'mtu', /not valid/);
  usage(['del', 't0', 'type', 'gre'], 'type', /not valid/);
  usage(['del', 't0', 't1'], 't1', /either "dev" is duplicate/);
});

test('link show [[dev] NAME] [type KIND] [up|down]; no arguments is show', () => {
  assert.deepEqual(parseLinkArgs([]), { cmd: 'show' });
  for (const w of ['show', 'sh', 'lst', 'list', 'l']) assert.deepEqual(parseLinkArgs([w]), { cmd: 'show' }, w);
  assert.deepEqual(parseLinkArgs(['show', 'ipip1']), { cmd: 'show', name: 'ipip1' });
  assert.deepEqual(parseLinkArgs(['show', 'dev', 'ipip1', 'type', 'ipip', 'up']),
    { cmd: 'show', name: 'ipip1', kind: 'ipip', state: 'up' });
  assert.deepEqual(parseLinkArgs(['show', 'down']), { cmd: 'show', state: 'down' });
  assert.deepEqual(parseLinkArgs(['show', 'help']), { cmd: 'help' });
  assert.deepEqual(parseLinkArgs(['show', 'dev', 'help']), { cmd: 'show', name: 'help' });
  usage(['show', 'a', 'b'], 'b', 'Error: either "dev" is duplicate, or "b" is garbage.');
  usage(['show', 'type'], 'type', /"type" needs a value/);
  usage(['show', 'dev'], 'dev', /"dev" needs a value/);
  usage(['show', 'group', 'x'], 'group', /not supported by tunkit/);
});

test('do_iplink: command words by prefix; unknown and unsupported commands', () => {
  assert.deepEqual(parseLinkArgs(['help']), { cmd: 'help' });
  assert.equal(parseLinkArgs(['a', 't0', 'type', 'ipip']).cmd, 'add');
  usage(['bogus'], 'bogus', 'Command "bogus" is unknown, try "tunkit link help".');
  usage(['replace', 't0'], 'replace', 'Command "replace" is not supported by tunkit.');
  usage(['r', 't0'], 'r', /"replace" is not supported/);
  usage(['xstats'], 'xstats', /not supported/);
  usage(['adds'], 'adds', /unknown/);
});

test('property: random link arguments only ever throw UsageError or RemoteError (EINVAL)', () => {
  const word = fc.constantFrom(
    'add', 'set', 'del', 'show', 'change', 'help', 'type', 'ipip', 'gre', 'gretap', 'sit', 'name', 'dev', 'up', 'down',
    'mtu', 'remote', 'local', 'ttl', 'tos', 'key', 'ikey', 'okey', 'seq', 'csum', 'nokey', 'nopmtudisc', 'pmtudisc',
    'ignore-df', 'mode', 'any', 'inherit', 'ip6ip', '1400', '64', '0', '0x10', '239.1.1.1', R, L, 'eth0', 'k', 's',
    'link', 'encap', 'mtuu', '', '-1', '1.2', 'a/b', 'x'.repeat(16),
  );
  const argv = fc.array(fc.oneof({ weight: 4, arbitrary: word }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), { maxLength: 12 });
  fc.assert(fc.property(argv, (args) => {
    let r: LinkCommand;
    try {
      r = parseLinkArgs(args);
    } catch (e) {
      assert.ok(e instanceof UsageError || e instanceof RemoteError, `unexpected ${String(e)}`);
      return;
    }
    assert.ok(['add', 'set', 'del', 'show', 'help'].includes(r.cmd));
  }), { numRuns: 3000 });
  // Shaped like a real `link add`: always reaches makeTunnelParams or a named error.
  const addArgv = fc.tuple(fc.constantFrom('ipip', 'gre', 'gretap', 'sit'), fc.array(word, { maxLength: 10 }))
    .map(([k, rest]) => ['add', 't0', 'type', k, ...rest]);
  fc.assert(fc.property(addArgv, (args) => {
    try {
      parseLinkArgs(args);
    } catch (e) {
      assert.ok(e instanceof UsageError || e instanceof RemoteError, `unexpected ${String(e)}`);
      assert.equal(typeof (e as UsageError).field, 'string', 'names a field (or the offending token)');
    }
  }), { numRuns: 3000 });
});
