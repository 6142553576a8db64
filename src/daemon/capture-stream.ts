// The daemon side of `tunkit capture`: one client connection streams the
// pcap records of one device side (src/datapath/capture.ts).
//
//   request   {"id": N, "op": "capture", "args": {"dev": "gre1", "side": "inner"|"outer"}}
//   response  {"id": N, "ok": true, "data": {"linktype": 101, "snaplen": 262144}}
//   then      {"id": N, "pcap": "<base64 records>", "captured": C, "dropped": D}   (repeated)
// until the client closes (the tap is removed) or the device goes (the
// daemon ends the connection). Records wait in at most CAPTURE_BUFFER_BYTES
// (socket buffer + pending) per client; beyond that they are dropped and
// counted, so a slow client costs the data path nothing but the count.

import type { Socket } from 'node:net';
import type { CaptureSide, CaptureSink, CaptureTap } from '../datapath/capture.js';
import { VpnError } from '../wire/errors.js';

/** Bytes a capture client may have queued before records are dropped. */
export const CAPTURE_BUFFER_BYTES = 4 * 1024 * 1024;
/** Most record bytes per message (base64 makes it 4/3 of that on the wire). */
const CHUNK_BYTES = 192 * 1024;

/** Starts a tap: Datapath.capture bound to the daemon's data path. */
export type StartCapture = (dev: string, side: CaptureSide, sink: CaptureSink) => { tap: CaptureTap; stop: () => void } | null;

/** The checked arguments of a capture request; VpnError naming the field otherwise. */
export function captureArgs(a: Record<string, unknown>): { dev: string; side: CaptureSide } {
  const dev = a['dev'];
  if (typeof dev !== 'string' || dev === '' || dev.length > 15) throw new VpnError('EINVAL', 'capture: dev must be a device name (1 to 15 bytes)', 'dev');
  const side = a['side'] ?? 'inner';
  if (side !== 'inner' && side !== 'outer') throw new VpnError('EINVAL', 'capture: side must be inner or outer', 'side');
  return { dev, side };
}

/**
 * Serves a capture request on sock: answers (ok or the error) and, when
 * started, streams until either end goes.
 */
export function serveCapture(sock: Socket, id: number, args: Record<string, unknown>, start: StartCapture, reply: (data: unknown) => void): void {
  const { dev, side } = captureArgs(args);
  let pending: Uint8Array[] = [];
  let bytes = 0;
  let isScheduled = false;
  let tap: CaptureTap | null = null;
  const flush = (): void => {
    isScheduled = false;
    let k = 0;
    while (k < pending.length && !sock.destroyed) {
      const from = k;
      let n = 0;
      while (k < pending.length && (k === from || n + pending[k]!.length <= CHUNK_BYTES)) n += pending[k++]!.length;
      const parts: Uint8Array[] = [];
      for (let j = from; j < k; j++) parts.push(pending[j]!);
      sock.write(`${JSON.stringify({ id, pcap: Buffer.concat(parts).toString('base64'), captured: tap?.captured ?? 0, dropped: tap?.dropped ?? 0 })}\n`);
    }
    pending = [];
    bytes = 0;
  };
  const sink: CaptureSink = {
    isFull: () => sock.destroyed || sock.writableLength + bytes > CAPTURE_BUFFER_BYTES,
    push: (rec) => {
      pending.push(rec);
      bytes += rec.length;
      if (!isScheduled) {
        isScheduled = true;
        setImmediate(flush);
      }
    },
    end: () => {
      flush();
      sock.end();
    },
  };
  const c = start(dev, side, sink);
  if (c === null) throw new VpnError('ENODEV', `Cannot find device "${dev}" (not a tunkit device)`, 'dev');
  tap = c.tap;
  sock.once('close', c.stop);
  reply({ linktype: c.tap.writer.linktype, snaplen: c.tap.writer.snaplen });
}
