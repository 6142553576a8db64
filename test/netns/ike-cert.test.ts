// tunkit ↔ tunkit IKEv2 with certificates over real sockets (ike-fixture.ts:
// two namespaces joined by a veth, a tunkitd in each, auth = pubkey both
// ways with the certificates, keys and CAs in x509/, private/, x509ca/ as
// swanctl --load-all reads them). A throwaway PKI (pki.ts, openssl) made per
// run. RSA and ECDSA ends bring the SA up, a ping crosses, and both ends'
// `tunkit ike list-sas` agree on the IKE and ESP SPIs and the identities; a
// certificate from another CA is refused with AUTHENTICATION_FAILED, by
// the responder and by the initiator, and neither end keeps an SA.
// Needs root and openssl; fails, never skips, without them.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IkeSaRecord } from '../../src/control/ike.js';
import { Netns } from '../../src/demo/netns.js';
import { Pki } from '../ike/pki.js';
import type { KeyKind } from '../ike/pki.js';
import { requireRoot } from './pair.js';
import { IkeNet } from './ike-fixture.js';
import type { PubkeyOpts, Side } from './ike-fixture.js';

let pki: Pki;

/** A side's credentials: its leaf (`side.example`, SAN DNS) from `issuer`, trusting the test CA. */
function creds(side: Side, k: KeyKind, issuer: 'ca' | 'evil', cacerts?: string): PubkeyOpts {
  const l = pki.leaf(`${side}-${k}-${issuer}`, k, `${side}.example`, issuer);
  return { cert: l.cert, key: l.key, cas: { 'ca.pem': pki.pem('ca') }, ...(cacerts !== undefined ? { cacerts } : {}) };
}

async function withNet(prefix: string, fn: (n: IkeNet) => Promise<void>): Promise<void> {
  requireRoot();
  const n = new IkeNet(prefix, false);
  try {
    await fn(n);
  } finally {
    n.close();
  }
}

/** Both ends' one IKE SA agree: SPIs, identities, the Child SA's SPIs crossed. */
function assertAgree(l: IkeSaRecord, r: IkeSaRecord): void {
  assert.deepEqual([l.state, r.state], ['ESTABLISHED', 'ESTABLISHED']);
  assert.deepEqual([l.isInitiator, r.isInitiator], [true, false]);
  assert.deepEqual([l.spiI, l.spiR], [r.spiI, r.spiR], 'IKE SPIs');
  assert.deepEqual([l.localId, l.remoteId, r.localId, r.remoteId], ['left.example', 'right.example', 'right.example', 'left.example']);
  const [lc, rc] = [l.children[0]!, r.children[0]!];
  assert.equal(l.children.length, 1);
  assert.equal(r.children.length, 1);
  assert.deepEqual([lc.spiIn, lc.spiOut], [rc.spiOut, rc.spiIn], 'ESP SPIs: one end\'s inbound is the other\'s outbound');
  assert.ok(lc.spiIn !== lc.spiOut && /^[c-f][0-9a-f]{7}$/.test(lc.spiIn), `${lc.spiIn}: charon's range (0xc0000000 and up)`);
}

/** Starts both ends, initiates from the left; the `tunkit ike initiate` result. */
async function connect(n: IkeNet, left: PubkeyOpts, right: PubkeyOpts): Promise<{ code: number; out: string }> {
  await n.start('right', { pubkey: right });
  await n.start('left', { pubkey: left, charon: 'retransmit_timeout = 1\nretransmit_base = 1\nretransmit_tries = 2' });
  return n.tunkit('left', ['ike', 'initiate', 'net-left']);
}

describe('IKEv2 with certificates in namespaces: tunkit ↔ tunkit', () => {
  before(() => { pki = new Pki(); });
  after(() => {
    pki.close();
    Netns.cleanupAll();
  });

  it('RSA certificates (cacerts = ca.pem): the SA comes up, a ping crosses, list-sas agree on both ends', () => withNet('tkx', async (n) => {
    const r = await connect(n, creds('left', 'rsa', 'ca', 'ca.pem'), creds('right', 'rsa', 'ca', 'ca.pem'));
    assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
    assert.equal(n.ping('left', 3), 3, `ping\n${n.tail()}`);
    const [l, rr] = [n.sas('left')[0]!, n.sas('right')[0]!];
    assertAgree(l, rr);
    assert.ok((l.children[0]!.packetsOut ?? 0) >= 3 && (rr.children[0]!.packetsIn ?? 0) >= 3, 'the ping went through the Child SA');
    assert.match(n.logs.right, /loaded 1 connection\(s\), 0 secret\(s\) and 1 certificate\(s\) with keys/);
  }));

  it('ECDSA P-256 certificates (the CAs of x509ca/): the SA comes up, a ping crosses, list-sas agree on both ends', () => withNet('tke', async (n) => {
    const r = await connect(n, creds('left', 'p256', 'ca'), creds('right', 'p256', 'ca'));
    assert.equal(r.code, 0, `${r.out}\n${n.tail()}`);
    assert.equal(n.ping('left', 3), 3, `ping\n${n.tail()}`);
    assertAgree(n.sas('left')[0]!, n.sas('right')[0]!);
  }));

  it('the initiator\'s certificate is from another CA: the responder answers AUTHENTICATION_FAILED, no SA on either end', () => withNet('tku', async (n) => {
    const r = await connect(n, creds('left', 'p256', 'evil'), creds('right', 'rsa', 'ca'));
    assert.notEqual(r.code, 0);
    assert.match(r.out, /AUTHENTICATION_FAILED/);
    await n.until('the responder logs why', () => /AUTHENTICATION_FAILED: .*is not issued by a trusted CA \(its issuer is 'C=CH, O=somebody else, CN=untrusted CA'\)/.test(n.logs.right), 5000);
    await n.until('the initiator logs the notify', () => /AUTHENTICATION_FAILED/.test(n.logs.left), 2000);
    assert.deepEqual([n.sas('left').length, n.sas('right').length], [0, 0]);
    assert.equal(n.ping('left', 1), 0, 'nothing crosses');
  }));

  it('the responder\'s certificate is from another CA: the initiator refuses it and tells it (INFORMATIONAL AUTHENTICATION_FAILED)', () => withNet('tkv', async (n) => {
    const r = await connect(n, creds('left', 'rsa', 'ca'), creds('right', 'p256', 'evil'));
    assert.notEqual(r.code, 0);
    assert.match(r.out, /AUTHENTICATION_FAILED/);
    await n.until('the initiator logs why', () => /AUTHENTICATION_FAILED: .*is not issued by a trusted CA/.test(n.logs.left), 2000);
    await n.until('the responder hears it and drops its SA', () => /AUTHENTICATION_FAILED: 'left\.example' refused our authentication as 'right\.example'/.test(n.logs.right), 5000);
    await n.until('no SA on either end', () => n.sas('left').length === 0 && n.sas('right').length === 0, 5000);
  }));
});
