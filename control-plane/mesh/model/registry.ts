// ServiceEntry and WorkloadEntry → mesh Services and Endpoints, as istiod adds them to its registry:
//   - each host of a ServiceEntry is a Service named by the host (namespace: the entry's), reachable at
//     the entry's `addresses` (IPs; CIDRs are not VIPs here) on its ports, so VirtualServices and
//     DestinationRules can target it by that host;
//   - endpoints: resolution STATIC → `spec.endpoints` (addresses, per-port numbers by port name, labels)
//     or, with `workloadSelector`, the pods and WorkloadEntries of the namespace whose labels match (pods
//     with a sidecar are mesh endpoints); resolution DNS → `spec.endpoints` (an address that is a name is
//     kept as written; the proxy dials it) or the host itself; NONE → no endpoints (the original
//     destination is kept, as Istio's passthrough);
//   - location MESH_EXTERNAL (default) endpoints never speak HBONE; MESH_INTERNAL endpoints of pods with a
//     sidecar do.
// Pure: the caller passes the cached objects.
import { isIP } from 'node:net';
import type { KubeObject } from '../../../api/meta.js';
import type { Endpoint, MeshService, Resource } from '../../../proto/types.js';
import { selectorMatches } from './selection.js';

/** What the registry reads. */
export interface RegistryView {
  serviceEntries(): KubeObject[];
  workloadEntries(): KubeObject[];
  pods(): KubeObject[];
}

const sorted = (l: Record<string, string> | undefined) => Object.fromEntries(Object.entries(l ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)));

/** The Services of every ServiceEntry host, sorted by resource name. */
export function serviceEntryServices(view: RegistryView): Resource[] {
  const out: Resource[] = [];
  for (const se of view.serviceEntries() as any[]) {
    const ns = se.metadata.namespace;
    const vips = (se.spec?.addresses ?? []).filter((a: string) => isIP(a) !== 0);
    const ports = (se.spec?.ports ?? []).map((p: any) => ({
      name: p.name ?? '', port: p.number, targetPort: p.targetPort ?? p.number, targetPortName: '', protocol: 'TCP',
      appProtocol: String(p.protocol ?? '').toLowerCase(),
    }));
    for (const host of se.spec?.hosts ?? []) {
      const service: MeshService = { name: host, namespace: ns, hostname: host, vips, ports };
      out.push({ name: `${ns}/${host}`, service });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

function hasSidecar(pod: any): boolean {
  const names = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].map((c: any) => c.name);
  return names.includes('istio-proxy') || !!pod?.metadata?.annotations?.['sidecar.istio.io/status'];
}

/** The endpoints of every ServiceEntry host (`ns/host`). */
export function serviceEntryEndpoints(view: RegistryView, spiffe: (ns: string, sa: string) => string): Resource[] {
  const out: Resource[] = [];
  for (const se of view.serviceEntries() as any[]) {
    const ns = se.metadata.namespace;
    const spec = se.spec ?? {};
    const internal = spec.location === 'MESH_INTERNAL';
    const portsOf = (over: Record<string, number> | undefined) => (spec.ports ?? []).map((p: any) => ({ name: p.name ?? '', port: over?.[p.name] ?? p.targetPort ?? p.number }));
    const eps: Endpoint[] = [];
    const entry = (address: string, labels: any, over: Record<string, number> | undefined, sa = '') => eps.push({
      address, ports: portsOf(over), podName: '', namespace: ns, serviceAccount: sa, identity: internal && sa ? spiffe(ns, sa) : '',
      mesh: false, labels: sorted(labels), ready: true,
    });
    if (spec.workloadSelector) {
      const sel = spec.workloadSelector.labels ?? {};
      for (const pod of view.pods() as any[]) {
        if (pod.metadata.namespace !== ns || !pod.status?.podIP || !selectorMatches(sel, pod.metadata.labels ?? {})) continue;
        const sa = pod.spec?.serviceAccountName || 'default';
        const mesh = internal && hasSidecar(pod);
        eps.push({ address: pod.status.podIP, ports: portsOf(undefined), podName: pod.metadata.name, namespace: ns, serviceAccount: sa,
          identity: mesh ? spiffe(ns, sa) : '', mesh, labels: sorted(pod.metadata.labels), ready: (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True') });
      }
      for (const we of view.workloadEntries() as any[]) {
        if (we.metadata.namespace !== ns || !selectorMatches(sel, we.spec?.labels ?? {}) || !we.spec?.address) continue;
        entry(we.spec.address, we.spec.labels, we.spec.ports, we.spec.serviceAccount ?? '');
      }
    } else if (spec.resolution === 'STATIC' || spec.resolution === 'DNS' || spec.resolution === 'DNS_ROUND_ROBIN') {
      for (const e of spec.endpoints ?? []) if (e.address) entry(e.address, e.labels, e.ports, e.serviceAccount ?? '');
    }
    for (const host of spec.hosts ?? []) out.push({ name: `${ns}/${host}`, endpoints: { service: `${ns}/${host}`, endpoints: [...eps].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)) } });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}
