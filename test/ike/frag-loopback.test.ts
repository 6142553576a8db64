// RFC 7383 between two tunkit cores in memory: IKEV2_FRAGMENTATION_SUPPORTED
// in IKE_SA_INIT both ways; an IKE_AUTH with a certificate chain (a leaf
// padded with 160 SANs, under an intermediate) sent as 30+ SKF fragments
// each way and the SA up; `fragmentation = no` and `accept` with
// strongSwan's meanings; a lost response: the request's every fragment
// retransmitted, the response resent once (on fragment 1, §2.6.1).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readSwanctl } from '../../src/daemon/ike-shell.js';
import { CHARON_DEFAULTS } from '../../src/ike/charon.js';
import { IkeCore } from '../../src/ike/core.js';
import { IKE_AUTH, IKE_HDR_LEN, IKE_SA_INIT, N, PL } from '../../src/wire/ike/consts.js';
import { IkeDecodeError } from '../../src/wire/ike/header.js';
import { parseMessage } from '../../src/wire/ike/message.js';
import { ADDR, FakeHost } from './pair.js';
import type { Pair, Wire } from './pair.js';
import { Pki } from './pki.js';
import type { Leaf } from './pki.js';

/** Delivers everything both ways until quiet, keeping a copy of every datagram. */
function pumpAll(p: Pair, seen: Wire[], drop: (w: Wire) => boolean = () => false): void {
  for (let i = 0; i < 200; i++) {
    const fromA = p.ha.sent.splice(0);
    const fromB = p.hb.sent.splice(0);
    if (fromA.length === 0 && fromB.length === 0) return;
    seen.push(...fromA, ...fromB);
    for (const w of fromA) if (!drop(w)) p.b.receive(w.data, w.from, w.to, p.now);
    for (const w of fromB) if (!drop(w)) p.a.receive(w.data, w.from, w.to, p.now);
  }
  throw new Error('pumpAll: never quiet');
}

const isSkf = (w: Wire): boolean => w.data[16] === PL.SKF;
const exchangeOf = (w: Wire): number => w.data[18]!;
const isFrom = (addr: string) => (w: Wire): boolean => w.from.addr === addr;
/** Whether the clear IKE_SA_INIT message carries N(IKEV2_FRAGMENTATION_SUPPORTED). */
function announces(w: Wire | undefined): boolean {
  const m = w !== undefined ? parseMessage(w.data) : new IkeDecodeError('none');
  assert.ok(!(m instanceof IkeDecodeError), 'IKE_SA_INIT decodes');
  return m.payloads.some((p) => p.type === PL.N && p.notifyType === N.IKEV2_FRAGMENTATION_SUPPORTED);
}

function initiate(p: Pair): { err: string | null } {
  const res: { err: string | null } = { err: 'pending' };
  p.a.initiate('net-a', p.now, (err) => { res.err = err; });
  return res;
}

