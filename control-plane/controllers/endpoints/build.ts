// Building Endpoints and EndpointSlices for a Service from its pods, as pure functions (kube's
// endpoints and endpointslice controllers): a pod contributes when it has an IP and matches the
// selector; named target ports are resolved per pod against its container ports (a pod without the
// name is left out of that port); readiness is the pod's Ready condition; `serving` ignores termination;
// terminating pods appear only in slices (ready=false) unless publishNotReadyAddresses, which marks
// every endpoint ready.

import type { KubeObject } from '../../../api/meta.js';
import { isPodReady } from '../podutil.js';

/** One resolved port of a Service for one pod. */
export interface ResolvedPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** The pod port a Service port points at (number, or a named container port), or undefined. */
export function resolveTargetPort(pod: KubeObject, sp: any): number | undefined {
  const t = sp.targetPort ?? sp.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(String(t))) return Number(t);
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])])
    for (const p of c.ports ?? []) if (p.name === t && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return p.containerPort;
  return undefined;
}

/** One pod as an endpoint, with its conditions and resolved ports. */
export interface PodEndpoint {
  pod: KubeObject;
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  ports: ResolvedPort[];
}

/** The pods' endpoints for a Service (pure). Pods must already match the selector. */
export function podEndpoints(svc: KubeObject, pods: KubeObject[]): PodEndpoint[] {
  const publish = !!svc.spec?.publishNotReadyAddresses;
  const out: PodEndpoint[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const terminating = !!pod.metadata.deletionTimestamp;
    const serving = isPodReady(pod);
    const ports: ResolvedPort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = resolveTargetPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    out.push({ pod, ip, terminating, serving: publish || serving, ready: publish || (serving && !terminating), ports });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip, undefined, { numeric: true }));
}

const portKey = (ports: ResolvedPort[]) => JSON.stringify([...ports].sort((a, b) => String(a.name ?? '').localeCompare(String(b.name ?? ''))));

function address(e: PodEndpoint): Record<string, unknown> {
  return {
    ip: e.ip,
    ...(e.pod.spec?.nodeName ? { nodeName: e.pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: e.pod.metadata.namespace, name: e.pod.metadata.name, uid: e.pod.metadata.uid },
  };
}

/** core/v1 Endpoints subsets: pods grouped by identical port sets (kube's RepackSubsets). */
export function endpointsSubsets(svc: KubeObject, eps: PodEndpoint[]): any[] {
  const groups = new Map<string, { ports: ResolvedPort[]; addresses: any[]; notReadyAddresses: any[] }>();
  const publish = !!svc.spec?.publishNotReadyAddresses;
  for (const e of eps) {
    if (e.terminating && !publish) continue;
    if (!e.ports.length && (svc.spec?.ports ?? []).length) continue;
    const k = portKey(e.ports);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ports: [...e.ports].sort((a, b) => String(a.name ?? '').localeCompare(String(b.name ?? ''))), addresses: [], notReadyAddresses: [] }));
    (e.ready ? g.addresses : g.notReadyAddresses).push(address(e));
  }
  return [...groups.values()].map((g) => ({
    ...(g.addresses.length ? { addresses: g.addresses } : {}),
    ...(g.notReadyAddresses.length ? { notReadyAddresses: g.notReadyAddresses } : {}),
    ...(g.ports.length ? { ports: g.ports.map((p) => ({ ...p })) } : {}),
  }));
}

/** The desired EndpointSlices' contents: one per port set, at most `max` endpoints each. */
export function sliceContents(svc: KubeObject, eps: PodEndpoint[], max = 100): { ports: ResolvedPort[]; endpoints: any[] }[] {
  const groups = new Map<string, { ports: ResolvedPort[]; eps: PodEndpoint[] }>();
  for (const e of eps) {
    if (!e.ports.length && (svc.spec?.ports ?? []).length) continue;
    const k = portKey(e.ports);
    const g = groups.get(k) ?? { ports: [...e.ports].sort((a, b) => String(a.name ?? '').localeCompare(String(b.name ?? ''))), eps: [] };
    g.eps.push(e);
    groups.set(k, g);
  }
  const out: { ports: ResolvedPort[]; endpoints: any[] }[] = [];
  for (const g of groups.values()) {
    for (let i = 0; i < g.eps.length; i += max) {
      out.push({
        ports: g.ports,
        endpoints: g.eps.slice(i, i + max).map((e) => ({
          addresses: [e.ip],
          conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
          ...(e.pod.spec?.nodeName ? { nodeName: e.pod.spec.nodeName } : {}),
          targetRef: { kind: 'Pod', namespace: e.pod.metadata.namespace, name: e.pod.metadata.name, uid: e.pod.metadata.uid },
        })),
      });
    }
  }
  return out;
}
