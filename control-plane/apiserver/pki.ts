// The cluster's PKI and credentials, kept in the state dir: a self-signed cluster CA, the API server's
// serving certificate (signed by the CA, with the SANs clients use), and the static token file with the
// admin token. Everything is generated at first start and reused afterwards, so a kubeconfig printed once
// keeps working across restarts. Keys come from node:crypto (fast, native); certificates are built with
// node-forge.
//
// Creation is atomic across processes (`shoal up`, the API server it starts and a `shoal kubeconfig` from
// another shell may all reach an empty state dir at once): one creator wins the lock file
// `pki/.create.lock`, every file is written to a temporary name and renamed into place (a certificate
// after its key), and the others wait for the lock and read the winner's files. A reader that must not
// create anything (`loadPki`) waits while a creation is under way and otherwise fails.

import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { sleepSync, withLockSync } from '../../lib/lockfile.js';

/** PEM material the server and kubeconfig need. */
export interface ClusterPki {
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** the admin bearer token (user "admin", group system:masters) */
  adminToken: string;
  dir: string;
}

/** A user known to the authenticator. */
export interface TokenUser {
  name: string;
  uid: string;
  groups: string[];
}

const DAY_MS = 24 * 3600 * 1000;

function newKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serial(): string {
  // positive 16-byte serial
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

/** A self-signed CA certificate valid for ten years. */
export function makeCa(commonName: string): { certPem: string; keyPem: string } {
  const kp = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(kp.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3650 * DAY_MS);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(kp.privatePem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: kp.privatePem };
}

/** Options for a leaf certificate signed by a CA. */
export interface LeafOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  server?: boolean;
  client?: boolean;
  days?: number;
}

