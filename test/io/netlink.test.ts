// The rtnetlink client (src/io/netlink.ts, its request bodies netlink-requests.ts): its requests are iproute2's
// (byte for byte against test/vectors/netlink.json, no root needed), and it
// works against the real kernel in a throwaway netns (fixtures/netlink-kernel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp6 } from '../../src/wire/addr.js';
import { NlMsg, parseNlHdr } from '../../src/wire/netlink.js';
import { emitLink, linkMsgLen } from '../../src/wire/rtnetlink.js';
import { emitRoute, parseRoute, routeMsgLen } from '../../src/wire/rtnetlink-route.js';
import type { RouteRepr } from '../../src/wire/rtnetlink-route.js';
import { linkGetRequest, routeGetRequest, routeSetRequest } from '../../src/io/netlink-requests.js';
import { hex, toHex } from '../util/hex.js';
import { loadJson } from '../util/paths.js';
import { createNetns, deleteNetns, requireRoot, runSuiteInNetns } from './fixtures/netns.js';

const V = new Map(loadJson<{ vectors: { name: string; hex: string }[] }>('netlink.json').vectors.map((v) => [v.name, hex(v.hex)]));

/** Our request emitted with the captured message's header, as hex. */
function emitted(name: string, len: number, emit: (p: NlMsg) => void): [string, string] {
  const want = V.get(name)!;
  const m = new NlMsg();
  assert.ok(m.wrap(want));
  const out = new Uint8Array(len);
  const w = new NlMsg();
  w.bind(out, 0, len);
  emit(w);
  return [toHex(out), toHex(want)];
}

function route(name: string, r: RouteRepr): [string, string] {
  const m = new NlMsg();
  m.wrap(V.get(name)!);
  return emitted(name, routeMsgLen(r), (w) => emitRoute(parseNlHdr(m), r, w));
}

test('routeReplace/routeDel requests are the ones iproute2 sends (IPv4 and IPv6)', () => {
  const p4 = { family: 4, bytes: Uint8Array.of(192, 0, 2, 99), plen: 24 } as const;
  const p6 = { family: 6, bytes: parseIp6('2001:db8:1::5')!, plen: 64 } as const;
  assert.deepEqual(...route('route-replace4-mtu', routeSetRequest(p4, 3, 1400, false)));
  assert.deepEqual(...route('route-replace4-mtu1380', routeSetRequest(p4, 3, 1380, false)));
  assert.deepEqual(...route('route-replace4', routeSetRequest(p4, 3, null, false)));
  assert.deepEqual(...route('route-del4', routeSetRequest(p4, 3, null, true)));
  assert.deepEqual(...route('route-replace6-mtu', routeSetRequest(p6, 3, 1400, false)));
  assert.deepEqual(...route('route-del6', routeSetRequest(p6, 3, null, true)));
});

test('routeGet and link requests: iproute2\'s, except RTM_F_LOOKUP_TABLE (refused for IPv6 under strict checking)', () => {
  for (const [name, req] of [['route-get4', routeGetRequest(4, Uint8Array.of(192, 0, 2, 1))], ['route-get6', routeGetRequest(6, parseIp6('2001:db8:1::1')!)]] as const) {
    const m = new NlMsg();
    assert.ok(m.wrap(V.get(name)!));
    assert.deepEqual(req, { ...parseRoute(m)!, flags: 0 }, name);
  }
  const byName = linkGetRequest('veth0');
  const byIndex = linkGetRequest(3);
  const mn = new NlMsg();
  mn.wrap(V.get('link-get-name')!);
  assert.deepEqual(...emitted('link-get-name', linkMsgLen(byName), (w) => emitLink(parseNlHdr(mn), byName, w)));
  const mi = new NlMsg();
  mi.wrap(V.get('link-get-index')!);
  assert.deepEqual(...emitted('link-get-index', linkMsgLen(byIndex), (w) => emitLink(parseNlHdr(mi), byIndex, w)));
});

test('RtNetlink against the kernel, in a network namespace (ip as the oracle)', async (t) => {
  requireRoot('test/io/netlink.test');
  const ns = createNetns('netlink');
  try {
    await runSuiteInNetns(t, ns, 'netlink-kernel');
  } finally {
    deleteNetns(ns);
  }
});
