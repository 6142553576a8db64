// `tunkit tunnel add|change|del|show` as ip/iptunnel.c reads them
// (parse_args, do_add, do_del, do_show), run against a fake daemon that
// records the requests: what is sent, and the messages and exit statuses
// of ip's failures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveObject, UsageError } from '../../src/cli/args.js';
import { parseTunnelParm, TunnelError } from '../../src/cli/tunnel-args.js';
import { runTunnel } from '../../src/cli/tunnel.js';
import type { Control } from '../../src/daemon/client.js';
import type { LinkRecord } from '../../src/daemon/link-record.js';
import type { Op } from '../../src/daemon/protocol.js';
import { VpnError } from '../../src/wire/errors.js';
import { rec } from './tunnel-show.test.js';

const OPTS = { statsLevel: 0, hasDetails: false, isJson: false, isPretty: false };

/** A daemon with these devices; link.add/change/del are recorded (and succeed). */
function fakeDaemon(devs: LinkRecord[]): { ctl: Control; sent: [Op, Record<string, unknown>][] } {
  const sent: [Op, Record<string, unknown>][] = [];
  const ctl: Control = {
    path: '/nonexistent',
    request(op: Op, args: object = {}): Promise<unknown> {
      const a = args as Record<string, unknown>;
      if (op === 'link.show') {
        if (a['name'] === undefined) return Promise.resolve(devs);
        const d = devs.find((r) => r.name === a['name']);
        return d !== undefined ? Promise.resolve([d]) : Promise.reject(new VpnError('ENODEV', `Cannot find device "${String(a['name'])}"`, 'dev'));
      }
      sent.push([op, a]);
      if (op === 'link.add' && devs.some((r) => r.name === a['name'])) return Promise.reject(new VpnError('EEXIST', 'device exists', 'name'));
      return Promise.resolve(null);
    },
  };
  return { ctl, sent };
}

const DEVS = [
  rec({ name: 'gre0', kind: 'gre', pmtudisc: false, ifindex: 0 }),
  rec({ name: 'gre1', kind: 'gre', remote: '203.0.113.2', local: '203.0.113.1', ttl: 64, ikey: 5, okey: 5, oseq: true }),
  rec({ name: 'gt1', kind: 'gretap', remote: '203.0.113.9' }),
  rec({ name: 'ipip1', kind: 'ipip', mode: 'ipip', remote: '198.51.100.2' }),
  rec({ name: 'vpn0', kind: 'xfrm' }),
];

async function run(args: string, devs = DEVS): Promise<{ out: string; sent: [Op, Record<string, unknown>][] }> {
  const { ctl, sent } = fakeDaemon(devs);
  let out = '';
  await runTunnel(args.split(' ').filter((w) => w !== ''), ctl, OPTS, (s) => { out += s; });
  return { out, sent };
}

