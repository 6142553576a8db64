// `tunkit link … type xfrm` (route-based IPsec devices): parsing as
// ip/link_xfrm.c does, the daemon's xfrmi_newlink checks, and `link show`
// output against what a real Linux 6.1 / iproute2 6.1 printed for the same
// devices (test/vectors/xfrm-link.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/args.js';
import { parseLinkArgs } from '../../src/cli/link-args.js';
import type { LinkAdd } from '../../src/cli/link-args.js';
import { formatLinkShow } from '../../src/cli/link-show.js';
import { toDeviceInfo } from '../../src/cli/link.js';
import type { ShowOptions } from '../../src/cli/link-show.js';
import { XfrmLinks } from '../../src/daemon/xfrm-links.js';
import { VpnError } from '../../src/wire/errors.js';
import { FakeDevices } from '../daemon/fake-devices.js';
import { loadJson } from '../util/paths.js';

interface Golden { cases: { cmd: string; out: string }[]; errors: { cmd: string; out: string; rc: number }[] }
const G = loadJson<Golden>('xfrm-link.json');
const golden = (cmd: string): string => G.cases.find((c) => c.cmd === cmd)!.out;

const opts = (o: Partial<ShowOptions> = {}): ShowOptions => ({ statsLevel: 0, hasDetails: false, isJson: false, isPretty: false, ...o });

test('link add … type xfrm: if_id and dev as ip/link_xfrm.c reads them', () => {
  const a = parseLinkArgs(['add', 'xfrm1', 'type', 'xfrm', 'if_id', '5']) as LinkAdd;
  assert.deepEqual(a.config, { name: 'xfrm1', kind: 'xfrm', ifId: 5 });
  const b = parseLinkArgs(['add', 'xfrm2', 'mtu', '1400', 'up', 'type', 'xfrm', 'dev', 'eth0', 'if_id', '0x10']) as LinkAdd;
  assert.deepEqual(b.config, { name: 'xfrm2', kind: 'xfrm', ifId: 16, mtu: 1400 });
  assert.equal(b.linkDev, 'eth0');
  assert.equal(b.isUp, true);
  assert.deepEqual((parseLinkArgs(['add', 'x', 'type', 'xfrm']) as LinkAdd).config, { name: 'x', kind: 'xfrm', ifId: 0 }, 'the kernel, not ip, refuses a missing if_id');
  assert.throws(() => parseLinkArgs(['add', 'x', 'type', 'xfrm', 'if_id', '0']), (e: unknown) =>
    e instanceof UsageError && e.message === G.errors[0]!.out && e.field === 'if_id');
  assert.throws(() => parseLinkArgs(['add', 'x', 'type', 'xfrm', 'if_id', '4294967296']), /if_id value is invalid/);
  assert.throws(() => parseLinkArgs(['add', 'x', 'type', 'xfrm', 'if_id']), /"if_id" needs a value/);
  assert.throws(() => parseLinkArgs(['add', 'x', 'type', 'xfrm', 'key', '5']), (e: unknown) =>
    e instanceof UsageError && e.message.startsWith('Usage: ... xfrm dev [ PHYS_DEV ] [ if_id IF-ID ]') && e.field === 'key');
});

test('xfrmi_newlink: if_id non-zero and unique, MTU 68..65535 (default 1500); nothing is created on refusal', () => {
  const devs = new FakeDevices();
  const links = new XfrmLinks(devs);
  const taken = (): boolean => false;
  const l = links.add({ name: 'xfrm1', kind: 'xfrm', ifId: 5 }, taken);
  assert.equal(l.mtu, 1500);
  const refuse = (args: Record<string, unknown>, field: string, code: string): void => {
    assert.throws(() => links.add(args, taken), (e: unknown) => e instanceof VpnError && e.field === field && e.code === code);
  };
  refuse({ name: 'xfrm3', kind: 'xfrm', ifId: 0 }, 'if_id', 'EINVAL');
  refuse({ name: 'xfrm4', kind: 'xfrm', ifId: 5 }, 'if_id', 'EEXIST');
  refuse({ name: 'xfrm1', kind: 'xfrm', ifId: 6 }, 'name', 'EEXIST');
  refuse({ name: 'xfrm5', kind: 'xfrm', ifId: 6, mtu: 67 }, 'mtu', 'EINVAL');
  refuse({ name: 'xfrm5', kind: 'xfrm', ifId: 6, mtu: 65536 }, 'mtu', 'EINVAL');
  refuse({ name: 'xfrm5', kind: 'xfrm', ifId: 6, ttl: 3 }, 'ttl', 'EINVAL');
  assert.equal(links.all.size, 1);
  assert.throws(() => links.set(l, { mtu: 65536 }), /greater than the device maximum/);
  assert.equal(l.mtu, 1500);
  links.set(l, { mtu: 65535 });
  assert.equal(l.mtu, 65535);
  assert.equal(links.byIfId(5), l);
  assert.equal(links.del('xfrm1'), l);
  assert.equal(links.all.size, 0);
});

test('link show of xfrm devices is byte for byte what ip 6.1 printed (plain, -d, -s -s, -j -d)', () => {
  const links = new XfrmLinks(new FakeDevices());
  const x1 = links.add({ name: 'xfrm1', kind: 'xfrm', ifId: 5 }, () => false);
  links.set(x1, { up: true });
  const x2 = links.add({ name: 'xfrm2', kind: 'xfrm', ifId: 16 }, () => false);
  const rec1 = { ...links.record(x1), ifindex: 10 };
  const rec2 = { ...links.record(x2), ifindex: 11, link: 'eth0' };
  const d1 = toDeviceInfo(rec1);
  const d2 = toDeviceInfo(rec2);
  assert.equal(formatLinkShow([d1], opts()), golden('ip link show xfrm1'));
  assert.equal(formatLinkShow([d1], opts({ hasDetails: true })), golden('ip -d link show xfrm1'));
  assert.equal(formatLinkShow([d2], opts({ hasDetails: true })), golden('ip -d link show xfrm2'));
  assert.equal(formatLinkShow([d1], opts({ statsLevel: 2 })), golden('ip -s -s link show xfrm1'));
  assert.equal(formatLinkShow([d1], opts({ isJson: true, hasDetails: true })), golden('ip -j -d link show xfrm1'));
});
