// Wires the proxy: informers on Services, EndpointSlices and Nodes → change tracker (keys only) →
// bounded-frequency runner → desired state for the changed Services → the mode's backend. Also serves
// `/healthz` (kube-proxy's 10256) and allocates LoadBalancer IPs when a pool is configured.

import { EventRecorder, Informer, clientSink, keyOf, nodeRef, type KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { serve } from '../../lib/serve/serve.js';
import { BoundedFrequencyRunner } from '../../lib/time/bounded.js';
import { realClock, type Clock } from '../../lib/time/clock.js';
import type { Backend } from './backend.js';
import { LbAllocator } from './loadbalancer/allocator.js';
import { servicePorts, type ServicePort } from './model/servicemap.js';
import { ChangeTracker } from './sync/tracker.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Settings the wiring needs (flags.ts builds them). */
export interface ProxyOptions {
  nodeName: string;
  minSyncMs: number;
  maxSyncMs: number;
  healthPort: number;
  bindAddress: string;
  /** CIDR for LoadBalancer IPs; '' = none allocated */
  loadBalancerCidr: string;
  log(level: 'info' | 'warn' | 'error', msg: string): void;
  clock?: Clock;
}

/** A running proxy. */
export interface Proxy {
  healthUrl: string;
  /** resolves once the next sync leaves nothing pending (tests) */
  synced(): Promise<void>;
  backend: Backend;
  close(): Promise<void>;
}

/** Starts informers, the first full sync and the health server. */
export async function startProxy(client: KubeClient, backend: Backend, o: ProxyOptions): Promise<Proxy> {
  const services = new Informer(client, { apiVersion: 'v1', plural: 'services', namespaced: true }, { namespace: '' });
  const slices = new Informer(client, { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true }, { namespace: '' });
  const nodes = new Informer(client, { apiVersion: 'v1', plural: 'nodes', namespaced: false }, { fieldSelector: `metadata.name=${o.nodeName}` });
  const tracker = new ChangeTracker();
  const bySvc = new Map<string, Map<string, KubeObject>>();
  const desired = new Map<string, ServicePort[]>();
  let lastOk = 0;
  let initDone = false;
  let started = false;
  const kick = () => {
    if (started) runner.run();
  };

  const sliceSvc = (s: KubeObject) => {
    const n = s.metadata.labels?.[SERVICE_NAME_LABEL];
    return n ? `${s.metadata.namespace}/${n}` : undefined;
  };
  const onSlice = (s: KubeObject, gone: boolean) => {
    const k = sliceSvc(s);
    if (!k) return;
    const m = bySvc.get(k) ?? new Map<string, KubeObject>();
    if (gone) m.delete(keyOf(s));
    else m.set(keyOf(s), s);
    if (m.size) bySvc.set(k, m);
    else bySvc.delete(k);
    tracker.mark(k);
    kick();
  };
  const onService = (s: KubeObject) => {
    tracker.mark(keyOf(s));
    lb?.enqueue(s);
    kick();
  };

  const lb = o.loadBalancerCidr ? new LbAllocator(client, o.loadBalancerCidr, o.log) : undefined;
  const clock = o.clock ?? realClock;
  const events = syncFailureRecorder(client, o.nodeName);

  const runner = new BoundedFrequencyRunner(async () => {
    if (!initDone) {
      await backend.init();
      initDone = true;
    }
    const changed = tracker.take();
    const keys = changed ?? new Set([...services.keys(), ...desired.keys()]);
    for (const k of keys) {
      const ports = servicePorts(services.get(k), [...(bySvc.get(k)?.values() ?? [])]);
      if (ports.length) desired.set(k, ports);
      else desired.delete(k);
    }
    try {
      await backend.sync(desired, changed);
      lastOk = clock.now();
    } catch (e) {
      tracker.restore();
      initDone = false;
      throw e;
    }
  }, { minIntervalMs: o.minSyncMs, maxIntervalMs: o.maxSyncMs, retryMs: Math.max(o.minSyncMs, 1000), clock, onError: (e) => {
    o.log('error', `sync failed, full resync next: ${(e as Error).message}`);
    reportSyncFailure(events, o.nodeName, (e as Error).message);
  } });

  services.addEventHandler({ onAdd: onService, onUpdate: (_a, b) => onService(b), onDelete: onService });
  slices.addEventHandler({ onAdd: (s) => onSlice(s, false), onUpdate: (_a, b) => onSlice(b, false), onDelete: (s) => onSlice(s, true) });
  nodes.addEventHandler({ onAdd: () => { tracker.markAll(); kick(); }, onUpdate: () => { tracker.markAll(); kick(); } });
  for (const i of [services, slices, nodes]) i.start();
  await Promise.all([services.waitForSync(), slices.waitForSync(), nodes.waitForSync()]);
  tracker.markAll();
  started = true;
  await runner.runAndWait();
  lb?.start(() => services.list());

  // kube-proxy's /healthz: 200 while syncs keep succeeding, with when the rules were last written
  const healthz = () => {
    const healthy = lastOk > 0 && clock.now() - lastOk < 2 * o.maxSyncMs + 5000;
    const body = JSON.stringify({ lastUpdated: new Date(lastOk).toISOString(), currentTime: new Date(clock.now()).toISOString(), services: desired.size });
    return { status: healthy ? 200 : 503, body, type: 'application/json' };
  };
  const health = await serve(o.bindAddress, o.healthPort, [{ path: '/healthz', reply: healthz }, { path: '/livez', reply: healthz }]);

  return {
    healthUrl: `${health.url}/healthz`,
    backend,
    synced: () => runner.runAndWait(),
    async close() {
      runner.stop();
      lb?.stop();
      for (const i of [services, slices, nodes]) await i.stop();
      await health.close();
      await backend.close();
    },
  };
}

/** The proxy's Event recorder (kube-proxy's source). */
export function syncFailureRecorder(client: KubeClient, nodeName: string): EventRecorder {
  return new EventRecorder(clientSink(client), { component: 'kube-proxy', host: nodeName });
}

/**
 * A failed sync is reported as a Warning Event on this proxy's Node (kube-proxy's wording), so `shoal
 * describe node` and `kubectl get events` show it; the old rules stay in place (the transaction failed as
 * a whole) and the next sync rewrites the whole table.
 */
export function reportSyncFailure(events: EventRecorder, nodeName: string, message: string): void {
  events.event(nodeRef(nodeName), 'Warning', 'SyncProxyRulesFailed', `Failed to sync proxy rules, retrying with a full sync: ${message.slice(0, 900)}`);
}
