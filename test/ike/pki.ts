// A throwaway PKI made at test time with the openssl CLI in a temp dir (no
// private key is ever committed): a root CA, an intermediate CA under it,
// an unrelated ("evil") CA, and leaf certificates with subjectAltNames from
// the documentation ranges and example.com-style names.
//
//   ca (RSA 2048) ── inter (ECDSA P-256) ── leaves made with issuer 'inter'
//     └── leaves made with issuer 'ca'
//   evil (ECDSA P-256) ── leaves made with issuer 'evil'

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KeyKind = 'rsa' | 'p256' | 'p384';
export interface Leaf { readonly cert: string; readonly key: string }

const keyArgs = (k: KeyKind): string[] =>
  k === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${k === 'p256' ? 'P-256' : 'P-384'}`];

export class Pki {
  readonly dir = mkdtempSync(join(tmpdir(), 'tunkit-pki-'));
  private serial = 1;

  constructor() {
    this.selfSigned('ca', 'rsa', '/C=CH/O=tunkit test/CN=tunkit test CA');
    this.selfSigned('evil', 'p256', '/C=CH/O=somebody else/CN=untrusted CA');
    this.issue('inter', 'p256', '/C=CH/O=tunkit test/CN=tunkit test intermediate', 'ca', 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n', 365);
  }

  private openssl(args: readonly string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private selfSigned(name: string, k: KeyKind, subj: string): void {
    this.openssl(['req', '-x509', ...keyArgs(k), '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '365', '-subj', subj,
      '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }

  private issue(name: string, k: KeyKind, subj: string, issuer: string, ext: string, days: number): void {
    writeFileSync(join(this.dir, `${name}.ext`), ext);
    this.openssl(['req', '-new', ...keyArgs(k), '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    this.openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-set_serial', String(this.serial++),
      '-days', String(days), '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  }

  /** A leaf for `cn` (also its DNS SAN) with these extra SANs ("IP:198.51.100.1", "email:a@a.example"), 30 days valid. */
  leaf(name: string, k: KeyKind, cn: string, issuer: 'ca' | 'inter' | 'evil', sans: readonly string[] = []): Leaf {
    const ext = `basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nsubjectAltName=${[`DNS:${cn}`, ...sans].join(',')}\n`;
    this.issue(name, k, `/C=CH/O=tunkit test/CN=${cn}`, issuer, ext, 30);
    return { cert: this.pem(name), key: readFileSync(join(this.dir, `${name}.key`), 'utf8') };
  }

  pem(name: string): string { return readFileSync(join(this.dir, `${name}.pem`), 'utf8'); }

  /**
   * A swanctl directory for one end: swanctl.conf plus x509/, x509ca/ and
   * private/ as swanctl --load-all expects them. Returns the conf's path.
   */
  swanctlDir(end: string, conf: string, files: { x509?: Record<string, string>; x509ca?: Record<string, string>; private?: Record<string, string> }): string {
    const d = join(this.dir, end);
    for (const sub of ['x509', 'x509ca', 'private'] as const) {
      mkdirSync(join(d, sub), { recursive: true });
      for (const [f, text] of Object.entries(files[sub] ?? {})) writeFileSync(join(d, sub, f), text, { mode: 0o600 });
    }
    writeFileSync(join(d, 'swanctl.conf'), conf, { mode: 0o600 });
    return join(d, 'swanctl.conf');
  }

  close(): void { rmSync(this.dir, { recursive: true, force: true }); }
}
