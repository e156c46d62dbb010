// The route compiler: Services + networking.istio.io/v1 VirtualService and DestinationRule (+ GAMMA
// HTTPRoutes, see gamma.ts) → one frozen RouteTable, the way istiod builds a sidecar's RDS and CDS:
//   - a virtual host per Service port, reachable by every name a client in the mesh may use
//     (fqdn, name, name.ns, name.ns.svc, the VIPs — each with and without the port);
//   - the oldest VirtualService for a host wins (later ones are reported, as Istio's analyzer does);
//     match blocks with another `port` are dropped for this port, a route left without matches too;
//   - without a VirtualService (or HTTPRoute) one default route to `outbound|port||fqdn`;
//   - clusters `outbound|port|subset|fqdn` per DestinationRule subset, with the effective LbPolicy.
// Pure: no I/O, no clock. Every problem is returned as `kind ns/name: field.path: why` and the rest still
// compiles (a NACK decision belongs to the caller).
import { compileHeaderOps, NO_OPS } from '../http1/headers.js';
import { effectiveLb } from '../balance/policy.js';
import { compileMatch } from './match.js';
import { compileRe2Global, re2Substitution } from './regex.js';
import type { Cluster, Redirect, Rewrite, Route, RouteAction, RouteDestination, RouteTable, VirtualHost } from './types.js';
import { compileHttpRoutes } from './gamma.js';
import { grpcRouteAsHttpRoute } from './grpc.js';
import { compileClusterPolicy, compileRoutePolicy } from '../resilience/compile.js';

/** A Service as the proxy knows it. */
export interface ServiceInfo {
  name: string;
  namespace: string;
  hostname: string;
  vips: readonly string[];
  ports: readonly { name?: string; port: number }[];
}

/** Kubernetes-shaped objects (metadata + spec). */
export interface KObject {
  metadata: { name: string; namespace?: string; creationTimestamp?: string };
  spec: any;
}

export interface CompileInput {
  services: readonly ServiceInfo[];
  virtualServices?: readonly KObject[];
  destinationRules?: readonly KObject[];
  httpRoutes?: readonly KObject[];
  /** Gateway API GRPCRoutes (compiled as the HTTPRoutes they are on the wire: grpc.ts). */
  grpcRoutes?: readonly KObject[];
  /** Cluster domain (cluster.local). */
  domain?: string;
}

export interface CompileResult {
  table: RouteTable;
  errors: string[];
}

/** A host in `ns` → its FQDN, as Istio resolves short names: only a name without dots is expanded
 * (`reviews` → `reviews.ns.svc.cluster.local`); anything with a dot is taken as written. */
export function resolveHost(host: string, ns: string, domain = 'cluster.local'): string {
  const h = host.toLowerCase();
  if (h.includes('*') || h.includes('.')) return h;
  return `${h}.${ns}.svc.${domain}`;
}

/** `outbound|port|subset|host`, Istio's cluster name. */
export const clusterName = (port: number, subset: string, host: string): string => `outbound|${port}|${subset}|${host}`;

/** A weighted picker; `peek` says what the next `()` would return without advancing it (`/explain`). */
export type WeightedPicker<T> = (() => T) & { peek: () => T };

/** Smooth weighted round robin (nginx's): exact over every window of `sum(weights)` picks. */
export function smoothWeighted<T extends { weight: number }>(items: readonly T[]): WeightedPicker<T> {
  const fixed = (x: T): WeightedPicker<T> => Object.assign(() => x, { peek: () => x });
  if (items.length === 1) return fixed(items[0]);
  const live = items.filter((i) => i.weight > 0);
  const total = live.reduce((s, i) => s + i.weight, 0);
  const current = new Array<number>(live.length).fill(0);
  if (live.length === 0) return fixed(items[0]);
  const next = (): number => {
    let best = 0;
    for (let i = 0; i < live.length; i++) if (current[i] + live[i].weight > current[best] + live[best].weight) best = i;
    return best;
  };
  return Object.assign(() => {
    const best = next();
    for (let i = 0; i < live.length; i++) current[i] += live[i].weight;
    current[best] -= total;
    return live[best];
  }, { peek: () => live[next()] });
}

