// Loading certificates and keys as swanctl --load-all does (creds.ts via the
// daemon's readSwanctl): the conventional directories, an encrypted key
// named in a secrets private- section, and every problem refused naming
// the file, line and key.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSwanctl } from '../../src/daemon/ike-shell.js';
import { Pki } from './pki.js';
import type { Leaf } from './pki.js';

let pki: Pki;
let a: Leaf;
let n = 0;

const conf = (local: string, remote: string, secrets = ''): string =>
  `connections {\n  gw {\n    local {\n${local}    }\n    remote {\n${remote}    }\n  }\n}\n${secrets}`;
const LOCAL = '      auth = pubkey\n      certs = a.pem\n      id = a.example\n';
const REMOTE = '      auth = pubkey\n      cacerts = ca.pem\n';

function load(text: string, files: Parameters<Pki['swanctlDir']>[2]): ReturnType<typeof readSwanctl> {
  return readSwanctl(pki.swanctlDir(`c${n++}`, text, files));
}

describe('swanctl credentials (x509/, x509ca/, private/, secrets private-)', () => {
  before(() => { pki = new Pki(); a = pki.leaf('a', 'rsa', 'a.example', 'ca', ['IP:198.51.100.1']); });
  after(() => pki.close());

  it('loads the certificate, its key (by public key) and the CA', () => {
    const other = pki.leaf('other', 'p256', 'other.example', 'ca');
    const c = load(conf(LOCAL, REMOTE), { x509: { 'a.pem': a.cert }, x509ca: { 'ca.pem': pki.pem('ca') }, private: { 'other.key': other.key, 'a.key': a.key } });
    const gw = c.connections[0]!;
    assert.equal(gw.local.cert!.subject, 'C=CH\nO=tunkit test\nCN=a.example');
    assert.ok(gw.local.key!.asymmetricKeyType === 'rsa');
    assert.deepEqual(gw.remote.anchors!.map((x) => x.subject), ['C=CH\nO=tunkit test\nCN=tunkit test CA']);
  });

  it('an encrypted key named in secrets private-a with its passphrase', () => {
    const enc = join(pki.dir, 'a-enc.key');
    execFileSync('openssl', ['pkey', '-in', join(pki.dir, 'a.key'), '-aes256', '-passout', 'pass:a test passphrase', '-out', enc]);
    const secrets = 'secrets {\n  private-a {\n    file = a-enc.key\n    secret = "a test passphrase"\n  }\n}\n';
    const c = load(conf(LOCAL, REMOTE, secrets), { x509: { 'a.pem': a.cert }, x509ca: { 'ca.pem': pki.pem('ca') }, private: { 'a-enc.key': readFileSync(enc, 'utf8') } });
    assert.ok(c.connections[0]!.local.key != null);
    assert.ok(c.keyFiles![0]!.passphrase!.every((x) => x === 0), 'the passphrase is wiped once used');
  });

  const refused: [string, () => unknown, RegExp][] = [
    ['a missing certificate file', () => load(conf(LOCAL, REMOTE), { x509ca: { 'ca.pem': pki.pem('ca') } }),
      /swanctl\.conf:5: connections\.gw\.local\.certs: cannot read .*x509\/a\.pem/],
    ['a file that is not a certificate', () => load(conf(LOCAL, REMOTE), { x509: { 'a.pem': 'hello' }, x509ca: { 'ca.pem': pki.pem('ca') } }),
      /swanctl\.conf:5: connections\.gw\.local\.certs: .*x509\/a\.pem is not an X\.509 certificate/],
    ['no private key for the certificate', () => load(conf(LOCAL, REMOTE), { x509: { 'a.pem': a.cert }, x509ca: { 'ca.pem': pki.pem('ca') } }),
      /swanctl\.conf:5: connections\.gw\.local\.certs: no private key for certificate 'C=CH, O=tunkit test, CN=a\.example'/],
    ['a local id the certificate does not hold', () => load(conf(LOCAL.replace('a.example', 'b.example'), REMOTE), { x509: { 'a.pem': a.cert }, x509ca: { 'ca.pem': pki.pem('ca') }, private: { 'a.key': a.key } }),
      /swanctl\.conf:5: connections\.gw\.local\.certs: no certificate holds the local id 'b\.example'/],
    ['remote auth = pubkey with no CA anywhere', () => load(conf(LOCAL, '      auth = pubkey\n'), { x509: { 'a.pem': a.cert }, private: { 'a.key': a.key } }),
      /connections\.gw\.remote: auth = pubkey needs a CA certificate/],
    ['an unreadable key in private/', () => load(conf(LOCAL, REMOTE), { x509: { 'a.pem': a.cert }, x509ca: { 'ca.pem': pki.pem('ca') }, private: { 'junk.key': 'junk' } }),
      /private\/junk\.key is not a private key tunkit can read \(if it is encrypted, give its secret/],
    ['auth = ecdsa with an RSA certificate', () => load(conf(LOCAL.replace('pubkey', 'ecdsa'), REMOTE), { x509: { 'a.pem': a.cert }, x509ca: { 'ca.pem': pki.pem('ca') }, private: { 'a.key': a.key } }),
      /swanctl\.conf:5: connections\.gw\.local\.auth: asks for ecdsa, but the key of 'C=CH, O=tunkit test, CN=a\.example' is rsa/],
  ];
  for (const [what, f, re] of refused) it(`refuses ${what}`, () => assert.throws(f, (e: unknown) => e instanceof Error && re.test(e.message)));
});
