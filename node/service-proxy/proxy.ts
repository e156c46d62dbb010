// Wires the proxy: informers on Services, EndpointSlices and Nodes → change tracker (keys only) →
// bounded-frequency runner → desired state for the changed Services → the mode's backend. Also serves
// `/healthz` (kube-proxy's 10256) and allocates LoadBalancer IPs when a pool is configured.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Informer, keyOf, type KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import type { Backend } from './backend.js';
import { LbAllocator } from './loadbalancer/allocator.js';
import { servicePorts, type ServicePort } from './model/servicemap.js';
import { BoundedFrequencyRunner, ChangeTracker, type Timers } from './sync/runner.js';

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
  timers?: Timers;
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
      lastOk = Date.now();
    } catch (e) {
      tracker.restore();
      initDone = false;
      throw e;
    }
  }, { minIntervalMs: o.minSyncMs, maxIntervalMs: o.maxSyncMs, retryMs: Math.max(o.minSyncMs, 1000), timers: o.timers, onError: (e) => {
    o.log('error', `sync failed, full resync next: ${(e as Error).message}`);
    void reportSyncFailure(client, o.nodeName, (e as Error).message).catch(() => undefined);
  } });

  services.addEventHandler({ onAdd: onService, onUpdate: (_a, b) => onService(b), onDelete: onService });
  slices.addEventHandler({ onAdd: (s) => onSlice(s, false), onUpdate: (_a, b) => onSlice(b, false), onDelete: (s) => onSlice(s, true) });
  nodes.addEventHandler({ onAdd: () => { tracker.markAll(); kick(); }, onUpdate: () => { tracker.markAll(); kick(); } });
  for (const i of [services, slices, nodes]) i.start();
  await Promise.all([services.waitForSync(), slices.waitForSync(), nodes.waitForSync()]);
  tracker.markAll();
  started = true;
  const first = runner.idle();
  runner.run();
  await first;
  lb?.start(() => services.list());

  const health: Server = createServer((req, res) => {
    const healthy = lastOk > 0 && Date.now() - lastOk < 2 * o.maxSyncMs + 5000;
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ lastUpdated: new Date(lastOk).toISOString(), currentTime: new Date().toISOString(), services: desired.size }));
  });
  await new Promise<void>((r) => health.listen(o.healthPort, o.bindAddress, r));
  const addr = health.address() as AddressInfo;

  return {
    healthUrl: `http://${o.bindAddress}:${addr.port}/healthz`,
    backend,
    synced: () => {
      const p = runner.idle();
      runner.run();
      return p;
    },
    async close() {
      runner.stop();
      lb?.stop();
      for (const i of [services, slices, nodes]) await i.stop();
      await new Promise((r) => health.close(r));
      await backend.close();
    },
  };
}

/**
 * A failed sync is reported as a Warning Event on this proxy's Node (kube-proxy's wording), so `shoal
 * describe node` and `kubectl get events` show it; the old rules stay in place (the transaction failed as
 * a whole) and the next sync rewrites the whole table.
 */
export async function reportSyncFailure(client: KubeClient, nodeName: string, message: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await client.create({ apiVersion: 'v1', plural: 'events', namespaced: true }, {
    apiVersion: 'v1', kind: 'Event',
    metadata: { generateName: `${nodeName}.`, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeName },
    reason: 'SyncProxyRulesFailed', message: `Failed to sync proxy rules, retrying with a full sync: ${message.slice(0, 900)}`,
    type: 'Warning', source: { component: 'kube-proxy', host: nodeName }, firstTimestamp: now, lastTimestamp: now, count: 1,
    reportingComponent: 'kube-proxy', reportingInstance: nodeName,
  }, { namespace: 'default' });
}