/** Expects `args` to fail with exactly `message` and exit status `status` (1: ip's return -1, 255: its exit(-1)). */
async function fails(args: string, message: string | RegExp, status: 1 | 255): Promise<void> {
  await assert.rejects(run(args), (e: unknown) => {
    assert.ok(e instanceof UsageError, `${args}: ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message, args);
    else assert.match(e.message, message, args);
    assert.equal(e instanceof TunnelError ? 1 : 255, status, `${args}: exit status`);
    return true;
  });
}

test('objects: tunnel, tunl and their prefixes (t, tu, tun) resolve to tunnel as in ip.c cmds[]', () => {
  for (const w of ['tunnel', 'tunl', 'tun', 'tu', 't']) assert.equal(resolveObject(w), 'tunnel', w);
  assert.throws(() => resolveObject('tunt'), /Object "tuntap" is not supported/);
});

test('add: the ioctl parameters become link.add (mode from `mode` or the name, ipip/sit mode, keys both ways)', async () => {
  const gre = await run('add gre5 mode gre remote 203.0.113.5 local 203.0.113.1 ttl 64 tos 0x10 key 1.2.3.4 iseq ocsum dev eth0');
  assert.deepEqual(gre.sent, [['link.add', {
    name: 'gre5', kind: 'gre', local: '203.0.113.1', remote: '203.0.113.5', ttl: 64, tos: 0x10, pmtudisc: true, dev: 'eth0',
    ikey: 0x01020304, okey: 0x01020304, iseq: true, oseq: false, icsum: false, ocsum: true,
  }]]);
  const ipip = await run('add name ipip9 remote 198.51.100.9 nopmtudisc tos inherit');
  assert.deepEqual(ipip.sent, [['link.add', { name: 'ipip9', kind: 'ipip', local: 'any', remote: '198.51.100.9', ttl: 0, tos: 1, pmtudisc: false, mode: 'ipip' }]]);
  const sit = await run('a t6 mode sit remote 192.0.2.6 ttl inherit hlim 3');
  assert.deepEqual(sit.sent, [['link.add', { name: 't6', kind: 'sit', local: 'any', remote: '192.0.2.6', ttl: 3, tos: 0, pmtudisc: true, mode: 'ip6ip' }]]);
  const mcast = await run('add gre7 remote 239.1.1.1 local 192.0.2.1');
  assert.equal(mcast.sent[0]![1]['ikey'], 0xef010101, 'a multicast remote keys the tunnel with its address');
});

test('add: ip\'s argument errors, with its messages and statuses', async () => {
  await fails('add t1 remote 192.0.2.1', 'cannot determine tunnel mode (ipip, gre, vti or sit)', 1);
  await fails('add ipip1 key 5', 'Keys are not allowed with ipip and sit tunnels', 1);
  await fails('add gre1 ttl 10 nopmtudisc', 'ttl != 0 and nopmtudisc are incompatible', 1);
  await fails('add gre8 remote 239.1.1.1', 'A broadcast tunnel requires a source address', 1);
  await fails('add gre8 mode ipip mode gre', 'You managed to ask for more than one tunnel mode.', 255);
  await fails('add gre8 mode foo', 'Unknown tunnel mode "foo"', 255);
  await fails('add gre8 remote 192.0.2.300', 'Error: an IP address is expected rather than "192.0.2.300"', 1);
  await fails('add gre8 ttl 300', 'Error: argument "300" is wrong: invalid TTL', 255);
  await fails('add gre8 tos inherit/zz', 'Error: argument "inherit" is wrong: bad TOS value', 255);
  await fails('add gre8 key', 'Command line is not complete: "key" needs a value. Try option "help"', 255);
  await fails('add gre8 okey x', 'invalid value for "okey": "x"; it should be an unsigned integer', 255);
  await fails('add gre8 gre9', 'Error: either "name" is duplicate, or "gre9" is garbage.', 255);
  await fails('add gre8 mode isatap', /isatap is not supported by tunkit/, 255);
  await fails('add gre1 mode gre', 'add tunnel "gre0" failed: File exists', 1);
  await fails('frob', 'Command "frob" is unknown, try "tunkit tunnel help".', 255);
});

test('change NAME …: starts from the tunnel\'s parameters; otherwise from ip\'s defaults', async () => {
  const c = await run('change gre1 ttl 10 okey 6');
  assert.deepEqual(c.sent, [['link.change', {
    name: 'gre1', kind: 'gre', local: '203.0.113.1', remote: '203.0.113.2', ttl: 10, tos: 0, pmtudisc: true,
    ikey: 5, okey: 6, iseq: false, oseq: true, icsum: false, ocsum: false,
  }]]);
  const fresh = await run('change ttl 10 name gre1 mode gre');
  assert.deepEqual(fresh.sent[0]![1]['remote'], 'any', 'NAME not first: parse_args never loaded the old parameters');
  await fails('change gre9 ttl 3', 'get tunnel "gre9" failed: No such device', 1);
  await fails('change gt1 ttl 3', 'get tunnel "gt1" failed: Operation not supported', 1);
  await fails('change mode gre ttl 3', 'add tunnel "gre0" failed: No such file or directory', 1);
});

test('del: link.del; not the fallback devices, not gretap or xfrm devices', async () => {
  assert.deepEqual((await run('del gre1')).sent, [['link.del', { name: 'gre1' }]]);
  assert.deepEqual((await run('d name ipip1')).sent, [['link.del', { name: 'ipip1' }]]);
  await fails('del gre0', 'delete tunnel "gre0" failed: Operation not permitted', 1);
  await fails('del gt1', 'delete tunnel "gt1" failed: Operation not supported', 1);
  await fails('del vpn0', 'delete tunnel "vpn0" failed: Operation not supported', 1);
  await fails('del gre9', 'delete tunnel "gre9" failed: No such device', 1);
});

test('show: the listing (ip tunnels only, filtered), or one tunnel when the mode is known', async () => {
  const all = await run('');
  assert.equal(all.out, 'gre0: gre/ip remote any local any ttl inherit nopmtudisc\n'
    + 'gre1: gre/ip remote 203.0.113.2 local 203.0.113.1 ttl 64 key 5\n  Sequence packets on output.\n'
    + 'ipip1: ip/ip remote 198.51.100.2 local any ttl inherit\n');
  assert.equal((await run('show remote 198.51.100.2')).out, 'ipip1: ip/ip remote 198.51.100.2 local any ttl inherit\n');
  assert.equal((await run('show local 203.0.113.1')).out.split('\n')[0], 'gre1: gre/ip remote 203.0.113.2 local 203.0.113.1 ttl 64 key 5');
  // parse_args checks keys before it knows there is no mode: ip itself refuses a key filter without one.
  await fails('show key 5', 'Keys are not allowed with ipip and sit tunnels', 1);
  assert.equal((await run('show gt1')).out, '', 'no mode from the name: a filtered listing, which has no gretap');
  assert.equal((await run('list gre1')).out, 'gre1: gre/ip remote 203.0.113.2 local 203.0.113.1 ttl 64 key 5\n  Sequence packets on output.\n');
  assert.equal((await run('show mode gre')).out, 'gre0: gre/ip remote any local any ttl inherit nopmtudisc\n', 'ip asks for gre0 itself');
  await fails('show gre9', 'get tunnel "gre9" failed: No such device', 1);
  await fails('show gretap1', 'get tunnel "gretap1" failed: No such device', 1);
  await fails('show ipip1 key 3', 'Keys are not allowed with ipip and sit tunnels', 1);
  await fails('help', /^Usage: tunkit tunnel/, 255);
});

test('parse_args: name rules and the words tunkit refuses by name', () => {
  assert.throws(() => parseTunnelParm(['add', 'x']), /"x" is garbage/);
  assert.throws(() => parseTunnelParm(['a/b']), /"name" not a valid ifname/);
  assert.throws(() => parseTunnelParm(['abcdefghijklmnop']), /"name" not a valid ifname/);
  assert.throws(() => parseTunnelParm(['gre1', '6rd-prefix', '2002::/16']), /"6rd-prefix" is wrong: not supported by tunkit/);
  assert.equal(parseTunnelParm(['dsf', '0x20', 'gre1']).tos, 0x20, 'dsfield by prefix');
});
