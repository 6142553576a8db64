import { test } from 'node:test';
import { offloadFromEnv } from '../../src/daemon/linux-devices.js';
import assert from 'node:assert/strict';
import { TunkitNode } from '../../src/daemon/node.js';
import type { MonitorEvent } from '../../src/daemon/protocol.js';
import { VpnError } from '../../src/wire/errors.js';
import { FakeDevices } from './fake-devices.js';

const mk = () => {
  const devs = new FakeDevices();
  const events: MonitorEvent[] = [];
  const node = new TunkitNode(devs, (e) => events.push(e), () => 0);
  return { devs, events, node };
};
const code = (fn: () => unknown, c: string, field?: string) =>
  assert.throws(fn, (e: unknown) => e instanceof VpnError && e.code === c && (field === undefined || e.field === field));

test('link add creates the tunnel and its device with the kernel default MTU; show reports it', () => {
  const { devs, events, node } = mk();
  const r = node.addLink({ name: 'gre1', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', key: 5, seq: true });
  assert.equal(r.mtu, 1468);
  assert.equal(devs.made.get('gre1')?.mtu, 1468);
  assert.equal(r.ikey, 5);
  assert.equal(r.iseq, true);
  assert.equal(r.isUp, false, 'new devices are down');
  assert.deepEqual(events, [{ type: 'link.add', dev: 'gre1', kind: 'gre' }]);
  node.setLink('gre1', { up: true });
  assert.equal(node.showLinks().find((r) => r.name === 'gre1')?.isUp, true);
  assert.equal(node.stack.find('gre1')?.isUp, true, 'the lookup sees the device up');
});

test('the default MTU follows the underlay route MTU (ip_tunnel_bind_dev)', () => {
  const { devs, node } = mk();
  devs.routeAnswer = { ok: true, mtu: 9000, dev: 'eth0' };
  assert.equal(node.addLink({ name: 'i1', kind: 'ipip', remote: '198.51.100.2' }).mtu, 8980);
});

test('bad requests name the field and change nothing', () => {
  const { devs, node } = mk();
  code(() => node.addLink({ name: 'g', kind: 'gre', ttl: 300 }), 'EINVAL', 'ttl');
  code(() => node.addLink({ name: 'g', kind: 'gre', bogus: 1 }), 'EINVAL', 'bogus');
  code(() => node.addLink({ name: 'g', kind: 'gre', key: true }), 'EINVAL', 'key');
  code(() => node.addLink({ name: 'g', kind: 'gre', dev: 'nope0' }), 'ENODEV', 'dev');
  code(() => node.addLink({ name: 'g', kind: 'gre', ignoreDf: true }), 'EINVAL', 'ignore-df');
  code(() => node.addLink({ kind: 'gre' }), 'EINVAL', 'name');
  code(() => node.addLink({ name: 'lo', kind: 'gre' }), 'EEXIST', 'name');
  assert.equal(devs.made.size, 0);
  assert.equal(node.showLinks().length, 0);
});

test('a device creation failure rolls the tunnel back', () => {
  const { devs, node } = mk();
  node.addLink({ name: 'g1', kind: 'gre', remote: '198.51.100.3' }); // the first makes gre0 too: fail the tunnel's own device
  devs.failNext = new VpnError('EPERM', 'TUNSETIFF g: EPERM');
  code(() => node.addLink({ name: 'g', kind: 'gre', remote: '198.51.100.2' }), 'EPERM');
  assert.equal(node.stack.find('g'), null);
  node.addLink({ name: 'g', kind: 'gre', remote: '198.51.100.2' });
  assert.ok(node.stack.find('g'));
});

test('link set mtu is range-checked (ip_tunnel_change_mtu) before anything changes', () => {
  const { devs, events, node } = mk();
  node.addLink({ name: 'i1', kind: 'ipip', remote: '198.51.100.2' });
  code(() => node.setLink('i1', { mtu: 67, up: true }), 'EINVAL', 'mtu');
  assert.equal(devs.made.get('i1')?.up, false, 'up was not applied either');
  code(() => node.setLink('i1', { mtu: 'big' }), 'EINVAL', 'mtu');
  code(() => node.setLink('nope', { up: true }), 'ENODEV', 'dev');
  assert.equal(node.setLink('i1', { mtu: 1400 }).mtu, 1400);
  assert.equal(devs.made.get('i1')?.mtu, 1400);
  assert.deepEqual(events.at(-1), { type: 'link.mtu', dev: 'i1', mtu: 1400 });
});

test('link del removes tunnel and device; show filters by type; duplicate endpoints are EEXIST', () => {
  const { devs, node } = mk();
  node.addLink({ name: 'i1', kind: 'ipip', remote: '198.51.100.2' });
  node.addLink({ name: 's1', kind: 'sit', remote: '198.51.100.2' });
  code(() => node.addLink({ name: 'i2', kind: 'ipip', remote: '198.51.100.2' }), 'EEXIST');
  assert.deepEqual(node.showLinks(undefined, 'sit').map((r) => r.name), ['sit0', 's1']);
  code(() => node.showLinks(undefined, 'vxlan'), 'EINVAL', 'type');
  node.delLink('i1');
  assert.equal(devs.made.get('i1')?.removed, true, 'link del deletes the device');
  assert.deepEqual(node.showLinks().map((r) => r.name), ['tunl0', 'sit0', 's1']);
  node.close();
  assert.deepEqual([devs.made.get('s1')?.closed, devs.made.get('s1')?.removed], [true, false], 'a stop lets go of the device: it stays (fail closed)');
  assert.deepEqual(node.showLinks().map((r) => r.name), ['tunl0', 'sit0'], 'fallback devices stay, as with the kernel module loaded');
});

test('link add adopts a device an earlier tunkitd left, and refuses one of anyone else', () => {
  const { devs, node } = mk();
  devs.existing.set('old1', 7);
  code(() => node.addLink({ name: 'old1', kind: 'gre', remote: '198.51.100.2' }), 'EEXIST', 'name');
  code(() => node.addLink({ name: 'old1', kind: 'xfrm', ifId: 3 }), 'EEXIST', 'name');
  devs.adoptable.add('old1');
  node.addLink({ name: 'old1', kind: 'gre', remote: '198.51.100.2' });
  assert.ok(devs.made.has('old1'));
});

test('an underlay route through the tunnel itself is a loop; no route is noted', () => {
  const { devs, node } = mk();
  devs.routeAnswer = { ok: true, mtu: 1500, dev: 'i1' };
  node.addLink({ name: 'i1', kind: 'ipip', remote: '198.51.100.2' });
  assert.equal(node.stack.find('i1')?.routeLoops, true);
  devs.routeAnswer = { ok: false, mtu: 1500, dev: '' };
  node.addLink({ name: 'g1', kind: 'gre', remote: '198.51.100.3' });
  assert.equal(node.stack.find('g1')?.hasRoute, false);
});

test('fallback devices appear with their kind, cannot be deleted, and count unmatched packets', () => {
  const { events, node } = mk();
  assert.deepEqual(node.showLinks(), []);
  node.addLink({ name: 'g1', kind: 'gre', remote: '198.51.100.2', key: 5 });
  const gre0 = node.showLinks('gre0')[0];
  assert.equal(gre0?.kind, 'gre');
  assert.equal(gre0?.isUp, false);
  assert.equal(gre0?.pmtudisc, false, 'gre0 is nopmtudisc');
  code(() => node.delLink('gre0'), 'EOPNOTSUPP', 'dev');
  code(() => node.setLink('gre0', { mtu: 1400 }), 'EOPNOTSUPP', 'mtu');
  code(() => node.showLinks('tunl0'), 'ENODEV', 'dev');
  node.stack.gre.fallback.stats.drops[20]!++; // what TunnelStack does for an unmatched GRE packet
  node.stack.drops[8]!++; // a GRE version-1 packet: no device
  assert.deepEqual(node.stackDrops(), { GreVersion: 1 });
  assert.deepEqual(node.showLinks('gre0')[0]?.drops, { NoTunnel: 1 });
  assert.equal(node.setLink('gre0', { up: true }).isUp, true);
  assert.equal(node.stack.gre.fallback.isUp, true);
  assert.deepEqual(events.at(-1), { type: 'link.up', dev: 'gre0' });
});

test('changeLink (tunnel change): same device and counters, new parameters; refusals change nothing', () => {
  const { events, node } = mk();
  node.addLink({ name: 'gre1', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', key: 5 });
  node.addLink({ name: 'gre2', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.3', key: 5 });
  const before = node.record('gre1');
  node.entry('gre1').tunnel.stats.rx_packets = 7;
  node.entry('gre1').tunnel.oSeqno = 3;
  const { old, t, rec } = node.changeLink({ name: 'gre1', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.2', ttl: 10, ikey: 5, okey: 6, oseq: true });
  assert.notEqual(old, t);
  assert.equal(node.entry('gre1').tunnel, t);
  assert.deepEqual([rec.ifindex, rec.ttl, rec.ikey, rec.okey, rec.oseq, rec.stats.rx_packets, t.oSeqno], [before.ifindex, 10, 5, 6, true, 7, 3]);
  // ipgre_link_update: oseq adds 4 header bytes, so the MTU shrinks by 4.
  assert.equal(rec.mtu, before.mtu - 4);
  assert.deepEqual(events.at(-1), { type: 'link.mtu', dev: 'gre1', mtu: before.mtu - 4 });
  code(() => node.changeLink({ name: 'gre1', kind: 'gre', local: '198.51.100.1', remote: '198.51.100.3', ikey: 5, okey: 5 }), 'EEXIST');
  code(() => node.changeLink({ name: 'gre1', kind: 'ipip', remote: '198.51.100.2' }), 'EINVAL', 'mode');
  code(() => node.changeLink({ name: 'gre1', kind: 'gre', remote: 'any' }), 'EINVAL', 'remote');
  code(() => node.changeLink({ name: 'gre9', kind: 'gre', remote: '198.51.100.2' }), 'ENODEV');
  assert.equal(node.entry('gre1').tunnel, t, 'a refused change leaves the tunnel in place');
  assert.equal(node.record('gre1').okey, 6);
  assert.equal(node.stack.find('gre1'), t);
});

test('TUN offload is on unless TUNKIT_OFFLOAD=0', () => {
  assert.equal(offloadFromEnv({}), true);
  assert.equal(offloadFromEnv({ TUNKIT_OFFLOAD: '1' }), true);
  assert.equal(offloadFromEnv({ TUNKIT_OFFLOAD: '0' }), false);
});

test('a kind\'s first tunnel makes its fallback device a real TUN/TAP first: own ifindex, IFF_UP mirrored; a taken name stays virtual', () => {
  const { devs, node } = mk();
  node.addLink({ name: 'gre1', kind: 'gre', remote: '198.51.100.2' });
  node.addLink({ name: 'gre2', kind: 'gre', remote: '198.51.100.3' });
  assert.deepEqual(node.showLinks().map((r) => [r.name, r.ifindex]), [['gre0', 10], ['gre1', 11], ['gre2', 12]], 'gre0 made once, before gre1, listed by ifindex');
  assert.equal(devs.made.get('gre0')?.up, false, 'made down, as the module\'s');
  const f = node.fallbacks.takeNew();
  assert.equal(f?.tunnel, node.stack.gre.fallback, 'handed to the data path once');
  assert.equal(node.fallbacks.takeNew(), null);
  node.setLink('gre0', { up: true });
  assert.equal(devs.made.get('gre0')?.up, true, 'link set gre0 up reaches its device');
  devs.made.get('gre0')?.setUp(false); // `ip link set gre0 down` behind tunkit's back
  node.fallbacks.sync();
  assert.equal(node.stack.gre.fallback.isUp, false, 'the lookup sees it down');
  node.addLink({ name: 'tap1', kind: 'gretap', remote: '198.51.100.2' });
  assert.equal(node.showLinks('gretap0')[0]?.mac, '02:00:00:00:00:01', 'gretap0 is a TAP');
  devs.existing.set('tunl0', 3); // the host's own ipip module made it
  node.addLink({ name: 'i1', kind: 'ipip', remote: '198.51.100.2' });
  assert.equal(node.showLinks('tunl0')[0]?.ifindex, 0, 'taken: tunl0 stays without a device');
  assert.equal(devs.made.has('tunl0'), false);
  node.close();
  assert.equal(devs.made.get('gre0')?.closed, true, 'on stop its device is let go (persistent), not deleted');
  assert.equal(devs.made.get('gre0')?.removed, false);
});

test('fallback devices: tunl0/gre0 report no addrgenmode until first up (no inet6_dev), sit0/gretap0 have one', () => {
  const { node } = mk();
  node.addLink({ name: 'g1', kind: 'gre', remote: '198.51.100.2' });
  node.addLink({ name: 'i1', kind: 'ipip', remote: '198.51.100.2' });
  node.addLink({ name: 's1', kind: 'sit', remote: '198.51.100.2' });
  node.addLink({ name: 't1', kind: 'gretap', remote: '198.51.100.2' });
  const mode = (n: string): string | undefined => node.showLinks(n)[0]?.addrGenMode;
  assert.deepEqual(['gre0', 'tunl0', 'sit0', 'gretap0'].map(mode), ['none', 'none', 'eui64', 'eui64']);
  node.setLink('gre0', { up: true });
  node.setLink('gre0', { up: false });
  assert.equal(mode('gre0'), 'eui64', 'NETDEV_UP added the inet6_dev; it stays after down');
  assert.equal(mode('tunl0'), 'none');
});
