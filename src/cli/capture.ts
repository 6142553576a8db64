// `tunkit capture DEV [ inner | outer ] [ -w FILE ] [ -c COUNT ]`: a pcap
// stream of what a tunkit device carries, from tunkitd itself, for hosts
// where tcpdump cannot see the device (gVisor, unprivileged containers).
// Without -w the pcap goes to stdout (`tunkit capture gre1 | tcpdump -r -`).
// Ends on SIGINT/SIGTERM, after COUNT packets, or when the device goes;
// then prints tcpdump-style counts on stderr:
//   N packets captured
//   M packets dropped by tunkitd      (the client was too slow: capture-stream.ts)

import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { captureStream } from '../daemon/client.js';
import type { Control } from '../daemon/client.js';
import { PcapWriter, PCAP_REC_HDR_LEN } from '../wire/pcap.js';
import { UsageError } from './args.js';
import type { CommandLine } from './args.js';

export const CAPTURE_USAGE = 'Usage: tunkit capture DEV [ inner | outer ] [ -w FILE ] [ -c COUNT ]';

interface CaptureCmd { readonly dev: string; readonly side: 'inner' | 'outer'; readonly file: string | null; readonly count: number }

export function parseCapture(args: readonly string[]): CaptureCmd {
  let dev: string | null = null;
  let side: 'inner' | 'outer' = 'inner';
  let file: string | null = null;
  let count = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    if (a === '-w' || a === '-c') {
      if (v === undefined) throw new UsageError(`Error: "${a}" needs an argument.\n${CAPTURE_USAGE}`, a);
      if (a === '-w') file = v;
      else if (/^[1-9][0-9]{0,8}$/.test(v)) count = Number(v);
      else throw new UsageError(`Error: argument "${v}" is wrong: -c takes a packet count (1 or more)`, 'count');
      i++;
    } else if (a === 'inner' || a === 'outer') {
      side = a;
    } else if (a === 'help') {
      throw new UsageError(CAPTURE_USAGE, 'help');
    } else if (dev === null && !a.startsWith('-')) {
      dev = a;
    } else {
      throw new UsageError(`Error: argument "${a}" is wrong.\n${CAPTURE_USAGE}`, a);
    }
  }
  if (dev === null) throw new UsageError(`Error: capture needs a device.\n${CAPTURE_USAGE}`, 'dev');
  return { dev, side, file, count };
}

/** Length of the first `n` whole records of `b` (all of them when fewer). */
function recordsPrefix(b: Buffer, n: number): { bytes: number; records: number } {
  let at = 0;
  let k = 0;
  while (k < n && at + PCAP_REC_HDR_LEN <= b.length) {
    at += PCAP_REC_HDR_LEN + b.readUInt32LE(at + 8);
    k++;
  }
  return { bytes: Math.min(at, b.length), records: k };
}

export async function runCapture(cl: CommandLine, c: Control, err: (s: string) => void): Promise<number> {
  const cmd = parseCapture(cl.args);
  const out: Writable = cmd.file !== null ? createWriteStream(cmd.file) : process.stdout;
  let written = 0;
  let dropped = 0;
  let stream: { close: () => void; done: Promise<void> } | null = null;
  out.on('error', () => stream?.close()); // EPIPE: the reader (tcpdump -c) went away
  stream = await captureStream(c.path, { dev: cmd.dev, side: cmd.side }, {
    onStart: (linktype, snaplen) => { out.write(new PcapWriter(linktype, snaplen).header()); },
    onRecords: (recs, _captured, d) => {
      dropped = d;
      if (cmd.count > 0 && written >= cmd.count) return;
      const { bytes, records } = recordsPrefix(recs, cmd.count > 0 ? cmd.count - written : Number.MAX_SAFE_INTEGER);
      out.write(recs.subarray(0, bytes));
      written += records;
      if (cmd.count > 0 && written >= cmd.count) stream?.close();
    },
  });
  const s = stream;
  const stop = (): void => s.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await s.done;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await new Promise<void>((resolve) => {
    if (out === process.stdout) out.write('', () => resolve());
    else out.end(() => resolve());
  });
  err(`${written} packets captured\n${dropped} packets dropped by tunkitd`);
  return 0;
}
