// The enforcer loop: informers on Pods, Namespaces and NetworkPolicies only kick a bounded-frequency
// runner; each run asks the Compiler (desired/compiler.ts, cached: only what changed is recomputed) for
// the desired table and sends one `nft -f -` transaction: the whole `shoal-policy[-suffix]` table on
// the first sync and after any failure, else only the difference from the last applied state.
// Fail closed: a failed transaction leaves the previous table (and so every isolation) in force; the
// failure is logged, reported as a Warning Event on the Node, and retried (as a full replacement)
// after `retryMs`.

import { EventRecorder, Informer, clientSink, nodeRef, type KubeClient } from '../../api/client/index.js';
import { NftTable, type NftObjects } from '../../lib/host/nft.js';
import { mustRun } from '../../lib/host/run.js';
import type { Host } from '../../lib/host/sysctl.js';
import { BoundedFrequencyRunner } from '../../lib/time/bounded.js';
import type { Clock } from '../../lib/time/clock.js';
import { Compiler } from './desired/compiler.js';
import { computePolicy, namespaceInfo, podInfo, type PodPolicy } from './model/policy.js';
import { tableName } from './nftables/rules.js';
import { diffText, fullText, toObjects } from './nftables/transaction.js';

/** Settings of one enforcer. */
export interface EnforcerOptions {
  nodeName: string;
  /** table `shoal-policy-<suffix>` ('' = `shoal-policy`) */
  tableSuffix: string;
  minSyncMs: number;
  maxSyncMs: number;
  retryMs: number;
  log(level: 'info' | 'warn' | 'error', msg: string): void;
  clock?: Clock;
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
  // the table as last applied, kept by the shared engine: unknown at start and after a failure → full
  const table = new NftTable<NftObjects>(host, `inet ${tableName(o.tableSuffix)}`);
  const events = new EventRecorder(clientSink(client), { component: 'shoal-policy', host: o.nodeName });
  let lastInputs: Parameters<typeof computePolicy> = [[], [], []];
  const compiler = new Compiler();
  let modelOf: { inputs?: unknown; model: PodPolicy[] } = { model: [] };
  let started = false;
  let lastError: string | undefined;

  const runner = new BoundedFrequencyRunner(async () => {
    const t0 = performance.now();
    const inputs: Parameters<typeof computePolicy> = [pods.list().map(podInfo), namespaces.list().map(namespaceInfo), policies.list()];
    const desired = toObjects(compiler.compile(...inputs));
    let t1 = t0;
    const r = await table.sync((applied) => {
      const plan = applied
        ? { kind: 'diff' as const, text: diffText(o.tableSuffix, applied, desired), next: desired }
        : { kind: 'full' as const, text: fullText(o.tableSuffix, desired), next: desired };
      t1 = performance.now();
      return { ...plan, label: 'nft policy transaction' };
    });
    lastInputs = inputs;
    lastError = undefined;
    o.onSync?.({ compileMs: t1 - t0, applyMs: performance.now() - t1, kind: r.kind, bytes: r.bytes });
  }, {
    minIntervalMs: o.minSyncMs, maxIntervalMs: o.maxSyncMs, retryMs: o.retryMs, clock: o.clock,
    onError: (e) => {
      const msg = (e as Error).message;
      lastError = msg;
      o.log('error', `policy sync failed, previous rules stay in force; retrying: ${msg}`);
      reportFailure(events, o.nodeName, msg);
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
  await runner.runAndWait();

  return {
    synced: () => runner.runAndWait(),
    model() {
      if (modelOf.inputs !== lastInputs) modelOf = { inputs: lastInputs, model: computePolicy(...lastInputs) };
      return modelOf.model;
    },
    lastError: () => lastError,
    async close(c = {}) {
      runner.stop();
      for (const i of informers) await i.stop();
      if (c.removeTable) await table.remove();
    },
  };
}

/** A failed sync as a Warning Event on the Node (reason `SyncNetworkPolicyFailed`). */
export function reportFailure(events: EventRecorder, nodeName: string, message: string): void {
  events.event(nodeRef(nodeName), 'Warning', 'SyncNetworkPolicyFailed', `Failed to program network policy rules, previous rules kept, retrying: ${message.slice(0, 900)}`);
}
