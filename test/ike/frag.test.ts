// RFC 7383 fragmentation in the core's terms (src/ike/frag.ts): a message
// split into 30+ SKF fragments (GCM and CBC+HMAC) and reassembled in
// order, shuffled, with duplicates; a fragment with a bad ICV dropped and
// its genuine copy taken; the max_packet and fragment-count bounds; a
// re-fragmentation into more pieces restarting the reassembly (§2.6);
// the datagram budget of §2.5.1; and fast-check: the reassembler never
// throws on arbitrary or corrupted datagrams and never yields a message
// that was not sent.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ENCRS, INTEGS } from '../../src/ike/algs.js';
import { datagramBudget, FragCounters, fragContentLen, isFirstFragment, MAX_FRAGMENTS, Reassembler, sealMaybeFragmented } from '../../src/ike/frag.js';
import type { ReassemblyLimits } from '../../src/ike/frag.js';
import type { SkKeys } from '../../src/ike/sk.js';
import { AUTH_HMAC_SHA2_256_128, ENCR_AES_CBC, ENCR_AES_GCM_16, FLAG_I, IKE_AUTH, IKE_HDR_LEN, IKE_VERSION, PL } from '../../src/wire/ike/consts.js';
import { IkeDecodeError, parseIkeHeader } from '../../src/wire/ike/header.js';
import type { HeaderFields } from '../../src/wire/ike/message.js';
import type { Payload } from '../../src/wire/ike/payloads.js';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const GCM: SkKeys = { encr: ENCRS.get(ENCR_AES_GCM_16)!, keyLen: 16, ek: rnd(20), integ: null, ak: new Uint8Array(0) };
const CBC: SkKeys = { encr: ENCRS.get(ENCR_AES_CBC)!, keyLen: 32, ek: rnd(32), integ: INTEGS.get(AUTH_HMAC_SHA2_256_128)!, ak: rnd(32) };
const LIM: ReassemblyLimits = { maxPacket: 10_000, maxFragments: MAX_FRAGMENTS };

const hdr = (mid = 1): HeaderFields => ({ spiI: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), spiR: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1), version: IKE_VERSION, exchange: IKE_AUTH, flags: FLAG_I, messageId: mid });

/** An IKE_AUTH-like chain of about `certBytes` + 100 bytes. */
const inner = (certBytes: number): Payload[] => [
  { type: PL.IDi, idType: 2, data: new TextEncoder().encode('a.example') },
  { type: PL.CERT, encoding: 4, data: rnd(certBytes) },
  { type: PL.AUTH, method: 14, data: rnd(64) },
  { type: PL.N, protocolId: 0, spi: new Uint8Array(0), notifyType: 16384, data: new Uint8Array(0) },
];

let ivn = 0;
const nextIv = (k: SkKeys) => (): Uint8Array => {
  if (k.encr.ivLen !== 8) return rnd(k.encr.ivLen);
  const iv = new Uint8Array(8);
  iv[7] = ++ivn & 0xff; iv[6] = (ivn >> 8) & 0xff; iv[5] = (ivn >> 16) & 0xff;
  return iv;
};

/** Feeds one datagram; the SKF payload follows the IKE header. */
function feed(r: Reassembler, d: Uint8Array, k: SkKeys, lim = LIM): Payload[] | IkeDecodeError | null {
  const h = parseIkeHeader(d);
  if (h instanceof IkeDecodeError) return h;
  return r.add(d, h, IKE_HDR_LEN, k, lim);
}

