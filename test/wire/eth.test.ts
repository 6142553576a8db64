import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ETH_ALEN, ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_ARP, ETH_P_ERSPAN, ETH_P_ERSPAN2, ETH_P_IP, ETH_P_IPV6,
  ETH_P_MPLS_UC, ETH_P_TEB, ETH_P_WCCP, EthFrame, emitEth, ethHeaderLen, formatMac, parseEth, parseMac,
} from '../../src/wire/eth.js';
import { Drop } from '../../src/wire/drop.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadBytes, loadJson } from '../util/paths.js';

interface EthVector { pcap: string; frame: number; header: string; dst: string; src: string; etherType: number; frameLen: number }
const V = loadJson<EthVector>('eth.json');

/** Frame n (1-based) of a classic little-endian pcap. */
function pcapFrame(file: string, n: number): Uint8Array {
  const d = loadBytes(file);
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let o = 24;
  for (let i = 1; ; i++) {
    const incl = dv.getUint32(o + 8, true);
    if (i === n) return d.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
  }
}

const bytesOffLen = fc
  .uint8Array({ minLength: 0, maxLength: 200, size: 'max' })
  .chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: b.length })))
  .chain(([b, off]) => fc.tuple(fc.constant(b), fc.constant(off), fc.integer({ min: 0, max: b.length - off })));

test('vector is the header of gre.pcap frame 1 (provenance)', () => {
  const f = pcapFrame(V.pcap, V.frame);
  assert.equal(f.length, V.frameLen);
  assert.equal(toHex(f, 0, ETH_HLEN), V.header);
});

test('deconstruct: every field of the pcap frame', () => {
  const f = pcapFrame(V.pcap, V.frame);
  const e = new EthFrame();
  assert.equal(e.check(f), Drop.None);
  assert.equal(e.buffer, f);
  assert.equal(e.offset, 0);
  assert.equal(e.length, V.frameLen);
  assert.equal(e.dstOffset, 0);
  assert.equal(e.srcOffset, 6);
  assert.equal(formatMac(f, e.dstOffset), V.dst);
  assert.equal(formatMac(f, e.srcOffset), V.src);
  assert.equal(e.etherType, V.etherType);
  assert.equal(e.etherType, ETH_P_IP);
  assert.equal(e.payloadOffset, 14);
  assert.equal(e.payloadLen, V.frameLen - 14);
  assert.equal(f[e.payloadOffset], 0x45, 'IPv4 header follows');
  assert.equal(e.isBroadcast, false);
  assert.equal(e.isMulticast, false);
  const out = new Uint8Array(8);
  e.copyDst(out, 1);
  assert.equal(formatMac(out, 1), V.dst);
  e.copySrc(out, 2);
  assert.equal(formatMac(out, 2), V.src);
  const r = parseEth(e);
  assert.deepEqual(r, { dst: parseMac(V.dst), src: parseMac(V.src), etherType: V.etherType });
});

test('construct: emitEth into 0xa5 gives the vector bytes', () => {
  const b = filled(ETH_HLEN);
  const e = new EthFrame();
  assert.ok(e.bind(b, 0, ETH_HLEN));
  const r = { dst: parseMac(V.dst)!, src: parseMac(V.src)!, etherType: V.etherType };
  assert.equal(ethHeaderLen(r), ETH_HLEN);
  emitEth(r, e);
  assert.equal(toHex(b), V.header);
});

test('wrap boundary: 13 bytes -> BadEthernet, 14 pass', () => {
  const e = new EthFrame();
  const h = hex(V.header);
  assert.equal(e.check(h, 0, 13), Drop.BadEthernet);
  assert.equal(e.wrap(h, 0, 13), false);
  assert.equal(e.check(h, 0, 14), Drop.None);
  assert.equal(e.payloadLen, 0);
});

test('Drop reasons: BadEthernet (< 14), Truncated (range outside the buffer)', () => {
  const e = new EthFrame();
  assert.equal(e.check(new Uint8Array(0)), Drop.BadEthernet);
  assert.equal(e.check(new Uint8Array(20), 10, 14), Drop.Truncated);
  assert.equal(e.check(new Uint8Array(20), -2, 14), Drop.Truncated);
  const good = hex(V.header);
  assert.ok(e.wrap(good));
  assert.equal(e.check(new Uint8Array(3)), Drop.BadEthernet);
  assert.equal(e.buffer, good, 'failed check leaves the binding');
  assert.equal(e.bind(new Uint8Array(20), 0, 13), false);
  assert.equal(e.bind(new Uint8Array(20), 7, 14), false);
});

test('parse -> emit -> parse round trip', () => {
  const e = new EthFrame();
  const q = new EthFrame();
  assert.ok(e.wrap(pcapFrame(V.pcap, V.frame)));
  const r = parseEth(e);
  const out = filled(ETH_HLEN);
  assert.ok(q.bind(out, 0, ETH_HLEN));
  emitEth(r, q);
  assert.ok(q.wrap(out));
  assert.deepEqual(parseEth(q), r);
  // The repr owns copies, not views of the frame.
  out[0] = 0;
  assert.equal(formatMac(r.dst), V.dst);
});

