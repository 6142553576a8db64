// The xfrm interface counter rules (src/xfrm/xfrmi.ts), one per outcome, as
// xfrmi_xmit / xfrmi_xmit2 / xfrmi_rcv_cb keep them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XfrmStat } from '../../src/xfrm/mib.js';
import { XDrop, XfrmResult } from '../../src/xfrm/result.js';
import { xfrmiRxDone, xfrmiTxDone, xfrmiTxRefused } from '../../src/xfrm/xfrmi.js';
import type { XfrmiStats } from '../../src/xfrm/xfrmi.js';

const zero = (): XfrmiStats => ({
  tx_packets: 0, tx_bytes: 0, tx_errors: 0, tx_dropped: 0, tx_carrier_errors: 0, tx_aborted_errors: 0, rx_packets: 0, rx_bytes: 0, rx_dropped: 0,
});
const refused = (f: (r: XfrmResult) => void): XfrmiStats => {
  const s = zero();
  const r = new XfrmResult();
  f(r);
  xfrmiTxRefused(s, r);
  return s;
};

test('xfrmi tx: sent counts packets and inner bytes; a send the socket refuses is tx_errors + tx_aborted_errors', () => {
  const s = zero();
  xfrmiTxDone(s, 84, true);
  xfrmiTxDone(s, 84, false);
  assert.deepEqual([s.tx_packets, s.tx_bytes, s.tx_errors, s.tx_aborted_errors], [1, 84, 1, 1]);
});

test('xfrmi tx refused: lookup failures are link failures, too big is a drop, the rest aborted', () => {
  for (const f of [(r: XfrmResult) => { r.drop = XDrop.NoPolicy; }, (r: XfrmResult) => { r.mib = XfrmStat.OutNoStates; }, (r: XfrmResult) => { r.mib = XfrmStat.OutPolBlock; }]) {
    const s = refused(f);
    assert.deepEqual([s.tx_errors, s.tx_carrier_errors, s.tx_dropped, s.tx_aborted_errors], [1, 1, 1, 0]);
  }
  const big = refused((r) => { r.drop = XDrop.TooBig; });
  assert.deepEqual([big.tx_errors, big.tx_carrier_errors, big.tx_dropped, big.tx_aborted_errors], [1, 0, 1, 0]);
  const expired = refused((r) => { r.mib = XfrmStat.OutStateExpired; });
  assert.deepEqual([expired.tx_errors, expired.tx_carrier_errors, expired.tx_dropped, expired.tx_aborted_errors], [1, 0, 0, 1]);
});

test('xfrmi rx: written counts packets and bytes, a refused write is rx_dropped', () => {
  const s = zero();
  xfrmiRxDone(s, 100, true);
  xfrmiRxDone(s, 100, false);
  assert.deepEqual([s.rx_packets, s.rx_bytes, s.rx_dropped], [1, 100, 1]);
});