/** A leaf certificate (server and/or client auth) signed by the given CA. */
export function signLeaf(ca: { certPem: string; keyPem: string }, o: LeafOptions): { certPem: string; keyPem: string } {
  const kp = newKeyPair();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(kp.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + (o.days ?? 365) * DAY_MS);
  const subject: forge.pki.CertificateField[] = [{ name: 'commonName', value: o.commonName }];
  for (const org of o.organizations ?? []) subject.push({ name: 'organizationName', value: org });
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  const altNames: any[] = [
    ...(o.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(o.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ...(o.uris ?? []).map((value) => ({ type: 6, value })),
  ];
  const ext: any[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: o.server ?? false, clientAuth: o.client ?? false },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (altNames.length) ext.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(ext);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: kp.privatePem };
}

/** The SANs of the API server certificate: loopback, the node's name, and the in-cluster service names. */
export function apiServerSans(extraIps: string[] = [], extraNames: string[] = []): { dnsNames: string[]; ipAddresses: string[] } {
  return {
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', ...extraNames],
    ipAddresses: ['127.0.0.1', '10.96.0.1', ...extraIps],
  };
}

/** The files of a complete PKI; the last of each pair is renamed into place last. */
const PKI_FILES = ['ca.key', 'ca.crt', 'apiserver.key', 'apiserver.crt', 'tokens.csv'] as const;
const CREATE_LOCK = '.create.lock';

const pkiComplete = (dir: string) => PKI_FILES.every((f) => existsSync(join(dir, f)));

/** Writes `path` under a temporary name first, so no reader ever sees a partial file. */
function writeAtomic(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/** Creates what is missing; runs under the creation lock. */
function createMissing(dir: string, extraSans: { ips?: string[]; names?: string[] }): void {
  const p = (f: string) => join(dir, f);
  if (!existsSync(p('ca.crt'))) {
    const ca = makeCa('shoal-ca');
    writeAtomic(p('ca.key'), ca.keyPem, 0o600);
    writeAtomic(p('ca.crt'), ca.certPem);
  }
  if (!existsSync(p('apiserver.crt'))) {
    const ca = { certPem: readFileSync(p('ca.crt'), 'utf8'), keyPem: readFileSync(p('ca.key'), 'utf8') };
    const sans = apiServerSans(extraSans.ips, extraSans.names);
    const server = signLeaf(ca, { commonName: 'kube-apiserver', server: true, days: 3650, ...sans });
    writeAtomic(p('apiserver.key'), server.keyPem, 0o600);
    writeAtomic(p('apiserver.crt'), server.certPem);
  }
  if (!existsSync(p('tokens.csv'))) writeAtomic(p('tokens.csv'), `${randomBytes(24).toString('base64url')},admin,admin-uid,"system:masters"\n`, 0o600);
}

function readPki(dir: string): ClusterPki {
  const p = (f: string) => readFileSync(join(dir, f), 'utf8');
  const tokensPath = join(dir, 'tokens.csv');
  const admin = [...readTokenFile(tokensPath).entries()].find(([, u]) => u.name === 'admin');
  if (!admin) throw new Error(`${tokensPath}: no token for user "admin"`);
  return { caCertPem: p('ca.crt'), caKeyPem: p('ca.key'), serverCertPem: p('apiserver.crt'), serverKeyPem: p('apiserver.key'), adminToken: admin[0], dir };
}

/**
 * Load the PKI from `<home>/pki`, creating what is missing (atomically: concurrent callers get the same
 * CA). `extraSans` adds IPs/names to a new serving certificate (an existing one is kept as it is).
 */
export function ensurePki(home: string, extraSans: { ips?: string[]; names?: string[] } = {}): ClusterPki {
  const dir = join(home, 'pki');
  if (!pkiComplete(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    withLockSync(join(dir, CREATE_LOCK), () => createMissing(dir, extraSans));
  }
  return readPki(dir);
}

/** Thrown by `loadPki` when a state dir has no PKI and nobody is creating one. */
export class NoPkiError extends Error {}

/**
 * Reads the PKI of `<home>` without ever creating one (for commands that only read a cluster's
 * credentials). While a creation is under way (its lock exists), or while `starting()` says the cluster
 * is still coming up, waits up to `waitMs` for it to complete.
 */
export function loadPki(home: string, o: { waitMs?: number; starting?: () => boolean } = {}): ClusterPki {
  const dir = join(home, 'pki');
  const deadline = Date.now() + (o.waitMs ?? 30_000);
  while (!pkiComplete(dir)) {
    const underWay = existsSync(join(dir, CREATE_LOCK)) || (o.starting?.() ?? false);
    if (!underWay) throw new NoPkiError(`no cluster credentials in ${dir} (start the cluster first: shoal up --home ${home})`);
    if (Date.now() > deadline) throw new NoPkiError(`${dir}: the cluster's credentials were not complete after ${o.waitMs ?? 30_000} ms`);
    sleepSync(50);
  }
  return readPki(dir);
}

/**
 * Parse a Kubernetes static token file: `token,user,uid,"group1,group2"` per line.
 * Blank lines and lines starting with '#' are skipped.
 */
export function parseTokenFile(text: string, source = 'tokens.csv'): Map<string, TokenUser> {
  const out = new Map<string, TokenUser>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([^,]+),([^,]+),([^,]+)(?:,"?([^"]*)"?)?$/.exec(line);
    if (!m) throw new Error(`${source}:${i + 1}: expected token,user,uid[,"groups"]`);
    out.set(m[1]!, { name: m[2]!, uid: m[3]!, groups: m[4] ? m[4].split(',').filter(Boolean) : [] });
  });
  return out;
}

/** Read and parse a static token file. */
export function readTokenFile(path: string): Map<string, TokenUser> {
  return parseTokenFile(readFileSync(path, 'utf8'), path);
}

/** A short stable fingerprint of a PEM certificate (for logs). */
export function fingerprint(certPem: string): string {
  return createHash('sha256').update(certPem).digest('hex').slice(0, 16);
}

/** A user to give a static token to (a component's identity). */
export interface TokenUserSpec {
  name: string;
  groups: string[];
}

/**
 * Gives each of `users` a token in `<home>/pki/tokens.csv`, keeping the existing lines (and tokens) and
 * adding lines for users that have none; returns user name → token. Runs under the PKI's creation lock.
 * The API server reads the file when it starts, so callers (`shoal up`) do this first.
 */
export function ensureUserTokens(home: string, users: TokenUserSpec[]): Map<string, string> {
  const dir = join(home, 'pki');
  const path = join(dir, 'tokens.csv');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withLockSync(join(dir, CREATE_LOCK), () => {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const byUser = new Map([...parseTokenFile(text, path).entries()].map(([token, u]) => [u.name, token]));
    const add = users.filter((u) => !byUser.has(u.name));
    if (add.length) {
      const lines = add.map((u) => {
        const token = randomBytes(24).toString('base64url');
        byUser.set(u.name, token);
        return `${token},${u.name},${randomBytes(8).toString('hex')},"${u.groups.join(',')}"\n`;
      });
      writeAtomic(path, (text && !text.endsWith('\n') ? `${text}\n` : text) + lines.join(''), 0o600);
    }
    return new Map(users.map((u) => [u.name, byUser.get(u.name)!]));
  });
}
