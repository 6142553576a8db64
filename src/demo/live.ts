// `npm run demo` (root): two network namespaces joined by veth, a tunkitd in
// each, an IPIP tunnel and a GRE tunnel (key + seq + csum) between them, and
// an IPsec ESP tunnel-mode SA pair (AES-GCM-128) between two inner prefixes;
// pings through all three, a verified TCP transfer through each, then
// `tunkit -s link show`, `tunkit -s xfrm state list` and `tunkit xfrm stat`
// from both ends. Everything it made is removed at the end, also on failure
// or Ctrl-C.
//
//   left  ns  198.51.100.1/24 ── veth ── 198.51.100.2/24  right ns
//   ipip1 192.0.2.1/30  ⇄  192.0.2.2/30
//   gre1  192.0.2.5/30  ⇄  192.0.2.6/30   (key 42, seq, csum)
//   ESP   203.0.113.0/28 ⇄ 203.0.113.16/28 (hosts .1 and .17 on lo; spi 0x1001
//         left → right, 0x1002 right → left; the daemons route the peer
//         prefix into their policy TUN ipsec0)

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, vethPair } from './netns.js';
import type { ChildProcess } from 'node:child_process';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TUNKIT = join(ROOT, 'bin', 'tunkit');
const TUNKITD = join(ROOT, 'bin', 'tunkitd');
const XFER = join(ROOT, 'dist', 'src', 'demo', 'tcp-xfer.js');
const XFER_BYTES = 4 * 1024 * 1024;
/** The ESP tunnel's inner hosts [left, right], in 203.0.113.0/28 and 203.0.113.16/28. */
const ESP_HOST = ['203.0.113.1', '203.0.113.17'] as const;

const say = (s: string): void => { process.stdout.write(`${s}\n`); };

interface Side { readonly ns: Netns; readonly sock: string; readonly daemon: ChildProcess; readonly name: string }

