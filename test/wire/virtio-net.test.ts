import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  TCP_CSUM_OFFSET, UDP_CSUM_OFFSET, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_LEN, VirtioNetHdr, emitVirtioNetHdr, parseVirtioNetHdr, virtioNetHdrLen,
} from '../../src/wire/virtio-net.js';
import type { VirtioNetHdrRepr } from '../../src/wire/virtio-net.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadJson } from '../util/paths.js';

interface Vector extends VirtioNetHdrRepr { name: string; hex: string }
const V = loadJson<{ vectors: Vector[] }>('virtio-net.json').vectors;
const reprOf = (v: Vector): VirtioNetHdrRepr => ({
  flags: v.flags, gsoType: v.gsoType, hdrLen: v.hdrLen, gsoSize: v.gsoSize, csumStart: v.csumStart, csumOffset: v.csumOffset,
});

test('uapi constants (include/uapi/linux/virtio_net.h)', () => {
  assert.deepEqual(
    [VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_NONE,
      VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_UDP, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP_L4,
      VIRTIO_NET_HDR_GSO_ECN, TCP_CSUM_OFFSET, UDP_CSUM_OFFSET],
    [10, 1, 2, 0, 1, 3, 4, 5, 0x80, 16, 6]);
});

test('deconstruct: every field of each vector (little-endian u16s)', () => {
  const p = new VirtioNetHdr();
  for (const v of V) {
    const b = hex(v.hex);
    assert.ok(p.wrap(b), v.name);
    assert.deepEqual(parseVirtioNetHdr(p), reprOf(v), v.name);
    assert.equal(p.packetOffset, 10);
    assert.equal(p.needsCsum, (v.flags & 1) === 1);
    assert.equal(p.gsoKind, v.gsoType & 0x7f);
    assert.equal(p.gsoEcn, (v.gsoType & 0x80) !== 0);
  }
});

test('construct: emit into 0xa5 writes every byte of each vector', () => {
  const p = new VirtioNetHdr();
  for (const v of V) {
    const b = filled(10);
    assert.ok(p.wrap(b));
    assert.equal(virtioNetHdrLen(reprOf(v)), 10);
    emitVirtioNetHdr(reprOf(v), p);
    assert.equal(toHex(b), v.hex.replace(/\s+/g, ''), v.name);
  }
});

test('wrap boundary: 9 bytes fail, 10 pass; a range outside the buffer fails', () => {
  const p = new VirtioNetHdr();
  const b = new Uint8Array(20);
  assert.equal(p.wrap(b, 0, 9), false);
  assert.equal(p.wrap(b, 11), false);
  assert.equal(p.wrap(b, 0, 10), true);
  assert.equal(p.wrap(b, 10), true);
  assert.equal(p.wrap(b, 15, 10), false);
  assert.equal(p.wrap(b, -1, 10), false);
  assert.equal(p.wrap(b, 0.5, 10), false);
});

test('emit at a non-zero offset touches only its 10 bytes; clear() zeroes them', () => {
  const b = filled(30);
  const p = new VirtioNetHdr();
  assert.ok(p.wrap(b, 7, 10));
  emitVirtioNetHdr(reprOf(V[0]!), p);
  assert.equal(toHex(b, 7, 10), V[0]!.hex.replace(/\s+/g, ''));
  assert.ok(b.subarray(0, 7).every((x) => x === 0xa5) && b.subarray(17).every((x) => x === 0xa5));
  assert.equal(p.offset, 7);
  assert.equal(p.buffer, b);
  p.clear();
  assert.ok(b.subarray(7, 17).every((x) => x === 0));
  assert.ok(b.subarray(17).every((x) => x === 0xa5));
});

test('emit rejects out-of-range fields (programmer error)', () => {
  const p = new VirtioNetHdr();
  p.wrap(new Uint8Array(10));
  assert.throws(() => emitVirtioNetHdr({ ...reprOf(V[0]!), gsoSize: 0x10000 }, p), RangeError);
  assert.throws(() => emitVirtioNetHdr({ ...reprOf(V[0]!), flags: -1 }, p), RangeError);
  assert.throws(() => emitVirtioNetHdr({ ...reprOf(V[0]!), csumStart: 1.5 }, p), RangeError);
});

test('fast-check: any 10+ bytes parse; parse → emit → parse is the identity and re-emits the same bytes', () => {
  const p = new VirtioNetHdr();
  const q = new VirtioNetHdr();
  fc.assert(fc.property(fc.uint8Array({ minLength: 10, maxLength: 30 }), fc.nat(20), (b, k) => {
    const off = k % (b.length - 9);
    assert.ok(p.wrap(b, off));
    const r = parseVirtioNetHdr(p);
    const out = new Uint8Array(10);
    assert.ok(q.wrap(out));
    emitVirtioNetHdr(r, q);
    assert.deepEqual(out, b.subarray(off, off + 10));
    assert.deepEqual(parseVirtioNetHdr(q), r);
  }));
});
