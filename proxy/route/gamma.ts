// Gateway API for mesh (GAMMA): an HTTPRoute whose parentRef is a Service (group "" or "core", kind
// Service) routes traffic addressed to that Service, on the parentRef's port or on all its ports. Each
// match becomes one Route, sorted by Gateway API precedence (exact path, then the longest prefix, then a
// method match, then most header matches, then most query matches; ties keep creation order), with
// backendRefs as weighted destinations (weight default 1, Services in the route's namespace unless named)
// and the filters RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect and URLRewrite.
import { compileHeaderOps, NO_OPS, type HeaderOps } from '../http1/headers.js';
import { compileMatch } from './match.js';
import type { KObject, ServiceInfo } from './compile.js';
import { clusterName, resolveHost, smoothWeighted } from './compile.js';
import type { CompiledMatch, Redirect, Rewrite, Route, RouteAction, RouteDestination } from './types.js';

function gammaOps(f: any): HeaderOps {
  if (!f) return NO_OPS;
  const m = (l: any[] | undefined) => Object.fromEntries((l ?? []).map((h) => [h.name, h.value]));
  return compileHeaderOps({ set: m(f.set), add: m(f.add), remove: f.remove });
}

/** A Gateway API HTTPRouteMatch as an Istio-style match (PathPrefix is segment-wise, so a regex). */
function toIstioMatch(m: any): { match: any; prefix?: string; sortKey: number[] } {
  const path = m.path ?? { type: 'PathPrefix', value: '/' };
  const value = String(path.value ?? '/');
  const out: any = {};
  let prefix: string | undefined;
  let exact = 0;
  if (path.type === 'Exact') { out.uri = { exact: value }; exact = 1; }
  else if (path.type === 'RegularExpression') out.uri = { regex: value };
  else {
    const v = value.replace(/\/+$/, '');
    prefix = v;
    if (v !== '') out.uri = { regex: `${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/.*)?` };
  }
  if (m.method) out.method = { exact: m.method };
  if (m.headers) out.headers = Object.fromEntries(m.headers.map((h: any) => [h.name.toLowerCase(), h.type === 'RegularExpression' ? { regex: h.value } : { exact: h.value }]));
  if (m.queryParams) out.queryParams = Object.fromEntries(m.queryParams.map((q: any) => [q.name, q.type === 'RegularExpression' ? { regex: q.value } : { exact: q.value }]));
  return { match: out, prefix, sortKey: [exact, prefix?.length ?? value.length, m.method ? 1 : 0, m.headers?.length ?? 0, m.queryParams?.length ?? 0] };
}

/** One compiled route before sorting: its virtual host key, Gateway API precedence key and input order. */
export interface RouteEntry { key: string; route: Route; sortKey: number[]; order: number }

/** Routes by `fqdn:port` from the HTTPRoutes that have a Service parent. */
export function compileHttpRoutes(routes: readonly KObject[], svcs: Map<string, ServiceInfo>, domain: string, errors: string[]): Map<string, Route[]> {
  const entries: RouteEntry[] = [];
  const order = { n: 0 };
  for (const hr of routes) {
    const ns = hr.metadata.namespace ?? 'default';
    const id = `HTTPRoute ${ns}/${hr.metadata.name}`;
    const parents = (hr.spec?.parentRefs ?? []).filter((p: any) => p.kind === 'Service' && (p.group ?? '') in { '': 1, core: 1 });
    for (const parent of parents) {
      const host = resolveHost(parent.name, parent.namespace ?? ns, domain);
      const svc = svcs.get(host);
      if (!svc) { errors.push(`${id}: spec.parentRefs: Service ${parent.namespace ?? ns}/${parent.name} not found`); continue; }
      const ports = parent.port ? [parent.port] : svc.ports.map((p) => p.port);
      httpRouteEntries(hr, ports, (port) => `${host}:${port}`, svcs, domain, errors, order, entries);
    }
  }
  return groupEntries(entries);
}

/** Sorts entries by Gateway API precedence (ties keep input order) and groups them by key. */
export function groupEntries(entries: RouteEntry[]): Map<string, Route[]> {
  entries.sort((a, b) => {
    for (let k = 0; k < a.sortKey.length; k++) if (a.sortKey[k] !== b.sortKey[k]) return b.sortKey[k] - a.sortKey[k];
    return a.order - b.order;
  });
  const out = new Map<string, Route[]>();
  for (const e of entries) {
    let l = out.get(e.key);
    if (!l) out.set(e.key, (l = []));
    l.push(e.route);
  }
  return out;
}

