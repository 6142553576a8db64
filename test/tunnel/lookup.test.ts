// ip_tunnel_lookup (net/ipv4/ip_tunnel.c) and ipip6_tunnel_lookup
// (net/ipv6/sit.c): which device a received packet belongs to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import { VpnError } from '../../src/wire/errors.js';
import { a4 } from '../util/packets.js';
import { up } from './harness.js';

// Lookups take int32 addresses and keys (`| 0`, see Tunnel.localS).
const L = a4('198.51.100.1') | 0; // our address: the packet's destination
const R = a4('198.51.100.2') | 0; // the peer: the packet's source
const gre = (s: TunnelStack, name: string, local: string, remote: string, extra: object = {}) =>
  up(s, { kind: 'gre', name, local, remote, ...extra });
const find = (s: TunnelStack, link = 0, key: number | null = null) => s.gre.lookup(link, key !== null, false, key ?? 0, R, L);

test('step order: exact > remote-only > local-only > wildcard', () => {
  const s = new TunnelStack();
  const wild = gre(s, 'wild', 'any', 'any');
  assert.equal(find(s), wild);
  const localOnly = gre(s, 'lonly', '198.51.100.1', 'any');
  assert.equal(find(s), localOnly);
  const remoteOnly = gre(s, 'ronly', 'any', '198.51.100.2');
  assert.equal(find(s), remoteOnly);
  const exact = gre(s, 'exact', '198.51.100.1', '198.51.100.2');
  assert.equal(find(s), exact);
  exact.isUp = false;
  assert.equal(find(s), remoteOnly, 'down devices are skipped (IFF_UP)');
});

test('non-matching addresses are not candidates', () => {
  const s = new TunnelStack();
  gre(s, 'other', '198.51.100.1', '198.51.100.9');
  gre(s, 'other2', '198.51.100.8', 'any');
  assert.equal(find(s), null);
});

test('an exact link match returns at once, even from a later step', () => {
  const s = new TunnelStack();
  const exactNoLink = gre(s, 'e0', '198.51.100.1', '198.51.100.2');
  const remoteLink3 = gre(s, 'r3', 'any', '198.51.100.2', { link: 3 });
  assert.equal(find(s, 3), remoteLink3);
  assert.equal(find(s, 7), exactNoLink, 'no link match anywhere: the first candidate (step 1)');
});

test('step 1 keeps the last match, steps 2–4 the first (newest) candidate', () => {
  const s = new TunnelStack();
  const a = gre(s, 'a', '198.51.100.1', '198.51.100.2', { link: 5 });
  gre(s, 'b', '198.51.100.1', '198.51.100.2', { link: 6 });
  // list order is newest first (hlist_add_head): [b, a]; step 1 overwrites cand → a.
  assert.equal(find(s, 9), a);
  const s2 = new TunnelStack();
  gre(s2, 'c', 'any', '198.51.100.2', { link: 5 });
  const d = gre(s2, 'd', 'any', '198.51.100.2', { link: 6 });
  assert.equal(find(s2, 9), d, 'step 2: first candidate = newest');
});

test('ip_tunnel_key_match: keyed tunnels take only packets with their key, keyless only keyless', () => {
  const s = new TunnelStack();
  const k5 = gre(s, 'k5', '198.51.100.1', '198.51.100.2', { key: 5 });
  const plain = gre(s, 'plain', '198.51.100.1', '198.51.100.2', { link: 1 });
  assert.equal(find(s, 0, 5), k5);
  assert.equal(find(s, 0, 6), null);
  assert.equal(find(s, 0, null), plain);
});