function shuffle<T>(xs: T[], seed: number): T[] {
  let s = seed;
  for (let i = xs.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

describe('IKE fragmentation (RFC 7383): split and reassemble', () => {
  for (const [name, k] of [['AES-GCM-16', GCM], ['AES-CBC + HMAC-SHA2-256-128', CBC]] as const) {
    it(`${name}: a 6 KB message in 30+ fragments of ≤ 220 bytes round-trips, in order and shuffled with duplicates`, () => {
      const ps = inner(6000);
      const frags = sealMaybeFragmented(hdr(), ps, k, nextIv(k), 220);
      assert.ok(frags.length >= 30, `${frags.length} fragments`);
      for (const [i, f] of frags.entries()) {
        assert.ok(f.length <= 220, `fragment ${i + 1} is ${f.length} bytes`);
        assert.equal(f[16], PL.SKF, 'the IKE header names SKF');
        assert.equal(f[IKE_HDR_LEN], i === 0 ? PL.IDi : 0, 'Next Payload: the first inner type in fragment 1, else 0');
      }
      const r = new Reassembler();
      for (const [i, f] of frags.entries()) {
        const out = feed(r, f, k);
        if (i < frags.length - 1) assert.equal(out, null, `fragment ${i + 1} held`);
        else assert.deepEqual(out, ps);
      }
      assert.equal(r.held, 0, 'nothing held once reassembled');
      const mixed = shuffle([...frags, frags[3]!, frags[0]!, frags[frags.length - 1]!], 7);
      let done: Payload[] | null = null;
      let dups = 0;
      for (const f of mixed) {
        const out = feed(r, f, k);
        if (out instanceof IkeDecodeError) { assert.match(out.why, /duplicate/); dups++; } else if (out !== null) { assert.equal(done, null, 'one message out'); done = out; }
      }
      assert.deepEqual(done, ps);
      assert.ok(dups >= 1 && dups <= 3, `${dups} duplicates dropped (those seen before the message completed)`);
    });
  }

  it('a message that fits stays one SK datagram; no limit means never fragmented', () => {
    const ps = inner(300);
    const one = sealMaybeFragmented(hdr(), ps, GCM, nextIv(GCM), 1252);
    assert.equal(one.length, 1);
    assert.equal(one[0]![16], PL.SK);
    assert.equal(sealMaybeFragmented(hdr(), inner(5000), GCM, nextIv(GCM), null).length, 1);
    assert.throws(() => fragContentLen(IKE_HDR_LEN + 8 + 8 + 16, GCM), RangeError, 'no room for content is a programmer error');
  });

  it('a fragment with a bad ICV is dropped; its genuine copy completes the message', () => {
    for (const k of [GCM, CBC]) {
      const ps = inner(1500);
      const frags = sealMaybeFragmented(hdr(), ps, k, nextIv(k), 300);
      const r = new Reassembler();
      for (const f of frags.slice(0, -1)) assert.equal(feed(r, f, k), null);
      const last = frags[frags.length - 1]!;
      const bad = new Uint8Array(last);
      bad[bad.length - 1]! ^= 1;
      assert.match((feed(r, bad, k) as IkeDecodeError).why, /integrity check failed/);
      const moreTotal = new Uint8Array(last);
      moreTotal[IKE_HDR_LEN + 7]! += 1; // Total Fragments + 1 would restart the reassembly, were it not authenticated
      assert.match((feed(r, moreTotal, k) as IkeDecodeError).why, /integrity check failed/);
      assert.equal(r.held, frags.length - 1, 'what was held is kept');
      assert.deepEqual(feed(r, last, k), ps);
    }
  });

  it('bounds: more Total Fragments than the limit, and more content than max_packet, are dropped', () => {
    const frags = sealMaybeFragmented(hdr(), inner(3000), GCM, nextIv(GCM), 200);
    const r = new Reassembler();
    assert.match((feed(r, frags[0]!, GCM, { maxPacket: 10_000, maxFragments: frags.length - 1 }) as IkeDecodeError).why, /exceed the limit/);
    const small = { maxPacket: 1000, maxFragments: MAX_FRAGMENTS };
    let why = '';
    for (const f of frags) {
      const out = feed(r, f, GCM, small);
      if (out instanceof IkeDecodeError) { why = out.why; break; }
      assert.equal(out, null);
    }
    assert.match(why, /exceed 1000 bytes/);
    assert.equal(r.held, 0, 'everything held was dropped');
  });

  it('§2.6: more Total Fragments restart the reassembly, fewer are dropped; a new Message ID replaces stale pieces', () => {
    const ps = inner(2000);
    const coarse = sealMaybeFragmented(hdr(), ps, GCM, nextIv(GCM), 600);
    const fine = sealMaybeFragmented(hdr(), ps, GCM, nextIv(GCM), 250);
    assert.ok(fine.length > coarse.length);
    const r = new Reassembler();
    assert.equal(feed(r, coarse[0]!, GCM), null);
    assert.equal(feed(r, coarse[1]!, GCM), null);
    assert.equal(feed(r, fine[2]!, GCM), null, 'the finer split starts over');
    assert.equal(r.held, 1);
    assert.match((feed(r, coarse[2]!, GCM) as IkeDecodeError).why, /fewer than/);
    let out: Payload[] | IkeDecodeError | null = null;
    for (const [i, f] of fine.entries()) if (i !== 2) out = feed(r, f, GCM);
    assert.deepEqual(out, ps);
    const next = sealMaybeFragmented(hdr(2), ps, GCM, nextIv(GCM), 600);
    assert.equal(feed(r, coarse[0]!, GCM), null);
    assert.equal(feed(r, next[0]!, GCM), null, 'Message ID 2 replaces what was held of 1');
    assert.equal(r.held, 1);
  });

  it('a forged fragment of another message does not reset what is held', () => {
    const frags = sealMaybeFragmented(hdr(), inner(1500), GCM, nextIv(GCM), 400);
    const r = new Reassembler();
    assert.equal(feed(r, frags[0]!, GCM), null);
    const forged = sealMaybeFragmented(hdr(5), inner(1500), { ...GCM, ek: rnd(20) }, nextIv(GCM), 300);
    assert.ok(feed(r, forged[0]!, GCM) instanceof IkeDecodeError);
    assert.equal(r.held, 1);
  });

  it('isFirstFragment: only an authentic fragment 1', () => {
    const frags = sealMaybeFragmented(hdr(), inner(1500), CBC, nextIv(CBC), 400);
    const at = (d: Uint8Array): boolean => isFirstFragment(d, parseIkeHeader(d) as never, IKE_HDR_LEN, CBC);
    assert.equal(at(frags[0]!), true);
    assert.equal(at(frags[1]!), false);
    const bad = new Uint8Array(frags[0]!);
    bad[bad.length - 2]! ^= 0x40;
    assert.equal(at(bad), false);
  });

  it('counters: accepted fragments, reassembled messages and drops by kind', () => {
    const c = new FragCounters();
    const r = new Reassembler();
    const frags = sealMaybeFragmented(hdr(), inner(900), GCM, nextIv(GCM), 300);
    const add = (d: Uint8Array): unknown => c.add(r, d, parseIkeHeader(d) as never, IKE_HDR_LEN, GCM, { maxPacket: 10_000 });
    add(frags[0]!);
    add(frags[0]!);
    for (const f of frags.slice(1)) add(f);
    assert.deepEqual([c.rxFragments, c.rxReassembled, c.rxDropped.get('duplicate'), c.rxDroppedTotal], [frags.length, 1, 1, 1]);
  });

  it('§2.5.1 budget: fragment_size less IP, UDP and the non-ESP marker; 0 = 576 (IPv4) / 1280 (IPv6)', () => {
    assert.deepEqual([
      datagramBudget(1280, '198.51.100.1', false), datagramBudget(1280, '198.51.100.1', true),
      datagramBudget(1280, '2001:db8::1', false), datagramBudget(1280, '2001:db8::1', true),
      datagramBudget(0, '198.51.100.1', false), datagramBudget(0, '2001:db8::1', true),
    ], [1252, 1248, 1232, 1228, 548, 1228]);
  });

  it('fast-check: the reassembler never throws and never yields a message that was not sent', () => {
    const ps = inner(700);
    const frags = sealMaybeFragmented(hdr(), ps, GCM, nextIv(GCM), 200);
    const head = frags[0]!.subarray(0, IKE_HDR_LEN);
    fc.assert(fc.property(
      fc.array(fc.oneof(
        fc.nat({ max: frags.length - 1 }).map((i) => frags[i]!),
        fc.tuple(fc.nat({ max: frags.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, at, x]) => {
          const d = new Uint8Array(frags[i]!);
          d[at % d.length]! ^= x;
          return d;
        }),
        fc.uint8Array({ maxLength: 120 }).map((body) => {
          const d = new Uint8Array(IKE_HDR_LEN + body.length);
          d.set(head);
          d.set(body, IKE_HDR_LEN);
          d[24] = 0; d[25] = 0; d[26] = d.length >> 8; d[27] = d.length & 0xff;
          return d;
        }),
      ), { maxLength: 40 }),
      (ds) => {
        const r = new Reassembler();
        for (const d of ds) {
          const out = feed(r, d, GCM);
          if (Array.isArray(out)) assert.deepEqual(out, ps, 'only the message sent comes out');
        }
      },
    ), { numRuns: 400 });
  });
});
