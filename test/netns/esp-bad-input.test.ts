// Bad input never disturbs a running tunkitd's IPsec (pair.ts):
//   1. malformed or refused `tunkit xfrm …` commands exit non-zero naming
//      the field or token and change nothing (the SA and policy lists are
//      unchanged, traffic still flows);
//   2. hostile ESP and ESP-in-UDP packets injected at the daemon are dropped
//      and counted with the kernel's /proc/net/xfrm_stat counter for each
//      (xfrm_input's order), random protocol-50 and UDP-4500 payloads never
//      crash it, and the tunnel keeps working;
//   3. an underlay FRAG_NEEDED about our ESP lowers the path MTU (esp4_err);
//   4. no key ever reaches the daemon's log or `-j` output without --keys.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep, step, withPair } from './pair.js';
import type { Pair, SideName } from './pair.js';
import { cat, csum16 as csum, ip4, noise } from './packets.js';

const KEY_LR = '0x0a0b0c0d0e0f101112131415161718191a1b1c1d';
const KEY_RL = '0x1d1c1b1a191817161514131211100f0e0d0c0b0a';
const OUTER = { left: '198.51.100.1', right: '198.51.100.2' } as const;
const INNER = { left: '203.0.113.1', right: '203.0.113.2' } as const;

function configure(p: Pair): void {
  for (const s of ['left', 'right'] as const) {
    const o = s === 'left' ? 'right' : 'left';
    p.shOk(s, `ip addr add ${INNER[s]}/32 dev lo`);
    p.tunkitOk(s, `xfrm state add src ${OUTER.left} dst ${OUTER.right} proto esp spi 0x1001 reqid 1 mode tunnel replay-window 32 aead rfc4106(gcm(aes)) ${KEY_LR} 128`);
    p.tunkitOk(s, `xfrm state add src ${OUTER.right} dst ${OUTER.left} proto esp spi 0x2002 reqid 1 mode tunnel replay-window 32 aead rfc4106(gcm(aes)) ${KEY_RL} 128`);
    p.tunkitOk(s, `xfrm policy add src ${INNER[s]}/32 dst ${INNER[o]}/32 dir out tmpl src ${OUTER[s]} dst ${OUTER[o]} proto esp reqid 1 mode tunnel`);
    p.tunkitOk(s, `xfrm policy add src ${INNER[o]}/32 dst ${INNER[s]}/32 dir in tmpl src ${OUTER[o]} dst ${OUTER[s]} proto esp reqid 1 mode tunnel`);
  }
}

const stat = (p: Pair, s: SideName): Record<string, number> => JSON.parse(p.tunkitOk(s, '-j xfrm stat')) as Record<string, number>;
const esp = (spi: number, seq: number, body: Uint8Array): Uint8Array =>
  cat(new Uint8Array([spi >>> 24, (spi >>> 16) & 255, (spi >>> 8) & 255, spi & 255, seq >>> 24, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255]), body);
/** An IPv4 packet right → left (the kernel routes it locally into the left daemon's raw sockets). */
const toLeft = (proto: number, payload: Uint8Array): Uint8Array => ip4({ proto, src: OUTER.right, dst: OUTER.left, payload });
const udp4500 = (payload: Uint8Array): Uint8Array =>
  cat(new Uint8Array([0x11, 0x94, 0x11, 0x94, (payload.length + 8) >>> 8, (payload.length + 8) & 255, 0, 0]), payload);

