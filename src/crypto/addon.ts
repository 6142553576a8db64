// The native addon file (native/, built by `npm run build:native` into
// build/Release/tunkit_native.node), located and loaded once. One loader for
// both of its users: io/native.ts (TUN, sockets, netlink) and
// crypto/native.ts (per-SA ESP contexts). It lives in this leaf because the
// ring rule lets both reach crypto/ (cores may not import io/).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VpnError } from '../wire/errors.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new VpnError('ERR_NATIVE_NOT_BUILT', `tunkit: package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

/** Absolute path of the built addon. */
export const addonPath = (): string => join(repoRoot(), 'build', 'Release', 'tunkit_native.node');

let loaded: Record<string, unknown> | null = null;

/**
 * The addon's exports, checked to include every name in `need` as a function.
 * Throws VpnError ERR_NATIVE_NOT_BUILT when the file is missing or stale.
 */
export function loadAddon<T>(need: readonly (keyof T & string)[]): T {
  const path = addonPath();
  if (loaded === null) {
    if (!existsSync(path)) {
      throw new VpnError('ERR_NATIVE_NOT_BUILT', `tunkit native addon not built: ${path} is missing — run npm run build:native`);
    }
    loaded = createRequire(import.meta.url)(path) as Record<string, unknown>;
  }
  const mod = loaded;
  const missing = need.filter((k) => typeof mod[k] !== 'function');
  if (missing.length > 0) {
    throw new VpnError('ERR_NATIVE_NOT_BUILT', `tunkit native addon at ${path} lacks ${missing.join(', ')} — run npm run build:native`);
  }
  return mod as unknown as T;
}
