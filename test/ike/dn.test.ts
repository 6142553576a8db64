// DER and Distinguished Names (wire/ike/der.ts, ike/dn.ts): the subject of
// an openssl-made certificate, DN text ↔ DER as strongSwan writes it,
// equality across string types and case, and malformed input giving null.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { dnEqual, dnText, encodeDn, parseDn, parseDnText } from '../../src/ike/dn.js';
import { identity, identityText, sameIdentity } from '../../src/ike/ids.js';
import { ID_DER_ASN1_DN } from '../../src/wire/ike/consts.js';
import { certSubject, oid, oidText, readTlv } from '../../src/wire/ike/der.js';
import { Pki } from './pki.js';

let pki: Pki;

describe('DER and DNs', () => {
  before(() => { pki = new Pki(); });
  after(() => pki.close());

  it('certSubject finds the subject of an openssl certificate (UTF8String values, PrintableString C)', () => {
    const c = new X509Certificate(pki.leaf('dn', 'p256', 'dn.example', 'ca').cert);
    const der = certSubject(new Uint8Array(c.raw));
    assert.ok(der !== null);
    const rdns = parseDn(der);
    assert.ok(rdns !== null);
    assert.equal(dnText(rdns), 'C=CH, O=tunkit test, CN=dn.example');
    assert.equal(c.subject, 'C=CH\nO=tunkit test\nCN=dn.example', 'node agrees');
    const mine = encodeDn(parseDnText('c=ch, o=TUNKIT test, cn=dn.example')!);
    assert.notDeepEqual(mine, der, 'different string types and case …');
    assert.ok(dnEqual(parseDn(mine)!, rdns), '… yet the same DN for strongSwan');
    assert.ok(!dnEqual(parseDn(encodeDn(parseDnText('C=CH, CN=dn.example, O=tunkit test')!))!, rdns), 'order matters');
  });

  it('DN ids: text → ID_DER_ASN1_DN → text; E and DC as IA5String; unknown types by OID', () => {
    const id = identity('C=CH, O=tunkit test, E=gw@a.example, DC=example, 2.5.4.97=x', '');
    assert.equal(id.idType, ID_DER_ASN1_DN);
    assert.equal(identityText(id), 'C=CH, O=tunkit test, E=gw@a.example, DC=example, 2.5.4.97=x');
    assert.ok(sameIdentity(id, identity('c=ch,o=Tunkit Test,email=GW@a.example,dc=example,2.5.4.97=X', '')));
    assert.equal(identity('a.example', '').idType, 2, 'no "=": an FQDN');
    assert.equal(parseDnText('C=CH, bogus=1'), null);
  });

  it('malformed DER gives null, never a throw', () => {
    const good = encodeDn(parseDnText('C=CH, CN=x')!);
    assert.ok(parseDn(good) !== null);
    for (let n = 0; n < good.length; n++) assert.equal(parseDn(good.subarray(0, n)), null, `${n} bytes`);
    assert.equal(certSubject(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)), null);
    assert.equal(readTlv(Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff), 0), null, 'a length past the end');
    assert.equal(readTlv(Uint8Array.of(0x04, 0x02, 0x00), 0), null, 'len-1');
    assert.deepEqual(readTlv(Uint8Array.of(0x04, 0x02, 0x00, 0x00), 0), { tag: 4, off: 0, start: 2, end: 4 }, 'len');
  });

  it('OIDs round-trip, long-form lengths are written and read', () => {
    for (const o of ['1.2.840.113549.1.1.10', '2.5.4.3', '0.9.2342.19200300.100.1.25', '2.16.840.1.101.3.4.2.3']) {
      const t = oid(o);
      assert.equal(oidText(t.subarray(2)), o);
    }
    const long = encodeDn(parseDnText(`CN=${'x'.repeat(300)}`)!);
    assert.equal(long[1], 0x82);
    assert.equal(dnText(parseDn(long)!), `CN=${'x'.repeat(300)}`);
  });
});
