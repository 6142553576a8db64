// ENCR_CHACHA20_POLY1305 (RFC 7634) in proposals and Child SAs: strongSwan's
// `chacha20poly1305` keyword for IKE and ESP (AEAD: no integrity; IKE needs a
// prf), the transform on the wire without a Key Length attribute and a
// peer's with one refused (§2), the IKE default offering it and the ESP
// default not (reference.md §5), and two tunkit cores in memory bringing up
// an IKE SA and a Child SA with it: the states carry
// rfc7539esp(chacha20,poly1305) keyed with 32 bytes + 4 bytes of salt and a
// 128-bit ICV; a Child SA rekey and an IKE SA rekey work under it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encrKeyLen, encrName } from '../../src/ike/algs.js';
import { checkAnswer, chosenToWire, DEFAULT_ESP, DEFAULT_IKE, parseProposal, selectProposal, toWire } from '../../src/ike/proposal.js';
import type { ProposalSpec } from '../../src/ike/proposal.js';
import {
  DH_X25519, ENCR_AES_GCM_16, ENCR_CHACHA20_POLY1305, ESN_NO, PRF_HMAC_SHA2_256, PROTO_ESP, PROTO_IKE, TRANS_DH, TRANS_ENCR, TRANS_ESN, TRANS_PRF,
} from '../../src/wire/ike/consts.js';
import { emitSaBody, parseSaBody, saBodyLen } from '../../src/wire/ike/sa.js';
import type { Proposal, Transform } from '../../src/wire/ike/sa.js';
import { makePair } from './pair.js';
import type { Pair } from './pair.js';
import { advance, checkNoGap, problems, pumpChecked, up } from './rekey-helpers.js';

const IKE = 'chacha20poly1305-prfsha256-x25519';
const ESP = 'chacha20poly1305';
const XFRM = 'rfc7539esp(chacha20,poly1305)';

function spec(text: string, proto: number): ProposalSpec {
  const s = parseProposal(text, proto);
  assert.ok(typeof s !== 'string', String(s));
  return s;
}

/** A peer's IKE proposal: ChaCha20-Poly1305 (with `encr` overriding its transform), PRF-SHA256, X25519. */
const ikeOffer = (num: number, encr: Partial<Transform> = {}): Proposal => ({
  num, protocolId: PROTO_IKE, spi: new Uint8Array(0),
  transforms: [{ type: TRANS_ENCR, id: ENCR_CHACHA20_POLY1305, ...encr }, { type: TRANS_PRF, id: PRF_HMAC_SHA2_256 }, { type: TRANS_DH, id: DH_X25519 }],
});
const espOffer = (encr: Partial<Transform> = {}): Proposal => ({
  num: 1, protocolId: PROTO_ESP, spi: Uint8Array.of(0xc0, 0, 0, 1),
  transforms: [{ type: TRANS_ENCR, id: ENCR_CHACHA20_POLY1305, ...encr }, { type: TRANS_ESN, id: ESN_NO }],
});

