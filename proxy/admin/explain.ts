// `/explain` and `/config_dump?resource=routes`: what this proxy would do with a request, computed from
// its LIVE snapshot with the data path's own functions — findVirtualHost, explainRoutes (findRoute's
// predicates, naming the first failing condition of each earlier route), the route's weighted picker
// (`peek`: the next pick without advancing it), rewritten/redirectLocation, the cluster's subset
// endpoints (router/filter.ts subsetEndpoints), the Balancer for consistent hashing (a fresh instance, so
// the live balancers' cursors and active counts are never touched), the workload's PeerAuthentication mode
// and the HttpAuthorizer (filters/authz-http) for an inbound verdict. Pure: no I/O; a Snapshot in, JSON out.
//
//   outbound: listener 15001 (Service VIP:port) → virtual host → route (and why not the earlier ones)
//             → weighted destinations → cluster (lb, subset labels) → endpoints → mTLS (HBONE + SPIFFE ID
//             or plaintext) → authorization (only when the destination is this workload; else the CLI asks
//             the destination's own sidecar with direction=inbound)
//   inbound:  this workload's port → PeerAuthentication mode → HttpAuthorizer verdict for `source`
import { targetPort } from '../outbound/route.js';
import { Balancer } from '../balance/balancer.js';
import type { LbPolicy } from '../balance/policy.js';
import type { Snapshot } from '../config/store.js';
import type { MeshService } from '../config/types.js';
import { HttpAuthorizer } from '../filters/authz-http/evaluate.js';
import { subsetEndpoints, type RouterEndpoint } from '../filters/router/filter.js';
import { explainRoutes, findVirtualHost, redirectLocation, rewritten } from '../route/match.js';
import type { Cluster, RequestView, Route, VirtualHost } from '../route/types.js';

/** A request to explain (from the admin query string). */
export interface ExplainInput {
  url: string;
  method?: string;
  /** [name, value] pairs as given. */
  headers?: readonly (readonly [string, string])[];
  /** inbound: the caller's identity (`spiffe://…`, `ns/sa`, or '' for plaintext); outbound: ignored (this workload is the source). */
  source?: string;
  sourceIp?: string;
  direction?: 'outbound' | 'inbound';
  /** inbound: the port the request reaches this workload on (default: the URL's). */
  port?: number;
}

/** An endpoint with what the proxy knows of it. */
export interface EndpointInfo extends RouterEndpoint {
  pod: string;
  namespace: string;
  identity: string;
  mesh: boolean;
}

/** Per-cluster endpoints; the sidecar may pass the data path's own (proxy/outbound/http.ts clusterEndpoints). */
export type ClusterEndpoints = (snap: Snapshot) => (cluster: Cluster) => readonly RouterEndpoint[];

/** The port of `ep` serving Service port `sp`: the data path's rule (outbound/route.ts). */
export const endpointPort = targetPort;

function serviceOf(snap: Snapshot, host: string): MeshService | undefined {
  return snap.config.services.find((s) => s.hostname.toLowerCase() === host);
}

/** The ready endpoints of a cluster's service port, with identity and mesh flag (labels as the router filters them). */
export function endpointsOf(snap: Snapshot, cluster: Cluster, data?: readonly RouterEndpoint[]): EndpointInfo[] {
  const svc = serviceOf(snap, cluster.host);
  const sp = svc?.ports.find((p) => p.port === cluster.port);
  if (!svc || !sp) return [];
  const eps = snap.endpoints.get(`${svc.namespace}/${svc.name}`) ?? [];
  const all: EndpointInfo[] = eps.map((ep) => ({
    address: ep.address, port: endpointPort(sp, ep), labels: ep.labels, pod: ep.podName, namespace: ep.namespace, identity: ep.identity, mesh: ep.mesh,
  }));
  const selected = subsetEndpoints(cluster, data ?? all);
  return selected.map((e) => all.find((a) => a.address === e.address && a.port === e.port) ?? { ...e, pod: '', namespace: '', identity: '', mesh: false });
}

/** Istio's LB names. */
export function lbName(lb: LbPolicy): string {
  if (lb.kind !== 'CONSISTENT_HASH') return lb.kind;
  const s = lb.source;
  const by = s.by === 'header' ? `header ${s.name}` : s.by === 'cookie' ? `cookie ${s.name}` : s.by === 'query' ? `query ${s.name}` : 'source IP';
  return `CONSISTENT_HASH(${by}, ${lb.table} ${lb.size})`;
}

