// Encryption at rest, as kube-apiserver's EncryptionConfiguration (apiserver.config.k8s.io/v1): the
// resources it names (by default `secrets`) are stored AES-GCM encrypted and read back decrypted, by a
// Store wrapper under the ObjectStore, so every read path (get, list, watch, delete) decrypts and nothing
// above it changes. The first provider encrypts new writes; reading tries the provider a value's prefix
// names (`k8s:enc:aesgcm:v1:<key name>:`), and unprefixed (old plaintext) values are readable while
// `identity` is among the providers. The key file is created on first start under the state dir
// (`pki/encryption-config.yaml`, mode 0600) with one random 32-byte key and identity as the fallback.
//
// Differences from Kubernetes, both forced by the store holding text: after the prefix comes the base64
// of nonce ‖ ciphertext ‖ tag (kube writes the raw bytes); and the store key is the GCM additional data
// (kube uses it too, so a value copied to another key does not decrypt).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';
import type { KeyValue, ListOptions, Store, Watch, WatchEvent, WatchOptions } from '../../store/types.js';

/** One AES-GCM key. */
interface GcmKey { name: string; key: Buffer }
/** A provider, in the order the config lists it. */
type Provider = { kind: 'aesgcm'; keys: GcmKey[] } | { kind: 'identity' };

/** A parsed EncryptionConfiguration: store-key prefixes and their providers. */
export interface EncryptionConfig {
  rules: { prefixes: string[]; providers: Provider[] }[];
}

const PREFIX = 'k8s:enc:aesgcm:v1:';

/** `secrets` → `/registry/core/secrets/`, `widgets.example.com` → `/registry/example.com/widgets/`. */
function keyPrefix(resource: string): string {
  const i = resource.indexOf('.');
  return i < 0 ? `/registry/core/${resource}/` : `/registry/${resource.slice(i + 1)}/${resource.slice(0, i)}/`;
}

/** Parses an EncryptionConfiguration; every problem is reported with its field path. */
export function parseEncryptionConfig(text: string, source: string): EncryptionConfig {
  const problems: string[] = [];
  let doc: any;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  if (doc?.kind !== 'EncryptionConfiguration') problems.push(`kind: Unsupported value: ${JSON.stringify(doc?.kind)}: supported values: "EncryptionConfiguration"`);
  if (doc?.apiVersion !== 'apiserver.config.k8s.io/v1') problems.push(`apiVersion: Unsupported value: ${JSON.stringify(doc?.apiVersion)}: supported values: "apiserver.config.k8s.io/v1"`);
  const rules: EncryptionConfig['rules'] = [];
  (Array.isArray(doc?.resources) ? doc.resources : []).forEach((r: any, i: number) => {
    const p = `resources[${i}]`;
    const names: string[] = Array.isArray(r?.resources) ? r.resources : [];
    if (!names.length) problems.push(`${p}.resources: Required value: resources must contain at least one resource`);
    const providers: Provider[] = [];
    (Array.isArray(r?.providers) ? r.providers : []).forEach((pr: any, j: number) => {
      const pp = `${p}.providers[${j}]`;
      if (pr?.identity !== undefined) providers.push({ kind: 'identity' });
      else if (pr?.aesgcm) {
        const keys: GcmKey[] = [];
        (Array.isArray(pr.aesgcm.keys) ? pr.aesgcm.keys : []).forEach((k: any, n: number) => {
          const kp = `${pp}.aesgcm.keys[${n}]`;
          if (!k?.name) problems.push(`${kp}.name: Required value`);
          const key = Buffer.from(String(k?.secret ?? ''), 'base64');
          if (![16, 24, 32].includes(key.length)) problems.push(`${kp}.secret: Invalid value: "REDACTED": secret is not of the expected length, got ${key.length}, expected one of [16 24 32]`);
          keys.push({ name: String(k?.name ?? ''), key });
        });
        if (!keys.length) problems.push(`${pp}.aesgcm.keys: Required value: aesgcm provider needs at least one key`);
        providers.push({ kind: 'aesgcm', keys });
      } else problems.push(`${pp}: Invalid value: provider does not contain any of the expected providers: identity, aesgcm`);
    });
    if (!providers.length) problems.push(`${p}.providers: Required value: providers must contain at least one provider`);
    rules.push({ prefixes: names.map(keyPrefix), providers });
  });
  if (!rules.length) problems.push('resources: Required value: resources must contain at least one resource');
  if (problems.length) throw new Error(`${source}: ${problems.join('; ')}`);
  return { rules };
}