describe('ChaCha20-Poly1305 proposals (RFC 7634)', () => {
  it('parses chacha20poly1305 for IKE (with a prf) and ESP, as an AEAD without a key length', () => {
    assert.deepEqual(spec(IKE, PROTO_IKE), {
      protocolId: PROTO_IKE, encr: [{ id: ENCR_CHACHA20_POLY1305, keyLength: 0 }], integ: [], prf: [PRF_HMAC_SHA2_256], dh: [DH_X25519], esn: [],
    });
    assert.deepEqual(spec(ESP, PROTO_ESP), { protocolId: PROTO_ESP, encr: [{ id: ENCR_CHACHA20_POLY1305, keyLength: 0 }], integ: [], prf: [], dh: [], esn: [ESN_NO] });
    assert.deepEqual(spec('aes256gcm16-chacha20poly1305-x25519', PROTO_ESP).encr.map((e) => e.id), [ENCR_AES_GCM_16, ENCR_CHACHA20_POLY1305]);
    assert.equal(encrKeyLen({ id: ENCR_CHACHA20_POLY1305, keyLength: 0 }), 32, 'a 256-bit key (§2)');
    assert.equal(encrKeyLen({ id: ENCR_AES_GCM_16, keyLength: 128 }), 16);
  });

  it('refuses what strongSwan refuses: no prf for IKE, an integrity algorithm, mixing with CBC; the compat keyword', () => {
    assert.match(String(parseProposal('chacha20poly1305-x25519', PROTO_IKE)), /needs a prf/);
    assert.match(String(parseProposal('chacha20poly1305-sha256', PROTO_ESP)), /takes no integrity algorithm/);
    assert.match(String(parseProposal('chacha20poly1305-aes256-sha256', PROTO_ESP)), /mixes AEAD and non-AEAD/);
    assert.match(String(parseProposal('chacha20poly1305compat', PROTO_ESP)), /"chacha20poly1305compat" is not an algorithm/);
  });

  it('goes on the wire without a Key Length attribute (8-byte transform), AES-GCM still with one', () => {
    const p = toWire(spec('chacha20poly1305-aes128gcm16-prfsha256-x25519', PROTO_IKE), 1, new Uint8Array(0));
    assert.deepEqual(p.transforms.slice(0, 2), [{ type: TRANS_ENCR, id: ENCR_CHACHA20_POLY1305 }, { type: TRANS_ENCR, id: ENCR_AES_GCM_16, keyLength: 128 }]);
    const b = new Uint8Array(saBodyLen([p]));
    emitSaBody([p], b, 0);
    assert.deepEqual([...b.subarray(8, 16)], [3, 0, 0, 8, TRANS_ENCR, 0, 0, ENCR_CHACHA20_POLY1305], 'transform header only: length 8, no attributes');
    assert.deepEqual(parseSaBody(b, 0, b.length), [p]);
  });

  it('matches a peer transform without Key Length, never one with it (RFC 7634 §2)', () => {
    const mine = [spec(IKE, PROTO_IKE)];
    const c = selectProposal([ikeOffer(1)], mine, true);
    assert.ok(c !== null);
    assert.deepEqual([c.encr, c.prf, c.dh, c.integ], [{ id: ENCR_CHACHA20_POLY1305, keyLength: 0 }, PRF_HMAC_SHA2_256, DH_X25519, null]);
    assert.deepEqual(chosenToWire(c, new Uint8Array(0)).transforms[0], { type: TRANS_ENCR, id: ENCR_CHACHA20_POLY1305 }, 'the answer has no attribute either');
    for (const keyLength of [256, 128, 0]) {
      assert.equal(selectProposal([ikeOffer(1, { keyLength })], mine, true), null, `Key Length ${keyLength}: NO_PROPOSAL_CHOSEN`);
      assert.equal(selectProposal([espOffer({ keyLength })], [spec(ESP, PROTO_ESP)], false), null, `ESP, Key Length ${keyLength}`);
    }
    assert.equal(selectProposal([ikeOffer(1, { keyLength: 256 }), ikeOffer(2)], mine, true)?.num, 2, 'the next proposal, without the attribute, is taken');
    assert.equal(selectProposal([espOffer()], [spec(ESP, PROTO_ESP)], false)?.encr.id, ENCR_CHACHA20_POLY1305);
    assert.equal(selectProposal([espOffer()], [spec('aes128gcm16', PROTO_ESP)], false), null, 'not offered: not taken');
    assert.equal(selectProposal([ikeOffer(1, { id: ENCR_AES_GCM_16 })], [spec('aes128gcm16-prfsha256-x25519', PROTO_IKE)], true), null, 'AES-GCM without a key length still matches nothing');
  });

  it('as initiator: accepts an answer without Key Length, refuses one with it', () => {
    const mine = [spec(IKE, PROTO_IKE)];
    assert.equal((checkAnswer([ikeOffer(1)], mine, true) as { encr: { id: number } }).encr.id, ENCR_CHACHA20_POLY1305);
    assert.match(String(checkAnswer([ikeOffer(1, { keyLength: 256 })], mine, true)), /not one we offered/);
  });

  it('the IKE default offers it (after AES-GCM), the ESP default does not (reference.md §5)', () => {
    const ike = DEFAULT_IKE.map((t) => spec(t, PROTO_IKE));
    assert.deepEqual(ike[1]!.encr.map((e) => e.id), [ENCR_AES_GCM_16, ENCR_AES_GCM_16, ENCR_CHACHA20_POLY1305]);
    assert.equal(selectProposal([ikeOffer(1)], ike, true)?.encr.id, ENCR_CHACHA20_POLY1305);
    assert.equal(selectProposal([espOffer()], DEFAULT_ESP.map((t) => spec(t, PROTO_ESP)), false), null);
  });

  it('is named as swanctl --list-sas prints it: CHACHA20_POLY1305, no key size', () => {
    assert.equal(encrName(ENCR_CHACHA20_POLY1305, 0), 'CHACHA20_POLY1305');
    assert.equal(encrName(ENCR_AES_GCM_16, 128), 'AES_GCM_16-128');
  });
});

