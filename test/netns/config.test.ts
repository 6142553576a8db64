// tunkitd --config FILE in two namespaces (pair.ts): a GRE tunnel, an ipip
// tunnel and an ESP SA pair with its policies, all from the file (one key
// in the file, one in a key file). Then, under 100 pings a second through
// both the GRE tunnel and the SA pair, `tunkit reload` of a file that only
// replaces the ipip tunnel: no packet is lost, the GRE device's and the
// SAs' counters are not reset and the ESP sequence numbers go on, while the
// ipip device is a new one (its counters start again). A file that does not
// validate changes nothing (reload exits 2 naming line and key; SIGHUP logs
// it); a file holding keys that others may read or change is refused; SIGHUP no
// longer kills the daemon; and tunkit save → restart with that file →
// tunkit save is the identity.

import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { key, INNER, OUTER, sa, states } from './esp-fixture.js';
import { sleep, step, withPair } from './pair.js';
import type { Pair, SideName } from './pair.js';

const SPI_LR = 0x5101;
const SPI_RL = 0x5102;
const GRE = ['192.0.2.1', '192.0.2.2'] as const;
const IPIP = ['192.0.2.5', '192.0.2.6'] as const;

/** One side's config file: gre1, ipip1 (ttl given), the SA pair (L→R key literal, R→L key from `keyFile`), its policies. */
function configText(i: 0 | 1, k: { lr: string; keyFile: string }, ipipTtl: number, gre1Ttl = 64): string {
  const j = 1 - i;
  const tmpl = (a: number, b: number, spi: number): string =>
    `tmpl = [{ src = "${OUTER[a]!}", dst = "${OUTER[b]!}", reqid = ${spi}, mode = "tunnel" }]`;
  return `# netns config test, side ${i}
[link.gre1]
type = "gre"
local = "${OUTER[i]!}"
remote = "${OUTER[j]!}"
key = 42
seq = true
ttl = ${gre1Ttl}
addresses = ["${GRE[i]!}/30"]

[link.ipip1]
type = "ipip"
local = "${OUTER[i]!}"
remote = "${OUTER[j]!}"
ttl = ${ipipTtl}
addresses = ["${IPIP[i]!}/30"]

[[xfrm.state]]
src = "${OUTER[0]}"
dst = "${OUTER[1]}"
spi = ${SPI_LR}
mode = "tunnel"
reqid = ${SPI_LR}
replay-window = 32
aead = { name = "rfc4106(gcm(aes))", key = "${k.lr}", bits = 128 }

[[xfrm.state]]
src = "${OUTER[1]}"
dst = "${OUTER[0]}"
spi = ${SPI_RL}
mode = "tunnel"
reqid = ${SPI_RL}
replay-window = 32
aead = { name = "rfc4106(gcm(aes))", key = "@${k.keyFile}", bits = 128 }

[[xfrm.policy]]
src = "${INNER[i]!}/32"
dst = "${INNER[j]!}/32"
dir = "out"
${tmpl(i, j, i === 0 ? SPI_LR : SPI_RL)}

[[xfrm.policy]]
src = "${INNER[j]!}/32"
dst = "${INNER[i]!}/32"
dir = "in"
${tmpl(j, i, i === 0 ? SPI_RL : SPI_LR)}
`;
}

const SIDES: readonly [SideName, 0 | 1][] = [['left', 0], ['right', 1]];

/** Writes a file of mode 0600 (or `mode`). */
function writeSecret(path: string, text: string, mode = 0o600): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
}

const txPackets = (p: Pair, s: SideName, dev: string): number => p.stats(s, dev).tx['packets'] ?? 0;

