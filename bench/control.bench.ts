// Control-plane scale benchmark (root; not a test): a real tunkitd in a
// throwaway network namespace, driven over its control socket with the
// client (src/daemon/client.ts) one request at a time, as `tunkit` does.
// Adds N `dir in` policies (the case that used to cost O(N) per add), then
// M out policies with tunnel templates and M tunnel SAs (these still resync
// the policy TUN's routes: `ip route replace` per new route), and reports
// the time per add for each block of 1,000 — flat when an add does not
// grow with the table.
// Addresses (doc-addrs.ts): documentation ranges only. The policies select
// IPv6 traffic, site i's 2001:db8:HI:LO::/64 <-> the hub's 2001:db8:ffff::/48
// (until this change private IPv4 /24s, of which the 768 addresses of IPv4
// documentation space cannot give 10,000), so the routes the out policies
// resync are IPv6 routes into the policy TUN. The SAs and templates stay
// IPv4 (198.51.100.1 to the peers); the SAs select ::/0, so an out policy's
// route still gets its SA's MTU (xfrm-routes.ts finds the SA with a flow of
// the policy's selector). The peers cycle through the 760 IPv4
// documentation hosts; each SA keeps a distinct SPI and reqid.
//
//   node dist/bench/control.bench.js [N=10000] [M=1000]
// Removes the namespace (and with it the daemon's devices) on exit.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from '../src/daemon/client.js';
import { REPO_ROOT } from '../test/util/paths.js';
import { HUB, HUB_NET, peer, site } from './doc-addrs.js';

const NS = `tkscale${process.pid}`;
const SOCK = `/run/tunkit/${NS}.sock`;
const N = Number(process.argv[2] ?? 10_000);
const M = Number(process.argv[3] ?? 1_000);
const BLOCK = 1_000;
const AEAD = { name: 'rfc4106(gcm(aes))', keyHex: '11'.repeat(20), bits: 128 };

const ip = (...args: string[]): void => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Times `count` sequential requests made by `req(i)`; µs per request for each block of BLOCK. */
async function blocks(label: string, count: number, req: (i: number) => Promise<unknown>): Promise<string> {
  const per: string[] = [];
  let t0 = performance.now();
  const start = t0;
  for (let i = 0; i < count; i++) {
    await req(i);
    if ((i + 1) % BLOCK === 0 || i + 1 === count) {
      const n = (i % BLOCK) + 1;
      per.push(((performance.now() - t0) * 1e3 / n).toFixed(0));
      t0 = performance.now();
    }
  }
  return `${label}: ${count} adds in ${((performance.now() - start) / 1e3).toFixed(1)} s; µs per add by block of ${BLOCK}: ${per.join(' ')}`;
}

if (process.getuid?.() !== 0) throw new Error('run as root: it creates a network namespace');
ip('netns', 'add', NS);
mkdirSync('/run/tunkit', { recursive: true });
const daemon = spawn('ip', ['netns', 'exec', NS, process.execPath, join(REPO_ROOT, 'bin', 'tunkitd'), '--socket', SOCK], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
daemon.stderr.on('data', (d: Buffer) => { log += d.toString(); });
try {
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  for (let i = 0; i < 200 && !existsSync(SOCK); i++) await sleep(25);
  if (!existsSync(SOCK)) throw new Error(`tunkitd did not start: ${log}`);
  const lines = [
    await blocks('dir in policies', N, (i) => request(SOCK, 'xfrm.policy.add', { policy: { sel: { src: site(i), dst: HUB_NET }, dir: 'in' } })),
    await blocks('tunnel SAs (route resync)', M, (i) => request(SOCK, 'xfrm.state.add', {
      state: { src: HUB, dst: peer(i), proto: 'esp', spi: 0x1000 + i, mode: 'tunnel', reqid: i + 1, aead: AEAD, sel: { src: '::/0', dst: '::/0' } },
    })),
    await blocks('dir out tunnel policies (route resync + ip route replace)', M, (i) => request(SOCK, 'xfrm.policy.add', {
      policy: { sel: { src: HUB_NET, dst: site(i) }, dir: 'out', tmpls: [{ src: HUB, dst: peer(i), proto: 'esp', mode: 'tunnel', reqid: i + 1 }] },
    })),
  ];
  console.log([`control socket scale, node ${process.version}`, ...lines].join('\n'));
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => { daemon.once('exit', r); setTimeout(r, 3000); });
  spawnSync('ip', ['netns', 'del', NS]);
}
