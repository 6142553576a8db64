// tunkit's IKEv2 against strongSwan 5.9's charon (strongswan.ts): PSK,
// AES-GCM and AES-CBC+SHA256, tunkit as initiator and as responder; a ping
// and a verified 2 MB TCP transfer each way (sha256 on both ends) cross
// the tunnel, both ends' Child SA byte counters grow by at least that,
// `swanctl --list-sas` shows the same IKE and ESP SPIs and algorithms as
// `tunkit ike list-sas`, and a delete from either side takes the SAs away
// on both. A wrong PSK is refused on both ends. NAT-T through a real NAT
// (a masquerading namespace in front of tunkit, strongSwan encap = no),
// initiated from each side (strongSwan through a port forward).
// CREATE_CHILD_SA: a Child SA rekey started from either side (with PFS
// once) and an IKE SA rekey from either side; after each, both ends list
// the same new SPIs and a ping crosses; and rekeys started by both ends at
// once (their requests held back by nft until they cross).
// ChaCha20-Poly1305 (RFC 7634) for IKE and ESP, tunkit initiating, once
// charon's `swanctl --list-algs` shows an AEAD doing it (the openssl plugin).
// Needs root (namespaces) and strongSwan; fails, never skips, without them.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { IkeSaRecord } from '../../src/control/ike.js';
import { Netns } from '../../src/demo/netns.js';
import { requireRoot } from '../netns/pair.js';
import { NAT, OUTER, requireStrongswan, swanctlConf, SwanPair, swanSpis, tcpThrough, tunkitSas, until } from './strongswan.js';
import type { Algs } from './strongswan.js';

