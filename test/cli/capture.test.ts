// `tunkit capture` argument parsing (src/cli/capture.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/args.js';
import { parseCapture } from '../../src/cli/capture.js';

test('parseCapture: DEV, side, -w FILE, -c COUNT in any order', () => {
  assert.deepEqual(parseCapture(['gre1']), { dev: 'gre1', side: 'inner', file: null, count: 0 });
  assert.deepEqual(parseCapture(['gre1', 'outer', '-w', 'x.pcap', '-c', '10']), { dev: 'gre1', side: 'outer', file: 'x.pcap', count: 10 });
  assert.deepEqual(parseCapture(['-c', '1', 'inner', 'tap1']), { dev: 'tap1', side: 'inner', file: null, count: 1 });
});

test('parseCapture: bad input is a UsageError naming it', () => {
  const bad = (argv: string[], re: RegExp): void => assert.throws(() => parseCapture(argv), (e: unknown) => e instanceof UsageError && re.test(e.message), argv.join(' '));
  bad([], /needs a device/);
  bad(['gre1', '-c', '0'], /-c takes a packet count/);
  bad(['gre1', '-c', 'x'], /-c takes a packet count/);
  bad(['gre1', '-w'], /"-w" needs an argument/);
  bad(['gre1', 'gre2'], /argument "gre2" is wrong/);
  bad(['gre1', '-x'], /argument "-x" is wrong/);
});