test('step 4 (wildcard) compares the key value directly; ipip (TUNNEL_NO_KEY) skips it', () => {
  const s = new TunnelStack();
  const w7 = gre(s, 'w7', 'any', 'any', { key: 7 });
  assert.equal(find(s, 0, 7), w7);
  assert.equal(find(s, 0, 8), null);
  const s2 = new TunnelStack();
  const wplain = gre(s2, 'wp', 'any', 'any');
  assert.equal(find(s2, 0, 0), wplain, 'keyless wildcard: key 0 in a K packet matches too (no flags check)');
  const s3 = new TunnelStack();
  const iw = up(s3, { kind: 'ipip', local: 'any', remote: 'any' });
  assert.equal(s3.ipip.lookup(0, false, true, 0, R, L), iw);
});

test('step 3 also matches a multicast remote equal to the packet destination', () => {
  const s = new TunnelStack();
  const m = gre(s, 'mc', '198.51.100.1', '233.252.0.7');
  // link_gre.c keys a multicast tunnel by its group address when no key is given.
  assert.equal(m.p.ikey, a4('233.252.0.7'));
  assert.equal(s.gre.lookup(0, true, false, a4('233.252.0.7') | 0, R, a4('233.252.0.7') | 0), m);
  assert.equal(s.gre.lookup(0, false, false, 0, R, a4('233.252.0.7') | 0), null);
});

test('fallback device: only when up, and only after every step failed', () => {
  const s = new TunnelStack();
  assert.equal(find(s), null);
  s.gre.fallback.isUp = true;
  assert.equal(find(s, 0, 99), s.gre.fallback);
  const t = gre(s, 'g', '198.51.100.1', '198.51.100.2');
  assert.equal(find(s), t);
  assert.equal(s.gre.fallback.name, 'gre0');
  assert.equal(s.ipip.fallback.name, 'tunl0');
  assert.equal(s.gretap.fallback.name, 'gretap0');
  assert.equal(s.sit.fallback.name, 'sit0');
});

test('ip_tunnel_find: a second tunnel with the same endpoints, link and key is EEXIST', () => {
  const s = new TunnelStack();
  gre(s, 'g1', '198.51.100.1', '198.51.100.2', { key: 1 });
  assert.throws(() => gre(s, 'g2', '198.51.100.1', '198.51.100.2', { key: 1 }), (e: unknown) => e instanceof VpnError && e.code === 'EEXIST');
  gre(s, 'g3', '198.51.100.1', '198.51.100.2', { key: 2 });
  gre(s, 'g4', '198.51.100.1', '198.51.100.2', { key: 1, link: 4 });
  assert.throws(() => s.add(makeTunnelParams({ name: 'g1', kind: 'gre', key: 9 })), /already exists/);
});

test('ipip6_tunnel_lookup: exact, remote-only, local-only; link filters; then the wildcard head', () => {
  const s = new TunnelStack();
  const find6 = (link = 0) => s.sit.lookup(link, R, L);
  assert.equal(find6(), null);
  s.sit.fallback.isUp = true;
  assert.equal(find6(), s.sit.fallback, 'sit0 heads the wildcard list');
  const wc = up(s, { kind: 'sit', name: 'wc', local: 'any', remote: 'any' });
  assert.equal(find6(), wc, 'a newer any/any tunnel heads the list');
  wc.isUp = false;
  assert.equal(find6(), null, 'only the head is considered: down head → no match, sit0 not tried');
  const lo = up(s, { kind: 'sit', name: 'lo', local: '198.51.100.1', remote: 'any' });
  assert.equal(find6(), lo);
  const ro = up(s, { kind: 'sit', name: 'ro', local: 'any', remote: '198.51.100.2', link: 4 });
  assert.equal(find6(4), ro);
  assert.equal(find6(5), lo, 'a tunnel bound to another link is filtered out');
  const ex = up(s, { kind: 'sit', name: 'ex' });
  assert.equal(find6(5), ex);
});

test('remove() takes a tunnel out of the lookup', () => {
  const s = new TunnelStack();
  const t = gre(s, 'g', '198.51.100.1', '198.51.100.2');
  assert.equal(find(s), t);
  assert.ok(s.remove(t));
  assert.equal(find(s), null);
  assert.equal(s.remove(t), false);
  assert.equal(s.find('g'), null);
});
