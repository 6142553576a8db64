// LinkMemory (daemon/link-memory.ts) over a fake rtnetlink: what tick()
// reads and keeps, and what restore() puts into a device made anew. The
// kernel side (notifications, real dumps, a deleted device) is covered by
// test/reliability/faults-netns.test.ts; here the bookkeeping:
//   - a link is read once, then kept while its name is that ifindex;
//   - a link replaced under the same name (a reload, tunnel del + add
//     between two ticks: a new ifindex) is read anew, so a later restore
//     gives the new device its own addresses, not its predecessor's;
//   - a read whose name meanwhile is another device is discarded;
//   - restore(): addresses (EEXIST counts as done), then routes through the
//     new ifindex only when up; failures warned once per device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkMemory } from '../../src/daemon/link-memory.js';
import type { LinkNetlink } from '../../src/daemon/link-memory.js';
import { NetlinkError } from '../../src/io/netlink.js';
import type { AddrInfo, IpPrefix, LinkInfo } from '../../src/io/netlink.js';
import type { RouteRepr } from '../../src/wire/rtnetlink-route.js';
import { RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RTN_UNICAST, RTPROT_BOOT, RTPROT_KERNEL } from '../../src/wire/rtnetlink.js';

const v4 = (a: string, plen: number, scope = RT_SCOPE_UNIVERSE): AddrInfo => ({ family: 4, bytes: Uint8Array.from(a.split('.').map(Number)), plen, scope });
const dotted = (p: IpPrefix): string => `${Array.from(p.bytes.subarray(0, 4)).join('.')}/${p.plen}`;

function route(dst: string, dstLen: number, oif: number, protocol = RTPROT_BOOT): RouteRepr {
  return {
    family: 2, dstLen, srcLen: 0, tos: 0, table: 254, protocol, scope: RT_SCOPE_UNIVERSE, type: RTN_UNICAST, flags: 0, tableId: 254,
    dst: Uint8Array.from(dst.split('.').map(Number)), src: null, oif, gateway: null, prefsrc: null, priority: null, mtu: null,
  };
}

/** The kernel as the fake sees it: devices by name, their addresses and routes by ifindex; what restore() sent. */
class FakeNl implements LinkNetlink {
  readonly devs = new Map<string, number>();
  readonly addrs = new Map<number, AddrInfo[]>();
  readonly routes = new Map<number, RouteRepr[]>();
  readonly dumps: number[] = [];
  readonly addrSets: string[] = [];
  readonly routeCopies: string[] = [];
  /** errno names the next addrSet calls throw. */
  readonly addrFails: string[] = [];
  /** Runs after the dumps of a read, before its link() check (a device replaced mid-read). */
  beforeLink: (() => void) | null = null;

  addrDump(ifindex: number): AddrInfo[] { this.dumps.push(ifindex); return this.addrs.get(ifindex) ?? []; }
  routeDump(family: 4 | 6, ifindex: number): RouteRepr[] { return family === 4 ? this.routes.get(ifindex) ?? [] : []; }
  link(which: number | string): LinkInfo | null {
    this.beforeLink?.();
    this.beforeLink = null;
    const index = typeof which === 'string' ? this.devs.get(which) : which;
    return index === undefined ? null : { index, name: String(which), mtu: 1476, flags: 1, operstate: 6, type: 0xfffe, alias: 'tunkitd' };
  }
  addrSet(p: IpPrefix, ifindex: number): void {
    const fail = this.addrFails.shift();
    if (fail !== undefined) throw new NetlinkError(fail, `RTM_NEWADDR: ${fail}`, -1, null);
    this.addrSets.push(`${dotted(p)} ${ifindex}`);
  }
  routeCopy(r: RouteRepr, oif: number): void {
    this.routeCopies.push(`${Array.from(r.dst ?? []).join('.')}/${r.dstLen} ${oif}`);
  }
  close(): void { /* nothing held */ }
}

