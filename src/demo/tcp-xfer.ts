// A verified TCP transfer for the demo and system tests:
//   node tcp-xfer.js server ADDR PORT      → prints "<bytes> <sha256>" once the peer closes
//   node tcp-xfer.js client ADDR PORT BYTES → sends BYTES of deterministic data, prints "<bytes> <sha256>"
// Both sides print the same line when the content crossed intact.

import { createHash } from 'node:crypto';
import { createConnection, createServer } from 'node:net';

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function server(addr: string, port: number): void {
  const srv = createServer((s) => {
    const h = createHash('sha256');
    let n = 0;
    s.on('data', (d: Buffer) => { h.update(d); n += d.length; });
    s.on('end', () => {
      process.stdout.write(`${n} ${h.digest('hex')}\n`);
      s.end();
      srv.close();
    });
  });
  srv.listen(port, addr, () => process.stdout.write('listening\n'));
}

function client(addr: string, port: number, bytes: number): void {
  const data = pattern(bytes);
  const s = createConnection({ host: addr, port }, () => {
    s.end(data, () => process.stdout.write(`${bytes} ${createHash('sha256').update(data).digest('hex')}\n`));
  });
  s.on('error', (e) => {
    process.stderr.write(`tcp-xfer: ${e.message}\n`);
    process.exit(1);
  });
}

const [, , mode, addr, port, bytes] = process.argv;
if (mode === 'server' && addr !== undefined && port !== undefined) server(addr, Number(port));
else if (mode === 'client' && addr !== undefined && port !== undefined && bytes !== undefined) client(addr, Number(port), Number(bytes));
else {
  process.stderr.write('usage: tcp-xfer server ADDR PORT | client ADDR PORT BYTES\n');
  process.exit(2);
}
