// The config compiler: Kubernetes objects (from the informers' caches) → the typed discovery resources of
// proto/shoal/mesh/v1/discovery.proto, per proxy. Services and Endpoints are the same for every proxy
// (until a Sidecar resource trims them, next issue); the Workload resource is the proxy's own pod with
// the PeerAuthentication and AuthorizationPolicies selected for it (selection.ts). Pure functions: the
// push loop hashes their output to decide whom to push.

import { createHash } from 'node:crypto';
import type { KubeObject } from '../../../api/meta.js';
import type { AuthzPolicy, Endpoint, MeshEndpoints, MeshService, Resource, RouteConfig, Workload } from '../../../proto/types.js';
import { applicableAuthorizationPolicies, effectivePeerAuthentication, ROOT_NAMESPACE, type ServiceRef } from './selection.js';
import { serviceEntryEndpoints, serviceEntryServices } from './registry.js';
import { applicableSidecar, egressFilter, outboundPolicy } from './sidecar-scope.js';
import { jwtRulesFor } from './jwt.js';

/** What the compiler reads: the caches of the watched resources. */
export interface ClusterView {
  services(): KubeObject[];
  service(namespace: string, name: string): KubeObject | undefined;
  endpointSlices(): KubeObject[];
  pod(namespace: string, name: string): KubeObject | undefined;
  peerAuthentications(): KubeObject[];
  authorizationPolicies(): KubeObject[];
  virtualServices(): KubeObject[];
  destinationRules(): KubeObject[];
  httpRoutes(): KubeObject[];
  grpcRoutes(): KubeObject[];
  serviceEntries(): KubeObject[];
  workloadEntries(): KubeObject[];
  pods(): KubeObject[];
  sidecars(): KubeObject[];
  requestAuthentications(): KubeObject[];
  /** A RequestAuthentication jwksUri's key set (mesh control's cache). */
  jwks(uri: string): { jwks: string; error: string };
}

/** The proxy a Workload is compiled for (from the stream's Node, checked against the token). */
export interface ProxyRef {
  podName: string;
  namespace: string;
  ip?: string;
  serviceAccount?: string;
  labels?: Record<string, string>;
}

/** spiffe://cluster.local/ns/<ns>/sa/<sa> */
export function spiffeId(namespace: string, serviceAccount: string, trustDomain = 'cluster.local'): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Whether a pod runs the mesh sidecar (injected `istio-proxy` container or Istio's status annotation). */
export function hasSidecar(pod: any): boolean {
  const names = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].map((c: any) => c.name);
  return names.includes('istio-proxy') || !!pod?.metadata?.annotations?.['sidecar.istio.io/status'];
}

function sortedLabels(l: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(l ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** One Service → its resource. */
export function compileService(svc: any): MeshService {
  const ns = svc.metadata.namespace;
  const ips: string[] = (svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])).filter((ip: string) => ip && ip !== 'None');
  return {
    name: svc.metadata.name, namespace: ns, hostname: `${svc.metadata.name}.${ns}.svc.cluster.local`, vips: ips,
    ports: (svc.spec?.ports ?? []).map((p: any) => ({
      name: p.name ?? '', port: p.port, targetPort: typeof p.targetPort === 'number' ? p.targetPort : p.targetPort === undefined ? p.port : 0,
      targetPortName: typeof p.targetPort === 'string' ? p.targetPort : '', protocol: p.protocol ?? 'TCP', appProtocol: p.appProtocol ?? '',
    })),
  };
}

