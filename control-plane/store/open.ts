// Turns the `--store` flag into a Store: `etcd://host:port[,host:port...]` for etcd v3, anything else a
// SQLite file (`sqlite:///abs/path.db` or a plain path). Parsing is separate from opening so main.ts can
// report a bad flag (with every problem) before it opens anything.

import { isAbsolute, resolve } from 'node:path';
import { type EtcdStoreOptions, openEtcdStore } from './etcd.js';
import { type SqliteStoreOptions, openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** A parsed `--store` value. */
export type StoreSpec = { kind: 'sqlite'; path: string } | { kind: 'etcd'; hosts: string[] };

/** Options for openStore: per-backend settings; `etcd.keyPrefix` puts every key under a prefix. */
export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions;
  etcd?: EtcdStoreOptions;
  /** the field name used in error messages (default '--store') */
  field?: string;
}

/** A bad `--store` value; `problems` lists every thing wrong with it, each naming the field. */
export class StoreSpecError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'StoreSpecError';
  }
}

/** Parse a `--store` value. Relative SQLite paths resolve against `cwd`. Throws StoreSpecError. */
export function parseStoreSpec(spec: string, field = '--store', cwd = process.cwd()): StoreSpec {
  if (typeof spec !== 'string' || spec.trim() === '') throw new StoreSpecError([`${field}: Required value: an etcd:// URL or a SQLite file path`]);
  if (spec.startsWith('etcd://')) return { kind: 'etcd', hosts: parseEtcdHosts(spec.slice('etcd://'.length), field) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) && !spec.startsWith('sqlite://')) {
    throw new StoreSpecError([`${field}: Unsupported value: ${JSON.stringify(spec)}: supported values: "etcd://host:port[,host:port]", "sqlite:///abs/path.db", a file path`]);
  }
  if (spec.startsWith('sqlite://')) {
    const path = spec.slice('sqlite://'.length);
    if (!isAbsolute(path)) throw new StoreSpecError([`${field}: Invalid value: ${JSON.stringify(spec)}: sqlite:// needs an absolute path (sqlite:///var/lib/shoal/store.db)`]);
    return { kind: 'sqlite', path };
  }
  return { kind: 'sqlite', path: resolve(cwd, spec) };
}

function parseEtcdHosts(rest: string, field: string): string[] {
  const problems: string[] = [];
  const hosts: string[] = [];
  const parts = rest.replace(/\/+$/, '').split(',');
  parts.forEach((part, i) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(part.trim());
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      problems.push(`${field}: Invalid value: ${JSON.stringify(part)}: etcd endpoint ${i + 1} must be host:port with a port between 1 and 65535`);
    } else {
      hosts.push(`http://${m[1]}:${port}`);
    }
  });
  if (problems.length) throw new StoreSpecError(problems);
  return hosts;
}

/**
 * Open the store a `--store` value names. Throws StoreSpecError for a bad value. etcd connects lazily: the
 * first call fails with StoreError 'Unavailable' if no endpoint answers.
 */
export async function openStore(spec: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const parsed = parseStoreSpec(spec, opts.field);
  return parsed.kind === 'etcd' ? openEtcdStore(parsed.hosts, opts.etcd) : openSqliteStore(parsed.path, opts.sqlite);
}
