// The `kubernetes` Service in `default`: ClusterIP = the first IP of the service CIDR (10.96.0.1), port
// 443 named https, no selector, and Endpoints plus an EndpointSlice pointing at the API server's
// advertised address and port (kube-apiserver's "master endpoints reconciler", here in the controller
// manager because Shoal's API server does not write its own objects). Checked on every change and
// every 10 s.

import type { KubeObject } from '../../../api/meta.js';
import { isAlreadyExists, isNotFound } from '../../../api/client/index.js';
import { Controller } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { refs } from '../informers.js';
import { firstServiceIp } from '../../allocators/range.js';

/** Where the API server is reached. */
export interface KubernetesServiceOptions {
  serviceCidr: string;
  /** the API server's advertised IP and port, e.g. 127.0.0.1 and 6443 */
  apiAddress: string;
  apiPort: number;
  resyncMs?: number;
}

const KEY = 'default/kubernetes';

/** The three objects as they should be (pure). */
export function kubernetesObjects(o: KubernetesServiceOptions): { service: KubeObject; endpoints: KubeObject; slice: KubeObject } {
  const ip = firstServiceIp(o.serviceCidr);
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  return {
    service: {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default', labels },
      spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: o.apiPort }], sessionAffinity: 'None' },
    },
    endpoints: {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: o.apiAddress }], ports: [{ name: 'https', port: o.apiPort, protocol: 'TCP' }] }],
    },
    slice: {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [o.apiAddress], conditions: { ready: true, serving: true, terminating: false } }],
      ports: [{ name: 'https', port: o.apiPort, protocol: 'TCP' }],
    },
  };
}

/** The controller. */
export function kubernetesServiceController(ctx: ControllerContext, o: KubernetesServiceOptions): Controller {
  const c = new Controller({ name: 'kubernetes-service', log: ctx.log, reconcile, workers: 1 });
  const mine = (x: KubeObject) => { if (x.metadata.namespace === 'default' && x.metadata.name === 'kubernetes') c.enqueue(KEY); };
  for (const r of [refs.services, refs.endpoints, refs.endpointslices]) {
    ctx.informers.for(r).addEventHandler({ onUpdate: (_a, b) => mine(b), onDelete: mine });
  }
  c.enqueue(KEY);

  async function ensure(ref: typeof refs.services, want: KubeObject, same: (cur: KubeObject) => boolean) {
    let cur: KubeObject | undefined;
    try {
      cur = await ctx.client.get(ref, 'kubernetes', { namespace: 'default' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!cur) {
      await ctx.client.create(ref, want, { namespace: 'default' }).catch((e) => { if (!isAlreadyExists(e)) throw e; });
      return;
    }
    if (same(cur)) return;
    const { metadata, ...rest } = want;
    await ctx.client.update(ref, { ...structuredClone(cur), ...rest, metadata: { ...cur.metadata, labels: { ...(cur.metadata.labels ?? {}), ...metadata.labels } } }, { namespace: 'default' });
  }

  async function reconcile() {
    const w = kubernetesObjects(o);
    await ensure(refs.services, w.service, (cur) => cur.spec?.clusterIP === w.service.spec.clusterIP && JSON.stringify(cur.spec?.ports?.map((p: any) => [p.port, p.targetPort])) === JSON.stringify([[443, o.apiPort]]));
    await ensure(refs.endpoints, w.endpoints, (cur) => JSON.stringify(cur.subsets) === JSON.stringify(w.endpoints.subsets));
    await ensure(refs.endpointslices, w.slice, (cur) => JSON.stringify([cur.endpoints?.[0]?.addresses, cur.ports?.[0]?.port]) === JSON.stringify([[o.apiAddress], o.apiPort]));
    return { requeueAfterMs: o.resyncMs ?? 10_000 };
  }
  return c;
}
