// The endpoints controller: for every Service with a selector, keep an Endpoints object of the same name
// and EndpointSlices labelled `kubernetes.io/service-name` (managed-by endpointslice-controller.k8s.io,
// owned by the Service) equal to what build.ts computes from the pods. Services without a selector are
// left alone (their endpoints are the user's, or the `kubernetes` Service controller's).

import type { KubeObject } from '../../../api/meta.js';
import { fromSet, matches } from '../../../api/labels.js';
import { isAlreadyExists, isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { refs } from '../informers.js';
import { deepEqual } from '../podutil.js';
import { endpointsSubsets, podEndpoints, sliceContents } from './build.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';

/** The endpoints (and EndpointSlice) controller. */
export function endpointsController(ctx: ControllerContext): Controller {
  const svcInf = ctx.informers.for(refs.services);
  const podInf = ctx.informers.for(refs.pods);
  const epInf = ctx.informers.for(refs.endpoints);
  const sliceInf = ctx.informers.for(refs.endpointslices);
  const c = new Controller({ name: 'endpoints', log: ctx.log, reconcile });
  svcInf.addEventHandler({ onAdd: (s) => c.enqueue(keyOf(s)), onUpdate: (_o, s) => c.enqueue(keyOf(s)), onDelete: (s) => c.enqueue(keyOf(s)) });
  const servicesOf = (p: KubeObject) => svcInf.list().filter((s) => s.metadata.namespace === p.metadata.namespace && s.spec?.selector && matches(fromSet(s.spec.selector), p.metadata.labels)).map(keyOf);
  podInf.addEventHandler({
    onAdd: (p) => servicesOf(p).forEach((k) => c.enqueue(k)),
    onUpdate: (o, p) => new Set([...servicesOf(o), ...servicesOf(p)]).forEach((k) => c.enqueue(k)),
    onDelete: (p) => servicesOf(p).forEach((k) => c.enqueue(k)),
  });
  // someone else changed our output: put it back
  epInf.addEventHandler({ onUpdate: (_o, e) => c.enqueue(keyOf(e)), onDelete: (e) => c.enqueue(keyOf(e)) });
  sliceInf.addEventHandler({ onDelete: (s) => { const n = s.metadata.labels?.[SERVICE_NAME_LABEL]; if (n) c.enqueue(`${s.metadata.namespace}/${n}`); } });

  // slices we created that the cache has not shown yet (generateName: a second create would duplicate)
  const unseen = new Map<string, { names: string[]; at: number }>();

  async function reconcile(key: string): Promise<void | { requeueAfterMs: number }> {
    const [ns, name] = key.split('/') as [string, string];
    const u = unseen.get(key);
    if (u) {
      if (u.names.some((n) => !sliceInf.get(`${ns}/${n}`)) && ctx.now() - u.at < 10_000) return { requeueAfterMs: 50 };
      unseen.delete(key);
    }
    const svc = svcInf.get(key);
    const mySlices = sliceInf.list().filter((s) => s.metadata.namespace === ns && s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY);
    if (!svc || !svc.spec?.selector) {
      // the Service is gone (or has no selector): our objects go too
      if (!svc && epInf.get(key)) await ctx.client.delete(refs.endpoints, name, { namespace: ns }).catch((e) => { if (!isNotFound(e)) throw e; });
      for (const s of mySlices) await ctx.client.delete(refs.endpointslices, s.metadata.name!, { namespace: ns }).catch((e) => { if (!isNotFound(e)) throw e; });
      return;
    }
    const sel = fromSet(svc.spec.selector);
    const pods = podInf.list().filter((p) => p.metadata.namespace === ns && matches(sel, p.metadata.labels));
    const eps = podEndpoints(svc, pods);
    // ---- Endpoints
    const subsets = endpointsSubsets(svc, eps);
    const labels = { ...(svc.metadata.labels ?? {}) };
    const cur = epInf.get(key);
    if (!cur) {
      try {
        await ctx.client.create(refs.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns, labels }, ...(subsets.length ? { subsets } : {}) }, { namespace: ns });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        throw new Error(`endpoints ${key} exists but is not in the cache yet`);
      }
    } else if (!deepEqual(cur.subsets ?? [], subsets) || !deepEqual(cur.metadata.labels ?? {}, labels)) {
      const next = structuredClone(cur);
      next.metadata.labels = labels;
      if (subsets.length) next.subsets = subsets;
      else delete next.subsets;
      await ctx.client.update(refs.endpoints, next, { namespace: ns });
    }
    // ---- EndpointSlices: reuse existing slices in order, create what is missing, delete the rest
    const want = sliceContents(svc, eps);
    const sliceLabels = { ...(svc.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    const owner = { apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
    const existing = [...mySlices].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    const matched = new Set<KubeObject>();
    const pending: typeof want = [];
    for (const w of want) {
      const same = existing.find((s) => !matched.has(s) && deepEqual(s.ports ?? [], w.ports) && deepEqual(s.endpoints ?? [], w.endpoints));
      if (same) matched.add(same);
      else pending.push(w);
    }
    for (const w of pending) {
      const reuse = existing.find((s) => !matched.has(s));
      if (reuse) {
        matched.add(reuse);
        const next = structuredClone(reuse);
        next.ports = w.ports;
        next.endpoints = w.endpoints;
        next.metadata.labels = sliceLabels;
        await ctx.client.update(refs.endpointslices, next, { namespace: ns });
      } else {
        const made = await ctx.client.create(refs.endpointslices, {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { generateName: `${name}-`, namespace: ns, labels: sliceLabels, ownerReferences: [owner] },
          addressType: 'IPv4', endpoints: w.endpoints, ports: w.ports,
        }, { namespace: ns });
        const e = unseen.get(key) ?? { names: [], at: ctx.now() };
        e.names.push(made.metadata.name!);
        unseen.set(key, e);
      }
    }
    for (const s of existing) if (!matched.has(s)) await ctx.client.delete(refs.endpointslices, s.metadata.name!, { namespace: ns }).catch((e) => { if (!isNotFound(e)) throw e; });
  }
  return c;
}