/** Both ends: one ESTABLISHED IKE SA with the same SPIs and algorithms, one child whose states mirror each other. */
function agreed(p: Pair): void {
  const [a, b] = [p.a.list(), p.b.list()];
  assert.deepEqual([a.length, b.length], [1, 1]);
  assert.deepEqual([a[0]!.state, b[0]!.state], ['ESTABLISHED', 'ESTABLISHED']);
  assert.deepEqual([a[0]!.spiI, a[0]!.spiR], [b[0]!.spiI, b[0]!.spiR]);
  assert.equal(a[0]!.algorithms, 'CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519');
  assert.equal(b[0]!.algorithms, a[0]!.algorithms);
  const [ca, cb] = [a[0]!.children, b[0]!.children];
  assert.deepEqual([ca.length, cb.length], [1, 1]);
  assert.deepEqual([ca[0]!.algorithms, cb[0]!.algorithms], ['CHACHA20_POLY1305', 'CHACHA20_POLY1305']);
  assert.deepEqual([ca[0]!.spiIn, ca[0]!.spiOut], [cb[0]!.spiOut, cb[0]!.spiIn]);
  checkNoGap(p, 1);
}

describe('ChaCha20-Poly1305 between two tunkit cores', () => {
  it(`${IKE} / ${ESP}: IKE SA and Child SA up, xfrm states with ${XFRM}, 36-byte keys, 128-bit ICV`, () => {
    const p = makePair(IKE, ESP);
    assert.equal(up(p), null);
    agreed(p);
    for (const h of [p.ha, p.hb]) {
      const st = h.states();
      assert.equal(st.length, 2);
      for (const s of st) {
        assert.equal(s.aead?.name, XFRM);
        assert.equal(s.aead.keyHex.length, 2 * 36, 'key (32) | salt (4): RFC 7634 §2');
        assert.equal(s.aead.bits, 128);
        assert.deepEqual([s.enc, s.auth], [undefined, undefined]);
      }
      assert.notEqual(st[0]!.aead!.keyHex, st[1]!.aead!.keyHex, 'each direction has its own key');
    }
    const sa = [...p.a.sas.values()][0]!;
    assert.deepEqual([sa.skOut!.encr.id, sa.skOut!.keyLen, sa.skOut!.ek.length, sa.skOut!.integ], [ENCR_CHACHA20_POLY1305, 32, 36, null], 'SK_e is 32 + 4 bytes, no SK_a');
    assert.deepEqual([...problems(p.ha), ...problems(p.hb)], []);
  });

  it('a Child SA rekey and an IKE SA rekey under ChaCha20-Poly1305 (with PFS)', () => {
    const p = makePair(IKE, `${ESP}-x25519`);
    assert.equal(up(p), null);
    const before = p.a.list()[0]!;
    assert.equal(p.b.rekey({ child: 'net-b' }, p.now), 1);
    pumpChecked(p, 1);
    advance(p, 6_000, 1);
    agreed(p);
    assert.notEqual(p.a.list()[0]!.children[0]!.spiIn, before.children[0]!.spiIn);
    assert.equal(p.hb.outState(before.children[0]!.reqid)?.aead?.name, XFRM);
    assert.equal(p.a.rekey({ ike: 'gw' }, p.now), 1);
    pumpChecked(p, 1);
    agreed(p);
    assert.notEqual(p.a.list()[0]!.spiI, before.spiI);
    assert.deepEqual([...problems(p.ha), ...problems(p.hb)], []);
  });

  it('a responder that only does AES-GCM refuses a ChaCha20-only initiator: NO_PROPOSAL_CHOSEN, nothing installed', () => {
    const p = makePair(IKE, ESP);
    p.b.cfg = { ...p.b.cfg, connections: p.b.cfg.connections.map((c) => ({ ...c, proposals: [spec('aes128gcm16-prfsha256-x25519', PROTO_IKE)] })) };
    assert.match(String(up(p)), /NO_PROPOSAL_CHOSEN/);
    assert.deepEqual([p.ha.states().length, p.hb.states().length], [0, 0]);
  });
});
