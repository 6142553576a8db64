// INFORMATIONAL requests from the peer (RFC 7296 §1.4, §1.5, §2.4):
//   - empty: a liveness check (DPD); answered empty;
//   - D(IKE): the whole IKE SA goes; answered empty, then its Child SAs are removed;
//   - D(ESP, SPIs): those Child SAs go (the SPIs are the peer's inbound ones,
//     our outbound); answered with D(ESP) of our inbound SPIs (§1.4.1). An
//     SA a rekey replaced is retired instead (create-child.ts retire: the
//     successor's outbound state goes in, the old inbound one lingers);
//   - D(IKE) on an SA a crossing IKE rekey replaced: the children move to
//     the new IKE SA first (rekey-ike.ts adopt);
//   - notifies (INITIAL_CONTACT, …) alone: answered empty;
//   - N(AUTHENTICATION_FAILED): the initiator refused our AUTH (§2.21.2): answered, the SA goes.

import { be32, put32 } from '../wire/bytes.js';
import { INFORMATIONAL, N, PL, PROTO_ESP, PROTO_IKE } from '../wire/ike/consts.js';
import type { Payload } from '../wire/ike/payloads.js';
import type { IkeCore } from './core.js';
import { retire } from './create-child.js';
import { adoptOnDelete } from './rekey-ike.js';
import type { IkeSa } from './sa.js';

export function handleInformational(core: IkeCore, sa: IkeSa, mid: number, ps: readonly Payload[]): void {
  if (ps.some((p) => p.type === PL.N && p.notifyType === N.AUTHENTICATION_FAILED)) {
    core.respond(sa, INFORMATIONAL, mid, []);
    core.host.log('warn', `${sa.conn.name}[${sa.uniqueId}]: AUTHENTICATION_FAILED: '${sa.remoteId}' refused our authentication as '${sa.localId}'`);
    core.failed(sa, 'auth', `'${sa.remoteId}' refused our authentication as '${sa.localId}'`);
    core.remove(sa, 'the peer refused our authentication (AUTHENTICATION_FAILED)');
    return;
  }
  const dels = ps.filter((p): p is Extract<Payload, { type: typeof PL.D }> => p.type === PL.D);
  if (dels.some((d) => d.protocolId === PROTO_IKE)) {
    core.respond(sa, INFORMATIONAL, mid, []);
    adoptOnDelete(core, sa);
    core.host.log('info', `${sa.conn.name}[${sa.uniqueId}]: the peer deletes the IKE_SA`);
    core.live.peerDeletes(sa, null); // close_action
    core.remove(sa, 'deleted by the peer');
    return;
  }
  const ours: Uint8Array[] = [];
  for (const d of dels) {
    if (d.protocolId !== PROTO_ESP || d.spiSize !== 4) continue;
    for (const s of d.spis) {
      const spi = be32(s, 0);
      const ch = sa.children.find((c) => c.spiOut === spi);
      if (ch === undefined) continue; // §1.4.1: an SPI we do not know is ignored
      const mine = new Uint8Array(4);
      put32(mine, 0, ch.spiIn);
      ours.push(mine);
      if (ch.state === 'REKEYED' || (ch.state === 'REKEYING' && ch.collision !== null)) {
        retire(core, sa, ch); // a rekey replaced it: not a close (no close_action)
      } else {
        core.live.peerDeletes(sa, ch); // close_action
        core.removeChild(sa, ch);
      }
    }
  }
  core.respond(sa, INFORMATIONAL, mid, ours.length > 0 ? [{ type: PL.D, protocolId: PROTO_ESP, spiSize: 4, spis: ours }] : []);
  if (dels.length === 0 && ps.length === 0) core.host.log('debug', `${sa.conn.name}[${sa.uniqueId}]: liveness check answered`);
}
