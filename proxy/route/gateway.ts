// The Gateway API compiler for the ingress: GatewayClasses of this controller, their Gateways' listeners
// (HTTP and HTTPS on the ports the ingress serves) and the HTTPRoutes attached to them → virtual hosts of a
// RouteTable keyed by listener port, with the status every object gets (conditions with the spec's reasons).
// HTTPRoute rules compile with gamma.ts's rule compiler (one engine for mesh and ingress routes):
// PathPrefix/Exact/RegularExpression, headers, queryParams, method, filters, weights and the spec's
// precedence (exact path > longest prefix > method > most headers > most query params > oldest route >
// name). Hostnames: the intersection of the listener's and the route's (wildcards match one or more labels).
// A backendRef that cannot be resolved (missing Service or port, another kind, another namespace without
// a ReferenceGrant) keeps its weight and becomes an `invalid|…` cluster: its share of requests gets 500.
// RequestMirror filters come back as a Route → Mirror map (the ingress's `mirror` filter sends the copies).
// Pure: no I/O; Secrets are judged by the caller's `secretProblem`.
import { fromLabelSelector, matches as selectorMatches } from '../../api/labels.js';
import { effectiveLb } from '../balance/policy.js';
import { clusterName, smoothWeighted, type KObject, type ServiceInfo } from './compile.js';
import { groupEntries, httpRouteEntries, type RouteEntry } from './gamma.js';
import type { Cluster, Route, RouteDestination, VirtualHost } from './types.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** A Kubernetes object with metadata the compiler reads. */
export interface GwObject extends KObject {
  metadata: { name: string; namespace?: string; creationTimestamp?: string; generation?: number; labels?: Record<string, string> };
}

export interface Condition { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string; observedGeneration?: number }

export interface GatewayCompileInput {
  controllerName: string;
  gatewayClasses: readonly GwObject[];
  gateways: readonly GwObject[];
  httpRoutes: readonly GwObject[];
  referenceGrants?: readonly GwObject[];
  services: readonly ServiceInfo[];
  /** Namespace labels (allowedRoutes Selector). */
  namespaces: ReadonlyMap<string, Record<string, string>>;
  /** Ports served in plain HTTP and in HTTPS. */
  httpPorts: readonly number[];
  httpsPorts: readonly number[];
  /** Why a TLS Secret cannot be used (undefined: usable). */
  secretProblem: (namespace: string, name: string) => string | undefined;
  /** The address written into Gateway status. */
  address?: string;
  domain?: string;
}

export interface GatewayTls { gateway: string; listener: string; port: number; hostname?: string; secret: string }

/** A RequestMirror filter: a copy of each request to this cluster (responses ignored). */
export interface Mirror { cluster: string; host: string; port: number; percent: number }

export interface GatewayCompileResult {
  ports: Map<number, Map<string, VirtualHost>>;
  /** Routes whose rule has a RequestMirror filter. */
  mirrors: Map<Route, Mirror>;
  clusters: Map<string, Cluster>;
  tls: GatewayTls[];
  /** Status by object key (`name` for classes, `ns/name` otherwise). */
  classStatus: Map<string, { conditions: Condition[] }>;
  gatewayStatus: Map<string, any>;
  routeStatus: Map<string, { parents: any[] }>;
}

const nsOf = (o: GwObject) => o.metadata.namespace ?? 'default';
const idOf = (o: GwObject) => `${nsOf(o)}/${o.metadata.name}`;
const byAge = (a: GwObject, b: GwObject) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || idOf(a).localeCompare(idOf(b));
const cond = (o: GwObject, type: string, ok: boolean, reason: string, message = ''): Condition =>
  ({ type, status: ok ? 'True' : 'False', reason, message, ...(o.metadata.generation !== undefined ? { observedGeneration: o.metadata.generation } : {}) });

/** Gateway API hostname intersection (undefined: none). `*` stands for "no hostname". */
export function intersectHost(listener: string | undefined, route: string): string | undefined {
  const l = (listener ?? '*').toLowerCase(), r = route.toLowerCase();
  if (l === '*') return r;
  if (r === '*' || l === r) return l;
  const covers = (w: string, h: string) => w.startsWith('*.') && h.endsWith(w.slice(1)) && h.length > w.length - 1;
  if (covers(l, r)) return r;
  if (covers(r, l)) return l;
  return undefined;
}