/** Every Service and every ServiceEntry host (registry.ts), sorted by ns/name. */
export function compileServices(view: ClusterView): Resource[] {
  return [
    ...view.services().map((s) => ({ name: `${s.metadata.namespace}/${s.metadata.name}`, service: compileService(s) })),
    ...serviceEntryServices(view),
  ].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * What a proxy may see when a Sidecar with egress hosts applies to it (sidecar-scope.ts): a test on
 * Service and Endpoints resources (`ns/name`, the hostname from the Service). undefined: everything.
 */
export function visibleFor(view: ClusterView, proxy: ProxyRef, root = ROOT_NAMESPACE): ((r: Resource) => boolean) | undefined {
  const pod: any = view.pod(proxy.namespace, proxy.podName);
  const sc = applicableSidecar(proxy.namespace, pod?.metadata.labels ?? proxy.labels ?? {}, view.sidecars(), root);
  if (!sc || !((sc as any).spec?.egress ?? []).some((e: any) => (e.hosts ?? []).length)) return undefined;
  const ok = egressFilter(sc, proxy.namespace);
  return (r) => {
    const [ns, name] = [r.name.slice(0, r.name.indexOf('/')), r.name.slice(r.name.indexOf('/') + 1)];
    const host = r.service?.hostname ?? (name.includes('.') ? name : `${name}.${ns}.svc.cluster.local`);
    return ok(ns, host);
  };
}

/** Every Service's endpoints, merged from its EndpointSlices, with each pod's identity and mesh flag. */
export function compileEndpoints(view: ClusterView): Resource[] {
  const byService = new Map<string, Endpoint[]>();
  for (const s of view.services()) byService.set(`${s.metadata.namespace}/${s.metadata.name}`, []);
  for (const slice of view.endpointSlices() as any[]) {
    const svcName = slice.metadata.labels?.['kubernetes.io/service-name'];
    const key = `${slice.metadata.namespace}/${svcName}`;
    const list = byService.get(key);
    if (!svcName || !list || (slice.addressType && slice.addressType !== 'IPv4')) continue;
    const ports = (slice.ports ?? []).map((p: any) => ({ name: p.name ?? '', port: p.port ?? 0 }));
    for (const ep of slice.endpoints ?? []) {
      const ref = ep.targetRef?.kind === 'Pod' ? ep.targetRef : undefined;
      const pod: any = ref ? view.pod(ref.namespace ?? slice.metadata.namespace, ref.name) : undefined;
      const sa = pod ? (pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default') : '';
      for (const address of ep.addresses ?? []) {
        list.push({
          address, ports, podName: pod?.metadata.name ?? '', namespace: pod?.metadata.namespace ?? '', serviceAccount: sa,
          identity: pod ? spiffeId(pod.metadata.namespace, sa) : '', mesh: hasSidecar(pod), labels: sortedLabels(pod?.metadata.labels),
          ready: ep.conditions?.ready !== false,
        });
      }
    }
  }
  return [...[...byService.entries()]
    .map(([name, endpoints]) => ({ name, endpoints: { service: name, endpoints: endpoints.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)) } satisfies MeshEndpoints })),
  ...serviceEntryEndpoints(view, spiffeId)].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The proto shape of one AuthorizationPolicy. */
export function compileAuthorizationPolicy(p: any): AuthzPolicy {
  const arr = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const source = (s: any) => ({
    principals: arr(s?.principals), notPrincipals: arr(s?.notPrincipals), requestPrincipals: arr(s?.requestPrincipals),
    notRequestPrincipals: arr(s?.notRequestPrincipals), namespaces: arr(s?.namespaces), notNamespaces: arr(s?.notNamespaces),
    ipBlocks: arr(s?.ipBlocks), notIpBlocks: arr(s?.notIpBlocks), remoteIpBlocks: arr(s?.remoteIpBlocks),
    notRemoteIpBlocks: arr(s?.notRemoteIpBlocks), serviceAccounts: arr(s?.serviceAccounts), notServiceAccounts: arr(s?.notServiceAccounts),
  });
  const operation = (o: any) => ({
    hosts: arr(o?.hosts), notHosts: arr(o?.notHosts), ports: arr(o?.ports), notPorts: arr(o?.notPorts),
    methods: arr(o?.methods), notMethods: arr(o?.notMethods), paths: arr(o?.paths), notPaths: arr(o?.notPaths),
  });
  return {
    name: p.metadata.name, namespace: p.metadata.namespace, action: p.spec?.action ?? 'ALLOW', provider: p.spec?.provider?.name ?? '',
    rules: (p.spec?.rules ?? []).map((r: any) => ({
      from: (r.from ?? []).map((f: any) => ({ source: source(f.source) })),
      to: (r.to ?? []).map((t: any) => ({ operation: operation(t.operation) })),
      when: (r.when ?? []).map((w: any) => ({ key: w.key, values: arr(w.values), notValues: arr(w.notValues) })),
    })),
  };
}

/** Service lookup for targetRefs. */
export function serviceRefs(view: ClusterView): (ns: string, name: string) => ServiceRef | undefined {
  return (ns, name) => {
    const s: any = view.service(ns, name);
    return s ? { namespace: ns, name, selector: s.spec?.selector } : undefined;
  };
}

/** The proxy's own Workload resource; pod facts come from the API, the Node's only while the pod is unknown. */
export function compileWorkload(view: ClusterView, proxy: ProxyRef, root = ROOT_NAMESPACE): Resource {
  const pod: any = view.pod(proxy.namespace, proxy.podName);
  const labels = sortedLabels(pod ? pod.metadata.labels : proxy.labels);
  const sa = pod ? (pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default') : (proxy.serviceAccount || 'default');
  const ref = { namespace: proxy.namespace, labels };
  const pa = effectivePeerAuthentication(ref, view.peerAuthentications(), root);
  const authz = applicableAuthorizationPolicies(ref, view.authorizationPolicies(), serviceRefs(view), root)
    .filter((s) => s.applies && (s.policy as any).spec?.action !== 'CUSTOM')
    .map((s) => compileAuthorizationPolicy(s.policy));
  const sc = applicableSidecar(proxy.namespace, labels, view.sidecars(), root);
  const workload: Workload = {
    name: proxy.podName, namespace: proxy.namespace, serviceAccount: sa, identity: spiffeId(proxy.namespace, sa),
    ip: pod?.status?.podIP ?? proxy.ip ?? '', labels,
    peerAuthentication: { mode: pa.mode, portModes: pa.portModes, sources: pa.sources },
    authorization: authz,
    outboundTrafficPolicy: outboundPolicy(sc), sidecar: sc ? `${sc.metadata.namespace}/${sc.metadata.name}` : '',
    jwtRules: jwtRulesFor(ref, view.requestAuthentications(), serviceRefs(view), (u) => view.jwks(u), root),
  };
  return { name: `${proxy.namespace}/${proxy.podName}`, workload };
}

/**
 * Every VirtualService, DestinationRule and HTTPRoute as RouteConfigs (spec as JSON), sorted by kind and
 * ns/name. The proxy compiles its route table from them (proxy/route/compile.ts): VirtualServices bound
 * only to gateways other than `mesh` and HTTPRoutes without a Service parent are left to the proxy's
 * compiler to skip, so `proxy-config routes` can say why.
 */
export function compileRoutes(view: ClusterView): Resource[] {
  const one = (kind: string) => (o: KubeObject): Resource => {
    const m = o.metadata;
    const routeConfig: RouteConfig = {
      kind, namespace: m.namespace ?? 'default', name: m.name ?? '', creationTimestamp: m.creationTimestamp ?? '',
      resourceVersion: m.resourceVersion ?? '', specJson: JSON.stringify((o as any).spec ?? {}),
    };
    return { name: `${kind}/${routeConfig.namespace}/${routeConfig.name}`, routeConfig };
  };
  return [
    ...view.virtualServices().map(one('VirtualService')),
    ...view.destinationRules().map(one('DestinationRule')),
    ...view.httpRoutes().map(one('HTTPRoute')),
    ...view.grpcRoutes().map(one('GRPCRoute')),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A stable content hash (the version of a type's resources). */
export function hashResources(resources: Resource[]): string {
  return createHash('sha256').update(JSON.stringify(resources)).digest('hex').slice(0, 16);
}
