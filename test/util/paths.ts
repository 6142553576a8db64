// Locates repository files from compiled tests (dist/test/...) and sources alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRoot();

/** Absolute path of a file under test/vectors/. */
export const vectorPath = (name: string): string => join(REPO_ROOT, 'test', 'vectors', name);

/** Parsed JSON from test/vectors/<name>. */
export const loadJson = <T>(name: string): T => JSON.parse(readFileSync(vectorPath(name), 'utf8')) as T;

/** Raw bytes of test/vectors/<name>. */
export const loadBytes = (name: string): Uint8Array => new Uint8Array(readFileSync(vectorPath(name)));