/** The routes of every rule of one HTTPRoute for each port (key per port); shared with Gateway parents (gateway.ts). */
export function httpRouteEntries(hr: KObject, ports: readonly number[], keyOf: (port: number) => string, svcs: Map<string, ServiceInfo>, domain: string,
  errors: string[], order: { n: number }, entries: RouteEntry[]): void {
  const ns = hr.metadata.namespace ?? 'default';
  const id = `HTTPRoute ${ns}/${hr.metadata.name}`;
  (hr.spec?.rules ?? []).forEach((rule: any, i: number) => {
    const p = `spec.rules[${i}]`;
    const errs: string[] = [];
    for (const port of ports) {
      const action = gammaAction(rule, p, port, ns, domain, svcs, errs);
      const filters: any[] = rule.filters ?? [];
      const req = filters.find((f) => f.type === 'RequestHeaderModifier')?.requestHeaderModifier;
      const resp = filters.find((f) => f.type === 'ResponseHeaderModifier')?.responseHeaderModifier;
      const rw = filters.find((f) => f.type === 'URLRewrite')?.urlRewrite;
      const matches: any[] = rule.matches?.length ? rule.matches : [{}];
      matches.forEach((m: any, j: number) => {
        const im = toIstioMatch(m);
        const c = compileMatch(im.match, `${p}.matches[${j}]`, errs);
        const cm: CompiledMatch = Object.freeze({ ...c, ...(im.prefix !== undefined ? { prefix: im.prefix, segmentPrefix: true } : {}) });
        let rewrite: Rewrite | undefined;
        if (rw) {
          const path = rw.path;
          rewrite = Object.freeze({
            ...(rw.hostname ? { authority: rw.hostname } : {}),
            ...(path?.type === 'ReplaceFullPath' ? { uri: path.replaceFullPath } : {}),
            ...(path?.type === 'ReplacePrefixMatch' ? { uri: path.replacePrefixMatch } : {}),
          });
        }
        // ReplaceFullPath replaces the whole path: the match must not carry its prefix.
        const match: CompiledMatch = rw?.path?.type === 'ReplaceFullPath' ? Object.freeze({ name: cm.name, test: cm.test, explain: cm.explain, summary: cm.summary }) : cm;
        entries.push({
          key: keyOf(port), sortKey: im.sortKey, order: order.n++,
          route: Object.freeze({
            name: rule.name || `${ns}/${hr.metadata.name}:rules[${i}]`, source: `${id} ${p}.matches[${j}]`, matches: [match],
            action, ...(rewrite ? { rewrite } : {}), requestOps: gammaOps(req), responseOps: gammaOps(resp),
          }),
        });
      });
    }
    for (const e of new Set(errs)) errors.push(`${id}: ${e}`);
  });
}

function gammaAction(rule: any, p: string, port: number, ns: string, domain: string, svcs: Map<string, ServiceInfo>, errs: string[]): RouteAction {
  const redirect = (rule.filters ?? []).find((f: any) => f.type === 'RequestRedirect')?.requestRedirect;
  if (redirect) {
    const r: Redirect = {
      code: redirect.statusCode ?? 302, ...(redirect.scheme ? { scheme: redirect.scheme } : {}), ...(redirect.hostname ? { authority: redirect.hostname } : {}),
      ...(redirect.port ? { port: redirect.port } : {}),
      ...(redirect.path?.type === 'ReplaceFullPath' ? { uri: redirect.path.replaceFullPath } : {}),
      ...(redirect.path?.type === 'ReplacePrefixMatch' ? { prefixReplace: redirect.path.replacePrefixMatch } : {}),
    };
    return Object.freeze({ kind: 'redirect', redirect: Object.freeze(r) });
  }
  const refs: any[] = (rule.backendRefs ?? []).filter((b: any) => (b.kind ?? 'Service') === 'Service');
  // Gateway API: no backends (or all weight 0) answers 500.
  if (refs.length === 0) return Object.freeze({ kind: 'direct', status: 500, body: Buffer.alloc(0) });
  const dests = refs.map((b: any, j: number): RouteDestination => {
    const host = resolveHost(b.name, b.namespace ?? ns, domain);
    if (!svcs.has(host)) errs.push(`${p}.backendRefs[${j}]: Service ${b.namespace ?? ns}/${b.name} not found`);
    const bport = b.port ?? port;
    const f: any[] = b.filters ?? [];
    return Object.freeze({ cluster: clusterName(bport, '', host), host, port: bport, subset: '', weight: b.weight ?? 1,
      requestOps: gammaOps(f.find((x) => x.type === 'RequestHeaderModifier')?.requestHeaderModifier),
      responseOps: gammaOps(f.find((x) => x.type === 'ResponseHeaderModifier')?.responseHeaderModifier) });
  });
  if (dests.every((d) => d.weight === 0)) return Object.freeze({ kind: 'direct', status: 500, body: Buffer.alloc(0) });
  const frozen = Object.freeze(dests);
  const pick = smoothWeighted(frozen);
  return Object.freeze({ kind: 'route', destinations: frozen, pick, peek: pick.peek });
}