function setup(): { nl: FakeNl; mem: LinkMemory; warned: string[] } {
  const nl = new FakeNl();
  const warned: string[] = [];
  const mem = new LinkMemory(() => nl.devs, (e, f) => warned.push(`${e} ${JSON.stringify(f)}`), () => nl);
  return { nl, mem, warned };
}

test('a link is read once; restore() puts its addresses and routes into the new ifindex (link-local and kernel routes left out)', () => {
  const { nl, mem, warned } = setup();
  nl.devs.set('gre1', 5);
  const v6LinkScope: AddrInfo = { family: 6, bytes: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1), plen: 64, scope: RT_SCOPE_LINK };
  nl.addrs.set(5, [v4('192.0.2.1', 30), v6LinkScope]);
  nl.routes.set(5, [route('198.51.100.0', 24, 5), route('192.0.2.0', 30, 5, RTPROT_KERNEL)]);
  mem.tick();
  mem.tick();
  assert.deepEqual(nl.dumps, [5], 'read once while the name is that device');
  nl.devs.set('gre1', 9); // deleted behind tunkit's back and made anew (device-gone.ts), restored in the same turn
  assert.deepEqual(mem.restore('gre1', 9, true), { addrs: 1, routes: 1 });
  assert.deepEqual(nl.addrSets, ['192.0.2.1/30 9']);
  assert.deepEqual(nl.routeCopies, ['198.51.100.0/24 9']);
  assert.deepEqual(warned, []);
  mem.tick();
  assert.deepEqual(nl.dumps, [5], 'what restore() put in is remembered under the new ifindex: no re-read');
});

test('a link replaced under its name between two ticks (a new ifindex) is read anew: a later restore gives the new device its own', () => {
  const { nl, mem } = setup();
  nl.devs.set('gre1', 5);
  nl.addrs.set(5, [v4('192.0.2.1', 30)]);
  mem.tick();
  nl.devs.set('gre1', 6); // tunkit reload made it anew, with another address
  nl.addrs.set(6, [v4('203.0.113.1', 30)]);
  mem.tick();
  assert.deepEqual(nl.dumps, [5, 6]);
  nl.devs.set('gre1', 7);
  assert.deepEqual(mem.restore('gre1', 7, false), { addrs: 1, routes: 0 });
  assert.deepEqual(nl.addrSets, ['203.0.113.1/30 7'], 'the replacement\'s address, not its predecessor\'s');
});

test('a read whose name became another device meanwhile is discarded; a link tunkit no longer has is forgotten', () => {
  const { nl, mem } = setup();
  nl.devs.set('xfrm1', 5);
  nl.addrs.set(5, [v4('192.0.2.9', 32)]);
  mem.tick();
  nl.devs.set('xfrm1', 6); // seen as replaced: read (bare: nothing under 6)...
  nl.beforeLink = (): void => { nl.devs.set('xfrm1', 8); }; // ...but the name is a third device by the time the read is checked
  mem.tick();
  assert.deepEqual(mem.restore('xfrm1', 8, true), { addrs: 1, routes: 0 }, 'what was remembered before stays');
  assert.deepEqual(nl.addrSets, ['192.0.2.9/32 8']);
  nl.devs.delete('xfrm1');
  mem.tick();
  assert.deepEqual(mem.restore('xfrm1', 10, true), { addrs: 0, routes: 0 }, 'forgotten');
});

test('restore(): an address already there (EEXIST) counts as done; routes wait for up; other failures warned once for the device', () => {
  const { nl, mem, warned } = setup();
  nl.devs.set('gre2', 5);
  nl.addrs.set(5, [v4('192.0.2.5', 30), v4('192.0.2.9', 30), v4('192.0.2.13', 30)]);
  nl.routes.set(5, [route('203.0.113.0', 24, 5)]);
  mem.tick();
  nl.addrFails.push('EEXIST', 'EINVAL');
  assert.deepEqual(mem.restore('gre2', 6, false), { addrs: 2, routes: 0 }, 'down: no route');
  assert.deepEqual(nl.routeCopies, []);
  assert.equal(warned.length, 1, warned.join('\n'));
  assert.match(warned[0]!, /^device_restore .*"dev":"gre2".*EINVAL/);
});
