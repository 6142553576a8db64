#!/usr/bin/env node
// Bundles the CLI (tsc's dist/src/cli/main.js and everything it imports)
// into one CommonJS file, dist/tunkit.cjs, which bin/tunkit loads. Why: a
// `tunkit` call is one short process, and Node 20 spends most of it
// resolving and linking ES modules one by one (~25 files); one CommonJS
// file loads in a fraction of that. tsc stays the compiler and type checker:
// esbuild only joins its output. The dynamic imports per object stay lazy
// inside the bundle (esbuild runs a module's body on first import).
// import.meta.url (daemon/version.ts) is the bundle's own file URL.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
try {
  await build({
    entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
    outfile: join(root, 'dist', 'tunkit.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: "const __tunkitImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__tunkitImportMetaUrl' },
    legalComments: 'none',
    logLevel: 'warning',
  });
} catch (e) {
  console.error(`bundle-cli: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
