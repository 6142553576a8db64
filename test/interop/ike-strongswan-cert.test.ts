// tunkit's IKEv2 certificate authentication against strongSwan 5.9's charon
// (strongswan.ts): RSA and ECDSA certificates from a CA made at test time
// (test/ike/pki.ts, openssl), tunkit as initiator and as responder; a ping
// and a verified 1 MB TCP transfer from the initiator cross the tunnel
// (both ends' byte counters grow by as much; the PSK suite sends both
// ways), and `swanctl --list-sas` shows the same IKE and ESP SPIs as
// `tunkit ike list-sas`. A strongSwan certificate from a CA tunkit does
// not trust is refused with AUTHENTICATION_FAILED on both ends.
//
// Both ends read their credentials as swanctl --load-all does (x509/,
// x509ca/, private/ beside their swanctl.conf; strongSwan's in s/), from
// the same swanctl.conf text. Needs root and strongSwan; fails, never
// skips, without them.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { Netns } from '../../src/demo/netns.js';
import { Pki } from '../ike/pki.js';
import type { KeyKind } from '../ike/pki.js';
import { requireRoot } from '../netns/pair.js';
import { INNER, OUTER, requireStrongswan, SwanPair, swanSpis, tcpThrough, tunkitSas, until } from './strongswan.js';

/** The same swanctl.conf on both ends (but for the addresses, ids and strongSwan's encap = yes). */
function certConf(me: 't' | 's'): string {
  const peer = me === 't' ? 's' : 't';
  return `connections {
  gw {
    version = 2
    local_addrs = ${OUTER[me]}
    remote_addrs = ${OUTER[peer]}
    proposals = aes128gcm16-prfsha256-x25519
    encap = ${me === 's' ? 'yes' : 'no'}
    local {
      auth = pubkey
      certs = ${me}.pem
      id = ${me}.example
    }
    remote {
      auth = pubkey
      cacerts = ca.pem
      id = ${peer}.example
    }
    children {
      net-${me} {
        local_ts = ${INNER[me]}/32
        remote_ts = ${INNER[peer]}/32
        esp_proposals = aes128gcm16
      }
    }
  }
}
`;
}

let pki: Pki;

/** Writes both ends' credentials and starts them: tunkit's in p.dir/{x509,x509ca,private}, strongSwan's in p.dir/s/…. */
async function startWithCerts(p: SwanPair, k: KeyKind, sIssuer: 'ca' | 'evil'): Promise<void> {
  const t = pki.leaf(`t-${k}-${Math.random().toString(36).substring(2, 8)}`, k, 't.example', 'ca', [`IP:${OUTER.t}`]);
  const s = pki.leaf(`s-${k}-${Math.random().toString(36).substring(2, 8)}`, k, 's.example', sIssuer, [`IP:${OUTER.s}`]);
  const put = (sub: string, f: string, text: string): void => {
    mkdirSync(join(p.dir, sub), { recursive: true });
    writeFileSync(join(p.dir, sub, f), text, { mode: 0o600 });
  };
  put('x509', 't.pem', t.cert);
  put('x509ca', 'ca.pem', pki.pem('ca'));
  put('private', 't.key', t.key);
  put('s/x509', 's.pem', s.cert);
  put('s/x509ca', 'ca.pem', pki.pem('ca'));
  put('s/private', 's.key', s.key);
  await p.start(certConf('t'), certConf('s'), 's');
}

