// IKEv2 payload codecs (src/wire/ike): a hand-built IKE_SA_INIT request
// decoded field by field, a round trip for every payload type, an emit
// into a 0xa5-filled buffer at an offset, the header's length boundary,
// and a fast-check property: the decoder never throws, and what decodes
// re-encodes to the same bytes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ATTR_KEY_LENGTH, IKE_SA_INIT, PL, PROTO_IKE } from '../../src/wire/ike/consts.js';
import { IkeDecodeError, parseIkeHeader } from '../../src/wire/ike/header.js';
import { emitMessage, parseMessage } from '../../src/wire/ike/message.js';
import { chainLen, emitChain, parseChain } from '../../src/wire/ike/payloads.js';
import { ALL_PAYLOADS, IKE_HDR, u8 } from '../util/ike-payloads.js';

const hdr = IKE_HDR;
const ALL = ALL_PAYLOADS;

describe('IKE payload codecs', () => {
  it('decodes a hand-built IKE_SA_INIT: header, SA with a Key Length attribute, KE', () => {
    const b = new Uint8Array([
      ...hdr.spiI, ...hdr.spiR, PL.SA, 0x20, IKE_SA_INIT, 0x08, 0, 0, 0, 0, 0, 0, 0, 28 + 4 + 20 + 8,
      PL.KE, 0, 0, 24, /* proposal */ 0, 0, 0, 20, 1, PROTO_IKE, 0, 1, /* transform */ 0, 0, 0, 12, 1, 0, 0, 20, 0x80, ATTR_KEY_LENGTH, 0, 128,
      PL.NONE, 0, 0, 8, 0, 31, 0, 0,
    ]);
    const m = parseMessage(b);
    assert.ok(!(m instanceof IkeDecodeError), (m as IkeDecodeError).why);
    assert.equal(m.header.exchange, IKE_SA_INIT);
    assert.deepEqual(m.payloads[0], { type: PL.SA, proposals: [{ num: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 20, keyLength: 128 }] }] });
    assert.deepEqual(m.payloads[1], { type: PL.KE, group: 31, data: new Uint8Array(0) });
    assert.ok(parseMessage(b.subarray(0, b.length - 1)) instanceof IkeDecodeError, 'one byte short of the Length field');
  });

  it('CERT and CERTREQ (§3.6, §3.7): encoding byte then data; an empty body is refused', () => {
    const m = emitMessage(hdr, [{ type: PL.CERTREQ, encoding: 4, data: u8(1, 2) }]);
    assert.deepEqual([...m.subarray(28)], [PL.NONE, 0, 0, 7, 4, 1, 2]);
    const bad = new Uint8Array([...m.subarray(0, 28), PL.NONE, 0, 0, 4]);
    bad[27] = 32;
    assert.ok(parseMessage(bad) instanceof IkeDecodeError);
  });

  it('every payload type round-trips', () => {
    const m = emitMessage(hdr, ALL);
    const back = parseMessage(m);
    assert.ok(!(back instanceof IkeDecodeError), (back as IkeDecodeError).why);
    assert.deepEqual(back.payloads, ALL);
    assert.deepEqual(emitMessage(hdr, back.payloads), m);
  });

  it('emits exactly chainLen bytes at an offset into a 0xa5 buffer', () => {
    const len = chainLen(ALL);
    const b = new Uint8Array(len + 10).fill(0xa5);
    assert.equal(emitChain(ALL, b, 5), len);
    assert.deepEqual([b[4], b[len + 5]], [0xa5, 0xa5]);
    const back = parseChain(b, 5, len, PL.SA);
    assert.deepEqual(back, ALL);
  });

  it('header: 27 bytes fail, 28 pass; a Length past the datagram fails', () => {
    const m = emitMessage(hdr, []);
    assert.ok(parseIkeHeader(m.subarray(0, 27)) instanceof IkeDecodeError);
    assert.ok(!(parseIkeHeader(m) instanceof IkeDecodeError));
    const long = new Uint8Array(m);
    long[27] = 29;
    assert.ok(parseIkeHeader(long) instanceof IkeDecodeError);
  });

  it('bad lengths are refused with a reason, never thrown', () => {
    const b = emitMessage(hdr, [{ type: PL.NONCE, data: new Uint8Array(16) }]);
    const bad = new Uint8Array(b);
    bad[31] = 3; // payload length below the generic header
    const r = parseMessage(bad);
    assert.ok(r instanceof IkeDecodeError && /length/.test(r.why));
    const short = emitMessage(hdr, [{ type: PL.NONCE, data: new Uint8Array(8) }]);
    assert.ok(parseMessage(short) instanceof IkeDecodeError, 'nonces are at least 16 bytes');
  });

  it('fast-check: decoding arbitrary bytes never throws, and what decodes re-encodes identically', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...Object.values(PL)), (body, first) => {
      const r = parseChain(body, 0, body.length, first);
      if (r instanceof IkeDecodeError || r.some((p) => p.type === PL.SK)) return;
      const out = new Uint8Array(chainLen(r));
      emitChain(r, out, 0);
      assert.deepEqual(parseChain(out, 0, out.length, first), r);
    }), { numRuns: 3000 });
    fc.assert(fc.property(fc.uint8Array({ minLength: 28, maxLength: 200 }), (b) => { parseMessage(b); }), { numRuns: 2000 });
  });
});
