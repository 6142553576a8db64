// Certificate authentication between two tunkit cores in memory (RFC 7296
// §2.15, RFC 7427): RSA, ECDSA, RSASSA-PSS and SHA-384/512 signatures, a
// chain through an intermediate the responder does not hold, every ID type
// matched against the certificate; and the refusals — an expired
// certificate (clock moved on), an untrusted CA and a wrong identity, each
// with AUTHENTICATION_FAILED logged (with why) and notified on both ends.
// The PKI is made at test time with openssl (pki.ts).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readSwanctl } from '../../src/daemon/ike-shell.js';
import { IkeCore } from '../../src/ike/core.js';
import type { IkeConfig } from '../../src/ike/config.js';
import { ADDR, FakeHost, pump } from './pair.js';
import type { Pair } from './pair.js';
import { Pki } from './pki.js';
import type { KeyKind, Leaf } from './pki.js';

const DAY_MS = 86_400_000;

interface End { leaf: Leaf; auth?: string; id?: string; remoteAuth?: string; remoteId?: string; cas?: string[]; cacerts?: string }

function conf(me: 'a' | 'b', e: End): string {
  const peer = me === 'a' ? 'b' : 'a';
  const ts = { a: '203.0.113.0/28', b: '203.0.113.16/28' };
  const line = (k: string, v: string | undefined): string => (v === undefined ? '' : `      ${k} = ${v}\n`);
  return `connections {
  gw {
    version = 2
    local_addrs = ${ADDR[me]}
    remote_addrs = ${ADDR[peer]}
    proposals = aes128gcm16-prfsha256-x25519
    local {
${line('auth', e.auth ?? 'pubkey')}      certs = ${me}.pem
${line('id', e.id ?? `${me}.example`)}    }
    remote {
${line('auth', e.remoteAuth ?? 'pubkey')}${line('cacerts', e.cacerts)}${line('id', e.remoteId ?? `${peer}.example`)}    }
    children {
      net-${me} {
        local_ts = ${ts[me]}
        remote_ts = ${ts[peer]}
        esp_proposals = aes128gcm16
      }
    }
  }
}
`;
}

let pki: Pki;
const leaves = new Map<string, Leaf>();
/** One leaf per (name, key, issuer), made once. */
function leaf(cn: string, k: KeyKind, issuer: 'ca' | 'inter' | 'evil', sans: readonly string[] = []): Leaf {
  const name = `${cn}-${k}-${issuer}`;
  if (!leaves.has(name)) leaves.set(name, pki.leaf(name, k, cn, issuer, sans));
  return leaves.get(name)!;
}
const A_SANS = ['IP:198.51.100.1', 'IP:2001:db8::a', 'email:a@a.example'];

function load(me: 'a' | 'b', e: End): IkeConfig {
  const path = pki.swanctlDir(`${me}-${Math.random().toString(36).substring(2)}`, conf(me, e), {
    x509: { [`${me}.pem`]: e.leaf.cert },
    x509ca: Object.fromEntries((e.cas ?? ['ca']).map((c) => [`${c}.pem`, pki.pem(c)])),
    private: { [`${me}.key`]: e.leaf.key },
  });
  return readSwanctl(path);
}

function certPair(a: End, b: End): Pair {
  const ha = new FakeHost(ADDR.a);
  const hb = new FakeHost(ADDR.b);
  return { a: new IkeCore(load('a', a), ha), b: new IkeCore(load('b', b), hb), ha, hb, now: Date.now() };
}

function up(p: Pair): string | null {
  let err: string | null = 'pending';
  p.a.initiate('net-a', p.now, (e) => { err = e; });
  pump(p);
  return err;
}

const logged = (h: FakeHost, re: RegExp): boolean => h.logs.some((l) => re.test(l));

function assertUp(p: Pair, how: { a: RegExp; b: RegExp }): void {
  const all = `${p.ha.logs.join('\n')}\n--\n${p.hb.logs.join('\n')}`;
  assert.equal(p.a.list()[0]?.state, 'ESTABLISHED', all);
  assert.equal(p.b.list()[0]?.state, 'ESTABLISHED', all);
  assert.equal(p.a.list()[0]!.children.length, 1, all);
  assert.equal(p.hb.states().length, 2, 'the responder installed both ESP SAs');
  assert.ok(logged(p.hb, how.b), `responder: ${how.b.source}\n${all}`);
  assert.ok(logged(p.ha, how.a), `initiator: ${how.a.source}\n${all}`);
}