/** Reads the config at `path`, creating it first (secrets, one new AES-GCM key, identity) when missing. */
export function ensureEncryptionConfig(path: string): EncryptionConfig {
  if (!existsSync(path)) {
    const text = YAML.stringify({
      apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration',
      resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'key1', secret: randomBytes(32).toString('base64') }] } }, { identity: {} }] }],
    });
    // exclusive create: a concurrent creator's file wins, a key in use is never replaced
    try {
      writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return parseEncryptionConfig(readFileSync(path, 'utf8'), path);
}

const algorithm = (k: GcmKey) => `aes-${k.key.length * 8}-gcm` as 'aes-256-gcm';

function encrypt(k: GcmKey, key: string, plain: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv(algorithm(k), k.key, nonce);
  c.setAAD(Buffer.from(key));
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `${PREFIX}${k.name}:${Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64')}`;
}

function decrypt(k: GcmKey, key: string, payload: string): string {
  const raw = Buffer.from(payload, 'base64');
  const d = createDecipheriv(algorithm(k), k.key, raw.subarray(0, 12));
  d.setAAD(Buffer.from(key));
  d.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
}

/** The value transformer of one config. */
export class Transformer {
  constructor(private readonly cfg: EncryptionConfig) {}

  private rule(key: string) {
    return this.cfg.rules.find((r) => r.prefixes.some((p) => key.startsWith(p)));
  }

  /** The value as stored under `key`. */
  toStore(key: string, value: string): string {
    const first = this.rule(key)?.providers[0];
    if (!first || first.kind === 'identity') return value;
    return encrypt(first.keys[0]!, key, value);
  }

  /** The stored value under `key`, decrypted. */
  fromStore(key: string, value: string): string {
    const rule = this.rule(key);
    if (!value.startsWith('k8s:enc:')) {
      if (!rule || rule.providers.some((p) => p.kind === 'identity')) return value;
      throw new Error(`${key}: stored in plaintext, and no identity provider is configured to read it`);
    }
    if (!value.startsWith(PREFIX)) throw new Error(`${key}: no provider for ${value.slice(0, value.indexOf(':', 8) + 1)}`);
    const rest = value.slice(PREFIX.length);
    const name = rest.slice(0, rest.indexOf(':'));
    for (const p of this.cfg.rules.flatMap((r) => r.providers)) {
      if (p.kind !== 'aesgcm') continue;
      const k = p.keys.find((x) => x.name === name);
      if (k) return decrypt(k, key, rest.slice(name.length + 1));
    }
    throw new Error(`${key}: no key named ${JSON.stringify(name)} in the encryption configuration`);
  }
}

/** `store` with values encrypted on the way in and decrypted on the way out (`inner`: the store itself). */
export function encryptingStore(store: Store, cfg: EncryptionConfig): Store & { inner: Store } {
  const t = new Transformer(cfg);
  const out = (kv: KeyValue): KeyValue => ({ ...kv, value: t.fromStore(kv.key, kv.value) });
  return {
    inner: store,
    create: async (key, value) => out(await store.create(key, t.toStore(key, value))),
    get: async (key, revision) => {
      const kv = await store.get(key, revision);
      return kv ? out(kv) : null;
    },
    list: async (prefix: string, opts?: ListOptions) => {
      const r = await store.list(prefix, opts);
      return { ...r, items: r.items.map(out) };
    },
    count: (prefix) => store.count(prefix),
    update: async (key, value, expected) => out(await store.update(key, t.toStore(key, value), expected)),
    delete: async (key, expected) => out(await store.delete(key, expected)),
    watch: (prefix: string, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onError: (err: Error) => void): Promise<Watch> =>
      store.watch(prefix, opts, (ev) => {
        let decoded: WatchEvent;
        try {
          decoded = { ...ev, kv: out(ev.kv), ...(ev.prev ? { prev: out(ev.prev) } : {}) };
        } catch (e) {
          onError(e as Error);
          return;
        }
        onEvent(decoded);
      }, onError),
    currentRevision: () => store.currentRevision(),
    compactedRevision: () => store.compactedRevision(),
    compact: (revision) => store.compact(revision),
    close: () => store.close(),
  };
}
