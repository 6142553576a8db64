// `tunkit xfrm state add … KEY` with KEY = @FILE: the CLI reads the key from
// a file only its owner may read and sends it over the socket; a key typed
// on the command line (visible in ps) gets one warning.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/args.js';
import { parseXfrmArgs } from '../../src/cli/xfrm-args.js';
import type { KeyInput } from '../../src/cli/xfrm-keymat-args.js';
import { cliKeys } from '../../src/cli/xfrm.js';
import { main } from '../../src/cli/main.js';
import { ControlServer } from '../../src/daemon/server.js';

const HEX = 'ab'.repeat(20);
const add = (key: string, keys?: KeyInput): string => {
  const c = parseXfrmArgs(['state', 'add', 'src', '198.51.100.1', 'dst', '198.51.100.2', 'proto', 'esp', 'spi', '1', 'mode', 'tunnel',
    'aead', 'rfc4106(gcm(aes))', key, '128'], keys);
  assert.ok(c.obj === 'state' && c.state.cmd === 'add');
  return c.state.state.aead?.keyHex ?? '';
};

test('@FILE: the key from the file (0x or bare hex, whitespace ignored); a literal key is reported once per use', () => {
  let literal = 0;
  const files: Record<string, string> = { '/k1': `0x${HEX}\n`, '/k2': `  ${HEX.toUpperCase()}  `, '/bad': 'not hex' };
  const keys: KeyInput = {
    readFile: (p) => { const t = files[p]; if (t === undefined) throw new Error('ENOENT: no such file'); return t; },
    onLiteral: () => { literal++; },
  };
  assert.equal(add('@/k1', keys), HEX);
  assert.equal(add('@/k2', keys), HEX);
  assert.equal(literal, 0);
  assert.equal(add(`0x${HEX}`, keys), HEX);
  assert.equal(literal, 1);
  assert.throws(() => add('@/bad', keys), (e: unknown) => e instanceof UsageError && /key file \/bad does not hold a hex key/.test(e.message));
  assert.throws(() => add('@/none', keys), (e: unknown) => e instanceof UsageError && /key file \/none: ENOENT/.test(e.message));
  assert.equal(add('@/k1'), Buffer.from('@/k1').toString('hex'), 'without a KeyInput the word is ip\'s: its bytes');
});

test('cliKeys: a key file readable by group or others is refused; the literal-key warning is printed once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-key-'));
  try {
    const f = join(dir, 'sa.key');
    writeFileSync(f, `0x${HEX}\n`);
    chmodSync(f, 0o600);
    const warned: string[] = [];
    const keys = cliKeys((s) => warned.push(s));
    assert.equal(add(`@${f}`, keys), HEX);
    chmodSync(f, 0o644);
    assert.throws(() => add(`@${f}`, keys), /is readable by group or others \(mode 0644\)/);
    add(`0x${HEX}`, keys);
    add(`0x${HEX}`, keys);
    assert.equal(warned.length, 1);
    assert.match(warned[0]!, /visible to other users .*@FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-batch: keys read from the batch input never were on argv, so no warning; a key on argv gets one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-key-'));
  const sock = join(dir, 'ctl.sock');
  const srv = new ControlServer(sock, () => ({}), () => {});
  await srv.listen();
  try {
    const line = (spi: number): string[] => ['xfrm', 'state', 'add', 'src', '198.51.100.1', 'dst', '198.51.100.2', 'proto', 'esp', 'spi', String(spi),
      'mode', 'tunnel', 'aead', 'rfc4106(gcm(aes))', `0x${HEX}`, '128'];
    const batch = join(dir, 'b.txt');
    writeFileSync(batch, `${line(1).join(' ')}\n${line(2).join(' ')}\n`, { mode: 0o600 });
    const err: string[] = [];
    const io = { out: (): void => undefined, err: (s: string): void => { err.push(s); } };
    assert.equal(await main(['--socket', sock, '-batch', batch], io), 0, err.join('\n'));
    assert.deepEqual(err.filter((s) => s.includes('visible to other users')), [], 'no warning for batch lines');
    assert.equal(await main(['--socket', sock, ...line(3)], io), 0, err.join('\n'));
    assert.equal(err.filter((s) => s.includes('visible to other users')).length, 1, 'one warning for a key on argv');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