function assertRefused(p: Pair, err: string | null, refuser: 'a' | 'b', why: RegExp): void {
  const all = `${p.ha.logs.join('\n')}\n--\n${p.hb.logs.join('\n')}`;
  assert.match(err ?? '', /AUTHENTICATION_FAILED/, all);
  const [mine, theirs] = refuser === 'b' ? [p.hb, p.ha] : [p.ha, p.hb];
  assert.ok(mine.logs.some((l) => /^warn: .*AUTHENTICATION_FAILED: /.test(l) && why.test(l)), `the refusing end logs why (${why.source})\n${all}`);
  assert.ok(theirs.logs.some((l) => /AUTHENTICATION_FAILED/.test(l)), `the refused end logs the notify\n${all}`);
  assert.deepEqual([p.a.list().length, p.b.list().length], [0, 0], 'no IKE SA left on either end');
  const left = (h: FakeHost): number => h.xfrm.filter((r) => r.op === 'xfrm.state.add').length - h.xfrm.filter((r) => r.op === 'xfrm.state.del').length;
  assert.deepEqual([left(p.ha), left(p.hb)], [0, 0], 'no ESP SA left installed (the responder removes what it installed once told)');
}

describe('IKE certificate authentication: tunkit ↔ tunkit in memory', () => {
  before(() => { pki = new Pki(); });
  after(() => pki.close());

  it('RSA certificates: RFC 7427 with RSA PKCS#1 v1.5 / SHA-256 both ways', () => {
    const p = certPair({ leaf: leaf('a.example', 'rsa', 'ca', A_SANS) }, { leaf: leaf('b.example', 'rsa', 'ca') });
    assert.equal(up(p), null);
    assertUp(p, { a: /'b\.example' authenticated with certificate 'C=CH, O=tunkit test, CN=b\.example' \(RSA PKCS#1 v1\.5 with SHA-256, auth method 14\)/, b: /'a\.example' authenticated with .*RSA PKCS#1 v1\.5 with SHA-256, auth method 14/ });
    assert.equal(p.b.list()[0]!.remoteId, 'a.example');
  });

  it('ECDSA certificates: P-256 signs with SHA-256, P-384 with SHA-384', () => {
    const p = certPair({ leaf: leaf('a.example', 'p256', 'ca', A_SANS) }, { leaf: leaf('b.example', 'p384', 'ca') });
    assert.equal(up(p), null);
    assertUp(p, { a: /'b\.example' authenticated with .*ECDSA with SHA-384, auth method 14/, b: /'a\.example' authenticated with .*ECDSA with SHA-256, auth method 14/ });
  });

  it('RSASSA-PSS (auth = rsa/pss) and SHA-512 (pubkey-sha512); remote auth = rsa/pss demands PSS', () => {
    const p = certPair(
      { leaf: leaf('a.example', 'rsa', 'ca', A_SANS), auth: 'rsa/pss', remoteAuth: 'pubkey' },
      { leaf: leaf('b.example', 'rsa', 'ca'), auth: 'pubkey-sha512', remoteAuth: 'rsa/pss' },
    );
    assert.equal(up(p), null);
    assertUp(p, { a: /RSA PKCS#1 v1\.5 with SHA-512, auth method 14/, b: /'a\.example' authenticated with .*RSASSA-PSS with SHA-256, auth method 14/ });
    const q = certPair({ leaf: leaf('a.example', 'rsa', 'ca', A_SANS) }, { leaf: leaf('b.example', 'rsa', 'ca'), remoteAuth: 'rsa/pss' });
    assertRefused(q, up(q), 'b', /RSA PKCS#1 v1\.5 with SHA-256, but remote auth asks for RSASSA-PSS/);
  });

  it('a chain: the initiator sends its intermediate in a second CERT payload; the responder holds only the root', () => {
    const p = certPair({ leaf: leaf('a.example', 'p256', 'inter', A_SANS), cas: ['ca', 'inter'] }, { leaf: leaf('b.example', 'rsa', 'ca'), cacerts: 'ca.pem' });
    assert.equal(up(p), null);
    assertUp(p, { a: /'b\.example' authenticated/, b: /'a\.example' authenticated with certificate 'C=CH, O=tunkit test, CN=a\.example' \(ECDSA/ });
    // Without the intermediate on the initiator's side it cannot be sent, and the responder cannot build the chain.
    const q = certPair({ leaf: leaf('a.example', 'p256', 'inter', A_SANS) }, { leaf: leaf('b.example', 'rsa', 'ca') });
    assertRefused(q, up(q), 'b', /certificate 'C=CH, O=tunkit test, CN=a\.example' is not issued by a trusted CA \(its issuer is 'C=CH, O=tunkit test, CN=tunkit test intermediate'\)/);
  });

  const ids: [string, string][] = [
    ['IPv4 (subjectAltName IP)', '198.51.100.1'], ['IPv6 (subjectAltName IP)', '2001:db8::a'], ['RFC822 (subjectAltName email)', 'a@a.example'],
    ['FQDN (subjectAltName DNS)', 'a.example'], ['DN (the subject)', 'C=CH, O=tunkit test, CN=a.example'],
  ];
  for (const [what, id] of ids) {
    it(`ID type ${what}: ${id}`, () => {
      const p = certPair({ leaf: leaf('a.example', 'p256', 'ca', A_SANS), id }, { leaf: leaf('b.example', 'p256', 'ca'), remoteId: id });
      assert.equal(up(p), null);
      assertUp(p, { a: /authenticated/, b: new RegExp(`'${id.replace(/\./g, '\\.')}' authenticated`) });
      assert.equal(p.b.list()[0]!.remoteId, id);
    });
  }

  it('no local id with a certificate: the subject DN is sent (ID_DER_ASN1_DN)', () => {
    const p = certPair({ leaf: leaf('a.example', 'p256', 'ca', A_SANS), id: '' }, { leaf: leaf('b.example', 'p256', 'ca'), remoteId: '%any' });
    assert.equal(up(p), null);
    assert.equal(p.b.list()[0]!.remoteId, 'C=CH, O=tunkit test, CN=a.example');
  });

  it('an expired certificate (the clock 40 days on): AUTHENTICATION_FAILED, refused by the responder', () => {
    const p = certPair({ leaf: leaf('a.example', 'rsa', 'ca', A_SANS) }, { leaf: leaf('b.example', 'rsa', 'ca') });
    p.now += 40 * DAY_MS;
    assertRefused(p, up(p), 'b', /'a\.example': certificate 'C=CH, O=tunkit test, CN=a\.example' expired on /);
  });

  it('an untrusted CA: the responder refuses the initiator', () => {
    const p = certPair({ leaf: leaf('a.example', 'p256', 'evil', A_SANS) }, { leaf: leaf('b.example', 'p256', 'ca') });
    assertRefused(p, up(p), 'b', /is not issued by a trusted CA \(its issuer is 'C=CH, O=somebody else, CN=untrusted CA'\)/);
  });

  it('an untrusted CA: the initiator refuses the responder and tells it with INFORMATIONAL AUTHENTICATION_FAILED', () => {
    const p = certPair({ leaf: leaf('a.example', 'p256', 'ca', A_SANS) }, { leaf: leaf('b.example', 'p256', 'evil') });
    assertRefused(p, up(p), 'a', /'b\.example': certificate 'C=CH, O=tunkit test, CN=b\.example' is not issued by a trusted CA/);
    assert.ok(logged(p.hb, /AUTHENTICATION_FAILED: 'a\.example' refused our authentication as 'b\.example'/), p.hb.logs.join('\n'));
  });

  it('a wrong ID: a certificate that does not hold the identity claimed is refused', () => {
    const p = certPair({ leaf: leaf('a.example', 'p256', 'ca', A_SANS) }, { leaf: leaf('b.example', 'p256', 'ca'), remoteId: '%any' });
    // The initiator claims b.example with a.example's certificate (the loader would refuse this configuration).
    p.a.cfg = { ...p.a.cfg, connections: p.a.cfg.connections.map((c) => ({ ...c, local: { ...c.local, id: 'b.example' } })) };
    assertRefused(p, up(p), 'b', /certificate 'C=CH, O=tunkit test, CN=a\.example' does not contain the identity 'b\.example'/);
  });

  it('a wrong ID: the responder is not the peer the initiator configured', () => {
    const p = certPair({ leaf: leaf('a.example', 'p256', 'ca', A_SANS), remoteId: 'c.example' }, { leaf: leaf('b.example', 'p256', 'ca') });
    assertRefused(p, up(p), 'a', /the peer is 'b\.example', not the configured 'c\.example'/);
  });
});