/** Compiles every Gateway of this controller with its routes. */
export function compileGateways(input: GatewayCompileInput): GatewayCompileResult {
  const domain = input.domain ?? 'cluster.local';
  const out: GatewayCompileResult = { ports: new Map(), mirrors: new Map(), clusters: new Map(), tls: [], classStatus: new Map(), gatewayStatus: new Map(), routeStatus: new Map() };
  const svcByHost = new Map(input.services.map((s) => [s.hostname.toLowerCase(), s]));
  const svcByKey = new Map(input.services.map((s) => [`${s.namespace}/${s.name}`, s]));

  const ours = new Set<string>();
  for (const gc of input.gatewayClasses) {
    if (gc.spec?.controllerName !== input.controllerName) continue;
    ours.add(gc.metadata.name);
    out.classStatus.set(gc.metadata.name, { conditions: [cond(gc, 'Accepted', true, 'Accepted', `handled by ${input.controllerName}`), cond(gc, 'SupportedVersion', true, 'SupportedVersion')] });
  }
  const granted = (fromKind: string, fromNs: string, toKind: string, toGroup: string, toNs: string, toName: string) =>
    (input.referenceGrants ?? []).some((g) => nsOf(g) === toNs
      && (g.spec?.from ?? []).some((f: any) => f.group === GATEWAY_GROUP && f.kind === fromKind && f.namespace === fromNs)
      && (g.spec?.to ?? []).some((t: any) => (t.group ?? '') === toGroup && t.kind === toKind && (!t.name || t.name === toName)));

  // Listeners of every Gateway of ours.
  interface L { gw: GwObject; spec: any; index: number; attached: number; ok: boolean }
  const listeners: L[] = [];
  for (const gw of [...input.gateways].sort(byAge)) {
    if (!ours.has(gw.spec?.gatewayClassName)) continue;
    const ls: any[] = gw.spec?.listeners ?? [];
    ls.forEach((spec, index) => listeners.push({ gw, spec, index, attached: 0, ok: true }));
  }
  const listenerConds = new Map<L, Condition[]>();
  for (const l of listeners) {
    const { gw, spec } = l;
    const conds: Condition[] = [];
    const proto = spec.protocol;
    const served = proto === 'HTTP' ? input.httpPorts : proto === 'HTTPS' ? input.httpsPorts : [];
    const kinds: any[] = spec.allowedRoutes?.kinds ?? [];
    const badKinds = kinds.filter((k) => k.kind !== 'HTTPRoute' || (k.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP);
    if (proto !== 'HTTP' && proto !== 'HTTPS') { l.ok = false; conds.push(cond(gw, 'Accepted', false, 'UnsupportedProtocol', `protocol ${proto} is not supported (HTTP, HTTPS)`)); }
    else if (!served.includes(spec.port)) { l.ok = false; conds.push(cond(gw, 'Accepted', false, 'PortUnavailable', `the ingress serves ${proto} on port ${served.join(', ')}, not ${spec.port}`)); }
    else conds.push(cond(gw, 'Accepted', true, 'Accepted'));
    let resolved = true, reason = 'ResolvedRefs', msg = '';
    if (badKinds.length) { resolved = false; reason = 'InvalidRouteKinds'; msg = `route kinds ${badKinds.map((k) => k.kind).join(', ')} are not supported`; }
    if (proto === 'HTTPS' && l.ok) {
      const refs: any[] = spec.tls?.certificateRefs ?? [];
      if ((spec.tls?.mode ?? 'Terminate') !== 'Terminate') { l.ok = false; resolved = false; reason = 'InvalidCertificateRef'; msg = 'only tls.mode Terminate is supported'; }
      refs.forEach((r, i) => {
        const ns = r.namespace ?? nsOf(gw);
        let problem: string | undefined;
        if ((r.kind ?? 'Secret') !== 'Secret' || (r.group ?? '') !== '') problem = `tls.certificateRefs[${i}]: ${r.kind} is not a Secret`;
        else if (ns !== nsOf(gw) && !granted('Gateway', nsOf(gw), 'Secret', '', ns, r.name)) { problem = `tls.certificateRefs[${i}]: Secret ${ns}/${r.name} in another namespace needs a ReferenceGrant`; reason = 'RefNotPermitted'; }
        else problem = input.secretProblem(ns, r.name);
        if (problem) { resolved = false; if (reason !== 'RefNotPermitted') reason = 'InvalidCertificateRef'; msg = `${problem} (the default certificate is served)`; }
        else out.tls.push({ gateway: idOf(gw), listener: spec.name, port: spec.port, ...(spec.hostname ? { hostname: spec.hostname.toLowerCase() } : {}), secret: `${ns}/${r.name}` });
      });
      if (refs.length === 0) { resolved = false; reason = 'InvalidCertificateRef'; msg = 'tls.certificateRefs: none (the default certificate is served)'; }
    }
    conds.push(cond(gw, 'ResolvedRefs', resolved, reason, msg));
    conds.push(cond(gw, 'Programmed', l.ok, l.ok ? 'Programmed' : 'Invalid'));
    conds.push(cond(gw, 'Conflicted', false, 'NoConflicts'));
    listenerConds.set(l, conds);
  }

  // Routes.
  const entries: RouteEntry[] = [];
  const mirrorOf = new Map<RouteEntry, Mirror>();
  const order = { n: 0 };
  for (const hr of [...input.httpRoutes].sort(byAge)) {
    const rns = nsOf(hr);
    const parents: any[] = [];
    const routeHosts: string[] = (hr.spec?.hostnames ?? []).length ? hr.spec.hostnames : ['*'];
    const backendProblem = backendCheck(hr, svcByKey, granted);
    (hr.spec?.parentRefs ?? []).forEach((pr: any) => {
      if ((pr.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (pr.kind ?? 'Gateway') !== 'Gateway') return;
      const gns = pr.namespace ?? rns;
      const cand = listeners.filter((l) => nsOf(l.gw) === gns && l.gw.metadata.name === pr.name);
      if (cand.length === 0) {
        if (input.gateways.some((g) => nsOf(g) === gns && g.metadata.name === pr.name && !ours.has(g.spec?.gatewayClassName))) return; // another controller's
        parents.push(parentStatus(pr, input.controllerName, cond(hr, 'Accepted', false, 'NoMatchingParent', `Gateway ${gns}/${pr.name} not found`), backendProblem, hr));
        return;
      }
      const bySection = cand.filter((l) => (pr.sectionName === undefined || l.spec.name === pr.sectionName) && (pr.port === undefined || l.spec.port === pr.port));
      let allowedAny = false, hostAny = false;
      for (const l of bySection) {
        if (!l.ok || !allowed(l, rns, input.namespaces)) continue;
        allowedAny = true;
        const hosts = [...new Set(routeHosts.map((h) => intersectHost(l.spec.hostname, h)).filter((h): h is string => h !== undefined))];
        if (hosts.length === 0) continue;
        hostAny = true;
        l.attached++;
        for (const h of hosts) {
          const from = entries.length;
          httpRouteEntries(hr, [l.spec.port], (port) => `${port}|${h}`, svcByHost, domain, [], order, entries);
          for (const e of entries.slice(from)) {
            const i = Number(/spec\.rules\[(\d+)\]/.exec(e.route.source)?.[1] ?? -1);
            const m = (hr.spec?.rules?.[i]?.filters ?? []).find((f: any) => f.type === 'RequestMirror')?.requestMirror;
            if (!m?.backendRef) continue;
            const ns = m.backendRef.namespace ?? rns;
            const host = `${String(m.backendRef.name).toLowerCase()}.${ns}.svc.${domain}`;
            const port = Number(m.backendRef.port ?? 0);
            const percent = m.percent ?? (m.fraction ? (100 * m.fraction.numerator) / (m.fraction.denominator ?? 100) : 100);
            const svc = svcByHost.get(host);
            const ok = svc && (ns === rns || granted('HTTPRoute', rns, 'Service', '', ns, svc.name)) && svc.ports.some((p) => p.port === port);
            const cluster = clusterName(port, '', host);
            if (ok && !out.clusters.has(cluster)) out.clusters.set(cluster, Object.freeze({ name: cluster, host, port, subset: '', labels: Object.freeze({}), lb: effectiveLb(undefined, undefined, port, '', []) }));
            if (ok) mirrorOf.set(e, Object.freeze({ cluster, host, port, percent }));
          }
        }
      }
      const accepted = bySection.length === 0 ? cond(hr, 'Accepted', false, 'NoMatchingParent', `no listener ${pr.sectionName ?? ''}${pr.port ? ` port ${pr.port}` : ''} on Gateway ${gns}/${pr.name}`)
        : !allowedAny ? cond(hr, 'Accepted', false, 'NotAllowedByListeners', `the listeners of Gateway ${gns}/${pr.name} do not allow routes from namespace ${rns}`)
          : !hostAny ? cond(hr, 'Accepted', false, 'NoMatchingListenerHostname', 'no hostname of the route matches a listener hostname')
            : cond(hr, 'Accepted', true, 'Accepted');
      parents.push(parentStatus(pr, input.controllerName, accepted, backendProblem, hr));
    });
    if (parents.length) out.routeStatus.set(idOf(hr), { parents });
  }

  // Invalid backends keep their weight and answer 500; valid ones get clusters.
  for (const e of entries) {
    const a = e.route.action;
    if (a.kind !== 'route') continue;
    const rns = e.route.source.split(' ')[1].split('/')[0];
    let changed = false;
    const ds = a.destinations.map((d) => {
      const svc = svcByHost.get(d.host);
      const sameNs = svc && (svc.namespace === rns || granted('HTTPRoute', rns, 'Service', '', svc.namespace, svc.name));
      if (svc && sameNs && svc.ports.some((p) => p.port === d.port)) {
        if (!out.clusters.has(d.cluster)) out.clusters.set(d.cluster, Object.freeze({ name: d.cluster, host: d.host, port: d.port, subset: '', labels: Object.freeze({}), lb: effectiveLb(undefined, undefined, d.port, '', []) }));
        return d;
      }
      changed = true;
      return Object.freeze({ ...d, cluster: `invalid|${clusterName(d.port, '', d.host)}` });
    });
    if (changed) {
      const frozen = Object.freeze(ds as RouteDestination[]);
      e.route = Object.freeze({ ...e.route, action: Object.freeze({ kind: 'route' as const, destinations: frozen, pick: smoothWeighted(frozen) }) });
    }
  }
  for (const e of entries) { const m = mirrorOf.get(e); if (m) out.mirrors.set(e.route, m); }
  for (const [key, routes] of groupEntries(entries)) {
    const [portText, host] = key.split('|');
    const port = Number(portText);
    let byDomain = out.ports.get(port);
    if (!byDomain) out.ports.set(port, (byDomain = new Map()));
    byDomain.set(host, Object.freeze({ name: `${host}:${port}`, domains: [host], routes: Object.freeze(routes as Route[]) }));
  }

  // Gateway status.
  for (const gw of input.gateways) {
    if (!ours.has(gw.spec?.gatewayClassName)) continue;
    const ls = listeners.filter((l) => l.gw === gw);
    const ok = ls.every((l) => l.ok);
    out.gatewayStatus.set(idOf(gw), {
      ...(input.address ? { addresses: [{ type: 'IPAddress', value: input.address }] } : {}),
      conditions: [
        cond(gw, 'Accepted', ls.some((l) => l.ok), ls.some((l) => l.ok) ? 'Accepted' : 'ListenersNotValid', ok ? '' : 'one or more listeners are not valid'),
        cond(gw, 'Programmed', ls.some((l) => l.ok), ls.some((l) => l.ok) ? 'Programmed' : 'Invalid'),
      ],
      listeners: ls.map((l) => ({
        name: l.spec.name, attachedRoutes: l.attached, supportedKinds: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }], conditions: listenerConds.get(l),
      })),
    });
  }
  return out;
}