/** `VirtualService ns/name spec.http[i]` → `name.ns` (istioctl's VIRTUAL SERVICE column). */
export function routeOrigin(route: Route): string {
  const m = /^(VirtualService|HTTPRoute) ([^/]+)\/(\S+)/.exec(route.source);
  return m ? `${m[3]}.${m[2]}${m[1] === 'HTTPRoute' ? ' (HTTPRoute)' : ''}` : '';
}

function actionJson(route: Route): unknown {
  const a = route.action;
  if (a.kind === 'route') return { kind: 'route', destinations: a.destinations.map((d) => ({ cluster: d.cluster, host: d.host, port: d.port, subset: d.subset, weight: d.weight })) };
  if (a.kind === 'redirect') return { kind: 'redirect', ...a.redirect };
  return { kind: 'direct', status: a.status, bodyBytes: a.body.length };
}

function clusterJson(snap: Snapshot, c: Cluster, data?: ClusterEndpoints): unknown {
  const eps = endpointsOf(snap, c, data?.(snap)(c));
  return { name: c.name, host: c.host, port: c.port, subset: c.subset, labels: c.labels, lb: lbName(c.lb), endpoints: eps.map(epJson) };
}

function epJson(e: EndpointInfo): unknown {
  return { address: `${e.address}:${e.port}`, pod: e.pod, namespace: e.namespace, labels: e.labels, identity: e.identity, mtls: e.mesh && e.identity ? 'HBONE' : 'PLAINTEXT' };
}

function virtualHosts(byDomain: ReadonlyMap<string, VirtualHost>): VirtualHost[] {
  return [...new Set(byDomain.values())].sort((a, b) => a.name.localeCompare(b.name));
}

/** `/config_dump?resource=routes`: per port the virtual hosts (domains, routes in order with match summary,
 * action, weights), every cluster with its lb policy and the endpoints its subset selects, the warnings. */
export function routesDump(snap: Snapshot, data?: ClusterEndpoints): unknown {
  const t = snap.routes;
  return {
    version: snap.config.versions,
    routes: [...t.ports.keys()].sort((a, b) => a - b).map((port) => ({
      name: String(port),
      virtualHosts: virtualHosts(t.ports.get(port)!).map((vh) => ({
        name: vh.name, domains: vh.domains,
        routes: vh.routes.map((r) => ({
          name: r.name, source: r.source, origin: routeOrigin(r),
          match: r.matches.length === 0 ? ['/*'] : r.matches.map((m) => m.summary ?? m.name ?? '?'),
          action: actionJson(r), ...(r.rewrite ? { rewrite: { uri: r.rewrite.uri, authority: r.rewrite.authority, regex: r.rewrite.regex ? String(r.rewrite.regex.re) : undefined } } : {}),
        })),
      })),
    })),
    clusters: [...t.clusters.values()].sort((a, b) => a.name.localeCompare(b.name)).map((c) => clusterJson(snap, c, data)),
    routeWarnings: snap.routeWarnings,
  };
}

// ------------------------------------------------------------------------------------------ explain

/** A parsed explain URL. */
interface Target { scheme: string; authority: string; host: string; port: number; path: string }

