// Signature AUTH (sigauth.ts): RFC 7427 AlgorithmIdentifiers against the
// RFC's published bytes, sign → verify for every key kind and hash, the old
// methods 1 and 9/10/11 when the peer sent no SIGNATURE_HASH_ALGORITHMS,
// RSASSA-PSS parameters written without NULLs (as strongSwan writes them),
// and the refusals: a changed message, SHA-1, a scheme the policy forbids.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import type { SigPolicy } from '../../src/ike/config.js';
import { pssAlgId, schemeName, signAuth, verifyAuth } from '../../src/ike/sigauth.js';
import { cat, DER, oid, tlv } from '../../src/wire/ike/der.js';

const ANY: SigPolicy = { keyType: 'any', isPss: false, hashes: [] };
const ALL_HASHES = [2, 3, 4];
const octets = new TextEncoder().encode('RealMessage | Nonce | prf(SK_p, IDx)');

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = (namedCurve: string): { privateKey: KeyObject; publicKey: KeyObject } => generateKeyPairSync('ec', { namedCurve });
const p256 = ec('P-256');
const p384 = ec('P-384');
const p521 = ec('P-521');

function roundTrip(k: { privateKey: KeyObject; publicKey: KeyObject }, policy: SigPolicy, peer: number[] | null): { method: number; scheme: string } {
  const s = signAuth(k.privateKey, policy, peer, octets);
  assert.ok(typeof s !== 'string', String(s));
  const v = verifyAuth(s.method, s.data, k.publicKey, ANY, octets);
  assert.ok(typeof v !== 'string', String(v));
  assert.equal(schemeName(v), schemeName(s.scheme));
  const changed = Uint8Array.from(octets);
  changed[0]! ^= 1;
  assert.match(String(verifyAuth(s.method, s.data, k.publicKey, ANY, changed)), /signature does not verify/);
  return { method: s.method, scheme: schemeName(v) };
}

