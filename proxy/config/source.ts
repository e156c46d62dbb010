// Where configuration comes from. The discovery client (../discovery/client.ts) is the real source; the
// static file source stands in for tests of the data path without mesh control (`--config-file`).
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import type { ConfigStore } from './store.js';
import { TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_WORKLOAD, type StaticConfigFile } from './types.js';

/** Connection state of a source, for /config_dump and /ready. */
export interface SourceStatus {
  kind: 'discovery' | 'file';
  connected: boolean;
  /** Last error (stream failure, parse error, NACK reason). */
  lastError: string;
  /** NACKs sent: type URL → reason. */
  nacks: Record<string, string>;
}

/** A source feeds a ConfigStore until stopped. */
export interface ConfigSource {
  start(store: ConfigStore): void;
  stop(): void;
  status(): SourceStatus;
}

/**
 * A JSON file `{services, endpoints, workload}`; re-read when it changes (polling every 200 ms), so a
 * test can change policies live. Errors in a re-read keep the last good config, as a NACK would.
 */
export class StaticFileSource implements ConfigSource {
  private st: SourceStatus = { kind: 'file', connected: false, lastError: '', nacks: {} };
  private version = 0;
  private store: ConfigStore | null = null;
  constructor(private readonly path: string) {}

  /** Loads once and throws with every error when the file is unusable (startup: exit 64). */
  start(store: ConfigStore): void {
    this.store = store;
    const errs = this.load();
    if (errs.length) throw new Error(`--config-file ${this.path}: ${errs.join('; ')}`);
    watchFile(this.path, { interval: 200 }, () => {
      const e = this.load();
      if (e.length) console.error(`config file ${this.path}: kept last good config: ${e.join('; ')}`);
    });
  }

  private load(): string[] {
    let parsed: StaticConfigFile;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8')) as StaticConfigFile;
    } catch (e) {
      this.st.lastError = (e as Error).message;
      return [this.st.lastError];
    }
    const v = `file-${++this.version}`;
    const errs: string[] = [];
    const parts: [string, unknown[], string][] = [
      [TYPE_SERVICE, parsed.services ?? [], 'services'],
      [TYPE_ENDPOINTS, parsed.endpoints ?? [], 'endpoints'],
      [TYPE_WORKLOAD, parsed.workload ? [parsed.workload] : [], 'workload'],
      [TYPE_ROUTES, (parsed.routing ?? []).map((o) => ({
        kind: o.kind, namespace: o.metadata?.namespace ?? 'default', name: o.metadata?.name ?? '', creationTimestamp: o.metadata?.creationTimestamp ?? '',
        resourceVersion: '', specJson: JSON.stringify(o.spec ?? null),
      })), 'routing'],
    ];
    for (const [type, res, field] of parts) {
      if (type === TYPE_WORKLOAD && res.length === 0) { errs.push('workload: required'); continue; }
      const e = this.store!.apply(type, v, res);
      if (e.length) {
        this.st.nacks[type] = e.join('; ');
        errs.push(...e.map((m) => field + (field === 'workload' ? m.replace(/^resources\[0\]/, '') : m.replace(/^resources/, ''))));
      } else delete this.st.nacks[type];
    }
    this.st.connected = errs.length === 0;
    this.st.lastError = errs.join('; ');
    return errs;
  }

  stop(): void { unwatchFile(this.path); }
  status(): SourceStatus { return { ...this.st, nacks: { ...this.st.nacks } }; }
}
