// nf_tables messages (wire/nftables.ts) against libnftnl's bytes for the
// same rule (test/vectors/nftables.json), a counter reply parsed, and the
// writer's bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NLMSG_HDRLEN, NlMsg } from '../../src/wire/netlink.js';
import {
  emitBatchMark, emitNewRule, NF_DROP, NFNL_MSG_BATCH_BEGIN, NFT_MSG_NEWOBJ, NFT_MSG_NEWRULE, nftType, NlWriter, parseCounter,
} from '../../src/wire/nftables.js';
import { peerRules } from '../../src/xfrm/enforce.js';
import { parseXAddr } from '../../src/xfrm/selector.js';
import { hex, toHex } from '../util/hex.js';
import { loadJson } from '../util/paths.js';

const V = new Map(loadJson<{ vectors: { name: string; hex: string }[] }>('nftables.json').vectors.map((v) => [v.name, v.hex]));

test('NFT_MSG_NEWRULE: byte-equal to what nft (libnftnl) sends for the same rule', () => {
  const w = new NlWriter(new Uint8Array(1024).fill(0xa5));
  // enforce.ts's ESP rule for a peer on output, its accept swapped for the counter and drop.
  const esp = peerRules([parseXAddr('peer', '198.51.100.2')], true)[0]!;
  assert.deepEqual(esp.at(-1), { kind: 'verdict', code: 1 });
  emitNewRule(w, 7, 'tunkit', 'output', [...esp.slice(0, -1), { kind: 'counter', name: 'out_pol_block' }, { kind: 'verdict', code: NF_DROP }]);
  const m = new NlMsg();
  assert.ok(m.wrap(w.buf, 0, w.length));
  assert.equal(m.length, w.length);
  assert.equal(m.type, nftType(NFT_MSG_NEWRULE));
  assert.equal(m.seq, 7);
  assert.equal(toHex(w.buf.subarray(NLMSG_HDRLEN, w.length)), V.get('newrule-daddr-esp-counter-drop'));
});

test('batch marks carry the nf_tables subsystem in res_id; the writer refuses to overrun its buffer', () => {
  const w = new NlWriter(new Uint8Array(20));
  emitBatchMark(w, false, 1);
  assert.equal(w.length, 20);
  assert.deepEqual([...w.buf.subarray(4, 6)], [NFNL_MSG_BATCH_BEGIN, 0]);
  assert.deepEqual([...w.buf.subarray(16, 20)], [0, 0, 0, 10]);
  assert.throws(() => emitBatchMark(w, true, 2), RangeError);
});

test('parseCounter: NFTA_OBJ_DATA { NFTA_COUNTER_PACKETS be64 } of a NEWOBJ reply; null when absent or malformed', () => {
  // nfgenmsg, then NFTA_OBJ_DATA (4 | NESTED) { BYTES (1) be64, PACKETS (2) be64 = 2^32 + 5 }.
  const body = hex('01000000' + '1c000480' + '0c000100' + '0000000000000064' + '0c000200' + '0000000100000005');
  const b = new Uint8Array(NLMSG_HDRLEN + body.length);
  b.set(body, NLMSG_HDRLEN);
  b[0] = b.length;
  b[4] = NFT_MSG_NEWOBJ;
  b[5] = 10;
  const m = new NlMsg();
  assert.ok(m.wrap(b));
  assert.equal(parseCounter(m), 2 ** 32 + 5);
  b[NLMSG_HDRLEN + 4 + 4 + 12 + 2] = 3; // PACKETS → an unknown attribute
  assert.equal(parseCounter(m), null);
  const short = new Uint8Array(NLMSG_HDRLEN + 2);
  short[0] = short.length;
  assert.ok(m.wrap(short));
  assert.equal(parseCounter(m), null);
});
