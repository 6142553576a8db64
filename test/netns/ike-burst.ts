// A burst of crafted IKE_SA_INIT requests, each from its own UDP source
// port (run inside a namespace by ike-live.test.ts):
//   node ike-burst.js DST COUNT
// prints one JSON line { full, cookie, other }: how many answers carried an
// SA payload (a half-open SA was made), only N(COOKIE), or something else.

import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { toWire, parseProposal } from '../../src/ike/proposal.js';
import { IKE_SA_INIT, IKE_VERSION, N, PL, PROTO_IKE } from '../../src/wire/ike/consts.js';
import { IkeDecodeError } from '../../src/wire/ike/header.js';
import { emitMessage, parseMessage } from '../../src/wire/ike/message.js';

const [dst, countText] = process.argv.slice(2);
const count = Number(countText ?? '0');
const parsed = parseProposal('aes128gcm16-prfsha256-x25519', PROTO_IKE);
if (dst === undefined || !(count > 0) || typeof parsed === 'string') throw new Error('usage: ike-burst DST COUNT');
const spec = parsed;

function request(): Uint8Array {
  return emitMessage({ spiI: new Uint8Array(randomBytes(8)), spiR: new Uint8Array(8), version: IKE_VERSION, exchange: IKE_SA_INIT, flags: 0x08, messageId: 0 }, [
    { type: PL.SA, proposals: [toWire(spec, 1, new Uint8Array(0))] },
    { type: PL.KE, group: 31, data: new Uint8Array(randomBytes(32)) },
    { type: PL.NONCE, data: new Uint8Array(randomBytes(32)) },
  ]);
}

const tally = { full: 0, cookie: 0, other: 0 };
const socks: Socket[] = [];
let answered = 0;
const done = (): void => {
  for (const s of socks) s.close();
  process.stdout.write(`${JSON.stringify(tally)}\n`);
};
const timer = setTimeout(done, 3000);
for (let i = 0; i < count; i++) {
  const s = createSocket('udp4');
  socks.push(s);
  s.on('message', (m) => {
    const msg = parseMessage(new Uint8Array(m));
    if (msg instanceof IkeDecodeError) tally.other++;
    else if (msg.payloads.some((p) => p.type === PL.SA)) tally.full++;
    else if (msg.payloads.length === 1 && msg.payloads[0]!.type === PL.N && msg.payloads[0]!.notifyType === N.COOKIE) tally.cookie++;
    else tally.other++;
    if (++answered === count) { clearTimeout(timer); done(); }
  });
  s.bind(0, () => s.send(request(), 500, dst));
}