function allowed(l: { gw: GwObject; spec: any }, routeNs: string, namespaces: ReadonlyMap<string, Record<string, string>>): boolean {
  const ns = l.spec.allowedRoutes?.namespaces;
  const from = ns?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNs === nsOf(l.gw);
  if (from === 'Selector') return selectorMatches(fromLabelSelector(ns.selector), namespaces.get(routeNs) ?? {});
  return false;
}

/** ResolvedRefs of a route: the first unresolved backendRef, or undefined. */
function backendCheck(hr: GwObject, svcs: Map<string, ServiceInfo>, granted: (fk: string, fns: string, tk: string, tg: string, tns: string, tn: string) => boolean): { reason: string; message: string } | undefined {
  const rns = nsOf(hr);
  const rules: any[] = hr.spec?.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const refs: any[] = rules[i].backendRefs ?? [];
    for (let j = 0; j < refs.length; j++) {
      const b = refs[j];
      const p = `spec.rules[${i}].backendRefs[${j}]`;
      if ((b.kind ?? 'Service') !== 'Service' || !['', 'core'].includes(b.group ?? '')) return { reason: 'InvalidKind', message: `${p}: kind ${b.kind} is not supported` };
      const ns = b.namespace ?? rns;
      if (ns !== rns && !granted('HTTPRoute', rns, 'Service', '', ns, b.name)) return { reason: 'RefNotPermitted', message: `${p}: Service ${ns}/${b.name} in another namespace needs a ReferenceGrant` };
      const svc = svcs.get(`${ns}/${b.name}`);
      if (!svc) return { reason: 'BackendNotFound', message: `${p}: Service ${ns}/${b.name} not found` };
      if (!svc.ports.some((x) => x.port === b.port)) return { reason: 'BackendNotFound', message: `${p}.port: Service ${ns}/${b.name} has no port ${b.port}` };
    }
  }
  return undefined;
}

function parentStatus(pr: any, controllerName: string, accepted: Condition, problem: { reason: string; message: string } | undefined, hr: GwObject): any {
  return {
    parentRef: { group: GATEWAY_GROUP, kind: 'Gateway', ...pr },
    controllerName,
    conditions: [accepted, problem ? cond(hr, 'ResolvedRefs', false, problem.reason, problem.message) : cond(hr, 'ResolvedRefs', true, 'ResolvedRefs')],
  };
}