async function roundTrip(t: TestContext, k: KeyKind, initiator: 'tunkit' | 'strongswan'): Promise<void> {
  const p = new SwanPair();
  try {
    await startWithCerts(p, k, 'ca');
    try {
      if (initiator === 'tunkit') p.tunkit(['ike', 'initiate', 'net-t']);
      else p.swanctl(['--initiate', '--child', 'net-s', '--timeout', '20']);
    } catch (e) {
      assert.fail(`${e instanceof Error ? e.message.split('\n').filter((l) => !l.startsWith('plugin ')).join('\n') : String(e)}\n${p.logs()}`);
    }
    await until('tunkit shows the Child SA', p, () => tunkitSas(p)[0]?.children.length === 1);
    assert.equal(p.ping(3), 3, `ping through the tunnel\n${p.logs()}`);
    t.diagnostic(`TCP 1 MB: ${await tcpThrough(p, 1024 * 1024, [initiator === 'tunkit' ? 't' : 's'])}`);
    const sa = tunkitSas(p)[0]!;
    const ch = sa.children[0]!;
    assert.equal(sa.isInitiator, initiator === 'tunkit');
    assert.deepEqual([sa.localId, sa.remoteId], ['t.example', 's.example']);
    const theirs = swanSpis(p.swanctl(['--list-sas']));
    assert.ok(theirs !== null, `swanctl --list-sas shows an IKE SA with a Child SA\n${p.logs()}`);
    assert.deepEqual([theirs.ikeI, theirs.ikeR], [sa.spiI, sa.spiR], 'the same IKE SPIs');
    assert.deepEqual([theirs.spiIn, theirs.spiOut], [ch.spiOut, ch.spiIn], "strongSwan's inbound SPI is our outbound one and back");
    const scheme = k === 'rsa' ? 'RSA PKCS#1 v1\\.5 with SHA-256' : k === 'p384' ? 'ECDSA with SHA-384' : 'ECDSA with SHA-256';
    // (the logs are read by events: the synchronous commands above hold them back, so wait for them)
    const ours = new RegExp(`'s\\.example' authenticated with certificate 'C=CH, O=tunkit test, CN=s\\.example' \\(${scheme}, auth method 14\\)`);
    await until(`tunkitd logs ${ours.source}`, p, () => ours.test(p.tunkitdLog));
    const theirsLog = k === 'rsa' ? /authentication of 't\.example' with RSA_EMSA_PKCS1_SHA2_256 successful/ : /authentication of 't\.example' with ECDSA_WITH_SHA(256|384)_DER successful/;
    await until(`strongSwan logs ${theirsLog.source}`, p, () => theirsLog.test(p.logs()));
    p.tunkit(['ike', 'terminate', 'gw']);
    await until('both sides drop the SAs', p, () => tunkitSas(p).length === 0 && swanSpis(p.swanctl(['--list-sas'])) === null);
  } finally {
    p.close();
  }
}

describe('IKEv2 certificate interop: tunkit ↔ strongSwan 5.9 (charon, kernel-libipsec)', () => {
  before(() => { pki = new Pki(); });
  after(() => { pki.close(); Netns.cleanupAll(); });

  it('prerequisites: root and strongSwan', () => {
    requireRoot();
    requireStrongswan();
  });

  it('RSA certificates, tunkit initiates', (t) => roundTrip(t, 'rsa', 'tunkit'));
  it('RSA certificates, strongSwan initiates (tunkit responds)', (t) => roundTrip(t, 'rsa', 'strongswan'));
  it('ECDSA P-256 certificates, tunkit initiates', (t) => roundTrip(t, 'p256', 'tunkit'));
  it('ECDSA P-384 certificates, strongSwan initiates (tunkit responds)', (t) => roundTrip(t, 'p384', 'strongswan'));

  it('a strongSwan certificate from an untrusted CA: tunkit refuses it on both paths, AUTHENTICATION_FAILED', async () => {
    const p = new SwanPair();
    try {
      await startWithCerts(p, 'p256', 'evil');
      const r = p.tunkitRun(['ike', 'initiate', 'net-t']);
      assert.notEqual(r.code, 0);
      assert.match(r.out, /AUTHENTICATION_FAILED: 's\.example': certificate 'C=CH, O=tunkit test, CN=s\.example' is not issued by a trusted CA/);
      await until('strongSwan gets INFORMATIONAL N(AUTHENTICATION_FAILED) and drops its SA', p,
        () => /parsed INFORMATIONAL request \d+ \[ N\(AUTH_FAILED\) \][^]*IKE_SA deleted/.test(p.logs()) && swanSpis(p.swanctl(['--list-sas'])) === null);
      let failed = false;
      try { p.swanctl(['--initiate', '--child', 'net-s', '--timeout', '20']); } catch { failed = true; }
      assert.ok(failed, 'swanctl --initiate fails');
      await until('tunkit logs why, as responder', p, () => (p.tunkitdLog.match(/AUTHENTICATION_FAILED: 's\.example': certificate .* is not issued by a trusted CA/g) ?? []).length >= 2);
      assert.deepEqual(tunkitSas(p), []);
      assert.equal((JSON.parse(p.tunkit(['-j', 'xfrm', 'state', 'list'])) as unknown[]).length, 0);
    } finally {
      p.close();
    }
  });
});
