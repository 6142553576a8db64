// Runs a compiled script in a child node without coverage and returns its
// stdout (asserting exit 0): for measurements of optimized code, which
// coverage (c8, NODE_V8_COVERAGE) keeps from being optimized.
// child_process copies NODE_V8_COVERAGE into an env that lacks it, so it is
// set empty (= off) rather than deleted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export function runWithoutCoverage(script: string, args: readonly string[] = [], timeoutMs = 120_000): string {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, NODE_V8_COVERAGE: '' }, timeout: timeoutMs });
  assert.equal(r.status, 0, `${script} ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
}
