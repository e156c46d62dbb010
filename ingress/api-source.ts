// The ingress's fallback config source when there is no mesh control (`shoal up --no-mesh`, or a plain
// Kubernetes cluster): Services and EndpointSlices from the API through informers, applied to the same
// ConfigStore the discovery stream feeds, with every endpoint marked non-mesh (no identity without the mesh
// CA, so pods are reached by plain TCP). The discovery stream stays the normal source: it carries each
// endpoint's SPIFFE identity and sidecar flag, which the HBONE dialer needs, and it is what mesh control
// already computes for every proxy.
import { Informer, type KubeClient } from '../api/client/index.js';
import type { ConfigSource, SourceStatus } from '../proxy/config/source.js';
import { compileService } from '../control-plane/mesh/model/compile.js';
import type { ConfigStore } from '../proxy/config/store.js';
import { TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_WORKLOAD, type MeshEndpoints, type MeshService } from '../proxy/config/types.js';

/** A Service object → the mesh's Service record: mesh control's own compiler (one mapping for both sources). */
export const serviceOf = (svc: any): MeshService => compileService(svc);

/** EndpointSlices → ready endpoints per Service (IPv4; not-ready ones kept with ready=false). */
export function endpointsOf(services: readonly MeshService[], slices: readonly any[]): MeshEndpoints[] {
  const by = new Map<string, MeshEndpoints>(services.map((s) => [`${s.namespace}/${s.name}`, { service: `${s.namespace}/${s.name}`, endpoints: [] }]));
  for (const sl of slices) {
    const e = by.get(`${sl.metadata.namespace}/${sl.metadata.labels?.['kubernetes.io/service-name']}`);
    if (!e || (sl.addressType && sl.addressType !== 'IPv4')) continue;
    const ports = (sl.ports ?? []).map((p: any) => ({ name: p.name ?? '', port: p.port ?? 0 }));
    for (const ep of sl.endpoints ?? []) {
      for (const address of ep.addresses ?? []) {
        e.endpoints.push({ address, ports, podName: ep.targetRef?.name ?? '', namespace: ep.targetRef?.namespace ?? '', serviceAccount: '', identity: '', mesh: false, labels: {}, ready: ep.conditions?.ready !== false });
      }
    }
  }
  return [...by.values()];
}

export class ApiConfigSource implements ConfigSource {
  private readonly services: Informer;
  private readonly slices: Informer;
  private st: SourceStatus = { kind: 'discovery', connected: false, lastError: '', nacks: {} };
  private version = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(client: KubeClient, private readonly workload: { name: string; namespace: string; ip: string }) {
    this.services = new Informer(client, { apiVersion: 'v1', plural: 'services', namespaced: true }, { onError: (e) => { this.st.lastError = String((e as Error).message ?? e); } });
    this.slices = new Informer(client, { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true }, { onError: (e) => { this.st.lastError = String((e as Error).message ?? e); } });
  }

  start(store: ConfigStore): void {
    const push = (): void => {
      if (this.timer) return;
      this.timer = setTimeout(() => { this.timer = null; this.apply(store); }, 20);
    };
    for (const inf of [this.services, this.slices]) inf.addEventHandler({ onAdd: push, onUpdate: push, onDelete: push });
    store.apply(TYPE_WORKLOAD, 'api', [{ ...this.workload, serviceAccount: '', identity: '', labels: {}, peerAuthentication: { mode: '', portModes: {}, sources: [] }, authorization: [] }]);
    store.apply(TYPE_ROUTES, 'api', []);
    this.services.start();
    this.slices.start();
    void Promise.all([this.services.waitForSync(), this.slices.waitForSync()]).then(() => { this.st.connected = true; this.apply(store); });
  }

  private apply(store: ConfigStore): void {
    if (!this.services.hasSynced() || !this.slices.hasSynced()) return;
    const services = this.services.list().map(serviceOf);
    const v = `api-${++this.version}`;
    const errs = [...store.apply(TYPE_SERVICE, v, services), ...store.apply(TYPE_ENDPOINTS, v, endpointsOf(services, this.slices.list()))];
    if (errs.length) this.st.lastError = errs.join('; ');
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    void this.services.stop();
    void this.slices.stop();
  }

  status(): SourceStatus {
    return this.st;
  }
}
