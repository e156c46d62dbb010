// Feeds the ZoneIndex from informers on Services, EndpointSlices and Pods. Every event recomputes the
// records of the one Service it concerns (`ns/name`) and hands the changed names to `onChange`, which
// invalidates the caches. `synced()` turns true once all three informers delivered their first list;
// until then the resolver answers SERVFAIL for zone names, never stale or partial data.

import type { KubeObject } from '../../api/meta.js';
import { Informer, type KubeClient } from '../../api/client/index.js';
import { ZoneIndex } from './index.js';
import { SERVICE_NAME_LABEL, serviceEntryRecords, serviceRecords, zoneRecords, type PodLike, type ServiceLike, type SliceLike } from './records.js';

/** The running watch. */
export interface ZoneWatch {
  synced(): boolean;
  waitForSync(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Start the informers; `onChange` gets the names whose answers changed. */
export function watchZone(client: KubeClient, zone: string, index: ZoneIndex, onChange: (names: Set<string>) => void, onError?: (e: unknown) => void): ZoneWatch {
  const opts = { onError };
  const services = new Informer<KubeObject>(client, { apiVersion: 'v1', plural: 'services', namespaced: true }, opts);
  const slices = new Informer<KubeObject>(client, { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true }, opts);
  const pods = new Informer<KubeObject>(client, { apiVersion: 'v1', plural: 'pods', namespaced: true }, opts);
  // Istio ServiceEntry hosts (outside the zone), as Istio's DNS proxy answers them. Not part of `synced`:
  // a cluster without the kind still serves its zone.
  const entries = new Informer<KubeObject>(client, { apiVersion: 'networking.istio.io/v1', plural: 'serviceentries', namespaced: true }, { onError: () => { /* the kind may not be served */ } });
  const slicesBySvc = new Map<string, Map<string, SliceLike>>();
  const podsBySub = new Map<string, Map<string, PodLike>>();
  let ready = false;

  const recompute = (key: string) => {
    const svc = services.get(key) as ServiceLike | undefined;
    const recs = svc ? serviceRecords(zone, svc, slicesBySvc.get(key)?.values() ?? [], podsBySub.get(key)?.values() ?? []) : [];
    const changed = index.set(key, recs);
    if (changed.size) onChange(changed);
  };
  const group = <T extends { metadata: { name?: string; namespace?: string } }>(m: Map<string, Map<string, T>>, svcKey: string | undefined, o: T, del: boolean) => {
    if (!svcKey) return;
    const k = `${o.metadata.namespace}/${o.metadata.name}`;
    let g = m.get(svcKey);
    if (del) g?.delete(k);
    else {
      if (!g) m.set(svcKey, (g = new Map()));
      g.set(k, o);
    }
    if (g && !g.size) m.delete(svcKey);
    recompute(svcKey);
  };
  const sliceSvc = (o: KubeObject) => {
    const n = o.metadata.labels?.[SERVICE_NAME_LABEL];
    return n ? `${o.metadata.namespace}/${n}` : undefined;
  };
  const podSvc = (o: KubeObject) => {
    const sub = (o as PodLike).spec?.subdomain;
    return sub && (o as PodLike).spec?.hostname ? `${o.metadata.namespace}/${sub}` : undefined;
  };
  const svcKey = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

  services.addEventHandler({ onAdd: (o) => recompute(svcKey(o)), onUpdate: (_a, o) => recompute(svcKey(o)), onDelete: (o) => recompute(svcKey(o)) });
  slices.addEventHandler({
    onAdd: (o) => group(slicesBySvc, sliceSvc(o), o as SliceLike, false),
    onUpdate: (a, o) => {
      if (sliceSvc(a) !== sliceSvc(o)) group(slicesBySvc, sliceSvc(a), a as SliceLike, true);
      group(slicesBySvc, sliceSvc(o), o as SliceLike, false);
    },
    onDelete: (o) => group(slicesBySvc, sliceSvc(o), o as SliceLike, true),
  });
  pods.addEventHandler({
    onAdd: (o) => group(podsBySub, podSvc(o), o as PodLike, false),
    onUpdate: (a, o) => {
      if (podSvc(a) !== podSvc(o)) group(podsBySub, podSvc(a), a as PodLike, true);
      group(podsBySub, podSvc(o), o as PodLike, false);
    },
    onDelete: (o) => group(podsBySub, podSvc(o), o as PodLike, true),
  });
  const seKey = (o: KubeObject) => `serviceentry:${o.metadata.namespace}/${o.metadata.name}`;
  const setEntry = (o: KubeObject, del: boolean) => {
    const changed = index.set(seKey(o), del ? [] : serviceEntryRecords(o as never));
    if (changed.size) onChange(changed);
  };
  entries.addEventHandler({ onAdd: (o) => setEntry(o, false), onUpdate: (_a, o) => setEntry(o, false), onDelete: (o) => setEntry(o, true) });
  onChange(index.set('', zoneRecords(zone)));
  for (const i of [services, slices, pods, entries]) i.start();
  const all = Promise.all([services, slices, pods].map((i) => i.waitForSync())).then(() => {
    ready = true;
  });
  all.catch(() => undefined);
  return {
    synced: () => ready,
    async waitForSync(timeoutMs) {
      if (timeoutMs === undefined) return all;
      let t: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((_r, rej) => (t = setTimeout(() => rej(new Error(`dns: informers not synced after ${timeoutMs} ms`)), timeoutMs)))]).finally(() => clearTimeout(t));
    },
    async stop() {
      await Promise.all([services, slices, pods, entries].map((i) => i.stop()));
    },
  };
}