const byAge = (a: KObject, b: KObject) =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
  `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);

/** Compiles the table. */
export function compileRouteTable(input: CompileInput): CompileResult {
  const domain = input.domain ?? 'cluster.local';
  const errors: string[] = [];
  const svcByHost = new Map(input.services.map((s) => [s.hostname.toLowerCase(), s]));

  // DestinationRules by host (oldest wins).
  const drs = new Map<string, KObject>();
  for (const dr of [...(input.destinationRules ?? [])].sort(byAge)) {
    const host = resolveHost(String(dr.spec?.host ?? ''), dr.metadata.namespace ?? 'default', domain);
    if (!drs.has(host)) drs.set(host, dr);
    else errors.push(`DestinationRule ${dr.metadata.namespace}/${dr.metadata.name}: spec.host: ${host} is already configured by DestinationRule ${drs.get(host)!.metadata.namespace}/${drs.get(host)!.metadata.name} (this one is ignored)`);
  }

  const clusters = new Map<string, Cluster>();
  for (const s of input.services) {
    const host = s.hostname.toLowerCase();
    const dr = drs.get(host);
    const drId = dr ? `DestinationRule ${dr.metadata.namespace}/${dr.metadata.name}: spec` : '';
    for (const p of s.ports) {
      const drErrors: string[] = [];
      const lb = effectiveLb(dr?.spec?.trafficPolicy, undefined, p.port, drId, drErrors);
      const cp = compileClusterPolicy(dr?.spec?.trafficPolicy, undefined, p.port, drId, drErrors);
      clusters.set(clusterName(p.port, '', host), Object.freeze({ name: clusterName(p.port, '', host), host, port: p.port, subset: '', labels: Object.freeze({}), lb, ...cp }));
      (dr?.spec?.subsets ?? []).forEach((sub: any, index: number) => {
        const name = clusterName(p.port, sub.name, host);
        const slb = effectiveLb(dr!.spec.trafficPolicy, { ...sub, index }, p.port, drId, drErrors);
        const scp = compileClusterPolicy(dr!.spec.trafficPolicy, { ...sub, index }, p.port, drId, drErrors);
        clusters.set(name, Object.freeze({ name, host, port: p.port, subset: sub.name, labels: Object.freeze({ ...(sub.labels ?? {}) }), lb: slb, ...scp }));
      });
      for (const e of drErrors) if (!errors.includes(e)) errors.push(e);
    }
  }

  // VirtualServices by host (oldest wins per host, as for sidecars).
  const vsByHost = new Map<string, KObject>();
  for (const vs of [...(input.virtualServices ?? [])].sort(byAge)) {
    if ((vs.spec?.gateways ?? []).length > 0 && !(vs.spec.gateways as string[]).includes('mesh')) continue;
    for (const h of vs.spec?.hosts ?? []) {
      const host = resolveHost(h, vs.metadata.namespace ?? 'default', domain);
      const first = vsByHost.get(host);
      if (!first) vsByHost.set(host, vs);
      else if (first !== vs) errors.push(`VirtualService ${vs.metadata.namespace}/${vs.metadata.name}: spec.hosts: ${host} is already routed by VirtualService ${first.metadata.namespace}/${first.metadata.name} (conflict; the older one wins)`);
    }
  }
  const gamma = compileHttpRoutes([...(input.httpRoutes ?? []), ...(input.grpcRoutes ?? []).map(grpcRouteAsHttpRoute)], svcByHost, domain, errors);

  const ports = new Map<number, Map<string, VirtualHost>>();
  for (const s of input.services) {
    const host = s.hostname.toLowerCase();
    for (const p of s.ports) {
      const routes: Route[] = [];
      const vs = vsByHost.get(host);
      if (vs) routes.push(...vsRoutes(vs, p.port, domain, svcByHost, clusters, errors));
      routes.push(...(gamma.get(`${host}:${p.port}`) ?? []));
      if (!vs && routes.length === 0) routes.push(defaultRoute(host, p.port));
      const vh: VirtualHost = Object.freeze({ name: `${host}:${p.port}`, domains: Object.freeze(domainsOf(s, p.port, domain)), routes: Object.freeze(routes) });
      let byDomain = ports.get(p.port);
      if (!byDomain) ports.set(p.port, (byDomain = new Map()));
      for (const d of vh.domains) if (!byDomain.has(d)) byDomain.set(d, vh);
    }
  }
  return { table: Object.freeze({ ports, clusters }), errors };
}

function domainsOf(s: ServiceInfo, port: number, domain: string): string[] {
  const n = s.name.toLowerCase(), ns = s.namespace.toLowerCase(), host = s.hostname.toLowerCase();
  // A ServiceEntry host (not <name>.<ns>.svc.<domain>) is reached by that name and its addresses only.
  const kube = host === `${n}.${ns}.svc.${domain}`;
  const names = kube ? [host, n, `${n}.${ns}`, `${n}.${ns}.svc`, ...s.vips] : [host, ...s.vips];
  return names.flatMap((d) => [d, `${d.includes(':') && !d.startsWith('[') ? `[${d}]` : d}:${port}`]);
}

function defaultRoute(host: string, port: number): Route {
  const dest: RouteDestination = Object.freeze({ cluster: clusterName(port, '', host), host, port, subset: '', weight: 100, requestOps: NO_OPS, responseOps: NO_OPS });
  return Object.freeze({ name: 'default', source: `default route to ${host}:${port}`, matches: [], action: { kind: 'route' as const, destinations: [dest], pick: () => dest, peek: () => dest }, requestOps: NO_OPS, responseOps: NO_OPS });
}

/** The routes of one VirtualService for `port` (shared with the ingress's Istio Gateway compiler, istio-gateway.ts). */
export function vsRoutes(vs: KObject, port: number, domain: string, svcs: Map<string, ServiceInfo>, clusters: Map<string, Cluster>, errors: string[]): Route[] {
  const ns = vs.metadata.namespace ?? 'default';
  const id = `VirtualService ${ns}/${vs.metadata.name}`;
  const out: Route[] = [];
  (vs.spec?.http ?? []).forEach((r: any, i: number) => {
    const p = `spec.http[${i}]`;
    const errs: string[] = [];
    const matchesAll = (r.match ?? []).map((m: any, j: number) => ({ m, c: compileMatch(m, `${p}.match[${j}]`, errs) }));
    const matches = matchesAll.filter(({ m }: any) => m.port === undefined || m.port === port).map(({ c }: any) => c);
    const action = compileAction(r, p, port, ns, domain, svcs, clusters, errs);
    const rewrite = compileRewrite(r.rewrite, `${p}.rewrite`, errs);
    const policy = compileRoutePolicy(r, p, errs, (d) => {
      const host = resolveHost(String(d.host), ns, domain);
      const svc = svcByHostOf(svcs, host);
      return clusterName(d.port?.number ?? (svc && svc.ports.length === 1 ? svc.ports[0].port : port), d.subset ?? '', host);
    });
    for (const e of errs) errors.push(`${id}: ${e}`);
    if (matchesAll.length > 0 && matches.length === 0) return;
    if (!action) return;
    out.push(Object.freeze({
      name: r.name || `${ns}/${vs.metadata.name}:http[${i}]`, source: `${id} ${p}`, matches: Object.freeze(matches), action,
      ...(rewrite ? { rewrite } : {}), policy,
      requestOps: compileHeaderOps(r.headers?.request), responseOps: compileHeaderOps(r.headers?.response),
    }));
  });
  return out;
}

const svcByHostOf = (svcs: Map<string, ServiceInfo>, host: string) => svcs.get(host);

function compileAction(r: any, p: string, port: number, ns: string, domain: string, svcs: Map<string, ServiceInfo>, clusters: Map<string, Cluster>, errs: string[]): RouteAction | undefined {
  if (r.redirect) {
    const d = r.redirect;
    const redirect: Redirect = { code: d.redirectCode ?? 301, ...(d.uri !== undefined ? { uri: d.uri } : {}), ...(d.authority ? { authority: d.authority } : {}),
      ...(d.port ? { port: d.port } : {}), ...(d.derivePort ? { derivePort: d.derivePort } : {}), ...(d.scheme ? { scheme: d.scheme } : {}) };
    return Object.freeze({ kind: 'redirect', redirect: Object.freeze(redirect) });
  }
  if (r.directResponse) {
    const b = r.directResponse.body;
    const body = b?.string !== undefined ? Buffer.from(b.string) : b?.bytes !== undefined ? Buffer.from(b.bytes, 'base64') : Buffer.alloc(0);
    return Object.freeze({ kind: 'direct', status: r.directResponse.status, body });
  }
  const routes: any[] = r.route ?? [];
  if (routes.length === 0) {
    errs.push(`${p}: HTTP route, redirect or direct response is required`);
    return undefined;
  }
  const dests = routes.map((d: any, j: number): RouteDestination => {
    const host = resolveHost(String(d.destination?.host ?? ''), ns, domain);
    const svc = svcs.get(host);
    const dport = d.destination?.port?.number ?? (svc && svc.ports.length === 1 ? svc.ports[0].port : port);
    const subset = d.destination?.subset ?? '';
    const cluster = clusterName(dport, subset, host);
    if (subset && svc && !clusters.has(cluster))
      errs.push(`${p}.route[${j}].destination.subset: subset ${JSON.stringify(subset)} is not defined by a DestinationRule for host ${host}`);
    return Object.freeze({ cluster, host, port: dport, subset, weight: routes.length === 1 ? (d.weight || 100) : (d.weight ?? 0),
      requestOps: compileHeaderOps(d.headers?.request), responseOps: compileHeaderOps(d.headers?.response) });
  });
  const sum = dests.reduce((s, d) => s + d.weight, 0);
  if (dests.length > 1 && sum !== 100) errs.push(`${p}.route: total destination weight ${sum} != 100`);
  const frozen = Object.freeze(dests);
  const pick = smoothWeighted(frozen);
  return Object.freeze({ kind: 'route', destinations: frozen, pick, peek: pick.peek });
}

function compileRewrite(rw: any, p: string, errs: string[]): Rewrite | undefined {
  if (!rw) return undefined;
  if (rw.uri !== undefined && rw.uriRegexRewrite) errs.push(`${p}: uri and uriRegexRewrite may not both be set`);
  let regex: Rewrite['regex'];
  if (rw.uriRegexRewrite) {
    const re = compileRe2Global(rw.uriRegexRewrite.match);
    if (typeof re === 'string') errs.push(`${p}.uriRegexRewrite.match: ${re}`);
    else regex = { re, substitution: re2Substitution(String(rw.uriRegexRewrite.rewrite ?? '')) };
  }
  return Object.freeze({ ...(rw.uri !== undefined && !regex ? { uri: rw.uri } : {}), ...(rw.authority ? { authority: rw.authority } : {}), ...(regex ? { regex } : {}) });
}
