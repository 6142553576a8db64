// Scale through the CLI (not a test; test/reliability/scale.test.ts asserts
// the same bounded): a tunkitd in a fresh network namespace pair filled by
// `tunkit -batch -` with N GRE tunnels (added and set up) and N SA pairs
// with an out and an in policy each; prints the time to add each set, the
// daemon's RSS before and after, the time to list links, states and
// policies, and the per-packet cost of tunnel 1 / site 1 through the
// sans-I/O cores with 1 and with N objects (ns, least of 5 rounds).
//
//   sudo node dist/bench/scale-cli.bench.js [N]     (default 2000)

import { withPair } from '../test/netns/pair.js';
import { cliScale, ipsecCost, tunnelCost } from '../test/reliability/scale-core.js';

const n = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(n) || n < 1) throw new Error(`N must be a positive integer, got "${process.argv[2] ?? ''}"`);

const log = (s: string): void => { process.stdout.write(`${s}\n`); };
tunnelCost(1, 2000);
ipsecCost(1, 2000);
for (const [what, cost] of [['gre receive+xmit, tunnel 1', tunnelCost], ['esp output+input, site 1', ipsecCost]] as const) {
  const one = cost(1, 20_000);
  const many = cost(n, 20_000);
  log(`${what}: ${one.toFixed(0)} ns with 1, ${many.toFixed(0)} ns with ${n} (x${(many / one).toFixed(2)})`);
}
await withPair('tkbs', async (p) => {
  const r = await cliScale(p, n, (m) => log(`  ${m}`));
  log(`tunkitd RSS: ${r.rssIdleMiB.toFixed(1)} MiB idle, ${r.rssTunnelsMiB.toFixed(1)} MiB with ${n} tunnels, ${r.rssMiB.toFixed(1)} MiB with ${n} tunnels + ${2 * n} SAs + ${2 * n} policies`);
  const kib = (mib: number): string => ((mib * 1024) / n).toFixed(1);
  log(`RSS per object: ${kib(r.rssTunnelsMiB - r.rssIdleMiB)} KiB per tunnel, ${kib(r.rssMiB - r.rssTunnelsMiB)} KiB per SA pair + 2 policies`);
  log(`add: ${n} tunnels ${r.addTunnelsS.toFixed(1)} s (${((r.addTunnelsS * 1000) / n).toFixed(2)} ms each), ${n} SA pairs + policies ${r.addIpsecS.toFixed(1)} s (${((r.addIpsecS * 1000) / n).toFixed(2)} ms each)`);
  log(`list: link show ${r.listLinksS.toFixed(2)} s (${r.links}), xfrm state ${r.listStatesS.toFixed(2)} s (${r.states}), xfrm policy ${r.listPoliciesS.toFixed(2)} s (${r.policies})`);
});