function parseTarget(url: string): Target | string {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`);
  } catch {
    return `url: not a URL: ${JSON.stringify(url)}`;
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') return `url: scheme ${JSON.stringify(scheme)}: only http and https`;
  const port = u.port ? Number(u.port) : scheme === 'https' ? 443 : 80;
  return { scheme, authority: u.host, host: u.hostname.toLowerCase(), port, path: `${u.pathname || '/'}${u.search}` };
}

const flatHeaders = (hs: readonly (readonly [string, string])[] | undefined): string[] => (hs ?? []).flatMap(([k, v]) => [k.trim().toLowerCase(), v.trim()]);

function principalParts(source: string): { principal: string; namespace: string } {
  if (!source) return { principal: '', namespace: '' };
  const p = source.startsWith('spiffe://') ? source.slice(9) : /^[^/]+\/[^/]+$/.test(source) ? `cluster.local/ns/${source.split('/')[0]}/sa/${source.split('/')[1]}` : source;
  const m = /\/ns\/([^/]+)\/sa\//.exec(p);
  return { principal: p, namespace: m ? m[1] : '' };
}

/** Inbound verdict: the workload's PeerAuthentication mode for `port` and its HttpAuthorizer for the request. */
export function inboundVerdict(snap: Snapshot, req: { method: string; authority: string; path: string; headers: readonly string[] }, port: number, source: string, sourceIp: string): unknown {
  const w = snap.config.workload;
  if (!w) return { computable: false, reason: 'no workload configuration yet' };
  const mode = snap.peerMode(port);
  const { principal, namespace } = principalParts(source);
  const mtls = principal ? 'mTLS (HBONE from a mesh peer)' : 'plaintext';
  if (!principal && mode === 'STRICT') {
    return { workload: `${w.namespace}/${w.name}`, port, peerAuthentication: mode, mtls, allow: false, reason: `PeerAuthentication STRICT on port ${port}: plaintext is refused`, policies: policyIds(snap) };
  }
  const d = new HttpAuthorizer(w.authorization).evaluate({
    principal, namespace, sourceIp, remoteIp: sourceIp, destinationIp: w.ip, destinationPort: port,
    method: req.method, host: req.authority, path: req.path, headers: req.headers,
  });
  return { workload: `${w.namespace}/${w.name}`, port, peerAuthentication: mode, mtls, source: principal ? `spiffe://${principal}` : '(plaintext)', allow: d.allow, reason: d.reason, audit: d.audit, policies: policyIds(snap) };
}

function policyIds(snap: Snapshot): string[] {
  return (snap.config.workload?.authorization ?? []).map((p) => `${p.namespace}/${p.name} (${p.action || 'ALLOW'})`);
}

/** The listener an app's connection to `t` meets: the Service VIP:port it dials (DNS gives the VIP). */
function listenerOf(snap: Snapshot, t: Target, vh: VirtualHost | undefined): { name: string; address: string; destination: string; service?: string } {
  const viaIp = snap.vips.get(`${t.host}:${t.port}`);
  const svc = viaIp?.service ?? (vh ? serviceOf(snap, vh.name.slice(0, vh.name.lastIndexOf(':'))) : undefined);
  const vip = viaIp ? t.host : svc?.vips[0];
  return {
    name: 'virtualOutbound', address: '0.0.0.0:15001',
    destination: vip ? `${vip.includes(':') ? `[${vip}]` : vip}:${t.port}` : `${t.host}:${t.port} (no Service VIP: passthrough to the original destination)`,
    ...(svc ? { service: `${svc.namespace}/${svc.name}` } : {}),
  };
}