test('emit at a non-zero offset (7) into a larger buffer', () => {
  const b = filled(7 + ETH_HLEN + 4);
  const e = new EthFrame();
  assert.ok(e.bind(b, 7, ETH_HLEN + 4));
  emitEth({ dst: parseMac(V.dst)!, src: parseMac(V.src)!, etherType: V.etherType }, e);
  assert.equal(toHex(b, 7, ETH_HLEN), V.header);
  assert.equal(b[6], 0xa5);
  assert.equal(b[7 + ETH_HLEN], 0xa5);
  assert.equal(e.dstOffset, 7);
  assert.equal(e.srcOffset, 13);
  assert.equal(e.payloadOffset, 21);
  assert.equal(e.payloadLen, 4);
});

test('setters, broadcast and multicast (I/G bit)', () => {
  const b = filled(ETH_HLEN);
  const e = new EthFrame();
  assert.ok(e.bind(b, 0, ETH_HLEN));
  const macs = hex('00ffffffffffff 333300000001 0100 5e00 0001');
  e.setDst(macs, 1);
  assert.ok(e.isBroadcast);
  assert.ok(e.isMulticast);
  e.setDst(macs, 7);
  assert.equal(e.isBroadcast, false);
  assert.ok(e.isMulticast, 'IPv6 multicast 33:33:...');
  e.setSrc(macs, 0);
  assert.equal(formatMac(b, 6), '00:ff:ff:ff:ff:ff');
  e.etherType = ETH_P_IPV6;
  assert.equal(toHex(b, 12, 2), '86dd');
  assert.throws(() => e.setDst(macs, macs.length - 5), RangeError);
  assert.throws(() => e.copySrc(new Uint8Array(5)), RangeError);
  assert.throws(() => e.setSrc(macs, -1), RangeError);
  assert.throws(() => e.copyDst(new Uint8Array(6), -1), RangeError);
});

test('emitEth misuse throws RangeError', () => {
  const e = new EthFrame();
  const mac = new Uint8Array(ETH_ALEN);
  assert.throws(() => emitEth({ dst: mac, src: mac, etherType: 0 }, e), RangeError, 'unbound');
  assert.ok(e.bind(new Uint8Array(14), 0, 14));
  assert.throws(() => emitEth({ dst: new Uint8Array(5), src: mac, etherType: 0 }, e), RangeError);
  assert.throws(() => emitEth({ dst: mac, src: new Uint8Array(7), etherType: 0 }, e), RangeError);
});

test('parseMac / formatMac', () => {
  assert.deepEqual(parseMac('52:54:00:00:00:02'), hex('525400000002'));
  assert.deepEqual(parseMac('E2:49:46:90:AC:34'), hex('e2494690ac34'));
  assert.deepEqual(parseMac('2:4:6:8:a:c'), hex('02040608 0a0c'));
  for (const bad of ['', '52:54:00:00:00', '52:54:00:00:00:02:03', '52:54:00:00:00:0g', '525:4:00:00:00:02', '52-54-00-00-00-02', '52:54::00:00:02']) {
    assert.equal(parseMac(bad), null, bad);
  }
  assert.equal(formatMac(hex('ffffffffffff')), 'ff:ff:ff:ff:ff:ff');
  assert.throws(() => formatMac(new Uint8Array(5)), RangeError);
  fc.assert(fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (m) => {
    assert.deepEqual(parseMac(formatMac(m)), m);
  }));
});

test('EtherType constants (include/uapi/linux/if_ether.h)', () => {
  assert.deepEqual(
    [ETH_P_IP, ETH_P_ARP, ETH_P_IPV6, ETH_P_TEB, ETH_P_8021Q, ETH_P_8021AD, ETH_P_MPLS_UC, ETH_P_ERSPAN, ETH_P_ERSPAN2, ETH_P_WCCP],
    [0x0800, 0x0806, 0x86dd, 0x6558, 0x8100, 0x88a8, 0x8847, 0x88be, 0x22eb, 0x883e],
  );
});

test('fast-check: check/parse never throw; what parses re-emits identical header bytes', () => {
  const e = new EthFrame();
  const q = new EthFrame();
  let parsed = 0;
  fc.assert(
    fc.property(bytesOffLen, ([b, off, len]) => {
      const d = e.check(b, off, len);
      if (d !== Drop.None) {
        assert.ok(d === Drop.BadEthernet);
        return;
      }
      assert.ok(!e.isBroadcast || e.isMulticast, 'broadcast is a group address');
      const r = parseEth(e);
      parsed++;
      const out = filled(ETH_HLEN);
      assert.ok(q.bind(out, 0, ETH_HLEN));
      emitEth(r, q);
      assert.equal(toHex(out), toHex(b, off, ETH_HLEN));
    }),
    { numRuns: 500 },
  );
  assert.ok(parsed > 50, `only ${parsed} of 500 runs parsed`);
});