function certConf(me: 'a' | 'b', frag: string): string {
  const peer = me === 'a' ? 'b' : 'a';
  const ts = { a: '203.0.113.0/28', b: '203.0.113.16/28' };
  return `connections {
  gw {
    local_addrs = ${ADDR[me]}
    remote_addrs = ${ADDR[peer]}
    proposals = aes256-sha256-x25519
    fragmentation = ${frag}
    local {
      certs = ${me}.pem
      id = ${me}.example
    }
    remote {
      id = ${peer}.example
    }
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

describe('IKE fragmentation (RFC 7383): tunkit ↔ tunkit in memory', () => {
  let pki: Pki;
  const leaves: Record<string, Leaf> = {};
  before(() => {
    pki = new Pki();
    const sans = Array.from({ length: 160 }, (_x, i) => `DNS:host-${i}.padding.example`);
    leaves.a = pki.leaf('a', 'rsa', 'a.example', 'inter', sans);
    leaves.b = pki.leaf('b', 'rsa', 'b.example', 'inter', sans);
  });
  after(() => pki.close());

  function certPair(fragA: string, fragB: string, fragmentSize: number): Pair {
    const load = (me: 'a' | 'b', frag: string): IkeCore => {
      const path = pki.swanctlDir(`${me}-${fragA}-${fragB}-${fragmentSize}`, certConf(me, frag), {
        x509: { [`${me}.pem`]: leaves[me]!.cert }, x509ca: { 'ca.pem': pki.pem('ca'), 'inter.pem': pki.pem('inter') }, private: { [`${me}.key`]: leaves[me]!.key },
      });
      const c = new IkeCore(readSwanctl(path), me === 'a' ? ha : hb);
      c.charon = { ...CHARON_DEFAULTS, fragmentSize };
      return c;
    };
    const ha = new FakeHost(ADDR.a);
    const hb = new FakeHost(ADDR.b);
    return { a: load('a', fragA), b: load('b', fragB), ha, hb, now: Date.now() };
  }

  it('a certificate chain over 4 KB: IKE_AUTH goes as 30+ fragments each way and the SA comes up', () => {
    const p = certPair('yes', 'yes', 256);
    const seen: Wire[] = [];
    const res = initiate(p);
    pumpAll(p, seen);
    const logs = `${p.ha.logs.join('\n')}\n--\n${p.hb.logs.join('\n')}`;
    assert.equal(res.err, null, logs);
    assert.equal(p.a.list()[0]?.state, 'ESTABLISHED');
    assert.equal(p.b.list()[0]?.children.length, 1);
    const init = seen.filter((w) => exchangeOf(w) === IKE_SA_INIT);
    assert.ok(announces(init.find(isFrom(ADDR.a))) && announces(init.find(isFrom(ADDR.b))), 'both announce IKEV2_FRAGMENTATION_SUPPORTED');
    const authA = seen.filter((w) => exchangeOf(w) === IKE_AUTH && isFrom(ADDR.a)(w));
    const authB = seen.filter((w) => exchangeOf(w) === IKE_AUTH && isFrom(ADDR.b)(w));
    assert.ok(authA.length >= 30 && authA.every(isSkf), `request: ${authA.length} datagrams, all SKF`);
    assert.ok(authB.length >= 30 && authB.every(isSkf), `response: ${authB.length} datagrams, all SKF`);
    assert.ok([...authA, ...authB].every((w) => w.data.length <= 256 - 28), 'no IKE_AUTH datagram over fragment_size less IPv4 and UDP');
    assert.equal(new Set(authA.map((w) => w.data[IKE_HDR_LEN + 7])).size, 1, 'one Total Fragments for the message');
    assert.ok(p.ha.logs.some((l) => new RegExp(`IKE_AUTH: splitting IKE message \\(\\d+ bytes\\) into ${authA.length} fragments`).test(l)), logs);
    assert.deepEqual([p.a.frags.txFragments, p.a.frags.rxFragments, p.a.frags.rxReassembled, p.a.frags.rxDroppedTotal], [authA.length, authB.length, 1, 0]);
    assert.deepEqual([p.b.frags.txFragments, p.b.frags.rxFragments, p.b.frags.rxReassembled], [authB.length, authA.length, 1]);
  });

  it('strongSwan\'s default fragment_size 1280: a few fragments, none over 1252 bytes', () => {
    const p = certPair('yes', 'yes', 1280);
    const seen: Wire[] = [];
    const res = initiate(p);
    pumpAll(p, seen);
    assert.equal(res.err, null);
    const auth = seen.filter((w) => exchangeOf(w) === IKE_AUTH);
    assert.ok(auth.length >= 4 && auth.every(isSkf) && auth.every((w) => w.data.length <= 1252), auth.map((w) => w.data.length).join(' '));
  });

  it('fragmentation = no on the responder: no notify back, nothing fragmented, still up', () => {
    const p = certPair('yes', 'no', 256);
    const seen: Wire[] = [];
    const res = initiate(p);
    pumpAll(p, seen);
    assert.equal(res.err, null);
    const init = seen.filter((w) => exchangeOf(w) === IKE_SA_INIT);
    assert.deepEqual([announces(init.find(isFrom(ADDR.a))), announces(init.find(isFrom(ADDR.b)))], [true, false]);
    assert.equal(seen.filter(isSkf).length, 0);
  });

  it('fragmentation = accept on the initiator: it announces and takes fragments but sends its own whole', () => {
    const p = certPair('accept', 'yes', 256);
    const seen: Wire[] = [];
    const res = initiate(p);
    pumpAll(p, seen);
    assert.equal(res.err, null);
    const auth = seen.filter((w) => exchangeOf(w) === IKE_AUTH);
    assert.deepEqual(auth.filter(isFrom(ADDR.a)).map((w) => w.data[16]), [PL.SK]);
    assert.ok(auth.filter(isFrom(ADDR.b)).length >= 30 && auth.filter(isFrom(ADDR.b)).every(isSkf));
  });

  it('a lost response: every request fragment retransmitted; the response resent once, on fragment 1 (§2.6.1)', () => {
    const p = certPair('yes', 'yes', 1280);
    const seen: Wire[] = [];
    const res = initiate(p);
    pumpAll(p, seen, (w) => exchangeOf(w) === IKE_AUTH && isFrom(ADDR.b)(w));
    const req = seen.filter((w) => exchangeOf(w) === IKE_AUTH && isFrom(ADDR.a)(w));
    const resp = seen.filter((w) => exchangeOf(w) === IKE_AUTH && isFrom(ADDR.b)(w));
    assert.ok(req.length >= 2 && resp.length >= 2, `IKE_AUTH fragmented: ${req.length} / ${resp.length}`);
    assert.equal(res.err, 'pending');
    seen.length = 0;
    p.now += 4000;
    p.a.tick(p.now);
    pumpAll(p, seen);
    const again = seen.filter((w) => exchangeOf(w) === IKE_AUTH && isFrom(ADDR.a)(w));
    assert.deepEqual(again.map((w) => [...w.data.subarray(IKE_HDR_LEN + 4, IKE_HDR_LEN + 8)]), req.map((w) => [...w.data.subarray(IKE_HDR_LEN + 4, IKE_HDR_LEN + 8)]), 'the same fragments again');
    assert.equal(seen.filter((w) => exchangeOf(w) === IKE_AUTH && isFrom(ADDR.b)(w)).length, resp.length, 'the response once, not once per request fragment');
    assert.equal(res.err, null);
  });
});