const PSK = 'interop test secret, documentation only';
const GCM: Algs = { ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' };
const CBC: Algs = { ike: 'aes256-sha256-modp2048', esp: 'aes256-sha256' };
const PFS: Algs = { ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16-x25519' };
const CHAPOLY: Algs = { ike: 'chacha20poly1305-prfsha256-x25519', esp: 'chacha20poly1305' };
/** The verified TCP transfer each way in every round trip. */
const XFER_BYTES = 2 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Brings the tunnel up from `initiator`, checks ping, TCP each way and both views, then deletes from `deleter`. */
async function roundTrip(t: TestContext, algs: Algs, initiator: 'tunkit' | 'strongswan', deleter: 'tunkit' | 'strongswan'): Promise<void> {
  const p = new SwanPair();
  try {
    await p.start(swanctlConf('t', algs, { psk: PSK, encap: false }), swanctlConf('s', algs, { psk: PSK, encap: true }));
    if (initiator === 'tunkit') p.tunkit(['ike', 'initiate', 'net-t']);
    else p.swanctl(['--initiate', '--child', 'net-s', '--timeout', '20']);
    await until('tunkit shows the Child SA', p, () => tunkitSas(p)[0]?.children.length === 1);
    assert.equal(p.ping(3), 3, `ping through the tunnel\n${p.logs()}`);
    t.diagnostic(`TCP ${XFER_BYTES} bytes: ${await tcpThrough(p, XFER_BYTES)}`);
    const mine = tunkitSas(p);
    assert.equal(mine.length, 1);
    const sa = mine[0]!;
    const ch = sa.children[0]!;
    assert.equal(sa.state, 'ESTABLISHED');
    assert.equal(sa.isInitiator, initiator === 'tunkit');
    const theirs = swanSpis(p.swanctl(['--list-sas']));
    assert.ok(theirs !== null, 'swanctl --list-sas shows an IKE SA with a Child SA');
    assert.deepEqual([theirs.ikeI, theirs.ikeR], [sa.spiI, sa.spiR], 'the same IKE SPIs');
    assert.deepEqual([theirs.spiIn, theirs.spiOut], [ch.spiOut, ch.spiIn], "strongSwan's inbound SPI is our outbound one and back");
    assert.equal(theirs.algs, ch.algorithms, 'the same ESP algorithms');
    assert.equal(theirs.mode, 'TUNNEL-in-UDP');
    assert.equal(ch.encap, true, 'ESP in UDP (strongSwan encap = yes)');
    assert.ok((ch.packetsOut ?? 0) >= 3 && (ch.packetsIn ?? 0) >= 3, 'the pings went through our SAs');
    if (deleter === 'tunkit') p.tunkit(['ike', 'terminate', 'gw']);
    else p.swanctl(['--terminate', '--ike', 'gw', '--timeout', '10']);
    await until('both sides drop the SAs', p, () => tunkitSas(p).length === 0 && swanSpis(p.swanctl(['--list-sas'])) === null);
    const states = JSON.parse(p.tunkit(['-j', 'xfrm', 'state', 'list'])) as unknown[];
    const pols = JSON.parse(p.tunkit(['-j', 'xfrm', 'policy', 'list'])) as unknown[];
    assert.deepEqual([states.length, pols.length], [0, 0], 'no xfrm state or policy left');
    assert.equal(p.ping(1), 0, 'no tunnel, no reply');
  } finally {
    p.close();
  }
}

/** Both ends list one IKE SA and one installed Child SA with the same SPIs; returns ours. */
async function agreeing(p: SwanPair, what: string): Promise<IkeSaRecord> {
  let mine: IkeSaRecord[] = [];
  await until(`${what}: one IKE SA and one installed Child SA, the same SPIs on both ends`, p, () => {
    mine = tunkitSas(p);
    const theirs = swanSpis(p.swanctl(['--list-sas']));
    const sa = mine[0];
    const ch = sa?.children[0];
    return mine.length === 1 && sa!.children.length === 1 && ch!.state === 'INSTALLED' && theirs !== null &&
      theirs.ikeI === sa!.spiI && theirs.ikeR === sa!.spiR && theirs.spiIn === ch!.spiOut && theirs.spiOut === ch!.spiIn &&
      (p.swanctl(['--list-sas']).match(/\n\s+in\s+[0-9a-f]{8},/g) ?? []).length === 1;
  }, 20_000);
  return mine[0]!;
}

/** Brings the tunnel up from tunkit, rekeys `what` from `by`, and checks the new SPIs agree and a ping crosses. */
async function rekeyCase(algs: Algs, what: 'child' | 'ike', by: 'tunkit' | 'strongswan'): Promise<void> {
  const p = new SwanPair();
  try {
    await p.start(swanctlConf('t', algs, { psk: PSK, encap: false }), swanctlConf('s', algs, { psk: PSK, encap: true }));
    p.tunkit(['ike', 'initiate', 'net-t']);
    const before = await agreeing(p, 'up');
    assert.equal(p.ping(2), 2, `ping before the rekey\n${p.logs()}`);
    const [name, swanName] = what === 'child' ? ['net-t', 'net-s'] : ['gw', 'gw'];
    if (by === 'tunkit') p.tunkit(['ike', 'rekey', `--${what}`, name]);
    else p.swanctl(['--rekey', `--${what}`, swanName]);
    let after = before;
    await until(`the ${what === 'child' ? 'Child' : 'IKE'} SA rekeyed`, p, () => {
      const s = tunkitSas(p)[0];
      if (s === undefined) return false;
      after = s;
      return what === 'child' ? s.children.some((c) => c.spiIn !== before.children[0]!.spiIn && c.state === 'INSTALLED') : s.spiI !== before.spiI;
    }, 20_000);
    after = await agreeing(p, 'after the rekey');
    if (what === 'child') {
      assert.notEqual(after.children[0]!.spiIn, before.children[0]!.spiIn);
      assert.notEqual(after.children[0]!.spiOut, before.children[0]!.spiOut);
      assert.deepEqual([after.spiI, after.spiR], [before.spiI, before.spiR], 'the IKE SA is the same');
    } else {
      assert.notEqual(after.spiR, before.spiR);
      assert.equal(after.isInitiator, by === 'tunkit', 'who rekeys is the new IKE SA\'s initiator');
      assert.deepEqual([after.children[0]!.spiIn, after.children[0]!.spiOut], [before.children[0]!.spiIn, before.children[0]!.spiOut], 'the Child SA moved over');
    }
    assert.equal(p.ping(3), 3, `ping after the rekey\n${p.logs()}`);
    const logged = what === 'child' ? /CHILD_SA net-t\{\d+\} rekeyed/ : /IKE_SA rekeyed/;
    await until(`tunkitd logs ${logged.source}`, p, () => logged.test(p.tunkitdLog)); // its log reaches the pipe in its own time
    await until('the old states are gone (the linger is 5 s)', p, () => (JSON.parse(p.tunkit(['-j', 'xfrm', 'state', 'list'])) as unknown[]).length === 2, 10_000);
    p.tunkit(['ike', 'terminate', 'gw']);
    await until('both sides drop the SAs', p, () => tunkitSas(p).length === 0 && swanSpis(p.swanctl(['--list-sas'])) === null);
  } finally {
    p.close();
  }
}

/**
 * tunkit behind a real NAT (masquerade, UDP ports remapped) and strongSwan
 * with encap = no: NAT detection finds it, both float to 4500, the Child SA
 * is ESP in UDP (no raw ESP crosses the NAT), ping and TCP cross, and each
 * end lists the addresses and ports it really talks to. strongSwan
 * initiates through a port forward of UDP 500/4500.
 */
async function natCase(t: TestContext, initiator: 'tunkit' | 'strongswan'): Promise<void> {
  const p = new SwanPair({ nat: true });
  try {
    await p.start(swanctlConf('t', GCM, { psk: PSK, encap: false, nat: true }), swanctlConf('s', GCM, { psk: PSK, encap: false, nat: true }));
    if (initiator === 'tunkit') p.tunkit(['ike', 'initiate', 'net-t']);
    else {
      p.forwardIke();
      p.swanctl(['--initiate', '--child', 'net-s', '--timeout', '20']);
    }
    const sa = await agreeing(p, 'up through the NAT');
    assert.equal(p.ping(3), 3, `ping through the tunnel and the NAT\n${p.logs()}`);
    t.diagnostic(`TCP ${XFER_BYTES} bytes: ${await tcpThrough(p, XFER_BYTES)}`);
    assert.deepEqual([sa.isInitiator, sa.isNatDetected, sa.children[0]!.encap], [initiator === 'tunkit', true, true], 'NAT detected, ESP in UDP');
    assert.deepEqual([sa.localAddr, sa.localPort, sa.remoteAddr, sa.remotePort], [NAT.t, 4500, OUTER.s, 4500], 'tunkit floated to 4500 (behind the NAT: its own address)');
    const theirs = swanSpis(p.swanctl(['--list-sas']))!;
    assert.equal(theirs.mode, 'TUNNEL-in-UDP', 'strongSwan (encap = no) chose ESP in UDP itself');
    assert.equal(theirs.remoteAddr, NAT.mid, "strongSwan's peer is the NAT's address");
    if (initiator === 'tunkit') assert.ok(theirs.remotePort >= 40000 && theirs.remotePort <= 40099, `strongSwan's peer port is the NAT's mapping of tunkit's 4500, not 500: ${theirs.remotePort}`);
    else assert.equal(theirs.remotePort, 4500, 'strongSwan floated to the forwarded 4500');
    const wire = p.natForwarded();
    assert.equal(wire.esp, 0, 'no raw ESP through the NAT');
    assert.ok(wire.udp4500 > 2 * XFER_BYTES / 1500, `the traffic crossed the NAT in UDP 4500: ${wire.udp4500} packets`);
    p.tunkit(['ike', 'terminate', 'gw']);
    await until('both sides drop the SAs', p, () => tunkitSas(p).length === 0 && swanSpis(p.swanctl(['--list-sas'])) === null);
  } finally {
    p.close();
  }
}

/**
 * ChaCha20-Poly1305 for IKE and ESP (no Key Length attribute: RFC 7634 §2),
 * tunkit initiating: charon must list an AEAD plugin for it first; then a
 * ping and a TCP transfer each way cross, and both ends list the same IKE
 * and ESP SPIs and algorithms ("CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519"
 * and "CHACHA20_POLY1305", no key size).
 */
async function chapolyCase(t: TestContext): Promise<void> {
  const p = new SwanPair();
  try {
    await p.start(swanctlConf('t', CHAPOLY, { psk: PSK, encap: false }), swanctlConf('s', CHAPOLY, { psk: PSK, encap: true }));
    const algs = p.swanctl(['--list-algs']);
    const plugin = /\n\s+CHACHA20_POLY1305\[(\w+)\]/.exec(algs)?.[1];
    assert.ok(plugin !== undefined, `charon has no ChaCha20-Poly1305 AEAD (openssl or chapoly plugin):\n${algs}`);
    t.diagnostic(`charon's ChaCha20-Poly1305: the ${plugin} plugin`);
    p.tunkit(['ike', 'initiate', 'net-t']);
    const sa = await agreeing(p, 'up with ChaCha20-Poly1305');
    assert.equal(p.ping(3), 3, `ping through the tunnel\n${p.logs()}`);
    t.diagnostic(`TCP ${XFER_BYTES / 8} bytes: ${await tcpThrough(p, XFER_BYTES / 8)}`);
    const listed = p.swanctl(['--list-sas']);
    const theirs = swanSpis(listed)!;
    const ch = sa.children[0]!;
    assert.equal(sa.algorithms, 'CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519');
    assert.equal(theirs.ikeAlgs, sa.algorithms, `the same IKE algorithms\n${listed}`);
    assert.deepEqual([ch.algorithms, theirs.algs], ['CHACHA20_POLY1305', 'CHACHA20_POLY1305'], `the same ESP algorithms\n${listed}`);
    assert.deepEqual([theirs.ikeI, theirs.ikeR, theirs.spiIn, theirs.spiOut], [sa.spiI, sa.spiR, ch.spiOut, ch.spiIn]);
    const states = JSON.parse(p.tunkit(['-j', 'xfrm', 'state', 'list'])) as { aead?: { name: string; keyHex?: string; bits: number } }[];
    assert.deepEqual(states.map((s) => [s.aead?.name, s.aead?.bits]), [['rfc7539esp(chacha20,poly1305)', 128], ['rfc7539esp(chacha20,poly1305)', 128]], JSON.stringify(states));
    p.tunkit(['ike', 'terminate', 'gw']);
    await until('both sides drop the SAs', p, () => tunkitSas(p).length === 0 && swanSpis(p.swanctl(['--list-sas'])) === null);
  } finally {
    p.close();
  }
}

/**
 * Both ends rekey the same SA while UDP 4500 is blocked both ways (nft), so
 * neither request gets through; once unblocked, the retransmissions (4 s
 * later on both) cross: a collision (§2.8.1/§2.8.2) or a rekey of an SA
 * already replaced (§2.25). Either way one SA must survive on both ends.
 */
async function crossingCase(what: 'child' | 'ike'): Promise<void> {
  const p = new SwanPair();
  try {
    await p.start(swanctlConf('t', GCM, { psk: PSK, encap: false }), swanctlConf('s', GCM, { psk: PSK, encap: true }));
    p.tunkit(['ike', 'initiate', 'net-t']);
    const before = await agreeing(p, 'up');
    for (const ns of [p.tns, p.sns]) ns.exec('nft', ['add table inet tkcross ; add chain inet tkcross out { type filter hook output priority 0 ; } ; add rule inet tkcross out udp dport 4500 drop']);
    try {
      p.swanctl(['--rekey', `--${what}`, what === 'child' ? 'net-s' : 'gw']);
      p.tunkit(['ike', 'rekey', `--${what}`, what === 'child' ? 'net-t' : 'gw']);
      await sleep(1000);
    } finally {
      for (const ns of [p.tns, p.sns]) ns.exec('nft', ['delete table inet tkcross']);
    }
    await sleep(4000); // the first retransmissions
    const after = await agreeing(p, 'after the crossing rekeys');
    if (what === 'child') assert.notEqual(after.children[0]!.spiIn, before.children[0]!.spiIn);
    else assert.notEqual(after.spiI, before.spiI);
    assert.equal(p.ping(3), 3, `ping after the crossing rekeys\n${p.logs()}`);
    await until('one SA pair of states left', p, () => (JSON.parse(p.tunkit(['-j', 'xfrm', 'state', 'list'])) as unknown[]).length === 2, 10_000);
  } finally {
    p.close();
  }
}

describe('IKEv2 interop: tunkit ↔ strongSwan 5.9 (charon, kernel-libipsec)', () => {
  after(() => Netns.cleanupAll());

  it('prerequisites: root and strongSwan', () => {
    requireRoot();
    requireStrongswan();
  });

  it('tunkit initiates, AES-GCM-128 / X25519; tunkit deletes', (t) => roundTrip(t, GCM, 'tunkit', 'tunkit'));
  it('strongSwan initiates (tunkit responds), AES-GCM-128 / X25519; strongSwan deletes', (t) => roundTrip(t, GCM, 'strongswan', 'strongswan'));
  it('tunkit initiates, AES-CBC-256 + HMAC-SHA2-256-128 / MODP-2048; strongSwan deletes', (t) => roundTrip(t, CBC, 'tunkit', 'strongswan'));
  it('strongSwan initiates, AES-CBC-256 + HMAC-SHA2-256-128; tunkit deletes', (t) => roundTrip(t, CBC, 'strongswan', 'tunkit'));

  it('NAT-T through a real NAT (tunkit behind a masquerade, strongSwan encap = no), tunkit initiates', (t) => natCase(t, 'tunkit'));
  it('NAT-T through a real NAT, strongSwan initiates through a port forward of UDP 500/4500', (t) => natCase(t, 'strongswan'));

  it('Child SA rekey started by strongSwan (swanctl --rekey --child), AES-GCM-128', () => rekeyCase(GCM, 'child', 'strongswan'));
  it('Child SA rekey started by tunkit (tunkit ike rekey --child), AES-CBC-256 + SHA-256', () => rekeyCase(CBC, 'child', 'tunkit'));
  it('Child SA rekey with PFS (esp_proposals aes128gcm16-x25519) started by strongSwan', () => rekeyCase(PFS, 'child', 'strongswan'));
  it('Child SA rekey with PFS started by tunkit', () => rekeyCase(PFS, 'child', 'tunkit'));
  it('IKE SA rekey started by strongSwan (swanctl --rekey --ike)', () => rekeyCase(GCM, 'ike', 'strongswan'));
  it('IKE SA rekey started by tunkit (tunkit ike rekey --ike)', () => rekeyCase(CBC, 'ike', 'tunkit'));

  it('ChaCha20-Poly1305 (chacha20poly1305-prfsha256-x25519 / chacha20poly1305), tunkit initiates', (t) => chapolyCase(t));

  it('crossing Child SA rekeys from both ends: one SA pair survives on both', () => crossingCase('child'));
  it('crossing IKE SA rekeys from both ends: one IKE SA survives on both, with the child', () => crossingCase('ike'));

  it('a wrong PSK: tunkit refuses strongSwan, strongSwan refuses tunkit, nothing installed', async () => {
    const p = new SwanPair();
    try {
      await p.start(swanctlConf('t', GCM, { psk: PSK, encap: false }), swanctlConf('s', GCM, { psk: 'not the same secret', encap: true }));
      const r = p.tunkitRun(['ike', 'initiate', 'net-t']);
      assert.notEqual(r.code, 0);
      assert.match(r.out, /AUTHENTICATION_FAILED/);
      let failed = false;
      try { p.swanctl(['--initiate', '--child', 'net-s', '--timeout', '20']); } catch { failed = true; }
      assert.ok(failed, 'swanctl --initiate fails');
      await until('tunkit logs why', p, () => /AUTHENTICATION_FAILED: the AUTH of 's.example' does not verify/.test(p.tunkitdLog));
      assert.deepEqual(tunkitSas(p), []);
      assert.equal((JSON.parse(p.tunkit(['-j', 'xfrm', 'state', 'list'])) as unknown[]).length, 0);
    } finally {
      p.close();
    }
  });
});
