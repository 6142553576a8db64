// Key material as text: what a key file (`key = "@/path"` in the config
// file, `@FILE` on the tunkit command line) or the config file itself holds.

/** A key's hex text: "0x…" or bare hex digits, an even count, whitespace around ignored; lower case without 0x, or null. */
export function parseKeyText(s: string): string | null {
  const t = s.trim().replace(/^0x/i, '');
  return /^(?:[0-9a-fA-F]{2})+$/.test(t) ? t.toLowerCase() : null;
}
