#!/usr/bin/env node
// Writes completion/tunkit.bash and completion/_tunkit (zsh), and
// tunkitd.bash / _tunkitd, from the CLI's own grammar and tunkitd's option
// table (dist/src/cli/completion.js, built by tsc first: `npm run
// build` runs this last). Install: source completion/tunkit.bash (or copy it
// to /usr/share/bash-completion/completions/tunkit); put _tunkit in $fpath.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
try {
  const { bashCompletion, bashDaemonCompletion, zshCompletion, zshDaemonCompletion } = await import(pathToFileURL(join(root, 'dist', 'src', 'cli', 'completion.js')).href);
  const dir = join(root, 'completion');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tunkit.bash'), bashCompletion());
  writeFileSync(join(dir, '_tunkit'), zshCompletion());
  writeFileSync(join(dir, 'tunkitd.bash'), bashDaemonCompletion());
  writeFileSync(join(dir, '_tunkitd'), zshDaemonCompletion());
} catch (e) {
  console.error(`gen-completion: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