/** The whole trace for one request (JSON). Errors in the input come back as `{error}` naming the parameter. */
export function explainRequest(snap: Snapshot, input: ExplainInput, data?: ClusterEndpoints): Record<string, unknown> {
  const t = parseTarget(input.url);
  if (typeof t === 'string') return { error: t };
  const method = (input.method || 'GET').toUpperCase();
  const headers = flatHeaders(input.headers);
  const w = snap.config.workload;
  const request = { method, url: input.url, authority: t.authority, path: t.path, headers: input.headers ?? [] };
  if (input.direction === 'inbound') {
    const port = input.port ?? t.port;
    return { direction: 'inbound', request, inbound: inboundVerdict(snap, { method, authority: t.authority, path: t.path, headers }, port, input.source ?? '', input.sourceIp ?? '') };
  }
  const view: RequestView = {
    method, scheme: t.scheme, authority: t.authority, path: t.path, headers, port: t.port,
    sourceLabels: w?.labels ?? {}, sourceNamespace: w?.namespace ?? '', sourceIp: w?.ip ?? '',
  };
  const vh = findVirtualHost(snap.routes, t.authority, t.port);
  const out: Record<string, unknown> = {
    direction: 'outbound', request,
    source: w ? { workload: `${w.namespace}/${w.name}`, identity: w.identity, ip: w.ip, labels: w.labels } : null,
    listener: listenerOf(snap, t, vh),
  };
  if (!vh) {
    out.virtualHost = null;
    out.result = `no virtual host for ${t.authority} on port ${t.port}: not a mesh Service (404 route_not_found, or passthrough to the original destination for TCP)`;
    return out;
  }
  out.virtualHost = { name: vh.name, domains: vh.domains.length, routes: vh.routes.length };
  const verdicts = explainRoutes(vh, view);
  out.routes = verdicts.map((v, i) => ({
    index: i, name: v.route.name, source: v.route.source, matched: v.matched,
    ...(v.matched ? { match: v.matchIndex === -1 ? 'no match conditions (matches every request)' : `match[${v.matchIndex}]: ${v.route.matches[v.matchIndex!]?.summary ?? ''}` } : { why: v.reasons }),
  }));
  const chosen = verdicts.find((v) => v.matched);
  if (!chosen) {
    out.result = `no route of ${vh.name} matches: 404 (Envoy's NR)`;
    return out;
  }
  const route = chosen.route;
  const match = chosen.matchIndex !== undefined && chosen.matchIndex >= 0 ? route.matches[chosen.matchIndex] : null;
  const a = route.action;
  if (a.kind === 'redirect') {
    out.result = `redirect ${a.redirect.code} to ${redirectLocation(route, match, view)}`;
    return out;
  }
  if (a.kind === 'direct') {
    out.result = `direct response ${a.status} (${a.body.length} bytes)`;
    return out;
  }
  if (route.rewrite) out.rewrite = rewritten(route, match, view);
  const next = a.peek ? a.peek() : undefined;
  out.destinations = a.destinations.map((d) => {
    const c = snap.routes.clusters.get(d.cluster);
    const eps = c ? endpointsOf(snap, c, data?.(snap)(c)) : [];
    return {
      cluster: d.cluster, subset: d.subset || '(all endpoints)', weight: d.weight, next: d === next,
      ...(c ? { lb: lbName(c.lb), subsetLabels: c.labels } : { error: 'cluster not defined (unknown subset or host): 503 no healthy upstream' }),
      endpoints: eps.map(epJson),
    };
  });
  const dest = next ?? a.destinations[0];
  const cluster = snap.routes.clusters.get(dest.cluster);
  const eps = cluster ? endpointsOf(snap, cluster, data?.(snap)(cluster)) : [];
  const pick: Record<string, unknown> = { cluster: dest.cluster, weight: dest.weight, of: a.destinations.reduce((s, d) => s + d.weight, 0), endpoints: eps.length };
  if (a.destinations.length > 1) pick.why = `weighted split (smooth weighted round robin): the next request on this route goes to ${dest.cluster}; over ${pick.of} requests ${dest.weight} do`;
  if (cluster && eps.length) {
    pick.lb = lbName(cluster.lb);
    if (cluster.lb.kind === 'CONSISTENT_HASH') {
      // A fresh balancer: the ring/maglev table is a function of the endpoint set, so this is the live choice.
      const p = new Balancer<EndpointInfo>(cluster.lb, { newCookie: () => '(new cookie)' }).pick(eps, { headers, path: t.path, sourceIp: view.sourceIp });
      if (p) {
        pick.endpoint = epJson(p.endpoint);
        pick.lbNote = p.setCookie ? `no hash cookie in the request: the proxy would set one (${p.setCookie.split(';')[0]}) and pick by its random value` : 'consistent hash of the request: always this endpoint while the endpoint set is the same';
      }
    } else {
      pick.lbNote = eps.length === 1 ? 'the only endpoint' : `one of ${eps.length} endpoints, chosen per request by ${cluster.lb.kind}`;
      if (eps.length === 1) pick.endpoint = epJson(eps[0]);
    }
  } else pick.result = '503 no healthy upstream (no ready endpoint in this subset)';
  out.pick = pick;
  out.mtls = eps.map((e) => ({
    endpoint: `${e.address}:${e.port}`,
    mode: e.mesh && e.identity ? 'HBONE (HTTP/2 CONNECT over mTLS)' : 'plaintext (no sidecar)',
    ...(e.mesh && e.identity ? { expectedIdentity: e.identity } : {}),
  }));
  const self = w ? eps.find((e) => e.address === w.ip) : undefined;
  out.authorization = self
    ? inboundVerdict(snap, { method, authority: t.authority, path: t.path, headers }, self.port, w!.identity, w!.ip)
    : { computable: false, reason: "the destination's AuthorizationPolicies are in its own sidecar's config: ask it with direction=inbound (shoal explain request does)" };
  return out;
}
