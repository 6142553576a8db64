// Loads the certificates and private keys a parsed swanctl.conf names, as
// `swanctl --load-all` finds them beside the file:
//
//   x509/     local.certs (relative names)         x509ca/   remote.cacerts (relative names), and every
//   private/  rsa/  ecdsa/  private keys (all          file in it: trusted CAs and intermediates
//             files, plus secrets private-NAME / rsa-NAME / ecdsa-NAME { file secret })
//
// Each connection's local certificate gets the private key whose public key
// is the certificate's; remote.cacerts (else every x509ca/ certificate) are
// the trust anchors. Pure but for the injected file reads; every problem is
// a SwanctlError naming the file, line and key (or the file found in a
// directory), before anything is applied.

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { VpnError } from '../wire/errors.js';
import { certHasIdentity, certName } from './certs.js';
import type { ConnConfig, FileRef, IkeConfig, PeerAuth } from './config.js';
import { identity } from './ids.js';
import { SwanctlError } from './swanctl.js';

/** The file access loadCredentials needs (the shell passes node:fs). */
export interface CredIo {
  /** A file's bytes; throws (with the system's reason) when it cannot be read. */
  read(path: string): Uint8Array;
  /** The file names in a directory; [] when it does not exist. */
  list(dir: string): string[];
}

const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function readCert(io: CredIo, path: string, fail: (m: string) => never): X509Certificate {
  let b: Uint8Array;
  try { b = io.read(path); } catch (e) { return fail(`cannot read ${path}: ${why(e)}`); }
  try { return new X509Certificate(b); } catch (e) { return fail(`${path} is not an X.509 certificate (PEM or DER): ${why(e)}`); }
}

function readKey(io: CredIo, path: string, passphrase: Uint8Array | null, fail: (m: string) => never): KeyObject {
  let b: Uint8Array;
  try { b = io.read(path); } catch (e) { return fail(`cannot read ${path}: ${why(e)}`); }
  const pass = passphrase !== null ? Buffer.from(passphrase) : undefined;
  const pem = Buffer.from(b).toString('latin1').includes('-----BEGIN');
  const tries = pem ? [{ format: 'pem' as const }] : (['pkcs8', 'pkcs1', 'sec1'] as const).map((type) => ({ format: 'der' as const, type }));
  let last: unknown = null;
  for (const t of tries) {
    try { return createPrivateKey({ key: Buffer.from(b), ...t, ...(pass !== undefined ? { passphrase: pass } : {}) }); } catch (e) { last = e; }
  }
  pass?.fill(0);
  return fail(`${path} is not a private key tunkit can read${passphrase === null ? ' (if it is encrypted, give its secret in a secrets private-NAME section)' : ''}: ${why(last)}`);
}

const refFail = (file: string, r: FileRef) => (m: string): never => { throw new SwanctlError(r.file ?? file, r.line, r.key, m); };
const dirFail = (path: string) => (m: string): never => { throw new VpnError('ESWANCTL', m, path); };
const spki = (k: KeyObject): string => k.export({ type: 'spki', format: 'der' }).toString('hex');

/** The configuration with every connection's certificates, keys and anchors loaded; throws SwanctlError. */
export function loadCredentials(cfg: IkeConfig, file: string, baseDir: string, io: CredIo): IkeConfig {
  const at = (dir: string, p: string): string => (isAbsolute(p) ? p : join(baseDir, dir, p));
  const inDir = (dir: string): string[] => io.list(join(baseDir, dir)).map((f) => join(baseDir, dir, f));
  const caDir = inDir('x509ca').map((p) => readCert(io, p, dirFail(p)));
  const named = new Set((cfg.keyFiles ?? []).map((k) => at(k.dir, k.path)));
  const keys: KeyObject[] = [];
  for (const k of cfg.keyFiles ?? []) {
    keys.push(readKey(io, at(k.dir, k.path), k.passphrase, refFail(file, k)));
    k.passphrase?.fill(0); // loaded: the passphrase is not needed again
  }
  for (const p of ['private', 'rsa', 'ecdsa'].flatMap(inDir)) if (!named.has(p)) keys.push(readKey(io, p, null, dirFail(p)));
  const bySpki = new Map(keys.map((k) => [spki(createPublicKey(k)), k]));
  const pool = new Map(caDir.map((c) => [c.fingerprint256, c]));
  const connections = cfg.connections.map((c): ConnConfig => {
    const local = loadLocal(c, file, io, at, bySpki);
    const remote = loadRemote(c, file, io, at, caDir);
    for (const a of remote.anchors ?? []) pool.set(a.fingerprint256, a);
    return { ...c, local, remote };
  });
  return { ...cfg, connections, certPool: [...pool.values()] };
}

function loadLocal(c: ConnConfig, file: string, io: CredIo, at: (d: string, p: string) => string, bySpki: ReadonlyMap<string, KeyObject>): PeerAuth {
  const me = c.local;
  if (me.auth !== 'pubkey') return me;
  const certs = me.certFiles.map((r) => readCert(io, at('x509', r.path), refFail(file, r)));
  const ref = me.certFiles[0]!;
  const want = me.id !== '' ? identity(me.id, '0.0.0.0') : null;
  const cert = want === null ? certs[0] : certs.find((x) => certHasIdentity(x, want));
  if (cert === undefined) throw new SwanctlError(ref.file ?? file, ref.line, ref.key, `no certificate holds the local id '${me.id}' (${certs.map(certName).join('; ')}); the id must be the subject DN or a subjectAltName`);
  const key = bySpki.get(spki(cert.publicKey));
  if (key === undefined) throw new SwanctlError(ref.file ?? file, ref.line, ref.key, `no private key for certificate '${certName(cert)}' (looked in private/, rsa/, ecdsa/ and secrets private-, rsa-, ecdsa- sections)`);
  const kind = key.asymmetricKeyType === 'ec' ? 'ecdsa' : 'rsa';
  if (me.sig.keyType !== 'any' && me.sig.keyType !== kind) throw new SwanctlError(ref.file ?? file, ref.line, `${ref.key.replace(/certs$/, 'auth')}`, `asks for ${me.sig.keyType}, but the key of '${certName(cert)}' is ${kind}`);
  return { ...me, cert, key };
}

function loadRemote(c: ConnConfig, file: string, io: CredIo, at: (d: string, p: string) => string, caDir: readonly X509Certificate[]): PeerAuth {
  const peer = c.remote;
  if (peer.auth !== 'pubkey') return peer;
  const anchors = peer.certFiles.length > 0 ? peer.certFiles.map((r) => readCert(io, at('x509ca', r.path), refFail(file, r))) : [...caDir];
  if (anchors.length === 0) {
    throw new VpnError('ESWANCTL', `${file}: connections.${c.name}.remote: auth = pubkey needs a CA certificate: set cacerts = FILE (in x509ca/) or put it in x509ca/`, 'cacerts');
  }
  return { ...peer, anchors };
}
