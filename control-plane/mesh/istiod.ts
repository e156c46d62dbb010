// What mesh control keeps in the API, as istiod does: the `istiod` Service in istio-system (selector-less,
// ports https-dns/grpc 15012 and http-monitoring 15014) with Endpoints and an EndpointSlice at the host
// address pods use for the API server (the `kubernetes` Service's endpoint; under `shoal up` the pod
// bridge's gateway), and the ConfigMap `istio-ca-root-cert` (key root-cert.pem) in every namespace.

import type { KubeClient } from '../../api/client/index.js';
import { isAlreadyExists, isNotFound } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';

const R = {
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  endpoints: { apiVersion: 'v1', plural: 'endpoints', namespaced: true },
  endpointslices: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  configmaps: { apiVersion: 'v1', plural: 'configmaps', namespaced: true },
};

/** Name of the root certificate ConfigMap, as Istio. */
export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';
const MANAGED = { 'app.kubernetes.io/managed-by': 'shoal-mesh-control' };

/** The address pods reach the API server at: the `kubernetes` Endpoints' first address. */
export async function apiServerPodAddress(client: KubeClient): Promise<string | undefined> {
  try {
    const ep: any = await client.get(R.endpoints, 'kubernetes', { namespace: 'default' });
    return ep.subsets?.[0]?.addresses?.[0]?.ip;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The three objects (pure). */
export function istiodObjects(ns: string, address: string, grpcPort: number, debugPort: number): { service: KubeObject; endpoints: KubeObject; slice: KubeObject } {
  const labels = { app: 'istiod', istio: 'pilot', ...MANAGED };
  const ports = [
    { name: 'https-dns', port: 15012, protocol: 'TCP', targetPort: grpcPort },
    { name: 'http-monitoring', port: 15014, protocol: 'TCP', targetPort: debugPort },
  ];
  return {
    service: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'istiod', namespace: ns, labels }, spec: { type: 'ClusterIP', ports } } as KubeObject,
    endpoints: {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'istiod', namespace: ns, labels: { ...labels, 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: address }], ports: ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: 'TCP' })) }],
    } as KubeObject,
    slice: {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'istiod', namespace: ns, labels: { ...labels, 'kubernetes.io/service-name': 'istiod' } },
      addressType: 'IPv4', endpoints: [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false } }],
      ports: ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: 'TCP' })),
    } as KubeObject,
  };
}

/** Creates or updates `want` (only the fields we own: spec/subsets/endpoints/ports/data, labels). */
async function upsert(client: KubeClient, ref: typeof R[keyof typeof R], want: KubeObject): Promise<void> {
  const ns = want.metadata.namespace;
  try {
    const cur: any = await client.get(ref, want.metadata.name!, { namespace: ns });
    const next: any = structuredClone(cur);
    next.metadata.labels = { ...(cur.metadata.labels ?? {}), ...(want.metadata.labels ?? {}) };
    for (const k of ['subsets', 'endpoints', 'ports', 'data', 'addressType']) if ((want as any)[k] !== undefined) next[k] = (want as any)[k];
    if ((want as any).spec) next.spec = { ...cur.spec, ports: (want as any).spec.ports };
    if (JSON.stringify(next) !== JSON.stringify(cur)) await client.update(ref, next, { namespace: ns });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await client.create(ref, want, { namespace: ns }).catch((err) => { if (!isAlreadyExists(err)) throw err; });
  }
}

/** Ensures the namespace and the istiod Service, Endpoints and EndpointSlice. */
export async function ensureIstiodService(client: KubeClient, ns: string, address: string, grpcPort: number, debugPort: number): Promise<void> {
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch((e) => { if (!isAlreadyExists(e)) throw e; });
  const o = istiodObjects(ns, address, grpcPort, debugPort);
  await upsert(client, R.services, o.service);
  await upsert(client, R.endpoints, o.endpoints);
  await upsert(client, R.endpointslices, o.slice);
}

/** Ensures ConfigMap istio-ca-root-cert in `ns` holds `rootPem`. */
export async function ensureRootCertConfigMap(client: KubeClient, ns: string, rootPem: string): Promise<void> {
  await upsert(client, R.configmaps, {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CERT_CONFIGMAP, namespace: ns, labels: { 'istio.io/config': 'true', ...MANAGED } },
    data: { 'root-cert.pem': rootPem },
  } as KubeObject);
}
