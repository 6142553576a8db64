#!/usr/bin/env node
// Builds the native I/O addon (binding.gyp → build/Release/tunkit_native.node)
// with node-gyp, never downloading headers: in the repository the node-gyp
// devDependency; in an installed package (the `install` script, run by
// `npm install -g ./tunkit-*.tgz`, where devDependencies are absent) the
// node-gyp npm bundles, whose path npm gives scripts as $npm_config_node_gyp.
// When the running Node's headers are installed (PREFIX/include/node/
// node_api.h: Debian's nodejs/libnode-dev in /usr, the official node images
// in /usr/local), --nodedir=PREFIX points node-gyp at them.
// Any failure exits non-zero with the reason on stderr.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fail = (msg) => {
  console.error(`build-native: ${msg}`);
  process.exit(1);
};

let gyp;
try {
  gyp = createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
} catch (err) {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled !== undefined && bundled !== '' && existsSync(bundled)) gyp = bundled;
  else fail(`node-gyp is not installed (run npm ci): ${err instanceof Error ? err.message : String(err)}`);
}

// The headers of the Node that runs this: PREFIX/include/node beside
// PREFIX/bin/node (Debian's /usr, the node:20 images' /usr/local), else /usr.
const args = [gyp, 'rebuild'];
const prefixes = [dirname(dirname(process.execPath)), '/usr'];
const nodedir = prefixes.find((p) => existsSync(join(p, 'include', 'node', 'node_api.h')));
if (nodedir !== undefined) args.push(`--nodedir=${nodedir}`);
else console.error(`build-native: no Node headers in ${prefixes.map((p) => join(p, 'include', 'node')).join(' or ')}; node-gyp will use its own header cache`);

const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.error !== undefined) fail(`could not run node-gyp: ${r.error.message}`);
if (r.status !== 0) fail(`node-gyp rebuild failed (exit ${r.status ?? `signal ${r.signal}`})`);
const out = join(root, 'build', 'Release', 'tunkit_native.node');
if (!existsSync(out)) fail(`node-gyp succeeded but ${out} is missing`);
console.error(`build-native: built ${out}`);