async function badCommands(p: Pair): Promise<void> {
  const before = p.tunkitOk('left', 'xfrm state list') + p.tunkitOk('left', 'xfrm policy list');
  const cases: readonly [string, RegExp][] = [
    ['xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x3003 mode tunnel aead rfc4106(gcm(aes)) 0x1234 128', /aead/],
    ['xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x1001 mode tunnel aead rfc4106(gcm(aes)) 0x0a0b0c0d0e0f101112131415161718191a1b1c1d 128', /exists/i],
    ['xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x3003 mode tunnel aead rfc4106(gcm(aes)) 0x0a0b0c0d0e0f101112131415161718191a1b1c1d 100', /aead|ICV|100/i],
    ['xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x3003 mode tunnel flag esn aead rfc4106(gcm(aes)) 0x0a0b0c0d0e0f101112131415161718191a1b1c1d 128', /replay-window|esn/i],
    ['xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x3003 mode transport tfcpad 100 enc cbc(aes) 0x00112233445566778899aabbccddeeff', /tfcpad/],
    ['xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x3003 mode tunnel auth hmac(sha256) 0x00', /enc/],
    ['xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x3003 mode tunnel enc cbc(aes) 0x0011', /enc/],
    ['xfrm state add src 198.51.100.1 dst 198.51.100.300 proto esp spi 1 mode tunnel', /198\.51\.100\.300/],
    ['xfrm policy add src 203.0.113.1/32 dst 203.0.113.2/32 dir sideways', /sideways/],
    ['xfrm policy add src 203.0.113.1/32 dst 203.0.113.2/32 dir out tmpl src 198.51.100.1 dst 198.51.100.2 proto esp reqid 1 mode tunnel', /exists/i],
    ['xfrm state frobnicate', /frobnicate/],
  ];
  for (const [cmd, re] of cases) {
    const r = p.tunkit('left', cmd);
    assert.notEqual(r.code, 0, `${cmd} must fail`);
    assert.match(r.stderr, re, `${cmd}: ${r.stderr}`);
  }
  assert.equal(p.tunkitOk('left', 'xfrm state list') + p.tunkitOk('left', 'xfrm policy list'), before, 'nothing changed');
  await p.pingOk('left', INNER.right, { count: 2, iface: INNER.left });
}

async function hostilePackets(p: Pair): Promise<void> {
  const s0 = stat(p, 'left');
  const sa0 = JSON.parse(p.tunkitOk('left', '-j -s xfrm state list')) as { spi: number; stats: { integrity_failed: number } }[];
  p.inject('right', [
    toLeft(50, new Uint8Array([0, 0, 0x20])), // ESP header cut short → XfrmInHdrError
    toLeft(50, esp(0xdeadbeef, 1, noise(64, 1))), // unknown SPI → XfrmInNoStates
    toLeft(50, esp(0x2002, 5, noise(64, 2))), // known SPI, garbage → ICV fails: XfrmInStateProtoError
    toLeft(50, esp(0x2002, 6, noise(8, 3))), // shorter than IV + ICV → XfrmInStateProtoError
    toLeft(17, udp4500(new Uint8Array([0xff]))), // NAT keepalive: consumed, nothing counted
    toLeft(17, udp4500(esp(0x2002, 7, noise(48, 4)))), // ESP-in-UDP to a raw-ESP SA → XfrmInStateMismatch
  ]);
  await sleep(300);
  const s1 = stat(p, 'left');
  const dd = (k: string): number => (s1[k] ?? 0) - (s0[k] ?? 0);
  assert.deepEqual(
    { hdr: dd('XfrmInHdrError'), nostates: dd('XfrmInNoStates'), proto: dd('XfrmInStateProtoError'), mismatch: dd('XfrmInStateMismatch') },
    { hdr: 1, nostates: 1, proto: 2, mismatch: 1 }, JSON.stringify(s1));
  const sa1 = JSON.parse(p.tunkitOk('left', '-j -s xfrm state list')) as { spi: number; stats: { integrity_failed: number } }[];
  const fails = (l: typeof sa0): number => l.find((x) => x.spi === 0x2002)!.stats.integrity_failed;
  assert.equal(fails(sa1) - fails(sa0), 1, 'integrity_failed counts the ICV failure only');
  // 200 random payloads for protocol 50 and UDP 4500: all refused, the daemon keeps forwarding.
  const junk: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) junk.push(toLeft(50, noise(1 + ((i * 37) % 300), 100 + i)), toLeft(17, udp4500(noise(1 + ((i * 53) % 300), 500 + i))));
  p.inject('right', junk);
  await sleep(500);
  assert.ok(p.isAlive('left'), 'tunkitd survives');
  const s2 = stat(p, 'left');
  const refused = ['XfrmInHdrError', 'XfrmInNoStates', 'XfrmInStateProtoError', 'XfrmInStateMismatch'].reduce((n, k) => n + (s2[k] ?? 0) - (s1[k] ?? 0), 0);
  assert.ok(refused >= 150, `most junk is counted (${refused}); the rest are keepalives / IKE-marker packets`);
  await p.pingOk('left', INNER.right, { count: 2, iface: INNER.left });
}

