#!/usr/bin/env node
// Host side of the kernel-peer command channel (guest side: guest-init).
//
//   node exec-client.mjs SOCKET TIMEOUT_S SCRIPT     (SCRIPT "-": read stdin)
//
// Sends SCRIPT to the guest over QEMU's unix socket, writes the guest's
// merged stdout+stderr to stdout and exits with the script's exit code
// (124: the guest's timeout killed it; 255: no answer or a channel error).
// kernel-peer.sh serializes callers; this client only waits for the answer
// that carries its own request id.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';

const [sockPath, timeoutArg, scriptArg] = process.argv.slice(2);
const fail = (msg) => {
  process.stderr.write(`kernel-peer exec: ${msg}\n`);
  process.exit(255);
};
if (sockPath === undefined || scriptArg === undefined || !/^\d+$/.test(timeoutArg ?? '')) {
  fail('usage: exec-client.mjs SOCKET TIMEOUT_S SCRIPT|-');
}
const timeoutS = Number(timeoutArg);
// stdin may be a non-blocking pipe (readFileSync(0) would throw EAGAIN).
const readStdin = async () => {
  const parts = [];
  for await (const part of process.stdin) parts.push(part);
  return Buffer.concat(parts);
};
const script = scriptArg === '-' ? await readStdin() : Buffer.from(scriptArg);
const id = `${process.pid}_${randomBytes(4).toString('hex')}`;
const header = new RegExp(`\\n@@KP-OUT ${id} (\\d+) (\\d+)\\n`);

// Before the header: a window of text being searched for it (whatever
// precedes it is dropped). After it: the output's chunks until n bytes.
let pending = '';
let rc = -1;
let want = 0;
let got = 0;
const out = [];
const sock = connect(sockPath);
// The guest's own timeout fires first; this one covers a hung channel.
const timer = setTimeout(() => fail(`no answer from the guest within ${timeoutS + 30} s`), (timeoutS + 30) * 1000);

const finish = () => {
  clearTimeout(timer);
  sock.removeAllListeners('close');
  sock.destroy();
  const all = Buffer.concat(out);
  process.stdout.write(all.subarray(0, want), () => process.exit(rc));
};

sock.on('connect', () => sock.write(`${id} ${timeoutS} ${script.toString('base64')}\n`));
sock.on('error', (err) => fail(`${sockPath}: ${err.message}`));
sock.on('close', () => fail('the guest closed the channel'));
sock.on('data', (chunk) => {
  if (rc < 0) {
    // latin1: one character per byte, so string offsets are byte offsets.
    pending += chunk.toString('latin1');
    const m = header.exec(pending);
    if (m === null) {
      pending = pending.slice(-200); // enough to hold a header cut in two
      return;
    }
    rc = Number(m[1]);
    want = Number(m[2]);
    out.push(Buffer.from(pending.slice(m.index + m[0].length), 'latin1'));
    pending = '';
  } else {
    out.push(chunk);
  }
  got += out[out.length - 1].length;
  if (got >= want) finish();
});