async function startDaemon(ns: Netns, name: string): Promise<Side> {
  const sock = `/run/tunkit/${ns.name}.sock`;
  const daemon = ns.spawn(process.execPath, [TUNKITD, '--socket', sock]);
  daemon.stderr?.on('data', (d: Buffer) => process.stdout.write(`  [${name} tunkitd] ${d.toString()}`));
  for (let i = 0; i < 100; i++) {
    if (existsSync(sock)) return { ns, sock, daemon, name };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tunkitd in ${ns.name} did not start`);
}

/** Runs `tunkit --socket S ARGS` in the side's namespace, echoing the command. */
function tunkit(s: Side, args: string): string {
  say(`[${s.name}] # tunkit ${args}`);
  return s.ns.exec(process.execPath, [TUNKIT, '--socket', s.sock, ...args.split(' ')]);
}

function sh(s: Side, cmd: string): string {
  say(`[${s.name}] # ${cmd}`);
  const [c, ...a] = cmd.split(' ');
  return s.ns.exec(c!, a);
}

function tunnel(l: Side, r: Side, name: string, spec: string, lAddr: string, rAddr: string): void {
  tunkit(l, `link add ${name} ${spec} local 198.51.100.1 remote 198.51.100.2`);
  tunkit(r, `link add ${name} ${spec} local 198.51.100.2 remote 198.51.100.1`);
  for (const [s, addr] of [[l, lAddr], [r, rAddr]] as const) {
    sh(s, `ip addr add ${addr} dev ${name}`);
    tunkit(s, `link set ${name} up`);
  }
}

/** The ESP SA pair (same keys on both daemons) and each side's out and in policy. */
function espTunnel(l: Side, r: Side): void {
  const under = ['198.51.100.1', '198.51.100.2'] as const;
  const prefix = ['203.0.113.0/28', '203.0.113.16/28'] as const;
  // A fresh AES-128 key + 4-byte salt per direction (rfc4106: 160 bits).
  const keys = [randomBytes(20), randomBytes(20)].map((k) => `0x${k.toString('hex')}`);
  for (const s of [l, r]) {
    for (const [i, spi] of [[0, '0x1001'], [1, '0x1002']] as const) {
      tunkit(s, `xfrm state add src ${under[i]} dst ${under[1 - i]!} proto esp spi ${spi} reqid ${i + 1} mode tunnel replay-window 32 aead rfc4106(gcm(aes)) ${keys[i]!} 128`);
    }
  }
  for (const [i, s] of [l, r].entries()) {
    const j = 1 - i;
    sh(s, `ip addr add ${ESP_HOST[i]!}/32 dev lo`);
    tunkit(s, `xfrm policy add src ${prefix[i]!} dst ${prefix[j]!} dir out tmpl src ${under[i]!} dst ${under[j]!} proto esp reqid ${i + 1} mode tunnel`);
    tunkit(s, `xfrm policy add src ${prefix[j]!} dst ${prefix[i]!} dir in tmpl src ${under[j]!} dst ${under[i]!} proto esp reqid ${j + 1} mode tunnel`);
  }
}

async function transfer(from: Side, to: Side, addr: string, port: number): Promise<void> {
  const srv = to.ns.spawn(process.execPath, [XFER, 'server', addr, String(port)]);
  let got = '';
  srv.stdout?.on('data', (d: Buffer) => { got += d.toString(); });
  for (let i = 0; i < 100 && !got.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const sent = from.ns.exec(process.execPath, [XFER, 'client', addr, String(port), String(XFER_BYTES)]).trim();
  await new Promise<void>((resolve) => srv.on('exit', () => resolve()));
  const ms = performance.now() - t0;
  const recv = got.replace('listening\n', '').trim();
  const ok = sent === recv;
  say(`  TCP ${from.name} → ${to.name} ${addr}: sent ${sent.split(' ')[0]} B, received ${recv.split(' ')[0]} B, sha256 ${ok ? 'match' : 'MISMATCH'}, ${(XFER_BYTES * 8 / ms / 1000).toFixed(1)} Mbit/s`);
  if (!ok) throw new Error('TCP transfer corrupted');
}

async function main(): Promise<void> {
  const left = Netns.create('tkdemo-l');
  const right = Netns.create('tkdemo-r');
  vethPair(left, '198.51.100.1/24', right, '198.51.100.2/24');
  const l = await startDaemon(left, 'left');
  const r = await startDaemon(right, 'right');
  tunnel(l, r, 'ipip1', 'type ipip', '192.0.2.1/30', '192.0.2.2/30');
  tunnel(l, r, 'gre1', 'type gre key 42 seq csum', '192.0.2.5/30', '192.0.2.6/30');
  say(sh(l, 'ping -c 3 -i 0.2 -W 2 192.0.2.2').trim());
  say(sh(l, 'ping -c 3 -i 0.2 -W 2 192.0.2.6').trim());
  espTunnel(l, r);
  say(sh(l, `ping -c 3 -i 0.2 -W 2 -I ${ESP_HOST[0]} ${ESP_HOST[1]}`).trim());
  await transfer(l, r, '192.0.2.2', 5001);
  await transfer(r, l, '192.0.2.5', 5002);
  await transfer(l, r, ESP_HOST[1], 5003);
  for (const s of [l, r]) say(`\n== ${s.name}\n${tunkit(s, '-s link show')}`);
  for (const s of [l, r]) say(`\n== ${s.name} IPsec\n${tunkit(s, '-s xfrm state list')}${tunkit(s, 'xfrm stat')}`);
  say(`\n(tunkitd routes each out policy's destination into ipsec0 with the SA's ESP path MTU:\n${sh(l, 'ip route show dev ipsec0').trim()})`);
}

main()
  .then(() => { Netns.cleanupAll(); say('\ndemo done; namespaces and devices removed'); })
  .catch((e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    Netns.cleanupAll();
    process.exitCode = 1;
  });