test('hostile xfrm commands and ESP packets leave tunkitd running, untouched and counting', async (t) => {
  await withPair('tkesp', async (p) => {
    configure(p);
    await step(t, p, 'the tunnel works', async () => { await p.pingOk('left', INNER.right, { count: 2, iface: INNER.left }); });
    await step(t, p, 'bad commands: non-zero exit naming the field, nothing changes', () => badCommands(p));
    await step(t, p, 'hostile packets: each dropped with the kernel counter, no crash', () => hostilePackets(p));
    await step(t, p, 'esp4_err: an underlay FRAG_NEEDED quoting our ESP lowers the SA path MTU and the policy route MTU', async () => {
      const route = (): string => p.shOk('left', 'ip route show dev ipsec0');
      assert.match(route(), /mtu 1446/, 'esp4_get_mtu of a 1500-byte path (GCM-128: 8 + 8 + 20 header, 16 ICV)');
      const quote = ip4({ proto: 50, src: OUTER.left, dst: OUTER.right, payload: Uint8Array.of(0, 0, 0x10, 0x01, 0, 0, 0, 9) });
      const icmp = cat(Uint8Array.of(3, 4, 0, 0, 0, 0, 1400 >>> 8, 1400 & 255), quote);
      const c = csum(icmp);
      icmp[2] = c >>> 8; icmp[3] = c & 255;
      p.inject('right', [toLeft(1, icmp)]);
      await sleep(300);
      assert.match(route(), /mtu 1346/, `((1400 - 36 - 16) & ~3) - 2: ${route()}`);
      await p.pingOk('left', INNER.right, { count: 1, iface: INNER.left });
    });
    await step(t, p, 'keys stay out of the log and out of -j output unless --keys', async () => {
      const keys = [KEY_LR, KEY_RL].map((k) => k.substring(2));
      const j = p.tunkitOk('left', '-j xfrm state list');
      for (const k of keys) {
        assert.ok(!p.logs().includes(k), 'no key in the daemon log');
        assert.ok(!j.includes(k), 'no key in -j output');
      }
      assert.ok(keys.every((k) => p.tunkitOk('left', '-j xfrm state list --keys').includes(k)), '--keys shows them');
    });
    await step(t, p, 'SPI 0 as the kernel: not deletable by id, so deleteall deletes the rest and exits 1; a missing policy is exit 2', async () => {
      const add = (spi: string): void => { p.tunkitOk('left', `xfrm state add src ${OUTER.left} dst 192.0.2.99 proto esp spi ${spi} reqid 9 mode tunnel aead rfc4106(gcm(aes)) ${KEY_LR} 128`); };
      add('0');
      add('0x4004');
      const all = p.tunkit('left', 'xfrm state deleteall dst 192.0.2.99');
      assert.equal(all.code, 1, all.stderr);
      assert.match(all.stderr, /^Failed to send delete-all request: No such process \(tunkit: 1 of 2 not deleted/);
      const left = p.tunkitOk('left', 'xfrm state list dst 192.0.2.99');
      assert.match(left, /spi 0x00000000 /, 'the SPI-0 SA stays');
      assert.doesNotMatch(left, /spi 0x00004004 /, 'the other one is gone');
      const del = p.tunkit('left', `xfrm state delete src ${OUTER.left} dst 192.0.2.99 proto esp spi 0`);
      assert.deepEqual([del.code, /^RTNETLINK answers: No such process/.test(del.stderr)], [2, true], del.stderr);
      const pol = p.tunkit('left', 'xfrm policy delete src 192.0.2.98/32 dst 192.0.2.99/32 dir out');
      assert.deepEqual([pol.code, /^RTNETLINK answers: No such file or directory/.test(pol.stderr)], [2, true], pol.stderr);
      const sas = p.tunkitOk('left', 'xfrm state list');
      for (const spi of ['0x00001001', '0x00002002']) assert.match(sas, new RegExp(`spi ${spi} `), `the tunnel SA ${spi} is untouched`);
      await p.pingOk('left', INNER.right, { count: 1, iface: INNER.left });
    });
  });
});
