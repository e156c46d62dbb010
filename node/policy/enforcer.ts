// The enforcer loop: informers on Pods, Namespaces and NetworkPolicies only kick a bounded-frequency
// runner; each run asks the Compiler (desired/compiler.ts, cached: only what changed is recomputed) for
// the desired table and sends one `nft -f -` transaction: the whole `shoal-policy[-suffix]` table on
// the first sync and after any failure, else only the difference from the last applied state.
// Fail closed: a failed transaction leaves the previous table (and so every isolation) in force; the
// failure is logged, reported as a Warning Event on the Node, and retried (as a full replacement)
// after `retryMs`.

import { Informer, type KubeClient } from '../../api/client/index.js';
import { mustRun, type Host } from '../service-proxy/host/host.js';
import { BoundedFrequencyRunner, type Timers } from '../service-proxy/sync/runner.js';
import { Compiler, type TableState } from './desired/compiler.js';
import { computePolicy, namespaceInfo, podInfo, type PodPolicy } from './model/policy.js';
import { deleteTable } from './nftables/rules.js';
import { diffText, fullText } from './nftables/transaction.js';

/** Settings of one enforcer. */
export interface EnforcerOptions {
  nodeName: string;
  /** table `shoal-policy-<suffix>` ('' = `shoal-policy`) */
  tableSuffix: string;
  minSyncMs: number;
  maxSyncMs: number;
  retryMs: number;
  log(level: 'info' | 'warn' | 'error', msg: string): void;
  timers?: Timers;
  /** called after each successful sync with where its time went (metrics) */
  onSync?(s: SyncStats): void;
}

/** One successful sync: time to compile the desired table and to apply it, and what was sent. */
export interface SyncStats {
  compileMs: number;
  applyMs: number;
  /** 'full' replacement, 'diff', or 'none' (nothing changed, nft not called) */
  kind: 'full' | 'diff' | 'none';
  bytes: number;
}

/** A running enforcer. */
export interface Enforcer {
  /** resolves after the next sync that leaves nothing pending (tests) */
  synced(): Promise<void>;
  /** the model of the last successful sync (model/policy.ts: the oracle; computed on demand) */
  model(): PodPolicy[];
  /** undefined while the last sync succeeded, else its error message (health endpoint) */
  lastError(): string | undefined;
  /** stops; `removeTable` deletes the table (otherwise isolation outlives the process: fail closed) */
  close(o?: { removeTable?: boolean }): Promise<void>;
}

const BRIDGE_NF = 'net.bridge.bridge-nf-call-iptables';

/**
 * Bridged pod traffic reaches the inet forward hook only with br_netfilter and bridge-nf-call-iptables=1
 * (README.md, "Where the rules hook in"); loads the module and sets the sysctl when needed.
 */
export async function ensureBridgeNetfilter(host: Host): Promise<void> {
  if (host.readSysctl(BRIDGE_NF) === undefined) await mustRun(host, 'load br_netfilter', 'modprobe', ['br_netfilter']);
  if (host.readSysctl(BRIDGE_NF) !== '1') host.writeSysctl(BRIDGE_NF, '1');
}

/** Starts informers, waits for their caches and the first sync (which may fail and be retried). */
export async function startEnforcer(client: KubeClient, host: Host, o: EnforcerOptions): Promise<Enforcer> {
  const pods = new Informer(client, { apiVersion: 'v1', plural: 'pods', namespaced: true }, { namespace: '' });
  const namespaces = new Informer(client, { apiVersion: 'v1', plural: 'namespaces', namespaced: false });
  const policies = new Informer(client, { apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true }, { namespace: '' });
  const informers = [pods, namespaces, policies];
  // the table as last applied; undefined (unknown) at start and after a failure → next sync is full
  let applied: TableState | undefined;
  let lastInputs: Parameters<typeof computePolicy> = [[], [], []];
  const compiler = new Compiler();
  let modelOf: { inputs?: unknown; model: PodPolicy[] } = { model: [] };
  let started = false;
  let lastError: string | undefined;

  const runner = new BoundedFrequencyRunner(async () => {
    const t0 = performance.now();
    const inputs: Parameters<typeof computePolicy> = [pods.list().map(podInfo), namespaces.list().map(namespaceInfo), policies.list()];
    const desired = compiler.compile(...inputs);
    const kind = applied ? 'diff' : 'full';
    const text = applied ? diffText(o.tableSuffix, applied, desired) : fullText(o.tableSuffix, desired);
    const t1 = performance.now();
    if (text) {
      applied = undefined; // unknown until the transaction succeeds
      await mustRun(host, 'nft policy transaction', 'nft', ['-f', '-'], text);
    }
    applied = desired;
    lastInputs = inputs;
    lastError = undefined;
    o.onSync?.({ compileMs: t1 - t0, applyMs: performance.now() - t1, kind: text ? kind : 'none', bytes: text.length });
  }, {
    minIntervalMs: o.minSyncMs, maxIntervalMs: o.maxSyncMs, retryMs: o.retryMs, timers: o.timers,
    onError: (e) => {
      const msg = (e as Error).message;
      lastError = msg;
      o.log('error', `policy sync failed, previous rules stay in force; retrying: ${msg}`);
      void reportFailure(client, o.nodeName, msg).catch(() => undefined);
    },
  });
  const kick = () => {
    if (started) runner.run();
  };
  for (const i of informers) i.addEventHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync()));
  await ensureBridgeNetfilter(host);
  started = true;
  const first = runner.idle();
  runner.run();
  await first;

  return {
    synced() {
      const p = runner.idle();
      runner.run();
      return p;
    },
    model() {
      if (modelOf.inputs !== lastInputs) modelOf = { inputs: lastInputs, model: computePolicy(...lastInputs) };
      return modelOf.model;
    },
    lastError: () => lastError,
    async close(c = {}) {
      runner.stop();
      for (const i of informers) await i.stop();
      if (c.removeTable) await host.run('nft', ['-f', '-'], deleteTable(o.tableSuffix));
    },
  };
}

/** A failed sync as a Warning Event on the Node (reason `SyncNetworkPolicyFailed`). */
export async function reportFailure(client: KubeClient, nodeName: string, message: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await client.create({ apiVersion: 'v1', plural: 'events', namespaced: true }, {
    apiVersion: 'v1', kind: 'Event',
    metadata: { generateName: `${nodeName}.`, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeName },
    reason: 'SyncNetworkPolicyFailed', message: `Failed to program network policy rules, previous rules kept, retrying: ${message.slice(0, 900)}`,
    type: 'Warning', source: { component: 'shoal-policy', host: nodeName }, firstTimestamp: now, lastTimestamp: now, count: 1,
    reportingComponent: 'shoal-policy', reportingInstance: nodeName,
  }, { namespace: 'default' });
}