test('tunkitd --config: reload under traffic keeps what did not change', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-config-'));
  const k = { lr: key(20), keyFile: join(dir, 'rl.key') };
  writeSecret(k.keyFile, `${key(20)}\n`);
  const file = (s: SideName): string => join(dir, `${s}.toml`);
  try {
    await withPair('tkcf', async (p) => {
      await step(t, p, 'both daemons start from their config files: GRE, ipip and ESP carry pings', async () => {
        for (const [s, i] of SIDES) {
          writeSecret(file(s), configText(i, k, 64));
          p.shOk(s, `ip addr add ${INNER[i]}/32 dev lo`);
          await p.restartDaemon(s, ['--config', file(s)]);
        }
        await p.pingOk('left', GRE[1], { count: 3 });
        await p.pingOk('left', IPIP[1], { count: 3 });
        await p.pingOk('left', INNER[1], { iface: INNER[0], count: 3 });
        assert.match(p.left.log, /event=config_applied file=\S+left\.toml added=6 removed=0 replaced=0 updated=0 unchanged=0/);
      });

      await step(t, p, 'reload under 100 pings/s through GRE and ESP: 0 lost, GRE and SA counters and ESP seq go on, ipip replaced', async () => {
        const greBefore = txPackets(p, 'left', 'gre1');
        const ipipBefore = txPackets(p, 'left', 'ipip1');
        const saBefore = sa(states(p, 'left'), SPI_LR, 'left before');
        assert.ok(ipipBefore >= 3 && greBefore >= 3 && saBefore.replay.oseq >= 3);
        const pings = [
          p.ping('left', GRE[1], { count: 300, intervalS: 0.01, waitS: 2 }),
          p.ping('left', INNER[1], { iface: INNER[0], count: 300, intervalS: 0.01, waitS: 2 }),
        ];
        await sleep(800);
        for (const [s, i] of SIDES) {
          writeSecret(file(s), configText(i, k, 32));
          const out = p.tunkitOk(s, 'reload');
          assert.match(out, /: 0 added, 0 removed, 1 replaced, 0 updated, 5 unchanged\n {2}replaced link ipip1\n$/, `[${s}] ${out}`);
        }
        const [gre, esp] = await Promise.all(pings);
        for (const r of [gre!, esp!]) {
          t.diagnostic(`${r.transmitted} sent, ${r.received} received`);
          assert.ok(r.transmitted === 300 && r.received === 300, `lost packets during reload: ${r.stdout}`);
        }
        const saAfter = sa(states(p, 'left'), SPI_LR, 'left after');
        assert.ok(txPackets(p, 'left', 'gre1') >= greBefore + 300, 'gre1 counters were not reset');
        assert.ok(saAfter.curlft.packets >= saBefore.curlft.packets + 300, `SA packets ${saBefore.curlft.packets} → ${saAfter.curlft.packets}`);
        assert.ok(saAfter.replay.oseq >= saBefore.replay.oseq + 300, `ESP seq ${saBefore.replay.oseq} → ${saAfter.replay.oseq}: it went on`);
        assert.equal(saAfter.curlft.addTime, saBefore.curlft.addTime, 'the same SA, not a new one');
        assert.equal(txPackets(p, 'left', 'ipip1'), 0, 'ipip1 is a new device');
        assert.match(p.tunkitOk('left', '-d link show ipip1'), /ttl 32/, 'with the new ttl');
        await p.pingOk('left', IPIP[1], { count: 2 });
      });

      await step(t, p, 'an invalid file changes nothing: reload exits 2 naming line and key; SIGHUP logs it and the daemon lives', async () => {
        const saved = p.tunkitOk('left', 'save');
        const bad = configText(0, k, 32).replace('ttl = 64', 'ttl = 300');
        writeSecret(file('left'), bad);
        const r = p.tunkit('left', 'reload');
        const line = bad.split('\n').findIndex((l) => l === 'ttl = 300') + 1;
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr.trim(), `Error: ${file('left')}:${line}: link "gre1": key "ttl": 300 is not in 0..255`);
        p.side('left').daemon.kill('SIGHUP');
        await sleep(300);
        assert.ok(p.isAlive('left'), 'SIGHUP does not kill tunkitd');
        assert.match(p.left.log, new RegExp(`level=error event=config_refused trigger=SIGHUP file=\\S+ err="\\S+left\\.toml:${line}: link \\\\"gre1\\\\": key \\\\"ttl\\\\": 300 is not in 0\\.\\.255"`));
        assert.equal(p.tunkitOk('left', 'save'), saved, 'nothing changed');
        await p.pingOk('left', INNER[1], { iface: INNER[0], count: 2 });
      });

      await step(t, p, 'a file holding keys is refused while group or others may read it; key files likewise', async () => {
        writeSecret(file('left'), configText(0, k, 32), 0o644);
        const r = p.tunkit('left', 'reload');
        assert.equal(r.code, 2, `${r.stderr} alive=${String(p.isAlive('left'))}`);
        assert.match(r.stderr, /holds keys but is readable by group or others \(mode 0644\)/);
        writeSecret(file('left'), configText(0, k, 32));
        chmodSync(k.keyFile, 0o640);
        const r2 = p.tunkit('left', 'reload');
        assert.match(r2.stderr, /xfrm state #2: key "aead\.key": key file \S+rl\.key: is readable by group or others \(mode 0640\)/);
        chmodSync(k.keyFile, 0o600);
        chownSync(k.keyFile, 65534, 65534);
        const r3 = p.tunkit('left', 'reload');
        assert.match(r3.stderr, /key file \S+rl\.key: is owned by uid 65534, not root/);
        chownSync(k.keyFile, 0, 0);
        assert.match(p.tunkitOk('left', 'reload'), /: 0 added, 0 removed, 0 replaced, 0 updated, 6 unchanged\n$/, 'the same file again changes nothing');
      });

      await step(t, p, 'SIGHUP applies a changed file; tunkit save → restart with it → tunkit save is the identity', async () => {
        writeSecret(file('left'), configText(0, k, 32, 63));
        const applied = (): number => (p.left.log.match(/event=config_applied \S+ added=0 removed=0 replaced=1 updated=0 unchanged=5/g) ?? []).length;
        const before = applied();
        p.side('left').daemon.kill('SIGHUP');
        for (let i = 0; i < 40 && applied() === before; i++) await sleep(50);
        assert.equal(applied(), before + 1, 'SIGHUP applied the file');
        assert.ok(p.isAlive('left'));
        assert.match(p.tunkitOk('left', '-d link show gre1'), /ttl 63/);
        const saved = p.tunkitOk('left', 'save');
        assert.match(saved, /\[link\.gre1\][^[]*addresses = \["192\.0\.2\.1\/30"\]/);
        const savedFile = join(dir, 'saved.toml');
        writeSecret(savedFile, saved);
        await p.restartDaemon('left', ['--config', savedFile]);
        assert.equal(p.tunkitOk('left', 'save'), saved);
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
