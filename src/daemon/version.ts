// The package version (package.json "version") for `tunkit -V` and
// `tunkitd --version`: found by walking up from this module to the
// package.json named "tunkit", so it holds for the tsc output
// (dist/src/daemon/) and the CLI bundle (dist/) alike.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** "0.1.0", or "unknown" when no tunkit package.json is above `fromUrl`. */
export function tunkitVersion(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'tunkit' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