describe('signature AUTH (RFC 7427, RFC 4754)', () => {
  it('RSASSA-PSS with SHA-256 is RFC 7427 Appendix A.4.3 byte for byte', () => {
    const a43 = '3046' + '06092a864886f70d01010a' + '3039' + 'a00f300d06096086480165030402010500' +
      'a11c301a06092a864886f70d010108300d06096086480165030402010500' + 'a203020120' + 'a303020101';
    assert.equal(Buffer.from(pssAlgId('sha256')).toString('hex'), a43);
  });

  it('method 14: RSA PKCS#1 v1.5 and PSS, ECDSA P-256/P-384/P-521, each curve with its own hash first', () => {
    assert.deepEqual(roundTrip(rsa, ANY, ALL_HASHES), { method: 14, scheme: 'RSA PKCS#1 v1.5 with SHA-256' });
    assert.deepEqual(roundTrip(rsa, { keyType: 'rsa', isPss: true, hashes: ['sha512'] }, ALL_HASHES), { method: 14, scheme: 'RSASSA-PSS with SHA-512' });
    assert.deepEqual(roundTrip(rsa, { ...ANY, hashes: ['sha384'] }, ALL_HASHES), { method: 14, scheme: 'RSA PKCS#1 v1.5 with SHA-384' });
    assert.deepEqual(roundTrip(p256, ANY, ALL_HASHES), { method: 14, scheme: 'ECDSA with SHA-256' });
    assert.deepEqual(roundTrip(p384, ANY, ALL_HASHES), { method: 14, scheme: 'ECDSA with SHA-384' });
    assert.deepEqual(roundTrip(p521, ANY, ALL_HASHES), { method: 14, scheme: 'ECDSA with SHA-512' });
    assert.deepEqual(roundTrip(p384, ANY, [2]), { method: 14, scheme: 'ECDSA with SHA-256' }, 'the peer only takes SHA-256');
  });

  it('no SIGNATURE_HASH_ALGORITHMS from the peer: method 1 (RSA, SHA-1) and 9/10/11 (ECDSA r|s)', () => {
    assert.deepEqual(roundTrip(rsa, ANY, null), { method: 1, scheme: 'RSA PKCS#1 v1.5 with SHA-1' });
    assert.deepEqual(roundTrip(p256, ANY, null), { method: 9, scheme: 'ECDSA with SHA-256' });
    assert.deepEqual(roundTrip(p384, ANY, null), { method: 10, scheme: 'ECDSA with SHA-384' });
    assert.deepEqual(roundTrip(p521, ANY, null), { method: 11, scheme: 'ECDSA with SHA-512' });
    const s = signAuth(p256.privateKey, ANY, null, octets);
    assert.ok(typeof s !== 'string');
    assert.equal(s.data.length, 64, 'RFC 4754: r and s, 32 bytes each');
    assert.match(String(signAuth(rsa.privateKey, { keyType: 'rsa', isPss: true, hashes: [] }, null, octets)), /did not send SIGNATURE_HASH_ALGORITHMS/);
  });

  it('no common hash is refused with both lists', () => {
    assert.match(String(signAuth(p256.privateKey, { ...ANY, hashes: ['sha512'] }, [2, 3], octets)), /no common signature hash \(the peer accepts 2,3; ours: sha512\)/);
  });

  it('PSS parameters without NULL hash parameters and salt 32 verify', () => {
    const hashAlg = tlv(DER.SEQUENCE, oid('2.16.840.1.101.3.4.2.1'));
    const algId = tlv(DER.SEQUENCE, cat([oid('1.2.840.113549.1.1.10'), tlv(DER.SEQUENCE, cat([
      tlv(0xa0, hashAlg), tlv(0xa1, tlv(DER.SEQUENCE, cat([oid('1.2.840.113549.1.1.8'), hashAlg]))), tlv(0xa2, tlv(DER.INTEGER, Uint8Array.of(32))),
    ]))]));
    const s = signAuth(rsa.privateKey, { keyType: 'rsa', isPss: true, hashes: ['sha256'] }, ALL_HASHES, octets);
    assert.ok(typeof s !== 'string');
    const sig = s.data.subarray(1 + s.data[0]!);
    const v = verifyAuth(14, cat([Uint8Array.of(algId.length), algId, sig]), rsa.publicKey, ANY, octets);
    assert.equal(typeof v === 'string' ? v : schemeName(v), 'RSASSA-PSS with SHA-256');
  });

  it('refusals: SHA-1 under method 14, a scheme the policy forbids, a key of another kind, garbage', () => {
    const sha1 = Buffer.from('300d06092a864886f70d0101050500', 'hex');
    assert.match(String(verifyAuth(14, cat([Uint8Array.of(sha1.length), sha1, new Uint8Array(256)]), rsa.publicKey, ANY, octets)), /SHA-1 was not in our SIGNATURE_HASH_ALGORITHMS/);
    const s = signAuth(rsa.privateKey, ANY, ALL_HASHES, octets);
    assert.ok(typeof s !== 'string');
    assert.match(String(verifyAuth(s.method, s.data, rsa.publicKey, { keyType: 'rsa', isPss: true, hashes: [] }, octets)), /but remote auth asks for RSASSA-PSS/);
    assert.match(String(verifyAuth(s.method, s.data, rsa.publicKey, { ...ANY, hashes: ['sha512'] }, octets)), /allows only sha512/);
    assert.match(String(verifyAuth(s.method, s.data, p256.publicKey, ANY, octets)), /with a ecdsa certificate key/);
    assert.match(String(verifyAuth(9, new Uint8Array(64), p384.publicKey, ANY, octets)), /auth method 9 \(ECDSA prime256v1\) with a secp384r1/);
    assert.match(String(verifyAuth(14, Uint8Array.of(200, 1, 2), rsa.publicKey, ANY, octets)), /malformed RFC 7427 AUTH/);
    assert.match(String(verifyAuth(14, Uint8Array.of(3, 0x30, 1, 0), rsa.publicKey, ANY, octets)), /unsupported signature algorithm 300100/);
    assert.match(String(verifyAuth(3, new Uint8Array(8), rsa.publicKey, ANY, octets)), /auth method 3 is not a signature method/);
  });
});
